#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/threading.h"
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
    const int64_t c = channels_, plane = in.shape.plane();
    std::vector<float> sum(static_cast<size_t>(c)), mx(static_cast<size_t>(c)),
        g(static_cast<size_t>(c));
    for (int64_t n = 0; n < in.shape.n; ++n) {
        const ConstTensorView src{in.data + n * c * plane, Shape{1, c, in.shape.h, in.shape.w}};
        std::fill(sum.begin(), sum.end(), 0.0f);
        std::fill(mx.begin(), mx.end(), -std::numeric_limits<float>::infinity());
        accumulate(ctx, rows_of(src), sum.data(), mx.data());
        gate(sum.data(), mx.data(), plane, g.data());
        LUCENT_RETURN_IF_ERROR(
            mul_channels(ctx, src, g.data(), TensorView{out.data + n * c * plane, src.shape}));
    }
    return Status();
}

void ChannelAttention::accumulate(const Context& ctx, ConstRows in, float* sum, float* max) const {
    global_sum_max_rows(ctx, in, sum, uses_max() ? max : nullptr);
}

void ChannelAttention::gate(const float* sum, const float* max, int64_t count, float* g) const {
    // The MLP is C*hidden multiply-adds per image: plain loops, float like PyTorch's 1x1 conv.
    // No allocation for the graphs' sizes (hidden <= 4096), so that a planned run allocates
    // nothing.
    const int64_t c = channels_;
    float small[4096];
    std::vector<float> big;
    float* h = small;
    if (hidden_ > 4096) {
        big.resize(static_cast<size_t>(hidden_));
        h = big.data();
    }
    // v[i] / div: the mean as PyTorch divides it (div = count), or the max (div = 1).
    auto mlp_into = [&](const float* v, float div, bool first) {
        for (int64_t j = 0; j < hidden_; ++j) {
            float s = fc1_b_[static_cast<size_t>(j)];
            for (int64_t i = 0; i < c; ++i)
                s += fc1_w_[static_cast<size_t>(j * c + i)] * (v[i] / div);
            h[j] = s > 0.0f ? s : 0.0f;
        }
        for (int64_t o = 0; o < c; ++o) {
            float s = fc2_b_[static_cast<size_t>(o)];
            for (int64_t j = 0; j < hidden_; ++j)
                s += fc2_w_[static_cast<size_t>(o * hidden_ + j)] * h[j];
            g[o] = first ? s : g[o] + s;
        }
    };
    mlp_into(sum, static_cast<float>(count), true);
    if (uses_max()) mlp_into(max, 1.0f, false);
    for (int64_t o = 0; o < c; ++o) g[o] = 1.0f / (1.0f + std::exp(-g[o]));
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
    const int threads = resolve_threads(ctx.num_threads);
    int64_t count = 0;
    LUCENT_RETURN_IF_ERROR(checked_numel(Shape{1, 1, 1, scratch_floats(s.w, s.h, threads)},
                                         "spatial_attention scratch", &count));
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer buf, AlignedBuffer::create(count));
    // In place is fine: every statistic is taken before the first output row is written.
    for (int64_t n = 0; n < s.n; ++n) {
        const Shape one{1, s.c, s.h, s.w};
        LUCENT_RETURN_IF_ERROR(
            run_rows(ctx, rows_of(ConstTensorView{in.data + n * one.numel(), one}),
                     rows_of(TensorView{out.data + n * one.numel(), one}), buf.data()));
    }
    return Status();
}

int64_t SpatialAttention::scratch_floats(int64_t w, int64_t out_rows, int threads) const {
    // stats (2 channels) of the rows the conv reads, the logits of the output rows, conv scratch.
    const int64_t k = conv_.params().kernel_h;
    return 2 * (out_rows + k - 1) * w + out_rows * w + conv_.scratch_floats(w, out_rows, threads);
}

Status SpatialAttention::run_rows(const Context& ctx, ConstRows in, Rows out,
                                  float* scratch) const {
    int64_t a = 0, b = 0;
    input_rows(out.row0, out.end(), out.h, &a, &b);
    LUCENT_RETURN_IF_ERROR(check_shape("spatial_attention", "output window",
                                       Shape{1, out.c, out.h, out.w}, Shape{1, in.c, in.h, in.w}));
    LUCENT_RETURN_IF_ERROR(check_row_window("spatial_attention", out.row0, out.end(), a, b, in));
    const KernelTable& k = *ctx.k;
    const int64_t w = in.w, n = b - a;
    float* stats = scratch;
    float* logits = stats + 2 * n * w;
    float* conv_scratch = logits + out.rows * w;
    // Per-pixel channel mean and max, one row at a time (the same calls whatever the window).
    parallel_for(n, ctx.num_threads, [&](int64_t r) {
        k.channel_mean_max(in.row(0, a + r), in.c, in.cs, w, stats + r * w, stats + (n + r) * w);
    });
    const ConstRows st{stats, 2, in.h, w, a, n, n * w};
    const Rows lg{logits, 1, out.h, w, out.row0, out.rows, out.rows * w};
    LUCENT_RETURN_IF_ERROR(conv_.run_rows(ctx, st, lg, conv_scratch));
    const int64_t len = out.rows * w;
    parallel_for(out.rows, ctx.num_threads, [&](int64_t r) {
        k.activation(logits + r * w, logits + r * w, w, kActSigmoid, 0.0f);
    });
    parallel_for(out.c, ctx.num_threads,
                 [&](int64_t c) { k.mul(in.row(c, out.row0), logits, out.row(c, out.row0), len); });
    return Status();
}

}  // namespace lucent::ops
