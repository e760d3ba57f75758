// Lucent: loading and running a model (SSR upscaling or RED enhancement).
//
//   lucent::Result<lucent::Model> m = lucent::Model::load("RealESRGAN_x4plus.lcw");
//   lucent::ConstImageView in{pixels, bytes, w, h, 3, lucent::PixelType::kU8};
//   lucent::ImageSize os;
//   m.value().output_image_size(w, h, 3, &os);             // 4w x 4h x 3
//   std::vector<uint8_t> dst(lucent::image_buffer_bytes(os, lucent::PixelType::kU8));
//   lucent::ImageView out{dst.data(), dst.size(), os.width, os.height, 3};
//   lucent::Status st = m.value().run_image(in, out);
//
// Two ways in: interleaved images (run_image: 8/16-bit or float, gray/gray+alpha/RGB/RGBA,
// any row stride) and float32 NCHW tensors (run: batch, channels, height, width; RGB in
// [0, 1]). A Model is immutable after loading: every const method may be called from several
// threads at once (each call has working memory of its own and uses Options::num_threads
// threads). A run's plan and working memory are kept for the next run of the same input size
// (Options::keep_working_memory), so a stream of same-sized images plans and allocates once.
// No method throws: allocation failures come back as kOutOfMemory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lucent/image.hpp"
#include "lucent/isa.hpp"
#include "lucent/status.hpp"

namespace lucent {

enum class ModelKind : int32_t {
    kSsr = 1,  // super-resolution: output is `scale()` times larger
    kRed = 2,  // enhancement: output has the input's size
};

// Arithmetic of the convolutions. kFp32 (the default) matches PyTorch fp32 on every CPU.
// kBf16 runs the convolutions between the first and the last in bf16 with fp32 sums on AMX
// tiles, or with AVX512-BF16's VDPBF16PS on CPUs without AMX (README "bf16"); everything else
// stays fp32. Load fails with kUnsupported where the CPU has neither (or with reference = true,
// or max_isa below avx512).
enum class Precision : int32_t {
    kFp32 = 0,
    kBf16 = 1,
};

struct Options {
    int32_t num_threads = 0;     // 0 = the cores this process may use (LUCENT_NUM_THREADS if set)
    Isa max_isa = Isa::kAvx512;  // cap on the kernel tier (LUCENT_MAX_ISA can lower it further)
    bool reference = false;      // scalar kernels and direct convolution: the reference path
    // Working-memory limit per run(); 0 = usable memory (physical, or the cgroup/container
    // limit if lower). Where a run can trade memory for speed (taller stripes; channel-attention
    // SSR runs the whole image at once, RED keeps the inputs of its whole-image statistics,
    // instead of streaming in passes; README "Streaming"), it does so within this limit when
    // set, else within a quarter of usable memory and at most 4 GiB.
    uint64_t max_memory_bytes = 0;
    Precision precision = Precision::kFp32;
    // Rows of output per streaming stripe; 0 = chosen by Lucent (a stripe that runs at full
    // speed, lowered until the run fits the memory it may spend, above). Any value gives the
    // same bits; a fixed one is for tests and tuning, and is refused when it does not fit
    // max_memory_bytes.
    int64_t stripe_rows = 0;
    // Keep each run's plan and working memory, once it is done, for the next run of the same
    // input size: that run then neither plans nor allocates, nor waits for the kernel to fault
    // in and clear fresh pages (30-37 % of a cold RED run's time on one VM here). Kept memory,
    // counted with the runs in progress, stays within keep_memory_limit (below), least recently
    // used first out; Model::release_working_memory() frees it. false: every run allocates and
    // frees its own.
    bool keep_working_memory = true;
    // The most bytes of plans a model keeps, counting those lent to runs in progress: idle ones
    // are kept only while idle and running plans total at most this, so under a full load of
    // concurrent runs nothing idle is kept (a server sets its whole budget here). 0: what a
    // run may spend to go faster, as above.
    uint64_t keep_memory_limit = 0;
};

struct Dims {
    int64_t n = 1, c = 0, h = 0, w = 0;
    // n*c*h*w (no overflow check; output_dims() has checked it for its result).
    int64_t count() const { return n * c * h * w; }
};

// Receives each layer's output during a traced run (the numerics audit; `lucent --dump`):
// `name` is the checkpoint's module name (BasicSR names for SSR, e.g. "body.3.rdb2.conv4";
// the graph's names for RED, e.g. "ppm.stages.2"), `op` the operation as Lucent ran it ("+lrelu"
// at the end means the LeakyReLU that follows the module in PyTorch is already applied), and
// the output as float NCHW of one image. "input" comes first (the float tensor the graph
// reads) and "output" last. Called on the calling thread, between layers.
using LayerObserver = std::function<void(const std::string& name, const std::string& op,
                                         const float* data, const Dims& dims)>;

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
    int32_t num_threads() const;      // threads each run uses (Options::num_threads resolved)
    const std::string& name() const;  // the file path, or "embedded default ... model"
    // The network: "SSR" (RRDBNet), "compact" (SRVGGNetCompact; an upscaling, kSsr-kind model)
    // or "RED".
    const char* graph() const;
    const Options& options() const;  // as given at load

