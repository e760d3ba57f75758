// Winograd F(4x4, 3x3) transforms for AVX2, vectorised over 8 tiles (ops/winograd_f43.h
// computes; this file gathers and scatters).
// Input: a row's 34 columns for 8 tiles are four loads (two tiles each, one per 128-bit lane)
// plus columns 32 and 33. An in-lane 4x4 transpose gives each column position k for tiles
// 0 2 4 6 | 1 3 5 7, one permutevar8x32 puts the tiles in order (d0..d3), and d4, d5 are d0,
// d1 moved by one tile with columns 32, 33 blended into the last lane. Register budget: the 36
// transformed vectors exceed the 16 ymm registers, so the compiler keeps most on the stack.
// Output: A^T M A per 8 tiles, bias and epilogue, then an in-lane transpose and
// permute2f128 put each tile's four columns back in pixel order.
// Padding and tails: every load is masked to the row's columns [0, width), so the zero padding
// of the convolution costs no copy; stores use maskstore.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/winograd_f43.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

namespace {

// Lanes l of an 8-float load from column x with 0 <= x + l < width (maskload's sign bits).
inline __m256i columns_in(int64_t x, int64_t width) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int64_t lo = x < 0 ? -x : 0, hi = width - x < 8 ? width - x : 8;
    if (hi <= lo) return _mm256_setzero_si256();
    const __m256i above = _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(static_cast<int32_t>(lo) - 1));
    const __m256i below = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(hi)), lane);
    return _mm256_and_si256(above, below);
}

// In-lane 4x4 transpose: on exit r[k] holds, per 128-bit lane, element k of each input's lane.
inline void transpose_lanes(__m256 (&r)[4]) {
    const __m256 u0 = _mm256_unpacklo_ps(r[0], r[1]), u1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 u2 = _mm256_unpacklo_ps(r[2], r[3]), u3 = _mm256_unpackhi_ps(r[2], r[3]);
    r[0] = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(1, 0, 1, 0));
    r[1] = _mm256_shuffle_ps(u0, u2, _MM_SHUFFLE(3, 2, 3, 2));
    r[2] = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(1, 0, 1, 0));
    r[3] = _mm256_shuffle_ps(u1, u3, _MM_SHUFFLE(3, 2, 3, 2));
}

}  // namespace

void winograd_input(const WinogradInputArgs& a) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i next = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 7);
    for (int32_t t = 0; t < a.tiles; t += 8) {
        const int64_t c0 = a.x0 + 4 * static_cast<int64_t>(t);
        __m256i m[4];
        for (int q = 0; q < 4; ++q) m[q] = columns_in(c0 + 8 * q, a.width);
        const bool has32 = c0 + 32 >= 0 && c0 + 32 < a.width;
        const bool has33 = c0 + 33 >= 0 && c0 + 33 < a.width;
        __m256 d[6][6];
#pragma GCC unroll 6
        for (int i = 0; i < 6; ++i) {
            if (a.rows[i] == nullptr) {
                for (int j = 0; j < 6; ++j) d[i][j] = _mm256_setzero_ps();
                continue;
            }
            const float* r = a.rows[i] + c0;
            __m256 q[4] = {_mm256_maskload_ps(r, m[0]), _mm256_maskload_ps(r + 8, m[1]),
                           _mm256_maskload_ps(r + 16, m[2]), _mm256_maskload_ps(r + 24, m[3])};
            transpose_lanes(q);  // q[k]: column position k of tiles 0 2 4 6 | 1 3 5 7
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) d[i][k] = _mm256_permutevar8x32_ps(q[k], order);
            d[i][4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[i][0], next),
                                      _mm256_set1_ps(has32 ? r[32] : 0.0f), 0x80);
            d[i][5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[i][1], next),
                                      _mm256_set1_ps(has33 ? r[33] : 0.0f), 0x80);
        }
        __m256 x[36];
        winograd43::input_2d(d, x);
        const __m256i store = lucent_mask8(a.tiles - t);
#pragma GCC unroll 36
        for (int xi = 0; xi < 36; ++xi) _mm256_maskstore_ps(a.v + xi * a.v_xs + t, store, x[xi]);
    }
}

void winograd_output(const WinogradOutputArgs& a) {
    const __m256 bias = _mm256_set1_ps(a.bias), slope = _mm256_set1_ps(a.slope);
    for (int32_t t = 0; t < a.tiles; t += 8) {
        const __m256i in_mask = lucent_mask8(a.tiles - t);
        __m256 m[36];
#pragma GCC unroll 36
        for (int xi = 0; xi < 36; ++xi) m[xi] = _mm256_maskload_ps(a.m + xi * a.m_xs + t, in_mask);
        __m256 y[4][4];
        winograd43::output_2d(m, y);
        for (int r = 0; r < 4; ++r) {
            if (a.out[r] == nullptr) continue;
            __m256 q[4];
#pragma GCC unroll 4
            for (int c = 0; c < 4; ++c) {
                q[c] = _mm256_add_ps(y[r][c], bias);
                if (a.act == kActLeaky) q[c] = lucent_leaky256(q[c], slope);
            }
            transpose_lanes(q);  // q[j]: tile j | tile j + 4, four columns each
            const __m256 px[4] = {
                _mm256_permute2f128_ps(q[0], q[1], 0x20), _mm256_permute2f128_ps(q[2], q[3], 0x20),
                _mm256_permute2f128_ps(q[0], q[1], 0x31), _mm256_permute2f128_ps(q[2], q[3], 0x31)};
            const int64_t rem = static_cast<int64_t>(a.out_w) - 4 * static_cast<int64_t>(t);
            float* dst = a.out[r] + 4 * static_cast<int64_t>(t);
#pragma GCC unroll 4
            for (int p = 0; p < 4; ++p)
                _mm256_maskstore_ps(dst + 8 * p, lucent_mask8(rem - 8 * p), px[p]);
        }
    }
}

}  // namespace lucent::ops::avx2
