// SSR: the ESRGAN / Real-ESRGAN RRDBNet family of docs/GRAPHS.md, built from a weight
// file's metadata (weights/FORMAT.md, kind 1) with every tensor checked by name and shape.
//
// It runs as a stream of row nodes (models/ssr_stream.cpp): a RDB's concatenations are channel
// ranges of one dense ring, so cat() copies nothing.
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
    int64_t scale() const override { return cfg_.scale; }
    Status output_shape(const Shape& in, Shape* out) const override;
    bool prefers_whole_image() const override { return cfg_.channel_attention; }

  protected:
    const char* graph_name() const override { return "SSR"; }
    Result<std::unique_ptr<StreamRun>> build_stream(const Shape& in, int64_t stripe_rows,
                                                    int threads, StreamMode mode) const override;

  private:
    struct Rdb {
        ops::Conv2d conv[5];
        ops::ChannelAttention ca;
    };
    Ssr() = default;

    SsrConfig cfg_;
    ops::Conv2d conv_first_, conv_body_, conv_hr_, conv_last_;
    std::vector<ops::Conv2d> conv_up_;
    std::vector<Rdb> rdbs_;  // nb * 3
};

}  // namespace lucent::models
