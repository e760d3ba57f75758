// Oracle of the bf16 tier's convolution (k x k, k 1 or 3, stride 1 or 2, padding k / 2): plain
// loops with the same roundings and the same summation order as ops/conv_bf16.h states (inputs and
// weights to bf16, fp32 sums tap by tap, 32-channel blocks, pairs in order; then bias and the
// activation in fp32).
#include <cmath>

#include "ops/conv_bf16.h"
#include "ops/ref.h"

namespace lucent::ops::ref {

void conv_bf16(ConstTensorView in, const float* weight, const float* bias, int64_t k,
               int64_t stride, Activation act, float slope, TensorView out) {
    const int64_t cin = in.shape.c, cout = out.shape.c, h = in.shape.h, w = in.shape.w;
    const int64_t oh = out.shape.h, ow = out.shape.w;
    const auto input = [&](int64_t n, int64_t c, int64_t y, int64_t x) {
        if (c >= cin || y < 0 || y >= h || x < 0 || x >= w) return 0.0f;
        return from_bf16(to_bf16(in.data[((n * cin + c) * h + y) * w + x]));
    };
    const auto wt = [&](int64_t o, int64_t c, int64_t t) {
        return c < cin ? from_bf16(to_bf16(weight[(o * cin + c) * k * k + t])) : 0.0f;
    };
    const int64_t cin_pad = (cin + 31) / 32 * 32;
    for (int64_t n = 0; n < in.shape.n; ++n)
        for (int64_t o = 0; o < cout; ++o)
            for (int64_t y = 0; y < oh; ++y)
                for (int64_t x = 0; x < ow; ++x) {
                    float acc = 0.0f;
                    for (int64_t t = 0; t < k * k; ++t)
                        for (int64_t c = 0; c < cin_pad; c += 2) {
                            const int64_t iy = stride * y + t / k - k / 2;
                            const int64_t ix = stride * x + t % k - k / 2;
                            acc += wt(o, c, t) * input(n, c, iy, ix);
                            acc += wt(o, c + 1, t) * input(n, c + 1, iy, ix);
                        }
                    float v = acc + (bias != nullptr ? bias[o] : 0.0f);
                    if ((act == Activation::kLeakyRelu || act == Activation::kRelu) && v < 0.0f)
                        v *= act == Activation::kRelu ? 0.0f : slope;
                    out.data[((n * cout + o) * oh + y) * ow + x] = v;
                }
}

}  // namespace lucent::ops::ref
