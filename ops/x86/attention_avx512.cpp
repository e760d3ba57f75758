// channel_mean_max for AVX-512: 16 pixels at a time, channels summed in order (as the scalar
// tier does), so mean and max are bit-identical to it.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

void channel_mean_max(const float* in, int64_t c, int64_t cs, int64_t n, float* mean, float* max) {
    const __m512 inv_c = _mm512_set1_ps(1.0f / static_cast<float>(c));
    for (int64_t p = 0; p < n; p += 16) {
        const __mmask16 m = lucent_mask16(n - p);
        __m512 s = _mm512_maskz_loadu_ps(m, in + p);
        __m512 mx = s;
        for (int64_t k = 1; k < c; ++k) {
            const __m512 v = _mm512_maskz_loadu_ps(m, in + k * cs + p);
            s = _mm512_add_ps(s, v);
            mx = _mm512_max_ps(v, mx);
        }
        _mm512_mask_storeu_ps(mean + p, m, _mm512_mul_ps(s, inv_c));
        _mm512_mask_storeu_ps(max + p, m, mx);
    }
}

}  // namespace lucent::ops::avx512
