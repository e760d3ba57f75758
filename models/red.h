// RED: the encoder-decoder enhancement graph of docs/GRAPHS.md (pyramid pooling, then
// channel and spatial attention), built from a weight file (weights/FORMAT.md, kind 2).
//
// It runs as a stream of row nodes in passes (models/red_stream.cpp). On the reference path the
// pyramid's concatenation is one ring of c2 + k*c2/4 channels at half size that enc2 and each
// upsampled stage write into directly; the fast path splits the fuse conv instead (split_fuse_).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/graph.h"
#include "ops/attention.h"
#include "ops/conv_transpose2d.h"

namespace lucent::models {

struct RedConfig {
    int64_t in_ch = 3, out_ch = 3, c0 = 64, c1 = 128, c2 = 256;
    std::vector<int64_t> bins{1, 2, 3, 6};  // empty: no pyramid
    int64_t reduction = 16, sa_kernel = 7;
};

Status read_red_config(const weights::WeightFile& wf, RedConfig* cfg);

class Red final : public Graph {
  public:
    static constexpr float kSlope = 0.2f;  // every LeakyReLU of the graph
    static Result<std::unique_ptr<Red>> create(const weights::WeightFile& wf,
                                               const ops::KernelTable& k, const GraphOptions& opts);
    const RedConfig& config() const { return cfg_; }

    int64_t in_channels() const override { return cfg_.in_ch; }
    int64_t out_channels() const override { return cfg_.out_ch; }
    int64_t scale() const override { return 1; }
    Status output_shape(const Shape& in, Shape* out) const override;
    // Its streams pass over the image three times, but with the encoder's outputs kept
    // (StreamMode::kKeep) the later passes compute no encoder again, and that kept stream runs
    // as fast as the whole-image plan in less memory (README "Streaming"): so RED streams.

  protected:
    const char* graph_name() const override { return "RED"; }
    Result<std::unique_ptr<StreamRun>> build_stream(const Shape& in, int64_t stripe_rows,
                                                    int threads, StreamMode mode) const override;

  private:
    Red() = default;
    Status load_split_fuse(const weights::WeightFile& wf, const ops::KernelTable& k,
                           const GraphOptions& opts);

    RedConfig cfg_;
    ops::Conv2d enc0_, down_, enc2_, fuse_, dec1_, out_;
    std::vector<ops::Conv2d> stages_;
    // The fast path splits the pyramid's fuse conv by its input channels (split_fuse_): fuse_e2_
    // (e2's columns, the bias, no activation) runs at full size and fuse_parts_[i] (stage i's
    // columns, no bias) on stage i's pooled bins; the resized parts are added as ramps
    // (ops/bilinear_sum.h), then the LeakyReLU. The reference path runs fuse_ over the
    // concatenation as the graph is written.
    bool split_fuse_ = false;
    ops::Conv2d fuse_e2_;
    std::vector<ops::Conv2d> fuse_parts_;
    ops::ChannelAttention channel_att_;
    ops::SpatialAttention spatial_att_;
    ops::ConvTranspose2d up_;
};

}  // namespace lucent::models
