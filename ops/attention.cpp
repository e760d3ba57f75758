#include "ops/attention.h"

#include <cmath>

#include "engine/threading.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/pool2d.h"
#include "ops/validate.h"

namespace lucent::ops {

Result<ChannelAttention> ChannelAttention::create(int64_t channels, int64_t hidden,
                                                  const float* fc1_w, const float* fc1_b,
                                                  const float* fc2_w, const float* fc2_b,
                                                  ChannelPooling pooling) {
    LUCENT_RETURN_IF_ERROR(check_param("channel_attention", "channels", channels, 1, 1 << 20));
    LUCENT_RETURN_IF_ERROR(check_param("channel_attention", "hidden", hidden, 1, 1 << 20));
    if (fc1_w == nullptr || fc2_w == nullptr) {
        return make_status(StatusCode::kInvalidArgument,
                           "channel_attention: weight pointer is null");
    }
    if (pooling != ChannelPooling::kAvg && pooling != ChannelPooling::kAvgPlusMax) {
        return make_status(StatusCode::kInvalidArgument, "channel_attention: unknown pooling %d",
                           static_cast<int>(pooling));
    }
    ChannelAttention a;
    a.channels_ = channels;
    a.hidden_ = hidden;
    a.pooling_ = pooling;
    a.fc1_w_.assign(fc1_w, fc1_w + hidden * channels);
    a.fc2_w_.assign(fc2_w, fc2_w + channels * hidden);
    a.fc1_b_.assign(static_cast<size_t>(hidden), 0.0f);
    a.fc2_b_.assign(static_cast<size_t>(channels), 0.0f);
    if (fc1_b != nullptr) a.fc1_b_.assign(fc1_b, fc1_b + hidden);
    if (fc2_b != nullptr) a.fc2_b_.assign(fc2_b, fc2_b + channels);
    return a;
}

Status ChannelAttention::run(const Context& ctx, ConstTensorView in, TensorView out) const {
    LUCENT_RETURN_IF_ERROR(check_tensor("channel_attention", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("channel_attention", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(check_shape("channel_attention", "output", out.shape, in.shape));
    if (in.shape.c != channels_) {
        return make_status(StatusCode::kInvalidArgument,
                           "channel_attention: input %s has %lld channels but the gate has %lld",
                           in.shape.str().c_str(), static_cast<long long>(in.shape.c),
                           static_cast<long long>(channels_));
    }
    const int64_t n = in.shape.n, c = channels_;
    std::vector<float> avg(static_cast<size_t>(n * c)), mx(static_cast<size_t>(n * c));
    const bool use_max = pooling_ == ChannelPooling::kAvgPlusMax;
    LUCENT_RETURN_IF_ERROR(global_pool(ctx, in, avg.data(), use_max ? mx.data() : nullptr));
    // The MLP is C*hidden multiply-adds per image: plain loops, float like PyTorch's 1x1 conv.
    std::vector<float> gate(static_cast<size_t>(n * c)), hid(static_cast<size_t>(hidden_));
    auto mlp_into = [&](const float* v, float* acc) {
        for (int64_t h = 0; h < hidden_; ++h) {
            float s = fc1_b_[static_cast<size_t>(h)];
            for (int64_t i = 0; i < c; ++i) s += fc1_w_[static_cast<size_t>(h * c + i)] * v[i];
            hid[static_cast<size_t>(h)] = s > 0.0f ? s : 0.0f;
        }
        for (int64_t o = 0; o < c; ++o) {
            float s = fc2_b_[static_cast<size_t>(o)];
            for (int64_t h = 0; h < hidden_; ++h)
                s += fc2_w_[static_cast<size_t>(o * hidden_ + h)] * hid[static_cast<size_t>(h)];
            acc[o] += s;
        }
    };
    for (int64_t b = 0; b < n; ++b) {
        float* g = gate.data() + b * c;
        mlp_into(avg.data() + b * c, g);
        if (use_max) mlp_into(mx.data() + b * c, g);
        for (int64_t o = 0; o < c; ++o) g[o] = 1.0f / (1.0f + std::exp(-g[o]));
    }
    return mul_channels(ctx, in, gate.data(), out);
}

Result<SpatialAttention> SpatialAttention::create(int64_t kernel, const float* weight,
                                                  const float* bias, const KernelTable& k) {
    LUCENT_RETURN_IF_ERROR(check_param("spatial_attention", "kernel", kernel, 1, 63));
    if (kernel % 2 == 0) {
        return make_status(
            StatusCode::kInvalidArgument,
            "spatial_attention: kernel %lld must be odd so padding k/2 keeps the size",
            static_cast<long long>(kernel));
    }
    LUCENT_ASSIGN_OR_RETURN(Conv2d conv,
                            Conv2d::create(Conv2dParams::square(2, 1, kernel), weight, bias, k));
    SpatialAttention s;
    s.conv_ = std::move(conv);
    return s;
}

Status SpatialAttention::run(const Context& ctx, ConstTensorView in, TensorView out) const {
    LUCENT_RETURN_IF_ERROR(check_tensor("spatial_attention", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("spatial_attention", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(check_shape("spatial_attention", "output", out.shape, in.shape));
    const Shape& s = in.shape;
    LUCENT_ASSIGN_OR_RETURN(Tensor stats, Tensor::create(Shape{s.n, 2, s.h, s.w}));
    LUCENT_ASSIGN_OR_RETURN(Tensor logits, Tensor::create(Shape{s.n, 1, s.h, s.w}));
    const KernelTable& k = *ctx.k;
    const int64_t plane = s.plane();
    constexpr int64_t kChunk = 4096;
    const int64_t chunks = (plane + kChunk - 1) / kChunk;
    float* st = stats.data();
    parallel_for(s.n * chunks, ctx.num_threads, [&](int64_t item) {
        const int64_t b = item / chunks, p0 = (item % chunks) * kChunk;
        const int64_t len = plane - p0 < kChunk ? plane - p0 : kChunk;
        k.channel_mean_max(in.data + b * s.c * plane + p0, s.c, plane, len, st + b * 2 * plane + p0,
                           st + (b * 2 + 1) * plane + p0);
    });
    LUCENT_RETURN_IF_ERROR(conv_.run(ctx, stats, logits));
    LUCENT_RETURN_IF_ERROR(activation(ctx, logits, logits, Activation::kSigmoid));
    return mul_pixels(ctx, in, logits, out);
}

}  // namespace lucent::ops
