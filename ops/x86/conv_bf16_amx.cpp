// The bf16 tier's 3x3 and 1x1 convolutions on AMX tiles, and the input packing (AVX512-BF16).
//
// Register (tile) budget: 8 tiles of 16 rows x 64 bytes. C00..C11 (tiles 0-3) accumulate 32
// pixels x 32 output channels in fp32; A0, A1 (tiles 4-5) hold the input of the two 16-pixel
// halves for one tap and one K block of 32 channels (channels-last: a tile row is one pixel's
// 32 channels, rows one packed pixel apart); B0, B1 (tiles 6-7) hold the weights of the two
// 16-channel output blocks for that tap and K block (16 channel pairs x 16 outputs x 2). Per
// (tap, K block): 4 tile loads, 4 TDPBF16PS (16x16x32 each). A tap is an offset of rows and
// pixels in the packed input, so there is no im2col, and every tile row is a whole,
// aligned 64-byte line (the earlier channel-pair-planar layout read 16 scattered lines per
// tile, split across two lines for kx = 1, 2: 1.45x slower inner loop, measured).
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

// In-register transpose of a 16x16 fp32 block: r[i] holds row i on entry, column i on exit.
void transpose16(__m512 r[16]) {
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
__m512i pair_index() {
    alignas(64) uint16_t idx[32];
    for (int p = 0; p < 16; ++p) {
        idx[2 * p] = static_cast<uint16_t>(p);
        idx[2 * p + 1] = static_cast<uint16_t>(16 + p);
    }
    return _mm512_load_si512(idx);
}

__mmask16 lanes(int32_t n) {
    if (n <= 0) return 0;
    return n >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << n) - 1u);
}

}  // namespace

void pack_row_bf16(const float* src, int64_t cs, int32_t cin, int32_t width, uint16_t* dst,
                   int32_t cp, int32_t wx, int32_t step) {
    const size_t pixel_bytes = static_cast<size_t>(cp) * 2;
    if (src == nullptr) {
        std::memset(dst, 0, pixel_bytes * static_cast<size_t>(wx));
        return;
    }
    std::memset(dst, 0, pixel_bytes);  // column 0: the left padding
    std::memset(dst + static_cast<int64_t>(width + 1) * cp, 0,
                pixel_bytes * static_cast<size_t>(wx - width - 1));
    const int32_t c_end = (cin + 31) / 32 * 32;
    const __m512i pairs = pair_index();
    const __m512i evens =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    // 16 pixels of one channel row from pixel x on (every other float when step is 2).
    const auto load16 = [&](const float* row, int32_t x) {
        if (step == 1) return _mm512_maskz_loadu_ps(lanes(width - x), row + x);
        const int32_t floats = 2 * (width - x) - 1;  // up to the last pixel wanted
        const __m512 lo = _mm512_maskz_loadu_ps(lanes(floats), row + 2 * x);
        const __m512 hi = _mm512_maskz_loadu_ps(lanes(floats - 16), row + 2 * x + 16);
        return _mm512_permutex2var_ps(lo, evens, hi);
    };
    __m512 r[16];
    // Channel blocks outside, pixels inside: each block reads 32 channel rows front to back
    // (pixels outside read every channel plane per 16 pixels, 512 streams for RED's fuse, and
    // the loads stalled on misses).
    for (int32_t c0 = 0; c0 < c_end; c0 += 32) {
        for (int32_t x = 0; x < width; x += 16) {
            const int32_t npx = width - x < 16 ? width - x : 16;
            // Per channel pair k: both rows to bf16 in one conversion, then interleaved so that
            // dword p is the pair's two channels at pixel p. Transposing the 16 x 16 dwords
            // then gives, per pixel, channels c0..c0+31 (one tile row): one transpose per 32
            // channels, where transposing floats took two.
            for (int k = 0; k < 16; ++k) {
                const int32_t ca = c0 + 2 * k, cb = ca + 1;
                const __m512 a = ca < cin ? load16(src + ca * cs, x) : _mm512_setzero_ps();
                const __m512 b = cb < cin ? load16(src + cb * cs, x) : _mm512_setzero_ps();
                const __m512i halves = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
                r[k] = _mm512_castsi512_ps(_mm512_permutexvar_epi16(pairs, halves));
            }
            transpose16(r);  // r[j]: pixel x + j, channels c0..c0+31 (bit moves only)
            uint16_t* d = dst + static_cast<int64_t>(x + 1) * cp + c0;
            for (int32_t j = 0; j < npx; ++j)
                _mm512_storeu_ps(d + static_cast<int64_t>(j) * cp, r[j]);
        }
    }
}

