// Lucent: loading and running a model (SSR upscaling or RED enhancement).
//
//   lucent::Result<lucent::Model> m = lucent::Model::load("RealESRGAN_x4plus.lcw");
//   lucent::Dims in{1, 3, h, w}, out;
//   m.value().output_dims(in, &out);                       // {1, 3, 4h, 4w}
//   std::vector<float> dst(out.count());
//   lucent::Status st = m.value().run(src.data(), in, dst.data());
//
// Tensors at this API are float32 NCHW (batch, channels, height, width), RGB values in [0, 1].
// A Model is immutable after loading: run() is const and may be called from several threads
// at once (each call allocates its own working memory and uses Options::num_threads threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lucent/isa.hpp"
#include "lucent/status.hpp"

namespace lucent {

enum class ModelKind : int32_t {
    kSsr = 1,  // super-resolution: output is `scale()` times larger
    kRed = 2,  // enhancement: output has the input's size
};

struct Options {
    int32_t num_threads = 0;        // 0 = OpenMP default (OMP_NUM_THREADS or all cores)
    Isa max_isa = Isa::kAvx512;     // cap on the kernel tier (LUCENT_MAX_ISA can lower it further)
    bool reference = false;         // scalar kernels and direct convolution: the reference path
    uint64_t max_memory_bytes = 0;  // working-memory limit per run(); 0 = physical memory
};

struct Dims {
    int64_t n = 1, c = 0, h = 0, w = 0;
    // n*c*h*w (no overflow check; output_dims() has checked it for its result).
    int64_t count() const { return n * c * h * w; }
};

class Model {
  public:
    // Loads a weight file (weights/FORMAT.md). kIo when it cannot be read, kBadWeights when it
    // is corrupt, truncated or does not fit its graph (the message names the problem).
    static Result<Model> load(const std::string& path, const Options& options = {});
    // Loads the default model embedded in the library (SSR x4 or RED low-light).
    static Result<Model> load_default(ModelKind kind, const Options& options = {});
    // Loads a weight file held in memory (copied); `name` appears in error messages.
    static Result<Model> load_memory(const uint8_t* data, size_t size, const std::string& name,
                                     const Options& options = {});

    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    ModelKind kind() const;
    int64_t scale() const;  // output size / input size (1 for RED)
    int64_t in_channels() const;
    int64_t out_channels() const;
    Isa isa() const;                  // kernel tier in use
    const std::string& name() const;  // the file path, or "embedded default ... model"

    // Output dims for input dims; kInvalidArgument names what is wrong with them.
    Status output_dims(const Dims& in, Dims* out) const;
    // Options::max_memory_bytes, or physical memory when that is 0 (0 if unknown: no limit).
    uint64_t memory_limit() const;
    // Upper bound of the bytes run() allocates for this input.
    Result<uint64_t> working_bytes(const Dims& in) const;
    // in: `in` dims of float32 NCHW; out: room for output_dims(in). kOutOfMemory (with the sizes)
    // when working_bytes(in) exceeds the memory limit, before anything is allocated.
    Status run(const float* in, const Dims& in_dims, float* out) const;

    struct Impl;  // opaque

  private:
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace lucent
