// The bf16 tier's 3x3 convolution on AMX tiles, and the input packing (AVX512-BF16).
//
// Register (tile) budget: 8 tiles of 16 rows x 64 bytes. C00..C11 (tiles 0-3) accumulate 32
// output channels x 32 pixels in fp32; A0, A1 (tiles 4-5) hold the weights of the two 16-channel
// output blocks for one tap and one K block of 32 input channels; B0, B1 (tiles 6-7) hold the
// input of the two 16-pixel halves for that tap and K block (16 channel pairs x 16 pixels x 2).
// Per (tap, K block): 4 tile loads, 4 TDPBF16PS (16x16x32 each). B rows come straight from the
// packed input with a stride, so there is no im2col: tap (ky, kx) is an offset of ky rows and
// kx columns.
// Tails: output channels are padded to a multiple of 32 with zero weights, pixels to a
// multiple of 32 with zero columns; the epilogue stores only valid channels (loop bound) and
// pixels (lane mask).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/activation_codes.h"
#include "ops/kernels.h"
#include "ops/kernels_bf16.h"

namespace lucent::ops::amx {
namespace {

struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};

void configure_tiles() {
    TileConfig c;
    for (int t = 0; t < 8; ++t) {
        c.colsb[t] = 64;
        c.rows[t] = 16;
    }
    _tile_loadconfig(&c);
}

// Pairs (c0[x], c1[x]) interleaved: element 2x from the low half, 2x + 1 from the high half.
__m512i interleave_index() {
    alignas(64) uint16_t idx[32];
    for (int x = 0; x < 16; ++x) {
        idx[2 * x] = static_cast<uint16_t>(x);
        idx[2 * x + 1] = static_cast<uint16_t>(16 + x);
    }
    return _mm512_load_si512(idx);
}

}  // namespace

void pack_row_bf16(const float* src, int64_t cs, int32_t cin, int32_t width, uint16_t* dst,
                   int32_t kpairs, int32_t wp) {
    const __m512i idx = interleave_index();
    for (int32_t p = 0; p < kpairs; ++p) {
        uint16_t* row = dst + static_cast<int64_t>(p) * wp * 2;
        const int32_t c0 = 2 * p, c1 = 2 * p + 1;
        if (src == nullptr || c0 >= cin) {
            std::memset(row, 0, static_cast<size_t>(wp) * 4);
            continue;
        }
        row[0] = 0;  // column 0: the left padding
        row[1] = 0;
        const float* r0 = src + c0 * cs;
        const float* r1 = c1 < cin ? src + c1 * cs : nullptr;
        for (int32_t x = 0; x < width; x += 16) {
            const int32_t n = width - x < 16 ? width - x : 16;
            const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
            const __m512 a = _mm512_maskz_loadu_ps(m, r0 + x);
            const __m512 b = r1 != nullptr ? _mm512_maskz_loadu_ps(m, r1 + x) : _mm512_setzero_ps();
            const __m512i halves = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
            const __m512i pairs = _mm512_permutexvar_epi16(idx, halves);
            const __mmask32 m2 =
                n == 16 ? ~__mmask32{0} : static_cast<__mmask32>((1u << (2 * n)) - 1u);
            _mm512_mask_storeu_epi16(row + 2 * (x + 1), m2, pairs);
        }
        std::memset(row + 2 * (width + 1), 0, static_cast<size_t>(wp - width - 1) * 4);
    }
}

void conv3x3_bf16_rows(const Bf16ConvRowsArgs& a) {
    configure_tiles();
    const int64_t kblocks = a.kpairs / 16;
    const int64_t pair_stride = static_cast<int64_t>(a.wp) * 2;  // uint16 between pairs
    const int64_t w_block = 16 * 32;                             // uint16 per weight tile
    const int64_t w_tap = kblocks * w_block, w_m = 9 * w_tap;
    alignas(64) float tmp[32 * 32];
    const __m512 slope = _mm512_set1_ps(a.slope);
    for (int32_t y = 0; y < a.rows; ++y) {
        const uint16_t* in_row = a.in + y * a.in_rs;
        float* out_row = a.out + y * a.out_rs;
        for (int32_t mb = 0; mb < a.mblocks; mb += 2) {
            const uint16_t* wm = a.w + mb * w_m;
            for (int32_t x0 = 0; x0 < a.width; x0 += 32) {
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                for (int t = 0; t < 9; ++t) {
                    const uint16_t* src = in_row + (t / 3) * a.in_rs + 2 * (x0 + t % 3);
                    const uint16_t* wt = wm + t * w_tap;
                    for (int64_t kb = 0; kb < kblocks; ++kb) {
                        const uint16_t* b = src + kb * 16 * pair_stride;
                        _tile_loadd(6, b, pair_stride * 2);
                        _tile_loadd(7, b + 32, pair_stride * 2);
                        _tile_loadd(4, wt + kb * w_block, 64);
                        _tile_loadd(5, wt + w_m + kb * w_block, 64);
                        _tile_dpbf16ps(0, 4, 6);
                        _tile_dpbf16ps(1, 4, 7);
                        _tile_dpbf16ps(2, 5, 6);
                        _tile_dpbf16ps(3, 5, 7);
                    }
                }
                _tile_stored(0, tmp, 128);
                _tile_stored(1, tmp + 16, 128);
                _tile_stored(2, tmp + 16 * 32, 128);
                _tile_stored(3, tmp + 16 * 32 + 16, 128);
                // Epilogue: bias, activation, the valid channels and pixels.
                const int32_t m0 = mb * 16;
                const int32_t nch = a.cout - m0 < 32 ? a.cout - m0 : 32;
                for (int32_t i = 0; i < nch; ++i) {
                    const __m512 bias = _mm512_set1_ps(a.bias[m0 + i]);
                    float* o = out_row + (m0 + i) * a.out_cs + x0;
                    for (int32_t h = 0; h < 2; ++h) {
                        const int32_t left = a.width - x0 - 16 * h;
                        if (left <= 0) break;
                        const __mmask16 m = left >= 16 ? __mmask16{0xffff}
                                                       : static_cast<__mmask16>((1u << left) - 1u);
                        __m512 v = _mm512_add_ps(_mm512_load_ps(tmp + i * 32 + 16 * h), bias);
                        if (a.act == kActLeaky) {
                            const __mmask16 neg =
                                _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
                            v = _mm512_mask_mul_ps(v, neg, v, slope);
                        }
                        _mm512_mask_storeu_ps(o + 16 * h, m, v);
                    }
                }
            }
        }
    }
    _tile_release();
}

}  // namespace lucent::ops::amx
