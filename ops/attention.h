// Attention gates of the two graphs (docs/GRAPHS.md):
//
// ChannelAttention: w = sigmoid(mlp(avg_pool(t))) [+ mlp(max_pool(t)) inside the sigmoid with
//   kAvgPlusMax]; out = t * w per channel. mlp(v) = fc2(relu(fc1(v))) with fc1 a 1x1 conv
//   C -> hidden and fc2 hidden -> C (PyTorch weights [hidden, C, 1, 1] and [C, hidden, 1, 1]).
//   kAvg is SSR's CA block; kAvgPlusMax is RED's channel gate.
// SpatialAttention (RED): s = conv_kxk(cat(mean_c(t), max_c(t))), 2 -> 1 channels, padding
//   k/2; out = t * sigmoid(s) per pixel.
// in and out may be the same tensor for both.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "ops/conv2d.h"
#include "ops/dispatch.h"

namespace lucent::ops {

enum class ChannelPooling : int32_t { kAvg = 0, kAvgPlusMax = 1 };

class ChannelAttention {
  public:
    ChannelAttention() = default;
    // fc1_w [hidden, channels], fc1_b [hidden], fc2_w [channels, hidden], fc2_b [channels];
    // biases may be null (zero).
    static Result<ChannelAttention> create(int64_t channels, int64_t hidden, const float* fc1_w,
                                           const float* fc1_b, const float* fc2_w,
                                           const float* fc2_b, ChannelPooling pooling);
    Status run(const Context& ctx, ConstTensorView in, TensorView out) const;
    // Streaming form (and what run() does per image): accumulate() the rows of one image in
    // order into per-channel sum and max (start from 0 and -infinity; ops/pool2d.h's row-ordered
    // rule), then gate() turns them, for a plane of `count` pixels, into the channels() factors
    // that multiply the image.
    void accumulate(const Context& ctx, ConstRows in, float* sum, float* max) const;
    void gate(const float* sum, const float* max, int64_t count, float* gate) const;
    int64_t channels() const { return channels_; }
    bool uses_max() const { return pooling_ == ChannelPooling::kAvgPlusMax; }

  private:
    int64_t channels_ = 0, hidden_ = 0;
    ChannelPooling pooling_ = ChannelPooling::kAvg;
    std::vector<float> fc1_w_, fc1_b_, fc2_w_, fc2_b_;
};

class SpatialAttention {
  public:
    SpatialAttention() = default;
    // weight [1, 2, k, k] (channel 0 sees the mean, channel 1 the max), bias [1] or null.
    static Result<SpatialAttention> create(int64_t kernel, const float* weight, const float* bias,
                                           const KernelTable& k);
    Status run(const Context& ctx, ConstTensorView in, TensorView out) const;
    // Streaming form: output rows [out.row0, out.end()) of one image; `in` holds the input rows
    // input_rows() names (the k/2-row halo the kxk conv reads). scratch: scratch_floats(in.w,
    // out.rows, threads) floats. in and out must not share rows. run() runs this on the whole
    // image, so both give the same bits.
    Status run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch) const;
    void input_rows(int64_t y0, int64_t y1, int64_t in_h, int64_t* first, int64_t* end) const {
        conv_.input_rows(y0, y1, in_h, first, end);
    }
    int64_t scratch_floats(int64_t w, int64_t out_rows, int threads) const;

  private:
    Conv2d conv_;
};

}  // namespace lucent::ops
