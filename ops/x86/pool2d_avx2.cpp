// rect_sum_max / pool_row for AVX2: 8 lane partial sums, exact maxima, gathers for strides > 1.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

void rect_sum_max(const float* in, int64_t row_stride, int64_t h, int64_t w, float* sum,
                  float* max) {
    const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
    __m256 s = _mm256_setzero_ps();
    __m256 mx = neg_inf;
    for (int64_t y = 0; y < h; ++y) {
        const float* row = in + y * row_stride;
        for (int64_t x = 0; x < w; x += 8) {
            const __m256i m = lucent_mask8(w - x);
            const __m256 v = _mm256_maskload_ps(row + x, m);
            s = _mm256_add_ps(s, v);
            mx = _mm256_max_ps(mx, _mm256_blendv_ps(neg_inf, v, _mm256_castsi256_ps(m)));
        }
    }
    *sum = lucent_hsum256(s);
    *max = lucent_hmax256(mx);
}

void pool_row(const PoolRowArgs& a) {
    const __m256i vidx =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(a.stride));
    const __m256 neg_inf = _mm256_set1_ps(-__builtin_inff());
    for (int32_t x = 0; x < a.width; x += 8) {
        const __m256i m = lucent_mask8(a.width - x);
        const float* win = a.in + static_cast<int64_t>(x) * a.stride;
        __m256 acc = a.is_max ? neg_inf : _mm256_setzero_ps();
        for (int32_t ky = 0; ky < a.kh; ++ky) {
            for (int32_t kx = 0; kx < a.kw; ++kx) {
                const float* src = win + ky * a.row_stride + kx;
                const __m256 v = a.stride == 1
                                     ? _mm256_maskload_ps(src, m)
                                     : _mm256_mask_i32gather_ps(_mm256_setzero_ps(), src, vidx,
                                                                _mm256_castsi256_ps(m), 4);
                acc = a.is_max ? _mm256_max_ps(acc, v) : _mm256_add_ps(acc, v);
            }
        }
        if (!a.is_max) acc = _mm256_mul_ps(acc, _mm256_set1_ps(a.inv_area));
        _mm256_maskstore_ps(a.out + x, m, acc);
    }
}

}  // namespace lucent::ops::avx2
