// ConvTranspose2d: torch.nn.ConvTranspose2d with groups = 1. Weight [in_ch, out_ch, kernel_h,
// kernel_w] exactly as PyTorch stores it; optional bias; fused none / ReLU / LeakyReLU epilogue.
//
//   out[n, o, iy*s_h - pad_h + ky*d_h, ix*s_w - pad_w + kx*d_w] += in[n, i, iy, ix] * w[i, o, ky,
//   kx] out_h = (in_h - 1)*stride_h - 2*pad_h + dilation_h*(kernel_h - 1) + output_padding_h + 1
//
// output_padding must be smaller than the stride or the dilation (PyTorch's rule).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/tensor.h"
#include "ops/activation_codes.h"
#include "ops/conv_bf16.h"
#include "ops/dispatch.h"

namespace lucent::ops {

class Conv2d;

struct ConvTranspose2dParams {
    int64_t in_ch = 0, out_ch = 0;
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t output_padding_h = 0, output_padding_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    Activation act = Activation::kNone;
    float slope = 0.2f;
    // The bf16 precision tier (ops/conv_bf16.h, AMX): kernel 4, stride 2, padding 1 layers
    // (output twice the input) only; each phase is a 4-tap ConvBf16 on the input packed once.
    // create() fails with kUnsupported for other shapes or without AMX.
    bool bf16 = false;

    // Kernel 4, stride 2, padding 1: the layer that doubles H and W (RED's decoder).
    static ConvTranspose2dParams up2x(int64_t in_ch, int64_t out_ch, Activation act,
                                      float slope = 0.2f);
};

Status conv_transpose2d_validate(const ConvTranspose2dParams& p);
Status conv_transpose2d_output_shape(const ConvTranspose2dParams& p, const Shape& in, Shape* out);

class ConvTranspose2d {
  public:
    ConvTranspose2d() = default;
    // weight: [in_ch, out_ch, kernel_h, kernel_w]; bias: [out_ch] or nullptr.
    static Result<ConvTranspose2d> create(const ConvTranspose2dParams& p, const float* weight,
                                          const float* bias, const KernelTable& k);
    Status run(const Context& ctx, ConstTensorView in, TensorView out) const;
    // Streaming form: output rows [out.row0, out.end()) of one image; `in` holds the input rows
    // input_rows() names. scratch: scratch_floats(in.w, out.rows, threads) floats for the
    // context's thread count, or null to allocate. run() runs this on the whole image, so both
    // give the same bits for every row window.
    Status run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch) const;
    void input_rows(int64_t y0, int64_t y1, int64_t in_h, int64_t* first, int64_t* end) const;
    int64_t scratch_floats(int64_t in_w, int64_t out_rows, int threads) const;
    // True when the fp32 layer runs as one Winograd 3x3 convolution (see as3x3_).
    bool uses_winograd() const { return as3x3_ != nullptr; }
    // Output rows per step of its Winograd tiles (2 x 4 with as3x3_, else 1): windows that start
    // and end on steps compute no convolution row twice (any window gives the same bits).
    int64_t row_step() const;
    const ConvTranspose2dParams& params() const { return p_; }

  private:
    // Output rows y with y % stride_h == ry and columns x % stride_w == rx form one phase: a
    // stride-1 correlation of the padded input with the taps that land on that phase.
    struct Phase {
        int64_t ry = 0, rx = 0;
        std::vector<int64_t> tap_dy, tap_dx;  // input row / column offset of each tap (+ pad)
        std::vector<float> packed;            // [blocks][in_ch][ntaps][ocb]
    };
    // The zero-padded input band run_rows() builds for output rows [y0, y1) of an in_w wide
    // input: input rows [row0, row0 + rows), each in_ch planes of cols columns (lead_w_ zero
    // columns first), then the phase buffer (out_ch planes of up to qrows x qw).
    struct Band {
        int64_t row0, rows, cols, qrows, qw;
    };
    Band band(int64_t y0, int64_t y1, int64_t in_w, int64_t out_w) const;
    int64_t out_width(int64_t in_w) const;

    ConvTranspose2dParams p_;
    const KernelTable* k_ = nullptr;
    std::vector<Phase> phases_;
    // params().bf16: one layer per phase (phases_ order), run instead of the fp32 kernels.
    std::vector<std::shared_ptr<const ConvBf16>> bf16_phases_;
    Status run_rows_bf16(const Context& ctx, ConstRows in, Rows out, float* scratch) const;
    // Phase rows [*q0, *q1): those q with y = stride_h * q + ph.ry in out's rows.
    void phase_rows(const Phase& ph, const Rows& out, int64_t* q0, int64_t* q1) const;
    // Scatters a phase's rows [q0, q1) (tmp: [channel][q1 - q0][ph_w]) into out's rows.
    void interleave_phase(const Context& ctx, const Phase& ph, const float* tmp, int64_t q0,
                          int64_t q1, int64_t ph_w, Rows out) const;
    // Kernel 4, stride 2, padding 1 in fp32 with enough channels: the four phases are one 3x3
    // convolution (offsets -1..1 cover every phase's taps) to 4 * out_ch channels, phase
    // (ry, rx) in channels [(2 ry + rx) out_ch, ...), zero weights where a phase has no tap.
    // That convolution runs as Winograd F(4x4, 3x3): 2.25 products per output and phase
    // channel against the direct kernel's 4, with the input transformed once for all phases.
    std::shared_ptr<const Conv2d> as3x3_;
    // The convolution's rows [*c0, *c1) for output rows [y0, y1): the phase rows they need,
    // widened to its 4-row tiles (clipped to in_h; pass a huge in_h for the widest case).
    void as3x3_rows(int64_t y0, int64_t y1, int64_t in_h, int64_t* c0, int64_t* c1) const;
    Status run_rows_as3x3(const Context& ctx, ConstRows in, Rows out, float* scratch) const;
    std::vector<float> bias_;
    int64_t lead_w_ = 0;               // zero columns padded before the input
    int64_t min_dy_ = 0, max_dy_ = 0;  // extreme input row offsets of any tap
    int64_t max_dx_ = 0;
};

}  // namespace lucent::ops
