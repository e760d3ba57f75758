// ConvBf16: a k x k convolution, k = 3 (padding 1) or 1 (no padding), stride 1
// (torch.nn.Conv2d(cin, cout, k, padding=k // 2)) in the bf16 precision tier: inputs and weights
// rounded to bf16 (round to nearest even), products summed in fp32, then bias and the epilogue
// (none or LeakyReLU) in fp32. Activations stay fp32 NCHW rows outside the op, so it drops into the
// streaming rings; each run packs the input rows it reads channels-last in bf16 for the kernels.
// Two kernels (bf16_kernel(), engine/amx.h): AMX tiles (ops/x86/conv_bf16_amx.cpp) where the
// CPU and OS offer them, else VDPBF16PS (ops/x86/conv_bf16_avx512bf16.cpp) on CPUs with
// AVX512-BF16 only; same layouts, same order of taps and blocks, each with its own rounding
// inside a block, so the two differ in the last bits.
//
// Summation order, fixed per output element whatever the chunk or thread: the taps in
// (ky, kx) order, within a tap the input channels in blocks of 32 (one TDPBF16PS each, or 16
// VDPBF16PS of a channel pair each). So results are the same bits for every stripe height and
// thread count.
// ops::ref::conv_bf16 (ops/ref.h) is the plain-loop oracle: the same bf16 roundings of
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

// Packed layouts, shared by the kernels (ops/kernels_bf16.h) and the driver.
//   input rows:  [row][column x < wx][channel c < cp]: pixel x - 1's channels, cp = cin
//                rounded up to 32 (column 0, columns past the width and channels past cin are
//                zero);
//   weights:     [nblock][tap][kblock][pair p < 16][output o < 16][2]: output channel
//                16 nblock + o, input channels 32 kblock + 2p and 2p + 1 (AMX's B layout).
constexpr int64_t kBf16KBlock = 32;  // input channels per K block (one tile row)
constexpr int64_t kBf16Tile = 16;    // output channels / pixels per tile
constexpr int64_t kBf16MaxTaps = 9;

// Columns of a packed row for `width` pixels: the left pad, whole 32-pixel tile pairs and the
// right pad the last tap reads.
int64_t bf16_packed_width(int64_t width);

// Rows [row0, row0 + rows) of a packed activation (the input row layout above) h rows high,
// w pixels wide with cp channels per column: rows lie wx * cp uint16 apart. The bf16 tier's
// streaming rings hold such rows between layers, so a layer reads what the previous one wrote
// without packing again.
struct PackedRows {
    uint16_t* data = nullptr;  // row row0, column 0
    int64_t h = 0, w = 0, cp = 0, row0 = 0, rows = 0;
    int64_t row_u16() const { return bf16_packed_width(w) * cp; }
    uint16_t* row(int64_t y) const { return data + (y - row0) * row_u16(); }
};
// Floats that hold one packed row (two bf16 per float).
inline int64_t bf16_row_floats(int64_t width, int64_t cp) {
    return bf16_packed_width(width) * cp / 2;
}

// Packs rows [out.row0, out.end()) of channels [0, in.c) of fp32 rows into channels
// [0, round_up(in.c, 32)) of packed rows (zeros past in.c; padding columns zeroed), threaded
// by row. bf16 tier only (bf16_kernel() is not kNone).
void pack_rows_bf16(const Context& ctx, ConstRows in, const PackedRows& out);

// Nearest upsampling by r of packed rows: output rows [out.row0, out.end()) from the input
// rows they repeat (rows [out.row0 / r, (out.end() - 1) / r] of `in`), channels [0, cp) of
// every pixel copied, padding columns zeroed; threaded by row.
void upsample_nearest_packed(const Context& ctx, const PackedRows& in, int64_t r,
                             const PackedRows& out);

class ConvBf16 {
  public:
    ConvBf16() = default;
    // weight [cout, cin, k, k] (k 1 or 3), bias [cout] or nullptr. kUnsupported when
    // bf16_kernel() is kNone (neither AMX nor AVX512-BF16).
    // stride 2 (k 3 only): PyTorch's stride-2, padding-1 layer.
    static Result<ConvBf16> create(int64_t cin, int64_t cout, int64_t k, const float* weight,
                                   const float* bias, Activation act, float slope,
                                   int64_t stride = 1);
    // A stride-1 correlation with explicit taps (the phases of a transposed convolution): tap
    // t reads input pixel (y + tap_dy[t], x + tap_dx[t]) (offsets in [-1, 1], zero outside
    // the image) for output (y, x); weight [cout, cin, ntaps]. Taps sum in list order.
    static Result<ConvBf16> create_taps(int64_t cin, int64_t cout, const std::vector<int>& tap_dy,
                                        const std::vector<int>& tap_dx, const float* weight,
                                        const float* bias, Activation act, float slope);
    // As Conv2d::run_rows (stride 1, padding k / 2): output rows [out.row0, out.end()) from the
    // input rows they read; scratch: scratch_floats(in.w, out.rows, threads) floats or null.
    Status run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch) const;
    int64_t scratch_floats(int64_t in_w, int64_t out_rows, int threads) const;
    // Stride 1 only. Output rows [y0, y1) from packed input rows (channels [0, cin) of `in`, which
    // holds rows [y0 - halo(), y1 + halo()) clipped to the image), into fp32 rows `out` (rows [y0,
    // y1)) or, when `packed_out` is set, into channels [out_c0, out_c0 + cout) of its rows [y0,
    // y1). scratch: packed_scratch_floats(in.w, in.cp) floats (a zero row). The last K block reads
    // channels [cin, packed_channels()) with zero weights: they must hold zeros (as
    // pack_rows_bf16 leaves them) and no other layer may write them meanwhile, so a ring
    // shared by several layers needs cin a multiple of 32.
    Status run_packed(const Context& ctx, const PackedRows& in, int64_t y0, int64_t y1,
                      const Rows* out, const PackedRows* packed_out, int64_t out_c0,
                      float* scratch) const;
    static int64_t packed_scratch_floats(int64_t w, int64_t cp) { return bf16_row_floats(w, cp); }
    // Rows above and below an output row that its taps read.
    int64_t halo() const { return halo_; }
    int64_t in_channels() const { return cin_; }
    // Channels of the packed input rows it reads (cin rounded up to 32).
    int64_t packed_channels() const { return cp_; }
    int64_t out_channels() const { return cout_; }

  private:
    // One kernel call per thread over contiguous output rows.
    void run_kernel(const Context& ctx, const uint16_t* in, int64_t in_rs, int32_t in_lo,
                    int32_t in_hi, const uint16_t* zero, int64_t in_cp, int64_t rows, int64_t width,
                    float* out, int64_t out_cs, uint16_t* packed_out, int64_t out_prs,
                    int64_t out_cp, int64_t out_c0, int64_t odd_col0) const;
    int64_t cin_ = 0, cout_ = 0, cp_ = 0, nblocks_ = 0;
    int64_t ntaps_ = 0, halo_ = 0, stride_ = 1;
    int8_t tap_dy_[kBf16MaxTaps] = {}, tap_dx_[kBf16MaxTaps] = {};
    int32_t act_ = kActNone;
    float slope_ = 0.0f;
    std::shared_ptr<const AlignedBuffer> w_;  // packed weights (uint16 in 64-byte lines)
    std::vector<float> bias_;                 // [nblocks * 16], zero-padded
};

}  // namespace lucent::ops
