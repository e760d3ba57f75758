// axpby / scale / mul for AVX-512: 16 lanes, masked tail, mul then add (no FMA) so the result
// rounds exactly like the scalar tier and PyTorch's two-step expression.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

void axpby(const float* x, float a, const float* y, float b, float* out, int64_t n) {
    const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = lucent_mask16(n - i);
        const __m512 ax = _mm512_mul_ps(va, _mm512_maskz_loadu_ps(m, x + i));
        const __m512 by = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(ax, by));
    }
}

void scale(const float* x, float s, float* out, int64_t n) {
    const __m512 vs = _mm512_set1_ps(s);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = lucent_mask16(n - i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
    }
}

void mul(const float* x, const float* y, float* out, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = lucent_mask16(n - i);
        const __m512 p =
            _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(out + i, m, p);
    }
}

}  // namespace lucent::ops::avx512
