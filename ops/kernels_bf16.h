// Kernels of the bf16 tier (ops/conv_bf16.h), AMX only: the contract of ops/kernels.h
// (single-threaded, asserts only). Declared apart from the X-macro table because only the amx
// tier has them; the drivers call them when amx_ready().
#pragma once

#include <cstdint>

namespace lucent::ops::amx {

// Packs one input row of `cin` channels (channel c's row at src + c * cs, `width` floats; src
// null for a zero row) into the pair layout of ops/conv_bf16.h: kpairs pairs of wp columns.
void pack_row_bf16(const float* src, int64_t cs, int32_t cin, int32_t width, uint16_t* dst,
                   int32_t kpairs, int32_t wp);

struct Bf16ConvRowsArgs {
    const uint16_t* in;  // packed row of output row 0's top tap (row r + 1 is in_rs further)
    int64_t in_rs;       // uint16 between packed rows (kpairs * wp * 2)
    int32_t kpairs, wp;
    const uint16_t* w;  // packed weights
    const float* bias;  // [mblocks * 16]
    int32_t mblocks;    // output channel blocks of 16 (even: pairs of tiles)
    int32_t cout;       // valid output channels
    float* out;         // output row 0, channel 0
    int64_t out_cs, out_rs;
    int32_t rows, width;
    int32_t act;
    float slope;
};
// Output rows [0, rows): configures the tiles, computes, releases them.
void conv3x3_bf16_rows(const Bf16ConvRowsArgs& a);

}  // namespace lucent::ops::amx
