// pixel_shuffle_row / pixel_unshuffle_row, portable tier.
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void pixel_shuffle_row(const float* in, int64_t cs, int32_t r, float* out, int32_t out_w) {
    for (int32_t x = 0; x < out_w; ++x) out[x] = in[(x % r) * cs + x / r];
}

void pixel_unshuffle_row(const float* in, int32_t r, float* out, int32_t out_w) {
    for (int32_t x = 0; x < out_w; ++x) out[x] = in[static_cast<int64_t>(x) * r];
}

}  // namespace lucent::ops::scalar
