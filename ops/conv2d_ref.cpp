#include "ops/ref.h"

namespace lucent::ops::ref {

void conv2d(const Conv2dParams& p, ConstTensorView in, const float* weight, const float* bias,
            TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    for (int64_t n = 0; n < os.n; ++n) {
        for (int64_t o = 0; o < os.c; ++o) {
            for (int64_t y = 0; y < os.h; ++y) {
                for (int64_t x = 0; x < os.w; ++x) {
                    double acc = bias != nullptr ? bias[o] : 0.0;
                    for (int64_t i = 0; i < is.c; ++i) {
                        for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
                            const int64_t iy = y * p.stride_h - p.pad_top + ky * p.dilation_h;
                            if (iy < 0 || iy >= is.h) continue;
                            for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
                                const int64_t ix = x * p.stride_w - p.pad_left + kx * p.dilation_w;
                                if (ix < 0 || ix >= is.w) continue;
                                const double wv =
                                    weight[((o * is.c + i) * p.kernel_h + ky) * p.kernel_w + kx];
                                acc += wv * in.data[((n * is.c + i) * is.h + iy) * is.w + ix];
                            }
                        }
                    }
                    out.data[((n * os.c + o) * os.h + y) * os.w + x] =
                        static_cast<float>(apply_activation(p.act, p.slope, acc));
                }
            }
        }
    }
}

}  // namespace lucent::ops::ref
