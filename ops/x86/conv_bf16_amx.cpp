// The bf16 tier's convolutions on AMX tiles (the packing, the epilogues and the row loop are shared
// with the VDPBF16PS kernel: conv_bf16_avx512bf16.cpp, bf16_avx512.h).
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

#include <cstdint>

#include "ops/kernels_bf16.h"
#include "ops/x86/bf16_avx512.h"

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

}  // namespace

void conv_bf16_rows(const Bf16ConvRowsArgs& a) {
    configure_tiles();
    const int64_t px_stride = static_cast<int64_t>(a.in_cp) * 2;  // bytes between pixels
    const int64_t w_block = 16 * 32;                              // uint16 per weight tile
    const int64_t w_tap = a.kblocks * w_block, w_n = a.ntaps * w_tap;
    alignas(64) float tmp[32 * 32];  // [pixel][output channel] of one 32 x 32 block
    bf16x::for_each_block(
        a, w_n, tmp,
        [&](const uint16_t* const(&taps)[3], const uint16_t* wn, int32_t x0, float* sums) {
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
            _tile_stored(0, sums, 128);
            _tile_stored(1, sums + 16, 128);
            _tile_stored(2, sums + 16 * 32, 128);
            _tile_stored(3, sums + 16 * 32 + 16, 128);
        });
    _tile_release();
}

}  // namespace lucent::ops::amx
