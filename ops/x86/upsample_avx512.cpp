// nearest_row / bilinear_row for AVX-512.
// Nearest: one 16-float input chunk yields r output vectors through fixed permutations
// (output lane q of the chunk reads input lane q / r), so no division runs per pixel.
// Bilinear: gathers the two source columns and applies PyTorch's mul/add order without FMA,
// so it is bit-identical to the scalar tier.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

void nearest_row(const float* in, int32_t r, float* out, int32_t out_w) {
    if (r > 16) {
        for (int32_t x = 0; x < out_w; ++x) out[x] = in[x / r];
        return;
    }
    __m512i perm[16];
    for (int32_t j = 0; j < r; ++j) {
        alignas(64) int32_t idx[16];
        for (int32_t l = 0; l < 16; ++l) idx[l] = (16 * j + l) / r;
        perm[j] = _mm512_load_si512(idx);
    }
    const int32_t in_w = (out_w + r - 1) / r;
    for (int32_t i = 0; i < in_w; i += 16) {
        const __m512 v = _mm512_maskz_loadu_ps(lucent_mask16(in_w - i), in + i);
        const int32_t base = i * r;
        for (int32_t j = 0; j < r && base + 16 * j < out_w; ++j) {
            const __mmask16 m = lucent_mask16(out_w - base - 16 * j);
            _mm512_mask_storeu_ps(out + base + 16 * j, m, _mm512_permutexvar_ps(perm[j], v));
        }
    }
}

void bilinear_row(const BilinearRowArgs& a) {
    const __m512 wy0 = _mm512_set1_ps(a.wy0), wy1 = _mm512_set1_ps(a.wy1);
    const __m512 zero = _mm512_setzero_ps();
    for (int32_t x = 0; x < a.width; x += 16) {
        const __mmask16 m = lucent_mask16(a.width - x);
        const __m512i i0 = _mm512_maskz_loadu_epi32(m, a.x0 + x);
        const __m512i i1 = _mm512_maskz_loadu_epi32(m, a.x1 + x);
        const __m512 l0 = _mm512_maskz_loadu_ps(m, a.lx0 + x);
        const __m512 l1 = _mm512_maskz_loadu_ps(m, a.lx1 + x);
        const __m512 t0 = _mm512_mask_i32gather_ps(zero, m, i0, a.r0, 4);
        const __m512 t1 = _mm512_mask_i32gather_ps(zero, m, i1, a.r0, 4);
        const __m512 b0 = _mm512_mask_i32gather_ps(zero, m, i0, a.r1, 4);
        const __m512 b1 = _mm512_mask_i32gather_ps(zero, m, i1, a.r1, 4);
        const __m512 top = _mm512_add_ps(_mm512_mul_ps(l0, t0), _mm512_mul_ps(l1, t1));
        const __m512 bot = _mm512_add_ps(_mm512_mul_ps(l0, b0), _mm512_mul_ps(l1, b1));
        _mm512_mask_storeu_ps(a.out + x, m,
                              _mm512_add_ps(_mm512_mul_ps(wy0, top), _mm512_mul_ps(wy1, bot)));
    }
}

}  // namespace lucent::ops::avx512
