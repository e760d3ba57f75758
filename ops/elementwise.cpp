#include "ops/elementwise.h"

#include <cassert>
#include <cstring>

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

namespace {
constexpr int64_t kChunk = 16384;

template <typename Fn>
void for_chunks(const Context& ctx, int64_t n, const Fn& fn) {
    parallel_for((n + kChunk - 1) / kChunk, ctx.num_threads, [&](int64_t i) {
        const int64_t begin = i * kChunk;
        fn(begin, n - begin < kChunk ? n - begin : kChunk);
    });
}

Status check_unary(const char* op, ConstTensorView x, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_tensor(op, "input", x.data, x.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor(op, "output", out.data, out.shape));
    return check_shape(op, "output", out.shape, x.shape);
}
}  // namespace

Status add_scaled(const Context& ctx, ConstTensorView x, float a, ConstTensorView y, float b,
                  TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_unary("add", x, out));
    LUCENT_RETURN_IF_ERROR(check_tensor("add", "second input", y.data, y.shape));
    LUCENT_RETURN_IF_ERROR(check_shape("add", "second input", y.shape, x.shape));
    const KernelTable& k = *ctx.k;
    for_chunks(ctx, x.shape.numel(), [&](int64_t begin, int64_t len) {
        k.axpby(x.data + begin, a, y.data + begin, b, out.data + begin, len);
    });
    return Status();
}

Status add(const Context& ctx, ConstTensorView x, ConstTensorView y, TensorView out) {
    return add_scaled(ctx, x, 1.0f, y, 1.0f, out);
}

Status scale(const Context& ctx, ConstTensorView x, float s, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_unary("scale", x, out));
    const KernelTable& k = *ctx.k;
    for_chunks(ctx, x.shape.numel(), [&](int64_t begin, int64_t len) {
        k.scale(x.data + begin, s, out.data + begin, len);
    });
    return Status();
}

Status mul_channels(const Context& ctx, ConstTensorView x, const float* s, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_unary("mul_channels", x, out));
    if (s == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "mul_channels: scale pointer is null");
    }
    const KernelTable& k = *ctx.k;
    const int64_t plane = x.shape.plane();
    parallel_for(x.shape.n * x.shape.c, ctx.num_threads, [&](int64_t nc) {
        k.scale(x.data + nc * plane, s[nc], out.data + nc * plane, plane);
    });
    return Status();
}

Status mul_pixels(const Context& ctx, ConstTensorView x, ConstTensorView g, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_unary("mul_pixels", x, out));
    LUCENT_RETURN_IF_ERROR(check_tensor("mul_pixels", "gate", g.data, g.shape));
    LUCENT_RETURN_IF_ERROR(
        check_shape("mul_pixels", "gate", g.shape, Shape{x.shape.n, 1, x.shape.h, x.shape.w}));
    const KernelTable& k = *ctx.k;
    const int64_t plane = x.shape.plane();
    parallel_for(x.shape.n * x.shape.c, ctx.num_threads, [&](int64_t nc) {
        const int64_t n = nc / x.shape.c;
        k.mul(x.data + nc * plane, g.data + n * plane, out.data + nc * plane, plane);
    });
    return Status();
}

void add_scaled_rows(const Context& ctx, ConstRows x, float a, ConstRows y, float b, Rows out) {
    assert(x.c == out.c && y.c == out.c && x.w == out.w && y.w == out.w);
    assert(x.row0 <= out.row0 && out.end() <= x.end() && y.row0 <= out.row0 &&
           out.end() <= y.end());
    const KernelTable& k = *ctx.k;
    const int64_t n = out.rows * out.w;
    parallel_for(out.c, ctx.num_threads, [&](int64_t c) {
        k.axpby(x.row(c, out.row0), a, y.row(c, out.row0), b, out.row(c, out.row0), n);
    });
}

void copy_rows(const Context& ctx, ConstRows x, Rows out) {
    assert(x.c == out.c && x.w == out.w && x.row0 <= out.row0 && out.end() <= x.end());
    const size_t bytes = static_cast<size_t>(out.rows * out.w) * sizeof(float);
    parallel_for(out.c, ctx.num_threads,
                 [&](int64_t c) { std::memcpy(out.row(c, out.row0), x.row(c, out.row0), bytes); });
}

}  // namespace lucent::ops
