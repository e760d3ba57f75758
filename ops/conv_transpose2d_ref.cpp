#include <vector>

#include "ops/ref.h"

namespace lucent::ops::ref {

// Scatter form, straight from the definition: every input pixel adds w * x to the outputs
// its kernel covers.
void conv_transpose2d(const ConvTranspose2dParams& p, ConstTensorView in, const float* weight,
                      const float* bias, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    std::vector<double> acc(static_cast<size_t>(os.numel()), 0.0);
    for (int64_t n = 0; n < is.n; ++n) {
        for (int64_t i = 0; i < is.c; ++i) {
            for (int64_t iy = 0; iy < is.h; ++iy) {
                for (int64_t ix = 0; ix < is.w; ++ix) {
                    const double v = in.data[((n * is.c + i) * is.h + iy) * is.w + ix];
                    for (int64_t o = 0; o < os.c; ++o) {
                        for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
                            const int64_t y = iy * p.stride_h - p.pad_h + ky * p.dilation_h;
                            if (y < 0 || y >= os.h) continue;
                            for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
                                const int64_t x = ix * p.stride_w - p.pad_w + kx * p.dilation_w;
                                if (x < 0 || x >= os.w) continue;
                                const double w =
                                    weight[((i * os.c + o) * p.kernel_h + ky) * p.kernel_w + kx];
                                acc[static_cast<size_t>(((n * os.c + o) * os.h + y) * os.w + x)] +=
                                    w * v;
                            }
                        }
                    }
                }
            }
        }
    }
    for (int64_t idx = 0; idx < os.numel(); ++idx) {
        const int64_t o = (idx / os.plane()) % os.c;
        const double b = bias != nullptr ? bias[o] : 0.0;
        out.data[idx] =
            static_cast<float>(apply_activation(p.act, p.slope, acc[static_cast<size_t>(idx)] + b));
    }
}

}  // namespace lucent::ops::ref
