#include "ops/pixel_shuffle.h"

#include <cassert>

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

namespace {
constexpr int64_t kMaxFactor = 64;
constexpr int64_t kMaxRow = int64_t{1} << 30;  // kernels index a row with int32
}  // namespace

Status pixel_shuffle_output_shape(const Shape& in, int64_t r, Shape* out) {
    LUCENT_RETURN_IF_ERROR(check_param("pixel_shuffle", "factor", r, 1, kMaxFactor));
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "pixel_shuffle input", &numel));
    if (in.c % (r * r) != 0) {
        return make_status(
            StatusCode::kInvalidArgument,
            "pixel_shuffle: input channels %lld are not divisible by factor^2 = %lld",
            static_cast<long long>(in.c), static_cast<long long>(r * r));
    }
    LUCENT_RETURN_IF_ERROR(check_param("pixel_shuffle", "output width", in.w * r, 1, kMaxRow));
    *out = Shape{in.n, in.c / (r * r), in.h * r, in.w * r};
    return Status();
}

Status pixel_unshuffle_output_shape(const Shape& in, int64_t r, Shape* out) {
    LUCENT_RETURN_IF_ERROR(check_param("pixel_unshuffle", "factor", r, 1, kMaxFactor));
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "pixel_unshuffle input", &numel));
    if (in.h % r != 0 || in.w % r != 0) {
        return make_status(StatusCode::kInvalidArgument,
                           "pixel_unshuffle: input %lldx%lld is not divisible by factor %lld",
                           static_cast<long long>(in.h), static_cast<long long>(in.w),
                           static_cast<long long>(r));
    }
    LUCENT_RETURN_IF_ERROR(check_param("pixel_unshuffle", "input width", in.w, 1, kMaxRow));
    *out = Shape{in.n, in.c * r * r, in.h / r, in.w / r};
    return Status();
}

Status pixel_shuffle(const Context& ctx, ConstTensorView in, int64_t r, TensorView out) {
    Shape os;
    LUCENT_RETURN_IF_ERROR(check_tensor("pixel_shuffle", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("pixel_shuffle", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(pixel_shuffle_output_shape(in.shape, r, &os));
    LUCENT_RETURN_IF_ERROR(check_shape("pixel_shuffle", "output", out.shape, os));
    const KernelTable& k = *ctx.k;
    const int64_t in_plane = in.shape.plane();
    // One item per output row: (n, c, h*r + i) reads row h of channels c*r*r + i*r + [0, r).
    parallel_for(os.n * os.c * os.h, ctx.num_threads, [&](int64_t item) {
        const int64_t y = item % os.h, nc = item / os.h;
        const int64_t n = nc / os.c, c = nc % os.c, h = y / r, i = y % r;
        const float* src =
            in.data + ((n * in.shape.c + c * r * r + i * r) * in.shape.h + h) * in.shape.w;
        k.pixel_shuffle_row(src, in_plane, static_cast<int32_t>(r), out.data + item * os.w,
                            static_cast<int32_t>(os.w));
    });
    return Status();
}

void pixel_shuffle_rows(const Context& ctx, ConstRows in, int64_t r, Rows out) {
    assert(in.c == out.c * r * r && in.w * r == out.w && in.h * r == out.h);
    assert(in.row0 <= out.row0 / r && (out.end() - 1) / r < in.end());
    const KernelTable& k = *ctx.k;
    parallel_for(out.c * out.rows, ctx.num_threads, [&](int64_t item) {
        const int64_t c = item / out.rows, y = out.row0 + item % out.rows;
        k.pixel_shuffle_row(in.row(c * r * r + (y % r) * r, y / r), in.cs, static_cast<int32_t>(r),
                            out.row(c, y), static_cast<int32_t>(out.w));
    });
}

Status pixel_unshuffle(const Context& ctx, ConstTensorView in, int64_t r, TensorView out) {
    Shape os;
    LUCENT_RETURN_IF_ERROR(check_tensor("pixel_unshuffle", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("pixel_unshuffle", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(pixel_unshuffle_output_shape(in.shape, r, &os));
    LUCENT_RETURN_IF_ERROR(check_shape("pixel_unshuffle", "output", out.shape, os));
    const KernelTable& k = *ctx.k;
    // One item per output row: channel c*r*r + i*r + j, row h reads input row h*r + i from j.
    parallel_for(os.n * os.c * os.h, ctx.num_threads, [&](int64_t item) {
        const int64_t h = item % os.h, nc = item / os.h;
        const int64_t n = nc / os.c, oc = nc % os.c;
        const int64_t c = oc / (r * r), i = (oc / r) % r, j = oc % r;
        const float* src =
            in.data + ((n * in.shape.c + c) * in.shape.h + h * r + i) * in.shape.w + j;
        k.pixel_unshuffle_row(src, static_cast<int32_t>(r), out.data + item * os.w,
                              static_cast<int32_t>(os.w));
    });
    return Status();
}

}  // namespace lucent::ops
