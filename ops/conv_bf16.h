// Conv3x3Bf16: a 3x3, stride-1, padding-1 convolution (torch.nn.Conv2d(cin, cout, 3, padding=1))
// in the bf16 precision tier: inputs and weights rounded to bf16 (round to nearest even),
// products summed in fp32, then bias and the epilogue (none or LeakyReLU) in fp32. Activations
// stay fp32 NCHW rows outside the op, so it drops into the streaming rings; each run packs the
// input rows it reads into bf16 channel pairs for the AMX tiles.
//
// Summation order, fixed per output element whatever the chunk or thread: the 9 taps in
// (ky, kx) order, within a tap the input channels in blocks of 32 (one TDPBF16PS each). So
// results are the same bits for every stripe height and thread count.
// ops::ref::conv3x3_bf16 (ops/ref.h) is the plain-loop oracle: the same bf16 roundings of
// inputs and weights, the same order of blocks, pairs summed one product at a time in fp32.
// Inside one TDPBF16PS the hardware rounds differently (measured here: no plain fp32 or
// per-block double order reproduces it bit for bit), so tests allow ~1e-6 of the summed
// magnitudes between kernel and oracle.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/tensor.h"
#include "ops/activation_codes.h"
#include "ops/dispatch.h"

namespace lucent::ops {

// bf16 bits of v, rounded to nearest even (NaN stays NaN).
uint16_t to_bf16(float v);
float from_bf16(uint16_t b);

// Packed layouts, shared by the kernels (ops/kernels_bf16.h) and the tests.
//   input rows:  [row][pair p < kpairs][column x < wp][2]: channels 2p and 2p+1 of column
//                x - 1 (column 0 and columns past the width are zero padding);
//   weights:     [mblock][tap][kblock][16 output channels][32 input channels of the block].
constexpr int64_t kBf16PairsPerBlock = 16;  // 32 input channels per K block
constexpr int64_t kBf16Tile = 16;           // output channels / pixels per tile

class Conv3x3Bf16 {
  public:
    Conv3x3Bf16() = default;
    // weight [cout, cin, 3, 3], bias [cout] or nullptr. kUnsupported when amx_ready() is false.
    static Result<Conv3x3Bf16> create(int64_t cin, int64_t cout, const float* weight,
                                      const float* bias, Activation act, float slope);
    // As Conv2d::run_rows (stride 1, padding 1): output rows [out.row0, out.end()) from the
    // input rows they read; scratch: scratch_floats(in.w, out.rows, threads) floats or null.
    Status run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch) const;
    int64_t scratch_floats(int64_t in_w, int64_t out_rows, int threads) const;
    int64_t in_channels() const { return cin_; }
    int64_t out_channels() const { return cout_; }

  private:
    int64_t cin_ = 0, cout_ = 0, kpairs_ = 0, mblocks_ = 0;
    int32_t act_ = kActNone;
    float slope_ = 0.0f;
    std::shared_ptr<const AlignedBuffer> w_;  // packed weights (uint16 in 64-byte lines)
    std::vector<float> bias_;                 // [mblocks * 16], zero-padded
};

}  // namespace lucent::ops