namespace {

// The epilogue of one 32-pixel x 32-channel block (tmp: [pixel][channel]) into fp32 channel
// rows: per 16 x 16 quarter, transpose to channel rows, bias, activation, store the valid
// channels and pixels.
void store_channel_rows(const Bf16ConvRowsArgs& a, const float* tmp, int32_t o0, int32_t x0,
                        float* out_row) {
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
void store_packed(const Bf16ConvRowsArgs& a, const float* tmp, int32_t o0, int32_t x0,
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

}  // namespace

void conv_bf16_rows(const Bf16ConvRowsArgs& a) {
    configure_tiles();
    const int64_t px_stride = static_cast<int64_t>(a.in_cp) * 2;  // bytes between pixels
    const int64_t w_block = 16 * 32;                              // uint16 per weight tile
    const int64_t w_tap = a.kblocks * w_block, w_n = a.ntaps * w_tap;
    alignas(64) float tmp[32 * 32];  // [pixel][output channel] of one 32 x 32 block
    for (int32_t y = 0; y < a.rows; ++y) {
        const uint16_t* taps[3];  // the packed rows of tap offsets -1, 0, 1
        for (int32_t dy = -1; dy <= 1; ++dy) {
            const int32_t r = a.in_row_step * y + dy;
            taps[dy + 1] = r >= a.in_lo && r < a.in_hi ? a.in + r * a.in_rs : a.zero;
        }
        for (int32_t nb = 0; nb < a.nblocks; nb += 2) {
            const uint16_t* wn = a.w + nb * w_n;
            for (int32_t x0 = 0; x0 < a.width; x0 += 32) {
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
                for (int32_t t = 0; t < a.ntaps; ++t) {
                    const uint16_t* src =
                        taps[a.tap_dy[t] + 1] + static_cast<int64_t>(x0 + a.tap_col[t]) * a.in_cp;
                    const uint16_t* wt = wn + t * w_tap;
                    for (int64_t kb = 0; kb < a.kblocks; ++kb) {
                        // Each load just before its first product, so that loads overlap
                        // the products already issued.
                        const uint16_t* in = src + kb * 32;
                        _tile_loadd(4, in, px_stride);
                        _tile_loadd(6, wt + kb * w_block, 64);
                        _tile_dpbf16ps(0, 4, 6);
                        _tile_loadd(7, wt + w_n + kb * w_block, 64);
                        _tile_dpbf16ps(1, 4, 7);
                        _tile_loadd(5, in + 16 * a.in_cp, px_stride);
                        _tile_dpbf16ps(2, 5, 6);
                        _tile_dpbf16ps(3, 5, 7);
                    }
                }
                _tile_stored(0, tmp, 128);
                _tile_stored(1, tmp + 16, 128);
                _tile_stored(2, tmp + 16 * 32, 128);
                _tile_stored(3, tmp + 16 * 32 + 16, 128);
                if (a.out_packed != nullptr) {
                    store_packed(a, tmp, nb * 16, x0, a.out_packed + y * a.out_prs);
                } else {
                    store_channel_rows(a, tmp, nb * 16, x0, a.out + y * a.out_rs);
                }
            }
        }
    }
    _tile_release();
}

}  // namespace lucent::ops::amx
