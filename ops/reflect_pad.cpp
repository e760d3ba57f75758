#include "ops/reflect_pad.h"

#include <cstring>

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

Status reflect_pad_output_shape(const Shape& in, const Padding& pad, Shape* out) {
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "reflect_pad input", &numel));
    constexpr int64_t kMaxPad = int64_t{1} << 31;
    LUCENT_RETURN_IF_ERROR(check_param("reflect_pad", "top", pad.top, 0, kMaxPad));
    LUCENT_RETURN_IF_ERROR(check_param("reflect_pad", "bottom", pad.bottom, 0, kMaxPad));
    LUCENT_RETURN_IF_ERROR(check_param("reflect_pad", "left", pad.left, 0, kMaxPad));
    LUCENT_RETURN_IF_ERROR(check_param("reflect_pad", "right", pad.right, 0, kMaxPad));
    *out = Shape{in.n, in.c, in.h + pad.top + pad.bottom, in.w + pad.left + pad.right};
    return checked_numel(*out, "reflect_pad output", &numel);
}

Status reflect_pad(const Context& ctx, ConstTensorView in, const Padding& pad, TensorView out) {
    Shape os;
    LUCENT_RETURN_IF_ERROR(check_tensor("reflect_pad", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("reflect_pad", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(reflect_pad_output_shape(in.shape, pad, &os));
    LUCENT_RETURN_IF_ERROR(check_shape("reflect_pad", "output", out.shape, os));
    const Shape& is = in.shape;
    parallel_for(os.n * os.c * os.h, ctx.num_threads, [&](int64_t item) {
        const int64_t y = item % os.h, nc = item / os.h;
        const float* src = in.data + (nc * is.h + mirror_index(y - pad.top, is.h)) * is.w;
        float* dst = out.data + item * os.w;
        for (int64_t x = 0; x < pad.left; ++x) dst[x] = src[mirror_index(x - pad.left, is.w)];
        std::memcpy(dst + pad.left, src, static_cast<size_t>(is.w) * sizeof(float));
        for (int64_t x = 0; x < pad.right; ++x)
            dst[pad.left + is.w + x] = src[mirror_index(is.w + x, is.w)];
    });
    return Status();
}

Status crop(const Context& ctx, ConstTensorView in, int64_t top, int64_t left, TensorView out) {
    LUCENT_RETURN_IF_ERROR(check_tensor("crop", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("crop", "output", out.data, out.shape));
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    LUCENT_RETURN_IF_ERROR(check_param("crop", "top", top, 0, is.h - os.h));
    LUCENT_RETURN_IF_ERROR(check_param("crop", "left", left, 0, is.w - os.w));
    LUCENT_RETURN_IF_ERROR(check_shape("crop", "output batch/channels", Shape{os.n, os.c, 1, 1},
                                       Shape{is.n, is.c, 1, 1}));
    parallel_for(os.n * os.c * os.h, ctx.num_threads, [&](int64_t item) {
        const int64_t y = item % os.h, nc = item / os.h;
        std::memcpy(out.data + item * os.w, in.data + (nc * is.h + y + top) * is.w + left,
                    static_cast<size_t>(os.w) * sizeof(float));
    });
    return Status();
}

}  // namespace lucent::ops
