// SSR: the ESRGAN / Real-ESRGAN RRDBNet family of docs/GRAPHS.md, built from a weight
// file's metadata (weights/FORMAT.md, kind 1) with every tensor checked by name and shape.
//
// Buffers per image: three dense-block buffers of nf + 4*gc channels at the body resolution
// (a RDB's concatenations are channel ranges of one buffer, so cat() copies nothing), the
// trunk feature and a conv5 output; after the body, two ping-pong buffers of nf (or nf*r*r)
// channels at the growing resolution. Peak memory is the larger of the two phases.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/graph.h"
#include "ops/attention.h"

namespace lucent::models {

struct SsrConfig {
    int64_t in_ch = 3, out_ch = 3, nf = 64, nb = 23, gc = 32;
    int64_t unshuffle = 1;            // 1, 2 or 4
    bool pixelshuffle = false;        // else nearest x2 stages
    std::vector<int64_t> up_factors;  // one per stage
    bool channel_attention = false;
    int64_t reduction = 0;
    int64_t scale = 4;  // prod(up_factors) / unshuffle
};

// Reads and checks SSR metadata (ranges, consistency of scale and up_factors).
Status read_ssr_config(const weights::WeightFile& wf, SsrConfig* cfg);

class Ssr final : public Graph {
  public:
    static Result<std::unique_ptr<Ssr>> create(const weights::WeightFile& wf,
                                               const ops::KernelTable& k, const GraphOptions& opts);
    const SsrConfig& config() const { return cfg_; }

    int64_t in_channels() const override { return cfg_.in_ch; }
    int64_t out_channels() const override { return cfg_.out_ch; }
    Status output_shape(const Shape& in, Shape* out) const override;
    uint64_t working_bytes(const Shape& in, int threads) const override;
    bool prefers_whole_image() const override { return cfg_.channel_attention; }

  protected:
    const char* graph_name() const override { return "SSR"; }
    Result<std::unique_ptr<StreamRun>> build_stream(const Shape& in, int64_t stripe_rows,
                                                    int threads, bool keep) const override;
    Status run_image(const ops::Context& ctx, ConstTensorView in, TensorView out) const override;

  private:
    struct Rdb {
        ops::Conv2d conv[5];
        ops::ChannelAttention ca;
    };
    Ssr() = default;
    Status run_body(const ops::Context& ctx, TensorView feat) const;
    Status run_rdb(const ops::Context& ctx, const Rdb& rdb, TensorView dense, TensorView tmp,
                   TensorView dst, const std::string& name) const;
    Status run_upsampling(const ops::Context& ctx, ConstTensorView feat, TensorView out) const;

    SsrConfig cfg_;
    ops::Conv2d conv_first_, conv_body_, conv_hr_, conv_last_;
    std::vector<ops::Conv2d> conv_up_;
    std::vector<Rdb> rdbs_;  // nb * 3
};

}  // namespace lucent::models
