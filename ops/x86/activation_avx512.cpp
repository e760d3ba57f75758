// activation for AVX-512: 16 lanes, masked tail. Sigmoid uses lucent_exp512 (~1 ulp) and an
// exact division, so it stays within a few ulp of the scalar tier's std::exp.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

void activation(const float* in, float* out, int64_t n, int32_t act, float slope) {
    const __m512 vslope = _mm512_set1_ps(slope);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = lucent_mask16(n - i);
        __m512 v = _mm512_maskz_loadu_ps(m, in + i);
        if (act == kActSigmoid) {
            v = lucent_sigmoid512(v);
        } else if (act == kActLeaky) {
            v = lucent_leaky512(v, vslope);
        }
        _mm512_mask_storeu_ps(out + i, m, v);
    }
}

}  // namespace lucent::ops::avx512
