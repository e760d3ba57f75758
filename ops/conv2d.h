// Conv2d: torch.nn.Conv2d with groups = 1, any kernel size, stride, dilation and (possibly
// asymmetric) zero padding, optional bias, and a fused activation epilogue (none, ReLU or
// LeakyReLU). Layout NCHW float32; weight [out_ch, in_ch, kernel_h, kernel_w] as PyTorch.
//
//   out[n, o, y, x] = act(bias[o] + sum_{i, ky, kx} w[o, i, ky, kx] *
//                         in[n, i, y*stride_h - pad_top + ky*dilation_h, x*stride_w - pad_left +
//                         kx*dilation_w])
//   out_h = (in_h + pad_top + pad_bottom - dilation_h*(kernel_h - 1) - 1) / stride_h + 1
//
// create() validates and packs the weights for one kernel table; run() is const and may be
// called concurrently from several threads.
#pragma once

#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/tensor.h"
#include "ops/activation_codes.h"
#include "ops/conv_bf16.h"
#include "ops/dispatch.h"

namespace lucent::ops {

// kAuto picks Winograd F(4x4, 3x3) for 3x3, stride-1, undilated layers with at least
// kWinogradMinChannels input and output channels, and the direct kernel otherwise.
// Winograd's 4x4 output tiles start at output coordinates that are multiples of 4, so its
// rounding depends on where the tensor starts; kDirect computes every output element in the
// same order.
enum class Conv2dAlgo : int32_t { kAuto = 0, kDirect = 1, kWinograd = 2 };
constexpr int64_t kWinogradMinChannels = 16;
constexpr int64_t kWinogradTile = 4;     // output rows and columns per Winograd tile
constexpr int64_t kWinogradPoints = 36;  // transformed values per tile and channel
// Tiles per band of run_rows(): V (36 x in_ch x tiles) and M (36 x out_ch x tiles) of a band
// stay in L2 (the SSR's 64 -> 32 layer: 442 KB at 32 tiles, 885 KB at 64, over a 1 MB L2 with
// the weights), and the GEMM rows still fill two of its three 16-pixel vectors. 32 rather than
// 64: the 23-block SSR 5-15 % faster at two threads, where both cores share L3.
constexpr int64_t kWinogradBandTiles = 32;
// Layers whose transformed weights exceed 4 MiB (RED's deconvolution, 19 MB, and enc2) take
// about this many: the weights, streamed once per band, then dominate V and M.
constexpr int64_t kWinogradWideBandTiles = 288;

struct Conv2dParams {
    int64_t in_ch = 0, out_ch = 0;
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    Activation act = Activation::kNone;  // kNone, kRelu or kLeakyRelu
    float slope = 0.2f;                  // for kLeakyRelu
    Conv2dAlgo algo = Conv2dAlgo::kAuto;
    // The bf16 precision tier (ops/conv_bf16.h, AMX): 3x3 padding-1 layers of stride 1 or 2 and
    // 1x1 stride-1 layers only;
    // create() fails with kUnsupported for other shapes or without AMX.
    bool bf16 = false;

