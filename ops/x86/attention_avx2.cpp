// channel_mean_max for AVX2: 8 pixels at a time, channels in order (bit-identical to scalar).
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

void channel_mean_max(const float* in, int64_t c, int64_t cs, int64_t n, float* mean, float* max) {
    const __m256 inv_c = _mm256_set1_ps(1.0f / static_cast<float>(c));
    for (int64_t p = 0; p < n; p += 8) {
        const __m256i m = lucent_mask8(n - p);
        __m256 s = _mm256_maskload_ps(in + p, m);
        __m256 mx = s;
        for (int64_t k = 1; k < c; ++k) {
            const __m256 v = _mm256_maskload_ps(in + k * cs + p, m);
            s = _mm256_add_ps(s, v);
            mx = _mm256_max_ps(v, mx);
        }
        _mm256_maskstore_ps(mean + p, m, _mm256_mul_ps(s, inv_c));
        _mm256_maskstore_ps(max + p, m, mx);
    }
}

}  // namespace lucent::ops::avx2
