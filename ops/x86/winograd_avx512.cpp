// Winograd F(2x2, 3x3) transforms for AVX-512, vectorised over 16 tiles.
// Input: the even and odd columns of a row (tile t's columns 2t, 2t+1, and 2t+2, 2t+3 from a
// second load two floats later) are split with permutex2var, then B^T d B is 32 add/subs.
// Output: A^T M A, bias and epilogue, then the two output columns of each tile are
// interleaved back into pixel order. Tails use lane masks; no lane beyond the tile count or
// the row width is loaded or stored.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

void winograd_input(const float* in, int64_t row_stride, int32_t tiles, float* v, int64_t v_xs) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int32_t t = 0; t < tiles; t += 16) {
        const int32_t rem = tiles - t < 16 ? tiles - t : 16;
        const __mmask16 lo = lucent_mask16(2 * rem), hi = lucent_mask16(2 * rem - 16);
        const __mmask16 out_mask = lucent_mask16(rem);
        __m512 h[4][4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            const float* r = in + i * row_stride + 2 * t;
            const __m512 a0 = _mm512_maskz_loadu_ps(lo, r), a1 = _mm512_maskz_loadu_ps(hi, r + 16);
            const __m512 b0 = _mm512_maskz_loadu_ps(lo, r + 2),
                         b1 = _mm512_maskz_loadu_ps(hi, r + 18);
            const __m512 d0 = _mm512_permutex2var_ps(a0, even, a1);
            const __m512 d1 = _mm512_permutex2var_ps(a0, odd, a1);
            const __m512 d2 = _mm512_permutex2var_ps(b0, even, b1);
            const __m512 d3 = _mm512_permutex2var_ps(b0, odd, b1);
            h[i][0] = _mm512_sub_ps(d0, d2);
            h[i][1] = _mm512_add_ps(d1, d2);
            h[i][2] = _mm512_sub_ps(d2, d1);
            h[i][3] = _mm512_sub_ps(d1, d3);
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            _mm512_mask_storeu_ps(v + (0 + j) * v_xs + t, out_mask,
                                  _mm512_sub_ps(h[0][j], h[2][j]));
            _mm512_mask_storeu_ps(v + (4 + j) * v_xs + t, out_mask,
                                  _mm512_add_ps(h[1][j], h[2][j]));
            _mm512_mask_storeu_ps(v + (8 + j) * v_xs + t, out_mask,
                                  _mm512_sub_ps(h[2][j], h[1][j]));
            _mm512_mask_storeu_ps(v + (12 + j) * v_xs + t, out_mask,
                                  _mm512_sub_ps(h[1][j], h[3][j]));
        }
    }
}

void winograd_output(const WinogradOutputArgs& a) {
    const __m512i lo_idx =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 bias = _mm512_set1_ps(a.bias), slope = _mm512_set1_ps(a.slope);
    for (int32_t t = 0; t < a.tiles; t += 16) {
        const __mmask16 in_mask = lucent_mask16(a.tiles - t);
        __m512 s[4][2];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            const float* mi = a.m + 4 * i * a.m_xs + t;
            const __m512 m0 = _mm512_maskz_loadu_ps(in_mask, mi);
            const __m512 m1 = _mm512_maskz_loadu_ps(in_mask, mi + a.m_xs);
            const __m512 m2 = _mm512_maskz_loadu_ps(in_mask, mi + 2 * a.m_xs);
            const __m512 m3 = _mm512_maskz_loadu_ps(in_mask, mi + 3 * a.m_xs);
            s[i][0] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
            s[i][1] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
        }
        float* rows[2] = {a.out0, a.out1};
#pragma GCC unroll 2
        for (int r = 0; r < 2; ++r) {
            if (rows[r] == nullptr) continue;
            __m512 y[2];
#pragma GCC unroll 2
            for (int j = 0; j < 2; ++j) {
                y[j] = r == 0 ? _mm512_add_ps(_mm512_add_ps(s[0][j], s[1][j]), s[2][j])
                              : _mm512_sub_ps(_mm512_sub_ps(s[1][j], s[2][j]), s[3][j]);
                y[j] = _mm512_add_ps(y[j], bias);
                if (a.act == kActLeaky) y[j] = lucent_leaky512(y[j], slope);
            }
            const int64_t rem = static_cast<int64_t>(a.out_w) - 2 * t;
            float* dst = rows[r] + 2 * t;
            _mm512_mask_storeu_ps(dst, lucent_mask16(rem),
                                  _mm512_permutex2var_ps(y[0], lo_idx, y[1]));
            _mm512_mask_storeu_ps(dst + 16, lucent_mask16(rem - 16),
                                  _mm512_permutex2var_ps(y[0], hi_idx, y[1]));
        }
    }
}

}  // namespace lucent::ops::avx512
