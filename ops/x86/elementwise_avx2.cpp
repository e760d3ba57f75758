// axpby / scale / mul for AVX2: 8 lanes, masked tail, mul then add (no FMA).
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

void axpby(const float* x, float a, const float* y, float b, float* out, int64_t n) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = lucent_mask8(n - i);
        const __m256 ax = _mm256_mul_ps(va, _mm256_maskload_ps(x + i, m));
        const __m256 by = _mm256_mul_ps(vb, _mm256_maskload_ps(y + i, m));
        _mm256_maskstore_ps(out + i, m, _mm256_add_ps(ax, by));
    }
}

void scale(const float* x, float s, float* out, int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = lucent_mask8(n - i);
        _mm256_maskstore_ps(out + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), vs));
    }
}

void mul(const float* x, const float* y, float* out, int64_t n) {
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i m = lucent_mask8(n - i);
        const __m256 p = _mm256_mul_ps(_mm256_maskload_ps(x + i, m), _mm256_maskload_ps(y + i, m));
        _mm256_maskstore_ps(out + i, m, p);
    }
}

}  // namespace lucent::ops::avx2
