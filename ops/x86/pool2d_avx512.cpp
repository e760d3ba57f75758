// rect_sum_max / pool_row for AVX-512. Sums keep 16 lane partials (reduced at the end), so
// they differ from the scalar tier's sequential sum by rounding only; maxima are exact.
// Strided pooling windows read through a 32-bit index gather.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

void rect_sum_max(const float* in, int64_t row_stride, int64_t h, int64_t w, float* sum,
                  float* max) {
    __m512 s = _mm512_setzero_ps();
    __m512 mx = _mm512_set1_ps(-__builtin_inff());
    for (int64_t y = 0; y < h; ++y) {
        const float* row = in + y * row_stride;
        for (int64_t x = 0; x < w; x += 16) {
            const __mmask16 m = lucent_mask16(w - x);
            const __m512 v = _mm512_maskz_loadu_ps(m, row + x);
            s = _mm512_add_ps(s, v);
            mx = _mm512_mask_max_ps(mx, m, mx, v);
        }
    }
    *sum = _mm512_reduce_add_ps(s);
    *max = _mm512_reduce_max_ps(mx);
}

void pool_row(const PoolRowArgs& a) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i vidx = _mm512_mullo_epi32(lane, _mm512_set1_epi32(a.stride));
    const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
    for (int32_t x = 0; x < a.width; x += 16) {
        const __mmask16 m = lucent_mask16(a.width - x);
        const float* win = a.in + static_cast<int64_t>(x) * a.stride;
        __m512 acc = a.is_max ? neg_inf : _mm512_setzero_ps();
        for (int32_t ky = 0; ky < a.kh; ++ky) {
            for (int32_t kx = 0; kx < a.kw; ++kx) {
                const float* src = win + ky * a.row_stride + kx;
                const __m512 v =
                    a.stride == 1 ? _mm512_maskz_loadu_ps(m, src)
                                  : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, vidx, src, 4);
                acc = a.is_max ? _mm512_max_ps(acc, v) : _mm512_add_ps(acc, v);
            }
        }
        if (!a.is_max) acc = _mm512_mul_ps(acc, _mm512_set1_ps(a.inv_area));
        _mm512_mask_storeu_ps(a.out + x, m, acc);
    }
}

}  // namespace lucent::ops::avx512