    // PyTorch's nn.Conv2d(in, out, k, stride, padding=k/2 style symmetric padding).
    static Conv2dParams square(int64_t in_ch, int64_t out_ch, int64_t k, int64_t stride = 1,
                               int64_t pad = -1, int64_t dilation = 1);
};

// Checks the parameters alone (every value named in the message on failure).
Status conv2d_validate(const Conv2dParams& p);
// Checks p against an input shape and computes the output shape.
Status conv2d_output_shape(const Conv2dParams& p, const Shape& in, Shape* out);

class Conv2d {
  public:
    Conv2d() = default;
    // weight: [out_ch, in_ch, kernel_h, kernel_w]; bias: [out_ch] or nullptr.
    static Result<Conv2d> create(const Conv2dParams& p, const float* weight, const float* bias,
                                 const KernelTable& k);
    // out must already have conv2d_output_shape(params(), in.shape). in and out must not overlap.
    Status run(const Context& ctx, ConstTensorView in, TensorView out) const;
    // Output rows [out.row0, out.end()) of one image (streaming). `in` must hold every input row
    // they read (input_rows()). out.row0 must be a multiple of row_step(), and out.rows too
    // unless the window ends the image (Winograd's 4-row tiles): then every element is computed
    // exactly as run() computes it on the whole image. scratch: at least
    // scratch_floats(in.w, out.rows, threads) floats for `threads` = the context's thread
    // count, or nullptr to allocate it here. thread_stride: floats from one thread's slice of
    // scratch to the next, when above this layer's own (then scratch must hold threads times
    // it); a stream passes the largest of its layers, so that every layer's slice of a thread
    // starts at the same place and stays in that core's caches.
    Status run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch,
                    int64_t thread_stride = 0) const;
    // The input rows [*first, *end) that output rows [y0, y1) read, clipped to [0, in_h).
    void input_rows(int64_t y0, int64_t y1, int64_t in_h, int64_t* first, int64_t* end) const;
    // Floats of scratch run_rows() uses for out_rows output rows of an input in_w wide.
    int64_t scratch_floats(int64_t in_w, int64_t out_rows, int threads) const;
    const Conv2dParams& params() const { return p_; }
    // True when run() uses Winograd F(4x4, 3x3).
    bool uses_winograd() const { return winograd_; }
    // The row granularity of run_rows() windows: kWinogradTile with Winograd, else 1.
    int64_t row_step() const { return winograd_ ? kWinogradTile : 1; }
    // The bf16 layer this conv runs as (params().bf16), else null.
    const ConvBf16* bf16_op() const { return bf16_.get(); }

  private:
    // Per-thread scratch layout of run_rows() for out_rows output rows of an in_w wide input.
    struct Bands {
        int64_t band_rows;   // output rows (direct) or tile rows (Winograd) per band
        int64_t per_thread;  // floats
    };
    Bands bands(int64_t in_w, int64_t out_rows) const;
    // The Winograd band geometry, computed here only (scratch size and run_winograd() alike).
    struct WinogradBands {
        int64_t tiles_h, tiles_w;  // tiles of the window
        int64_t band_th, band_tw;  // tile rows and tile columns per band
        int64_t bands_w;           // bands side by side across the width
        int64_t band_tiles;        // band_th * band_tw
        int64_t c_pad;             // out_ch rounded up to the kernel's channel block
        int64_t v_xs, m_xs;        // floats per position xi in V and in M
        int64_t per_thread;        // floats of one thread's band
    };
    WinogradBands winograd_bands(int64_t out_w, int64_t out_rows) const;
    // True when `threads` threads share each band, splitting its transforms by channels and its
    // products by output blocks, instead of taking bands of their own: layers whose transformed
    // weights are too large to stream once per band per thread (RED's deconvolution: 19 MB).
    bool winograd_shares_bands(int threads) const;
    // Transformed weights over kWinogradSharedWeightBytes: such layers share bands between
    // threads and take bands of about kWinogradWideBandTiles tiles.
    bool winograd_weights_large() const;
    void run_direct(const Context& ctx, ConstRows in, Rows out, float* scratch,
                    int64_t thread_stride) const;
    // 1x1, stride 1, unpadded: a GEMM straight over the window's rows (no band copy).
    void run_pointwise(const Context& ctx, ConstRows in, Rows out) const;
    void run_winograd(const Context& ctx, ConstRows in, Rows out, float* scratch,
                      int64_t thread_stride) const;
    // Copies padded input rows [y0*stride_h - pad_top, ...) of one image into a band buffer.
    void fill_band(ConstRows src, int64_t y0, int64_t qrows, float* band, int64_t pw,
                   int64_t row_stride, int64_t phase_row, int64_t ch_stride) const;

