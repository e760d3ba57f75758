#include "ops/pool2d.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

namespace {
constexpr int64_t kMaxRow = int64_t{1} << 30;  // kernels index a row with int32
}

Status pool2d_output_shape(const Pool2dParams& p, const Shape& in, Shape* out) {
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "pool2d input", &numel));
    if (p.kind != PoolKind::kMax && p.kind != PoolKind::kAvg) {
        return make_status(StatusCode::kInvalidArgument, "pool2d: unknown pooling kind %d",
                           static_cast<int>(p.kind));
    }
    LUCENT_RETURN_IF_ERROR(check_param("pool2d", "kernel_h", p.kernel_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("pool2d", "kernel_w", p.kernel_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("pool2d", "stride_h", p.stride_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("pool2d", "stride_w", p.stride_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(
        check_param("pool2d", "pad_h (at most kernel_h / 2)", p.pad_h, 0, p.kernel_h / 2));
    LUCENT_RETURN_IF_ERROR(
        check_param("pool2d", "pad_w (at most kernel_w / 2)", p.pad_w, 0, p.kernel_w / 2));
    const int64_t ph = in.h + 2 * p.pad_h, pw = in.w + 2 * p.pad_w;
    LUCENT_RETURN_IF_ERROR(check_param("pool2d", "padded width", pw, 1, kMaxRow));
    if (ph < p.kernel_h || pw < p.kernel_w) {
        return make_status(StatusCode::kInvalidArgument,
                           "pool2d: padded input %lldx%lld is smaller than the kernel %lldx%lld",
                           static_cast<long long>(ph), static_cast<long long>(pw),
                           static_cast<long long>(p.kernel_h), static_cast<long long>(p.kernel_w));
    }
    *out =
        Shape{in.n, in.c, (ph - p.kernel_h) / p.stride_h + 1, (pw - p.kernel_w) / p.stride_w + 1};
    return Status();
}

Status pool2d(const Context& ctx, const Pool2dParams& p, ConstTensorView in, TensorView out) {
    Shape os;
    LUCENT_RETURN_IF_ERROR(check_tensor("pool2d", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("pool2d", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(pool2d_output_shape(p, in.shape, &os));
    LUCENT_RETURN_IF_ERROR(check_shape("pool2d", "output", out.shape, os));
    const Shape& is = in.shape;
    const int64_t ph = is.h + 2 * p.pad_h, pw = is.w + 2 * p.pad_w;
    const bool is_max = p.kind == PoolKind::kMax;
    // Padded copy (pad value -inf for max, 0 for average) unless there is no padding.
    const float* base = in.data;
    Tensor padded;
    if (p.pad_h > 0 || p.pad_w > 0) {
        LUCENT_ASSIGN_OR_RETURN(Tensor t, Tensor::create(Shape{is.n, is.c, ph, pw}));
        padded = std::move(t);
        const float fill = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
        float* dst = padded.data();
        parallel_for(is.n * is.c, ctx.num_threads, [&](int64_t nc) {
            float* plane = dst + nc * ph * pw;
            for (int64_t i = 0; i < ph * pw; ++i) plane[i] = fill;
            for (int64_t y = 0; y < is.h; ++y) {
                const float* src = in.data + (nc * is.h + y) * is.w;
                float* row = plane + (y + p.pad_h) * pw + p.pad_w;
                for (int64_t x = 0; x < is.w; ++x) row[x] = src[x];
            }
        });
        base = padded.data();
    }
    const KernelTable& k = *ctx.k;
    parallel_for(os.n * os.c * os.h, ctx.num_threads, [&](int64_t item) {
        const int64_t y = item % os.h, nc = item / os.h;
        PoolRowArgs a;
        a.in = base + (nc * ph + y * p.stride_h) * pw;
        a.row_stride = pw;
        a.kh = static_cast<int32_t>(p.kernel_h);
        a.kw = static_cast<int32_t>(p.kernel_w);
        a.stride = static_cast<int32_t>(p.stride_w);
        a.is_max = is_max ? 1 : 0;
        a.inv_area = 1.0f / static_cast<float>(p.kernel_h * p.kernel_w);
        a.out = out.data + item * os.w;
        a.width = static_cast<int32_t>(os.w);
        k.pool_row(a);
    });
    return Status();
}

Status adaptive_pool2d(const Context& ctx, PoolKind kind, ConstTensorView in, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_tensor("adaptive_pool2d", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("adaptive_pool2d", "output", out.data, out.shape));
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    LUCENT_RETURN_IF_ERROR(check_shape("adaptive_pool2d", "output batch/channels",
                                       Shape{os.n, os.c, 1, 1}, Shape{is.n, is.c, 1, 1}));
    if (kind != PoolKind::kMax && kind != PoolKind::kAvg) {
        return make_status(StatusCode::kInvalidArgument, "adaptive_pool2d: unknown kind %d",
                           static_cast<int>(kind));
    }
    LUCENT_RETURN_IF_ERROR(
        check_param("adaptive_pool2d", "output height", os.h, 1, int64_t{1} << 24));
    LUCENT_RETURN_IF_ERROR(
        check_param("adaptive_pool2d", "output width", os.w, 1, int64_t{1} << 24));
    const KernelTable& k = *ctx.k;
    if (kind == PoolKind::kAvg) {
        // The row-ordered sums the streaming graphs use, so both give the same bits.
        const int64_t per_image = os.c * os.h * os.w;
        for (int64_t n = 0; n < is.n; ++n) {
            float* sums = out.data + n * per_image;
            std::fill(sums, sums + per_image, 0.0f);
            adaptive_sum_rows(ctx,
                              rows_of(ConstTensorView{in.data + n * is.c * is.plane(),
                                                      Shape{1, is.c, is.h, is.w}}),
                              os.h, os.w, sums);
            adaptive_mean_finish(os.c, is.h, is.w, os.h, os.w, sums);
        }
        return Status();
    }
    parallel_for(os.n * os.c, ctx.num_threads, [&](int64_t nc) {
        const float* plane = in.data + nc * is.plane();
        for (int64_t oy = 0; oy < os.h; ++oy) {
            const int64_t y0 = adaptive_bin_start(oy, is.h, os.h),
                          y1 = adaptive_bin_end(oy, is.h, os.h);
            for (int64_t ox = 0; ox < os.w; ++ox) {
                const int64_t x0 = adaptive_bin_start(ox, is.w, os.w),
                              x1 = adaptive_bin_end(ox, is.w, os.w);
                float sum, mx;
                k.rect_sum_max(plane + y0 * is.w + x0, is.w, y1 - y0, x1 - x0, &sum, &mx);
                out.data[(nc * os.h + oy) * os.w + ox] = mx;
            }
        }
    });
    return Status();
}

Status global_pool(const Context& ctx, ConstTensorView in, float* avg, float* max) {
    LUCENT_RETURN_IF_ERROR(check_tensor("global_pool", "input", in.data, in.shape));
    const int64_t c = in.shape.c, plane = in.shape.plane();
    std::vector<float> sum(static_cast<size_t>(c)), mx(static_cast<size_t>(c));
    for (int64_t n = 0; n < in.shape.n; ++n) {
        std::fill(sum.begin(), sum.end(), 0.0f);
        std::fill(mx.begin(), mx.end(), -std::numeric_limits<float>::infinity());
        global_sum_max_rows(
            ctx,
            rows_of(ConstTensorView{in.data + n * c * plane, Shape{1, c, in.shape.h, in.shape.w}}),
            sum.data(), mx.data());
        for (int64_t i = 0; i < c; ++i) {
            if (avg != nullptr)
                avg[n * c + i] = sum[static_cast<size_t>(i)] / static_cast<float>(plane);
            if (max != nullptr) max[n * c + i] = mx[static_cast<size_t>(i)];
        }
    }
    return Status();
}

void adaptive_sum_rows(const Context& ctx, ConstRows in, int64_t bh, int64_t bw, float* sums) {
    const KernelTable& k = *ctx.k;
    parallel_for(in.c, ctx.num_threads, [&](int64_t c) {
        float* s = sums + c * bh * bw;
        for (int64_t y = in.row0; y < in.end(); ++y) {
            const float* row = in.row(c, y);
            for (int64_t j = 0; j < bw; ++j) {
                const int64_t x0 = adaptive_bin_start(j, in.w, bw),
                              x1 = adaptive_bin_end(j, in.w, bw);
                float sum, mx;
                k.rect_sum_max(row + x0, in.w, 1, x1 - x0, &sum, &mx);
                // Bin rows covering y: those with start <= y < end (one or two, bins overlap).
                for (int64_t i = std::max<int64_t>(y * bh / in.h - 1, 0); i < bh; ++i) {
                    if (adaptive_bin_start(i, in.h, bh) > y) break;
                    if (y < adaptive_bin_end(i, in.h, bh)) s[i * bw + j] += sum;
                }
            }
        }
    });
}

void adaptive_mean_finish(int64_t c, int64_t h, int64_t w, int64_t bh, int64_t bw, float* sums) {
    for (int64_t i = 0; i < bh; ++i) {
        const int64_t rows = adaptive_bin_end(i, h, bh) - adaptive_bin_start(i, h, bh);
        for (int64_t j = 0; j < bw; ++j) {
            const int64_t cols = adaptive_bin_end(j, w, bw) - adaptive_bin_start(j, w, bw);
            const float area = static_cast<float>(rows * cols);
            for (int64_t ch = 0; ch < c; ++ch) sums[(ch * bh + i) * bw + j] /= area;
        }
    }
}

void global_sum_max_rows(const Context& ctx, ConstRows in, float* sum, float* max) {
    const KernelTable& k = *ctx.k;
    parallel_for(in.c, ctx.num_threads, [&](int64_t c) {
        for (int64_t y = in.row0; y < in.end(); ++y) {
            float s, m;
            k.rect_sum_max(in.row(c, y), in.w, 1, in.w, &s, &m);
            sum[c] += s;
            if (max != nullptr && m > max[c]) max[c] = m;
        }
    });
}

}  // namespace lucent::ops
