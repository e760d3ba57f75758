// AVX-512 helpers for ops/x86/*_avx512.cpp only. Everything is static inline so no symbol can
// be shared with code built for another tier (see docs/ARCHITECTURE.md, ISA translation units).
#pragma once

#include <immintrin.h>

#include <cstdint>

// Mask of the first clamp(n, 0, 16) lanes.
static inline __mmask16 lucent_mask16(int64_t n) {
    if (n <= 0) return 0;
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// exp(x) for float lanes: Cody-Waite range reduction to r in [-ln2/2, ln2/2], a degree-6
// polynomial (Cephes expf coefficients, ~1 ulp), then scalef by 2^n. Saturates to 0 / +inf.
static inline __m512 lucent_exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

static inline __m512 lucent_sigmoid512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one,
                         _mm512_add_ps(one, lucent_exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// x >= 0 ? x : x * slope (matches PyTorch's leaky_relu, including x = 0 and -0).
static inline __m512 lucent_leaky512(__m512 x, __m512 slope) {
    const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(x, neg, x, slope);
}
