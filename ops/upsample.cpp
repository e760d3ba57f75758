#include "ops/upsample.h"

#include <cassert>
#include <vector>

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

namespace {
constexpr int64_t kMaxRow = int64_t{1} << 30;
}

LinearTap bilinear_tap(int64_t dst, int64_t in_len, int64_t out_len) {
    const float scale = static_cast<float>(in_len) / static_cast<float>(out_len);
    float src = scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    LinearTap t;
    t.i0 = static_cast<int32_t>(src);
    t.i1 = t.i0 + (t.i0 < in_len - 1 ? 1 : 0);
    t.l1 = src - static_cast<float>(t.i0);
    t.l0 = 1.0f - t.l1;
    return t;
}

void upsample_nearest_rows(const Context& ctx, ConstRows in, int64_t r, Rows out) {
    assert(in.c == out.c && in.w * r == out.w && in.h * r == out.h);
    assert(in.row0 <= out.row0 / r && (out.end() - 1) / r < in.end());
    const KernelTable& k = *ctx.k;
    parallel_for(out.c * out.rows, ctx.num_threads, [&](int64_t item) {
        const int64_t c = item / out.rows, y = out.row0 + item % out.rows;
        k.nearest_row(in.row(c, y / r), static_cast<int32_t>(r), out.row(c, y),
                      static_cast<int32_t>(out.w));
    });
}

Status upsample_nearest(const Context& ctx, ConstTensorView in, int64_t r, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_tensor("upsample_nearest", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("upsample_nearest", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(check_param("upsample_nearest", "factor", r, 1, 64));
    const Shape& is = in.shape;
    const Shape os{is.n, is.c, is.h * r, is.w * r};
    LUCENT_RETURN_IF_ERROR(check_param("upsample_nearest", "output width", os.w, 1, kMaxRow));
    LUCENT_RETURN_IF_ERROR(check_shape("upsample_nearest", "output", out.shape, os));
    const KernelTable& k = *ctx.k;
    parallel_for(os.n * os.c * os.h, ctx.num_threads, [&](int64_t item) {
        const int64_t y = item % os.h, nc = item / os.h;
        k.nearest_row(in.data + (nc * is.h + y / r) * is.w, static_cast<int32_t>(r),
                      out.data + item * os.w, static_cast<int32_t>(os.w));
    });
    return Status();
}

Status upsample_bilinear(const Context& ctx, ConstTensorView in, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_tensor("upsample_bilinear", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("upsample_bilinear", "output", out.data, out.shape));
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    LUCENT_RETURN_IF_ERROR(check_shape("upsample_bilinear", "output batch/channels",
                                       Shape{os.n, os.c, 1, 1}, Shape{is.n, is.c, 1, 1}));
    LUCENT_RETURN_IF_ERROR(check_param("upsample_bilinear", "output width", os.w, 1, kMaxRow));
    LUCENT_RETURN_IF_ERROR(check_param("upsample_bilinear", "input width", is.w, 1, kMaxRow));
    for (int64_t n = 0; n < is.n; ++n) {
        const ConstTensorView src{in.data + n * is.c * is.plane(), Shape{1, is.c, is.h, is.w}};
        upsample_bilinear_rows(
            ctx, src,
            rows_of(TensorView{out.data + n * os.c * os.plane(), Shape{1, os.c, os.h, os.w}}));
    }
    return Status();
}

BilinearColumns bilinear_columns(int64_t in_w, int64_t out_w) {
    BilinearColumns c;
    const size_t n = static_cast<size_t>(out_w);
    c.x0.resize(n);
    c.x1.resize(n);
    c.l0.resize(n);
    c.l1.resize(n);
    for (int64_t x = 0; x < out_w; ++x) {
        const LinearTap t = bilinear_tap(x, in_w, out_w);
        const size_t i = static_cast<size_t>(x);
        c.x0[i] = t.i0;
        c.x1[i] = t.i1;
        c.l0[i] = t.l0;
        c.l1[i] = t.l1;
    }
    return c;
}

void upsample_bilinear_rows(const Context& ctx, ConstTensorView in, Rows out) {
    upsample_bilinear_rows(ctx, in, bilinear_columns(in.shape.w, out.w), out);
}

void upsample_bilinear_rows(const Context& ctx, ConstTensorView in, const BilinearColumns& cols,
                            Rows out) {
    const Shape& is = in.shape;
    assert(is.n == 1 && is.c == out.c && static_cast<int64_t>(cols.x0.size()) == out.w);
    const KernelTable& k = *ctx.k;
    parallel_for(out.c * out.rows, ctx.num_threads, [&](int64_t item) {
        const int64_t c = item / out.rows, y = out.row0 + item % out.rows;
        const LinearTap ty = bilinear_tap(y, is.h, out.h);
        const float* plane = in.data + c * is.plane();
        BilinearRowArgs a;
        a.r0 = plane + ty.i0 * is.w;
        a.r1 = plane + ty.i1 * is.w;
        a.wy0 = ty.l0;
        a.wy1 = ty.l1;
        a.x0 = cols.x0.data();
        a.x1 = cols.x1.data();
        a.lx0 = cols.l0.data();
        a.lx1 = cols.l1.data();
        a.out = out.row(c, y);
        a.width = static_cast<int32_t>(out.w);
        k.bilinear_row(a);
    });
}

}  // namespace lucent::ops
