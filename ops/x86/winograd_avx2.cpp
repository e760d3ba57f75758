// Winograd F(2x2, 3x3) transforms for AVX2, vectorised over 8 tiles. Even/odd columns are
// split with shuffle_ps + permute4x64; output columns are re-interleaved with unpack +
// permute2f128. Tails use maskload / maskstore.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

namespace {
// (a0..a7, b0..b7) -> even (a0 a2 a4 a6 b0 b2 b4 b6) and odd lanes.
inline void deinterleave(__m256 a, __m256 b, __m256* even, __m256* odd) {
    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}
}  // namespace

void winograd_input(const float* in, int64_t row_stride, int32_t tiles, float* v, int64_t v_xs) {
    for (int32_t t = 0; t < tiles; t += 8) {
        const int32_t rem = tiles - t < 8 ? tiles - t : 8;
        const __m256i lo = lucent_mask8(2 * rem), hi = lucent_mask8(2 * rem - 8);
        const __m256i out_mask = lucent_mask8(rem);
        __m256 h[4][4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            const float* r = in + i * row_stride + 2 * t;
            __m256 d0, d1, d2, d3;
            deinterleave(_mm256_maskload_ps(r, lo), _mm256_maskload_ps(r + 8, hi), &d0, &d1);
            deinterleave(_mm256_maskload_ps(r + 2, lo), _mm256_maskload_ps(r + 10, hi), &d2, &d3);
            h[i][0] = _mm256_sub_ps(d0, d2);
            h[i][1] = _mm256_add_ps(d1, d2);
            h[i][2] = _mm256_sub_ps(d2, d1);
            h[i][3] = _mm256_sub_ps(d1, d3);
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
            _mm256_maskstore_ps(v + (0 + j) * v_xs + t, out_mask, _mm256_sub_ps(h[0][j], h[2][j]));
            _mm256_maskstore_ps(v + (4 + j) * v_xs + t, out_mask, _mm256_add_ps(h[1][j], h[2][j]));
            _mm256_maskstore_ps(v + (8 + j) * v_xs + t, out_mask, _mm256_sub_ps(h[2][j], h[1][j]));
            _mm256_maskstore_ps(v + (12 + j) * v_xs + t, out_mask, _mm256_sub_ps(h[1][j], h[3][j]));
        }
    }
}

void winograd_output(const WinogradOutputArgs& a) {
    const __m256 bias = _mm256_set1_ps(a.bias), slope = _mm256_set1_ps(a.slope);
    for (int32_t t = 0; t < a.tiles; t += 8) {
        const __m256i in_mask = lucent_mask8(a.tiles - t);
        __m256 s[4][2];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) {
            const float* mi = a.m + 4 * i * a.m_xs + t;
            const __m256 m0 = _mm256_maskload_ps(mi, in_mask);
            const __m256 m1 = _mm256_maskload_ps(mi + a.m_xs, in_mask);
            const __m256 m2 = _mm256_maskload_ps(mi + 2 * a.m_xs, in_mask);
            const __m256 m3 = _mm256_maskload_ps(mi + 3 * a.m_xs, in_mask);
            s[i][0] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
            s[i][1] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
        }
        float* rows[2] = {a.out0, a.out1};
#pragma GCC unroll 2
        for (int r = 0; r < 2; ++r) {
            if (rows[r] == nullptr) continue;
            __m256 y[2];
#pragma GCC unroll 2
            for (int j = 0; j < 2; ++j) {
                y[j] = r == 0 ? _mm256_add_ps(_mm256_add_ps(s[0][j], s[1][j]), s[2][j])
                              : _mm256_sub_ps(_mm256_sub_ps(s[1][j], s[2][j]), s[3][j]);
                y[j] = _mm256_add_ps(y[j], bias);
                if (a.act == kActLeaky) y[j] = lucent_leaky256(y[j], slope);
            }
            const __m256 ul = _mm256_unpacklo_ps(y[0], y[1]), uh = _mm256_unpackhi_ps(y[0], y[1]);
            const int64_t rem = static_cast<int64_t>(a.out_w) - 2 * t;
            float* dst = rows[r] + 2 * t;
            _mm256_maskstore_ps(dst, lucent_mask8(rem), _mm256_permute2f128_ps(ul, uh, 0x20));
            _mm256_maskstore_ps(dst + 8, lucent_mask8(rem - 8),
                                _mm256_permute2f128_ps(ul, uh, 0x31));
        }
    }
}

}  // namespace lucent::ops::avx2