    // Output dims for input dims; kInvalidArgument names what is wrong with them.
    Status output_dims(const Dims& in, Dims* out) const;
    // Options::max_memory_bytes, or usable memory when that is 0: physical memory, or the
    // cgroup (container) limit if lower (0 if unknown: no limit).
    uint64_t memory_limit() const;
    // Frees the working memory kept from earlier runs (Options::keep_working_memory); runs in
    // progress keep theirs until they end, and it is kept again then.
    void release_working_memory() const;
    // Upper bound of the bytes run() allocates for this input.
    Result<uint64_t> working_bytes(const Dims& in) const;
    // in: `in` dims of float32 NCHW; out: room for output_dims(in). kOutOfMemory (with the sizes)
    // when working_bytes(in) exceeds the memory limit, before anything is allocated;
    // kInvalidArgument naming the position when the input holds NaN or infinity.
    Status run(const float* in, const Dims& in_dims, float* out) const;
    // The same, reporting every layer to `observe` (slower: the observer's work is added).
    Status run(const float* in, const Dims& in_dims, float* out,
               const LayerObserver& observe) const;

    // --- Streaming (any image height in memory bounded by the width) ---
    // A block of rows [y0, y1) of one image, float32, channel c's rows at
    // data + c * channel_stride (each row `width` floats, rows contiguous within a channel).
    struct RowBlock {
        int64_t y0 = 0, y1 = 0, width = 0, channels = 0, channel_stride = 0;
        float* data = nullptr;
    };
    // Fills block.data with input rows [block.y0, block.y1); a non-OK status stops the run.
    using RowSource = std::function<Status(const RowBlock& block)>;
    // Receives output rows [block.y0, block.y1) in order, top to bottom (read-only; valid only
    // during the call).
    using RowSink = std::function<Status(const RowBlock& block)>;
    // Runs one image of in_dims (n = 1), pulling input rows from `source` as the graph needs
    // them and handing output rows to `sink` as they are done. Streams hold only stripes,
    // within the memory limit (Options::max_memory_bytes narrows the stripe; kOutOfMemory when
    // not even one-row stripes fit); the output bits equal run()'s for every stripe. RED and
    // channel-attention SSR have whole-image statistics, so they stream in passes, pulling the
    // input rows once per pass, each time in order from row 0 (a source must be able to start
    // over); channel-attention SSR runs its whole-image plan instead when it fits (input pulled
    // once, output rows delivered at the end). README "Streaming".
    Status run_rows(const Dims& in_dims, const RowSource& source, const RowSink& sink) const;

    // --- Interleaved images (lucent/image.hpp) ---
    // Channel rules: an image with the model's channel count is all colour; one channel more is
    // colour + alpha; a gray image (1 channel, or 2 with alpha) runs through an RGB model by
    // replicating gray into R, G and B, and comes back gray as the mean of the three outputs.
    // Alpha does not go through the model: SSR resizes it bilinearly (PyTorch's
    // align_corners=False), RED keeps it. Integer outputs are round_half_to_even(clamp(v, 0, 1)
    // * 255 or 65535); float outputs are not clamped.

    // The output image's size for a width x height input of `channels` (kInvalidArgument names
    // what does not fit the model).
    Status output_image_size(int64_t width, int64_t height, int32_t channels, ImageSize* out) const;
    // Upper bound of the bytes run_image() or run_image_rows() allocates for such an image (the
    // model's working memory, the float planes it converts through, one block of output rows).
    Result<uint64_t> image_working_bytes(int64_t width, int64_t height, int32_t channels) const;
    // Runs the model on `in` and writes `out`, whose width, height and channels must be
    // output_image_size()'s; input and output sample types are independent (e.g. uint16 in,
    // uint8 out). kInvalidArgument names the argument at fault (null data, channel count,
    // stride or buffer too small, output size); kOutOfMemory when image_working_bytes()
    // exceeds the memory limit, before anything is allocated.
    Status run_image(const ConstImageView& in, const ImageView& out) const;
    Status run_image(const ConstImageView& in, const ImageView& out,
                     const LayerObserver& observe) const;
    // Receives output rows [y0, y0 + rows.height) of the image, in order, top to bottom: packed
    // rows of output_image_size()'s width and channels in the sample type asked for (read-only;
    // valid only during the call). A non-OK status stops the run and comes back from it.
    using ImageRowSink = std::function<Status(int64_t y0, const ConstImageView& rows)>;
    // run_image() without an output image: the rows go to `sink` as they are done (one stripe
    // at a time when the model streams, so an encoder can write a file of any height while only
    // a stripe of output exists; in blocks after the run when it takes its whole-image plan).
    // Same bits as run_image(); memory within image_working_bytes().
    Status run_image_rows(const ConstImageView& in, PixelType out_type,
                          const ImageRowSink& sink) const;

    struct Impl;  // opaque

  private:
    explicit Model(std::unique_ptr<Impl> impl);
    Status run_traced(const float* in, const Dims& in_dims, float* out,
                      const LayerObserver* observe) const;
    struct OutputRows;  // where run_image's quantised rows go (api/image_run.cpp)
    Status run_image_impl(const ConstImageView& in, OutputRows* out,
                          const LayerObserver* observe) const;
    std::unique_ptr<Impl> impl_;
};

}  // namespace lucent
