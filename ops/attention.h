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

  private:
    Conv2d conv_;
};

}  // namespace lucent::ops
