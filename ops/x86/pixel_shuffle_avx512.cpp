// pixel_shuffle_row / pixel_unshuffle_row for AVX-512 (pure data movement, exact).
// r = 2, the factor every SSR variant uses, interleaves / de-interleaves with permutex2var.
// Other factors gather through 32-bit indices when the channel stride allows, else copy
// element by element.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

namespace {
constexpr int64_t kMaxGatherSpan = int64_t{1} << 30;
}

void pixel_shuffle_row(const float* in, int64_t cs, int32_t r, float* out, int32_t out_w) {
    const float* in1 = in + cs;
    if (r == 2) {
        // out[2w] = in0[w], out[2w+1] = in1[w]; table index 16 + k selects in1[k].
        const __m512i lo =
            _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i hi =
            _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const int32_t in_w = out_w / 2;
        for (int32_t i = 0; i < in_w; i += 16) {
            const __mmask16 m = lucent_mask16(in_w - i);
            const __m512 a = _mm512_maskz_loadu_ps(m, in + i);
            const __m512 b = _mm512_maskz_loadu_ps(m, in1 + i);
            const int32_t rem = out_w - 2 * i;
            _mm512_mask_storeu_ps(out + 2 * i, lucent_mask16(rem),
                                  _mm512_permutex2var_ps(a, lo, b));
            if (rem > 16) {
                _mm512_mask_storeu_ps(out + 2 * i + 16, lucent_mask16(rem - 16),
                                      _mm512_permutex2var_ps(a, hi, b));
            }
        }
        return;
    }
    if (r > 16 || cs * r > kMaxGatherSpan) {
        for (int32_t x = 0; x < out_w; ++x) out[x] = in[(x % r) * cs + x / r];
        return;
    }
    // Output lane q of a chunk of 16*r outputs reads channel q % r, column q / r of the chunk.
    __m512i idx[16];
    for (int32_t j = 0; j < r; ++j) {
        alignas(64) int32_t t[16];
        for (int32_t l = 0; l < 16; ++l) {
            const int32_t q = 16 * j + l;
            t[l] = static_cast<int32_t>((q % r) * cs + q / r);
        }
        idx[j] = _mm512_load_si512(t);
    }
    for (int32_t base = 0, col = 0; base < out_w; base += 16 * r, col += 16) {
        for (int32_t j = 0; j < r && base + 16 * j < out_w; ++j) {
            const __mmask16 m = lucent_mask16(out_w - base - 16 * j);
            const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx[j], in + col, 4);
            _mm512_mask_storeu_ps(out + base + 16 * j, m, v);
        }
    }
}

void pixel_unshuffle_row(const float* in, int32_t r, float* out, int32_t out_w) {
    if (r == 2) {
        const __m512i even =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int32_t x = 0; x < out_w; x += 16) {
            // Needs in[2x .. 2x + 2*rem - 2]; the masks never read past the last needed element.
            const int32_t rem = out_w - x;
            const int32_t need = 2 * (rem < 16 ? rem : 16) - 1;
            const __m512 a = _mm512_maskz_loadu_ps(lucent_mask16(need), in + 2 * x);
            const __m512 b = _mm512_maskz_loadu_ps(lucent_mask16(need - 16), in + 2 * x + 16);
            _mm512_mask_storeu_ps(out + x, lucent_mask16(rem), _mm512_permutex2var_ps(a, even, b));
        }
        return;
    }
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i vidx = _mm512_mullo_epi32(lane, _mm512_set1_epi32(r));
    for (int32_t x = 0; x < out_w; x += 16) {
        const __mmask16 m = lucent_mask16(out_w - x);
        const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, vidx,
                                                  in + static_cast<int64_t>(x) * r, 4);
        _mm512_mask_storeu_ps(out + x, m, v);
    }
}

}  // namespace lucent::ops::avx512
