// Winograd F(4x4, 3x3) transforms for AVX-512, vectorised over 16 tiles (ops/winograd_f43.h
// computes; this file gathers and scatters).
// Input: a row's 66 columns for 16 tiles are four full loads plus columns 64 and 65; two
// rounds of permutex2var split them by column mod 4 (d0..d3), and d4, d5 are d0, d1 moved by
// one tile (valignd with columns 64, 65). Register budget: the 36 transformed vectors of a
// 6x6 tile do not fit in 32 zmm, so the compiler keeps part of them on the stack (L1).
// Output: A^T M A per 16 tiles, bias and epilogue, then the four columns of each tile are
// interleaved back into pixel order (two rounds of permutex2var) and stored.
// Padding and tails: every load is masked to the row's columns [0, width), so the zero padding
// of the convolution costs no copy; stores use lane masks.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/winograd_f43.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

namespace {

// Lanes l of a 16-float load from column x with 0 <= x + l < width.
inline __mmask16 columns_in(int64_t x, int64_t width) {
    const int64_t lo = x < 0 ? -x : 0, hi = width - x < 16 ? width - x : 16;
    if (hi <= lo) return 0;
    return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

inline __m512 shift_one_tile(__m512 d, __m512 next) {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(d), 1));
}

}  // namespace

void winograd_input(const WinogradInputArgs& a) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int32_t t = 0; t < a.tiles; t += 16) {
        const int64_t c0 = a.x0 + 4 * static_cast<int64_t>(t);
        __mmask16 m[6];
        for (int q = 0; q < 4; ++q) m[q] = columns_in(c0 + 16 * q, a.width);
        m[4] = columns_in(c0 + 64, a.width) & 1;
        m[5] = columns_in(c0 + 65, a.width) & 1;
        __m512 d[6][6];
#pragma GCC unroll 6
        for (int i = 0; i < 6; ++i) {
            if (a.rows[i] == nullptr) {
                for (int j = 0; j < 6; ++j) d[i][j] = _mm512_setzero_ps();
                continue;
            }
            const float* r = a.rows[i] + c0;
            const __m512 a0 = _mm512_maskz_loadu_ps(m[0], r);
            const __m512 a1 = _mm512_maskz_loadu_ps(m[1], r + 16);
            const __m512 a2 = _mm512_maskz_loadu_ps(m[2], r + 32);
            const __m512 a3 = _mm512_maskz_loadu_ps(m[3], r + 48);
            const __m512 e0 = _mm512_permutex2var_ps(a0, even, a1);  // columns 0, 2, .., 30
            const __m512 o0 = _mm512_permutex2var_ps(a0, odd, a1);   // 1, 3, .., 31
            const __m512 e1 = _mm512_permutex2var_ps(a2, even, a3);  // 32, 34, .., 62
            const __m512 o1 = _mm512_permutex2var_ps(a2, odd, a3);   // 33, 35, .., 63
            d[i][0] = _mm512_permutex2var_ps(e0, even, e1);          // 0, 4, .., 60
            d[i][1] = _mm512_permutex2var_ps(o0, even, o1);          // 1, 5, .., 61
            d[i][2] = _mm512_permutex2var_ps(e0, odd, e1);           // 2, 6, .., 62
            d[i][3] = _mm512_permutex2var_ps(o0, odd, o1);           // 3, 7, .., 63
            d[i][4] = shift_one_tile(d[i][0], _mm512_maskz_loadu_ps(m[4], r + 64));
            d[i][5] = shift_one_tile(d[i][1], _mm512_maskz_loadu_ps(m[5], r + 65));
        }
        __m512 x[36];
        winograd43::input_2d(d, x);
        const __mmask16 store = lucent_mask16(a.tiles - t);
#pragma GCC unroll 36
        for (int xi = 0; xi < 36; ++xi) _mm512_mask_storeu_ps(a.v + xi * a.v_xs + t, store, x[xi]);
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
        __m512 m[36];
#pragma GCC unroll 36
        for (int xi = 0; xi < 36; ++xi)
            m[xi] = _mm512_maskz_loadu_ps(in_mask, a.m + xi * a.m_xs + t);
        __m512 y[4][4];
        winograd43::output_2d(m, y);
        for (int r = 0; r < 4; ++r) {
            if (a.out[r] == nullptr) continue;
#pragma GCC unroll 4
            for (int c = 0; c < 4; ++c) {
                y[r][c] = _mm512_add_ps(y[r][c], bias);
                if (a.act == kActLeaky) y[r][c] = lucent_leaky512(y[r][c], slope);
            }
            // Pairs (column 0, 2) and (1, 3) per tile, then the four columns of each tile.
            const __m512 p02l = _mm512_permutex2var_ps(y[r][0], lo_idx, y[r][2]);
            const __m512 p02h = _mm512_permutex2var_ps(y[r][0], hi_idx, y[r][2]);
            const __m512 p13l = _mm512_permutex2var_ps(y[r][1], lo_idx, y[r][3]);
            const __m512 p13h = _mm512_permutex2var_ps(y[r][1], hi_idx, y[r][3]);
            const __m512 px[4] = {_mm512_permutex2var_ps(p02l, lo_idx, p13l),
                                  _mm512_permutex2var_ps(p02l, hi_idx, p13l),
                                  _mm512_permutex2var_ps(p02h, lo_idx, p13h),
                                  _mm512_permutex2var_ps(p02h, hi_idx, p13h)};
            const int64_t rem = static_cast<int64_t>(a.out_w) - 4 * static_cast<int64_t>(t);
            float* dst = a.out[r] + 4 * static_cast<int64_t>(t);
#pragma GCC unroll 4
            for (int q = 0; q < 4; ++q)
                _mm512_mask_storeu_ps(dst + 16 * q, lucent_mask16(rem - 16 * q), px[q]);
        }
    }
}

}  // namespace lucent::ops::avx512
