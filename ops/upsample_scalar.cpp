// nearest_row / bilinear_row, portable tier.
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void nearest_row(const float* in, int32_t r, float* out, int32_t out_w) {
    for (int32_t x = 0; x < out_w; ++x) out[x] = in[x / r];
}

void bilinear_row(const BilinearRowArgs& a) {
    for (int32_t x = 0; x < a.width; ++x) {
        const float top = a.lx0[x] * a.r0[a.x0[x]] + a.lx1[x] * a.r0[a.x1[x]];
        const float bot = a.lx0[x] * a.r1[a.x0[x]] + a.lx1[x] * a.r1[a.x1[x]];
        a.out[x] = a.wy0 * top + a.wy1 * bot;
    }
}

}  // namespace lucent::ops::scalar
