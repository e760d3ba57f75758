// ramp_act, portable tier.
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void ramp_act(const float* in, float a, float b, float* out, int64_t n, int32_t act, float slope) {
    for (int64_t t = 0; t < n; ++t) {
        const float v = in[t] + (a + b * static_cast<float>(t));
        out[t] = act == kActLeaky && v < 0.0f ? v * slope : v;
    }
}

}  // namespace lucent::ops::scalar
