// activation for AVX2: 8 lanes, maskload / maskstore tail. Sigmoid via lucent_exp256.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

void activation(const float* in, float* out, int64_t n, int32_t act, float slope) {
    const __m256 vslope = _mm256_set1_ps(slope);
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = lucent_mask8(n - i);
        __m256 v = _mm256_maskload_ps(in + i, m);
        if (act == kActSigmoid) {
            v = lucent_sigmoid256(v);
        } else if (act == kActLeaky) {
            v = lucent_leaky256(v, vslope);
        }
        _mm256_maskstore_ps(out + i, m, v);
    }
}

}  // namespace lucent::ops::avx2
