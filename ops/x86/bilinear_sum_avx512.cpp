// ramp_act for AVX-512: 16 lanes, masked tail; the column index counts up in a float vector
// (exact below 2^24), mul then adds (no FMA) so the result rounds exactly like the scalar tier.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

void ramp_act(const float* in, float a, float b, float* out, int64_t n, int32_t act, float slope) {
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b), vslope = _mm512_set1_ps(slope);
    const __m512 sixteen = _mm512_set1_ps(16.0f);
    __m512 t = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = lucent_mask16(n - i);
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, in + i),
                                 _mm512_add_ps(va, _mm512_mul_ps(vb, t)));
        if (act == kActLeaky) v = lucent_leaky512(v, vslope);
        _mm512_mask_storeu_ps(out + i, m, v);
        t = _mm512_add_ps(t, sixteen);
    }
}

}  // namespace lucent::ops::avx512
