// ramp_act for AVX2: 8 lanes, masked tail; the column index counts up in a float vector (exact
// below 2^24), mul then adds (no FMA) so the result rounds exactly like the scalar tier.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

void ramp_act(const float* in, float a, float b, float* out, int64_t n, int32_t act, float slope) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), vslope = _mm256_set1_ps(slope);
    const __m256 eight = _mm256_set1_ps(8.0f);
    __m256 t = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = lucent_mask8(n - i);
        __m256 v =
            _mm256_add_ps(_mm256_maskload_ps(in + i, m), _mm256_add_ps(va, _mm256_mul_ps(vb, t)));
        if (act == kActLeaky) v = lucent_leaky256(v, vslope);
        _mm256_maskstore_ps(out + i, m, v);
        t = _mm256_add_ps(t, eight);
    }
}

}  // namespace lucent::ops::avx2
