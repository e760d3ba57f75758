// axpby / scale / mul, portable tier.
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void axpby(const float* x, float a, const float* y, float b, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = a * x[i] + b * y[i];
}

void scale(const float* x, float s, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * s;
}

void mul(const float* x, const float* y, float* out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * y[i];
}

}  // namespace lucent::ops::scalar
