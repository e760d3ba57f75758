// nearest_row / bilinear_row for AVX2: fixed lane permutations for nearest (r <= 8), gathers
// and PyTorch's mul/add order for bilinear (bit-identical to the scalar tier).
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

void nearest_row(const float* in, int32_t r, float* out, int32_t out_w) {
    if (r > 8) {
        for (int32_t x = 0; x < out_w; ++x) out[x] = in[x / r];
        return;
    }
    __m256i perm[8];
    for (int32_t j = 0; j < r; ++j) {
        alignas(32) int32_t idx[8];
        for (int32_t l = 0; l < 8; ++l) idx[l] = (8 * j + l) / r;
        perm[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
    }
    const int32_t in_w = (out_w + r - 1) / r;
    for (int32_t i = 0; i < in_w; i += 8) {
        const __m256 v = _mm256_maskload_ps(in + i, lucent_mask8(in_w - i));
        const int32_t base = i * r;
        for (int32_t j = 0; j < r && base + 8 * j < out_w; ++j) {
            _mm256_maskstore_ps(out + base + 8 * j, lucent_mask8(out_w - base - 8 * j),
                                _mm256_permutevar8x32_ps(v, perm[j]));
        }
    }
}

void bilinear_row(const BilinearRowArgs& a) {
    const __m256 wy0 = _mm256_set1_ps(a.wy0), wy1 = _mm256_set1_ps(a.wy1);
    const __m256 zero = _mm256_setzero_ps();
    for (int32_t x = 0; x < a.width; x += 8) {
        const __m256i m = lucent_mask8(a.width - x);
        const __m256 mf = _mm256_castsi256_ps(m);
        const __m256i i0 = _mm256_maskload_epi32(a.x0 + x, m);
        const __m256i i1 = _mm256_maskload_epi32(a.x1 + x, m);
        const __m256 l0 = _mm256_maskload_ps(a.lx0 + x, m);
        const __m256 l1 = _mm256_maskload_ps(a.lx1 + x, m);
        const __m256 t0 = _mm256_mask_i32gather_ps(zero, a.r0, i0, mf, 4);
        const __m256 t1 = _mm256_mask_i32gather_ps(zero, a.r0, i1, mf, 4);
        const __m256 b0 = _mm256_mask_i32gather_ps(zero, a.r1, i0, mf, 4);
        const __m256 b1 = _mm256_mask_i32gather_ps(zero, a.r1, i1, mf, 4);
        const __m256 top = _mm256_add_ps(_mm256_mul_ps(l0, t0), _mm256_mul_ps(l1, t1));
        const __m256 bot = _mm256_add_ps(_mm256_mul_ps(l0, b0), _mm256_mul_ps(l1, b1));
        _mm256_maskstore_ps(a.out + x, m,
                            _mm256_add_ps(_mm256_mul_ps(wy0, top), _mm256_mul_ps(wy1, bot)));
    }
}

}  // namespace lucent::ops::avx2
