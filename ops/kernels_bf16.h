// Kernels of the bf16 tier (ops/conv_bf16.h): the contract of ops/kernels.h (single-threaded,
// asserts only). Declared apart from the X-macro table because they are not per fp32 tier: the
// packing and the VDPBF16PS kernel need AVX512-BF16, the tile kernel AMX; the driver picks one
// (bf16_kernel(), engine/amx.h) at create().
#pragma once

#include <cstdint>

namespace lucent::ops {

struct Bf16ConvRowsArgs {
    // Input: output row r's tap t reads packed row in + (in_row_step * r + tap_dy[t]) * in_rs
    // where that row index lies in [in_lo, in_hi), else `zero`; from packed column
    // x0 + tap_col[t] for its pixels x0...
    const uint16_t* in;
    int64_t in_rs;
    int32_t in_lo, in_hi, in_row_step;
    const uint16_t* zero;  // a zero packed row
    int32_t in_cp;         // uint16 between packed pixels (a multiple of 32)
    int32_t kblocks;       // K blocks of 32 channels read, from channel 0
    int32_t ntaps;         // taps in weight order
    int8_t tap_dy[9];
    int32_t tap_col[9];
    const uint16_t* w;  // packed weights
    const float* bias;  // [nblocks * 16]
    int32_t nblocks;    // output channel blocks of 16 (even: pairs of tiles)
    int32_t cout;       // valid output channels
    // Output: fp32 channel rows (out row r, channel c at out + c * out_cs + r * out_rs), or,
    // when out_packed is set, bf16 into channels [out_c0, out_c0 + cout) of packed rows
    // out_packed + r * out_prs (pixel x at column x + 1, out_cp uint16 per column).
    float* out;
    int64_t out_cs, out_rs;
    uint16_t* out_packed;
    int64_t out_prs;
    int32_t out_cp, out_c0;
    int32_t rows, width;
    int32_t act;
    float slope;
};

namespace avx512bf16 {

// Packs one row of `cin` channels (channel c's row at src + c * cs, `width` floats; src null
// for a zero row) channels-last into the layout of ops/conv_bf16.h: wx columns of `cp` bf16
// channels, column x + 1 holding pixel x. Writes channels [0, round_up(cin, 32)) of the pixel
// columns (zeros past cin) and every channel of the padding columns (0 and past the width).
// step 2: the row's pixels 0, 2, 4, ... (src pointing at the first; `width` of them), for the
// column halves of a stride-2 layer.
void pack_row_bf16(const float* src, int64_t cs, int32_t cin, int32_t width, uint16_t* dst,
                   int32_t cp, int32_t wx, int32_t step = 1);

// Output rows [0, rows) with VDPBF16PS (CPUs with AVX512-BF16 and no AMX).
void conv_bf16_rows(const Bf16ConvRowsArgs& a);

}  // namespace avx512bf16

namespace amx {

// Output rows [0, rows) on AMX tiles: configures the tiles, computes, releases them.
void conv_bf16_rows(const Bf16ConvRowsArgs& a);

}  // namespace amx

}  // namespace lucent::ops