    Conv2dParams p_;
    const KernelTable* k_ = nullptr;
    // pack_conv_gemm() of the direct algorithm (1x1 layers included).
    std::vector<float> packed_;
    bool winograd_ = false;
    bool pointwise_ = false;                // 1x1, stride 1, no padding: run_pointwise()
    std::vector<float> wino_packed_;        // [36][pack_conv_gemm()]: G g G^T per position
    std::vector<float> bias_;               // [blocks * ocb], zero-padded
    std::shared_ptr<const ConvBf16> bf16_;  // params().bf16: the layer runs here instead
};

// Packs weight [out_ch, in_ch, ntaps] (taps selected by tap_index) into
// [blocks][in_ch][ntaps][ocb] for run_conv_rows(): ConvTranspose2d's per-phase tap subsets
// (Conv2d packs for run_conv_gemm() instead).
void conv_pack_weights(const float* weight, int64_t out_ch, int64_t in_ch, int64_t w_o_stride,
                       int64_t w_i_stride, const std::vector<int64_t>& tap_index, int32_t ocb,
                       std::vector<float>* packed);

// Runs conv2d_row over every (n, block, row) of an already padded, stride-1 input:
// in_base[n*in_ns + ic*in_cs + y*in_rs + taps[t] + x]. ConvTranspose2d's phases use it;
// Conv2d runs its own per-thread bands.
struct ConvRowsJob {
    const float* in = nullptr;
    int64_t in_ns = 0, in_cs = 0, in_rs = 0;
    const std::vector<int64_t>* taps = nullptr;
    int64_t cin = 0, cout = 0;
    const float* packed = nullptr;
    const float* bias = nullptr;  // [blocks * ocb]
    float* out = nullptr;
    int64_t out_ns = 0, out_cs = 0, out_rs = 0;
    int64_t batch = 0, out_h = 0, out_w = 0;
    int32_t act = kActNone;
    float slope = 0.0f;
    int32_t prefetch_step = 1;  // taps per kernel row
};
void run_conv_rows(const Context& ctx, const KernelTable& k, const ConvRowsJob& job);

// A convolution row as a GEMM, single-threaded: out[o*out_cs + x] = act(bias[o] + sum_{i, t}
// w[o, i, t] * in[i*in_cs + taps[t] + x]) for o < cout, x < width (taps null: one tap at 0),
// with w packed by pack_conv_gemm(). Every fp32 Conv2d runs its rows here: 1x1 layers over
// their window in place, the direct algorithm over its padded band, Winograd per position.
struct ConvGemm {
    const float* in = nullptr;
    int64_t in_cs = 0, cin = 0;
    const int64_t* taps = nullptr;  // [ntaps] offsets, or null for one tap at 0
    int32_t ntaps = 1;
    int32_t prefetch_step = 1;  // taps per kernel row (ConvRowArgs::prefetch_step)
    const float* packed = nullptr;
    const float* bias = nullptr;  // [blocks * ocb], or nullptr for zero
    float* out = nullptr;
    int64_t out_cs = 0, cout = 0;
    int64_t width = 0;
    int32_t act = kActNone;
    float slope = 0.0f;
    // Only output-channel blocks [block_begin, block_end) of ocb channels (threads that share
    // a band split it by blocks); out and packed still address the whole layer.
    int64_t block_begin = 0, block_end = INT64_MAX;
};
void run_conv_gemm(const KernelTable& k, const ConvGemm& g);
// Packs w[o*o_stride + i*i_stride + t] (o < cout, i < cin, t < ntaps) in run_conv_gemm()'s pass
// order: [pass of about 64 (channel, tap) rows][block of ocb outputs][channel of the pass][tap]
// [ocb], zero-padded to whole blocks (ceil(cout / ocb) * ocb * cin * ntaps floats at dst), so
// that a pass reads its weights as one sequential stream.
void pack_conv_gemm(const float* w, int64_t o_stride, int64_t i_stride, int64_t cout, int64_t cin,
                    int64_t ntaps, int32_t ocb, float* dst);

// The epilogue code for an Activation, or an error for activations the epilogue cannot fuse.
Status epilogue_code(Activation act, float slope, int32_t* code, float* kernel_slope);

}  // namespace lucent::ops
