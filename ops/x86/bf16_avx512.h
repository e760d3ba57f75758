// The bf16 tier's shared AVX-512 pieces (ops/x86/conv_bf16_amx.cpp and
// conv_bf16_avx512bf16.cpp): a 16 x 16 dword transpose and the epilogues that turn one block of
// 32 pixels x 32 output channels of fp32 sums ([pixel][channel], 32 floats a pixel) into fp32
// channel rows or packed bf16 rows. Only ISA translation units include it; every function is
// static inline (docs/ARCHITECTURE.md, ISA translation units).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops/kernels.h"
#include "ops/kernels_bf16.h"

namespace lucent::ops::bf16x {

// In-register transpose of a 16x16 fp32 block: r[i] holds row i on entry, column i on exit.
static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    // Now r[4q + j] holds, in each 128-bit lane l, column 4l + j of rows 4q..4q+3.
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], _MM_SHUFFLE(2, 0, 2, 0));
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], _MM_SHUFFLE(3, 1, 3, 1));
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], _MM_SHUFFLE(2, 0, 2, 0));
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], _MM_SHUFFLE(3, 1, 3, 1));
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], _MM_SHUFFLE(2, 0, 2, 0));
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], _MM_SHUFFLE(3, 1, 3, 1));
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], _MM_SHUFFLE(2, 0, 2, 0));
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], _MM_SHUFFLE(3, 1, 3, 1));
    }
}

// Word indices that interleave the two halves of a vector: word 2p is word p of the low half,
// word 2p + 1 word p of the high half.
static inline __m512i pair_index() {
    alignas(64) uint16_t idx[32];
    for (int p = 0; p < 16; ++p) {
        idx[2 * p] = static_cast<uint16_t>(p);
        idx[2 * p + 1] = static_cast<uint16_t>(16 + p);
    }
    return _mm512_load_si512(idx);
}

static inline __mmask16 lanes(int32_t n) {
    if (n <= 0) return 0;
    return n >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << n) - 1u);
}

// The epilogue of one 32-pixel x 32-channel block (tmp: [pixel][channel]) into fp32 channel
// rows: per 16 x 16 quarter, transpose to channel rows, bias, activation, store the valid
// channels and pixels.
static inline void store_channel_rows(const Bf16ConvRowsArgs& a, const float* tmp, int32_t o0,
                                      int32_t x0, float* out_row) {
    const __m512 slope = _mm512_set1_ps(a.slope);
    __m512 r[16];
    for (int32_t g = 0; g < 2; ++g) {
        const int32_t nch = a.cout - o0 - 16 * g < 16 ? a.cout - o0 - 16 * g : 16;
        if (nch <= 0) break;
        for (int32_t h = 0; h < 2; ++h) {
            const __mmask16 m = lanes(a.width - x0 - 16 * h);
            if (m == 0) break;
            for (int i = 0; i < 16; ++i) r[i] = _mm512_load_ps(tmp + (16 * h + i) * 32 + 16 * g);
            transpose16(r);  // r[i]: channel o0 + 16g + i, 16 pixels
            for (int32_t i = 0; i < nch; ++i) {
                const int32_t o = o0 + 16 * g + i;
                __m512 v = _mm512_add_ps(r[i], _mm512_set1_ps(a.bias[o]));
                if (a.act == kActLeaky) {
                    const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
                    v = _mm512_mask_mul_ps(v, neg, v, slope);
                }
                _mm512_mask_storeu_ps(out_row + o * a.out_cs + x0 + 16 * h, m, v);
            }
        }
    }
}

// The same block into packed bf16 rows: a tile row is one pixel's 16 channels already, so
// each valid pixel takes bias and activation in fp32 and one 32-byte store.
static inline void store_packed(const Bf16ConvRowsArgs& a, const float* tmp, int32_t o0, int32_t x0,
                                uint16_t* out_row) {
    const __m512 slope = _mm512_set1_ps(a.slope);
    for (int32_t g = 0; g < 2; ++g) {
        const int32_t nch = a.cout - o0 - 16 * g < 16 ? a.cout - o0 - 16 * g : 16;
        if (nch <= 0) break;
        const __mmask16 cm = lanes(nch);
        const __m512 bias = _mm512_maskz_loadu_ps(cm, a.bias + o0 + 16 * g);
        const int32_t npx = a.width - x0 < 32 ? a.width - x0 : 32;
        uint16_t* d = out_row + static_cast<int64_t>(x0 + 1) * a.out_cp + a.out_c0 + o0 + 16 * g;
        for (int32_t i = 0; i < npx; ++i) {
            __m512 v = _mm512_add_ps(_mm512_load_ps(tmp + i * 32 + 16 * g), bias);
            if (a.act == kActLeaky) {
                const __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
                v = _mm512_mask_mul_ps(v, neg, v, slope);
            }
            _mm256_mask_storeu_epi16(d + static_cast<int64_t>(i) * a.out_cp, cm,
                                     reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)));
        }
    }
}

// The loop both kernels share: per output row its three tap rows (offsets -1, 0, 1; the zero row
// outside [in_lo, in_hi)), per pair of 16-channel output blocks and 32-pixel block,
// compute(taps, wn, x0, tmp) leaves the block's sums in tmp ([pixel][32 channels], 64-byte
// aligned), which the epilogue stores. wn: the pair's packed weights; w_n uint16 per block.
template <class Compute>
static inline void for_each_block(const Bf16ConvRowsArgs& a, int64_t w_n, float* tmp,
                                  const Compute& compute) {
    for (int32_t y = 0; y < a.rows; ++y) {
        const uint16_t* taps[3];
        for (int32_t dy = -1; dy <= 1; ++dy) {
            const int32_t r = a.in_row_step * y + dy;
            taps[dy + 1] = r >= a.in_lo && r < a.in_hi ? a.in + r * a.in_rs : a.zero;
        }
        for (int32_t nb = 0; nb < a.nblocks; nb += 2) {
            const uint16_t* wn = a.w + nb * w_n;
            for (int32_t x0 = 0; x0 < a.width; x0 += 32) {
                compute(taps, wn, x0, tmp);
                if (a.out_packed != nullptr) {
                    store_packed(a, tmp, nb * 16, x0, a.out_packed + y * a.out_prs);
                } else {
                    store_channel_rows(a, tmp, nb * 16, x0, a.out + y * a.out_rs);
                }
            }
        }
    }
}

}  // namespace lucent::ops::bf16x
