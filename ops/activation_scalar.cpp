// activation, portable tier.
#include <cmath>
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void activation(const float* in, float* out, int64_t n, int32_t act, float slope) {
    if (act == kActSigmoid) {
        for (int64_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
    } else if (act == kActLeaky) {
        for (int64_t i = 0; i < n; ++i) out[i] = in[i] < 0.0f ? in[i] * slope : in[i];
    } else if (in != out) {
        for (int64_t i = 0; i < n; ++i) out[i] = in[i];
    }
}

}  // namespace lucent::ops::scalar
