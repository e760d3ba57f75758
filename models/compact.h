// The compact SR graph: Real-ESRGAN's SRVGGNetCompact (realesr-animevideov3,
// realesr-general-x4v3), a plain stack of 3x3 convolutions (docs/GRAPHS.md "Compact"):
//   y = conv_last(act(conv_{n}(... act(conv_0(x))))), out = pixel_shuffle(y, s) + nearest(x, s)
// with act PReLU (one slope per channel), LeakyReLU(0.1) or ReLU, built from a weight file's
// metadata (weights/FORMAT.md, kind 3) with every tensor checked by name and shape. Its tensor
// names are Real-ESRGAN's: body.{2i}.weight / .bias for the convs, body.{2i+1}.weight for the
// PReLU slopes. It streams like the other graphs (every node computes each element the same
// way whatever rows it is asked for, so every stripe height gives the same bits).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/graph.h"

namespace lucent::models {

enum class CompactAct : int32_t { kPrelu = 0, kLeakyRelu = 1, kRelu = 2 };

struct CompactConfig {
    int64_t in_ch = 3, out_ch = 3, nf = 64;
    int64_t num_conv = 16;  // body convs between the first and the last
    int64_t scale = 4;      // 1 to 4: pixel shuffle and nearest upsampling factor
    CompactAct act = CompactAct::kPrelu;
};

Status read_compact_config(const weights::WeightFile& wf, CompactConfig* cfg);

class Compact final : public Graph {
  public:
    static Result<std::unique_ptr<Compact>> create(const weights::WeightFile& wf,
                                                   const ops::KernelTable& k,
                                                   const GraphOptions& opts);
    const CompactConfig& config() const { return cfg_; }

    int64_t in_channels() const override { return cfg_.in_ch; }
    int64_t out_channels() const override { return cfg_.out_ch; }
    int64_t scale() const override { return cfg_.scale; }
    Status output_shape(const Shape& in, Shape* out) const override;

  protected:
    const char* graph_name() const override { return "compact"; }
    Result<std::unique_ptr<StreamRun>> build_stream(const Shape& in, int64_t stripe_rows,
                                                    int threads, StreamMode mode) const override;

  private:
    Compact() = default;
    CompactConfig cfg_;
    std::vector<ops::Conv2d> convs_;          // num_conv + 2: first, body, last
    std::vector<std::vector<float>> slopes_;  // PReLU: one per conv but the last
};

}  // namespace lucent::models
