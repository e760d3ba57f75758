// ConvTranspose2d: torch.nn.ConvTranspose2d with groups = 1. Weight [in_ch, out_ch, kernel_h,
// kernel_w] exactly as PyTorch stores it; optional bias; fused none / ReLU / LeakyReLU epilogue.
//
//   out[n, o, iy*s_h - pad_h + ky*d_h, ix*s_w - pad_w + kx*d_w] += in[n, i, iy, ix] * w[i, o, ky,
//   kx] out_h = (in_h - 1)*stride_h - 2*pad_h + dilation_h*(kernel_h - 1) + output_padding_h + 1
//
// output_padding must be smaller than the stride or the dilation (PyTorch's rule).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "ops/activation_codes.h"
#include "ops/dispatch.h"

namespace lucent::ops {

struct ConvTranspose2dParams {
    int64_t in_ch = 0, out_ch = 0;
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t output_padding_h = 0, output_padding_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    Activation act = Activation::kNone;
    float slope = 0.2f;
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
    // Bytes run() allocates for input shape `in` (padded input and one phase buffer).
    uint64_t scratch_bytes(const Shape& in) const;
    const ConvTranspose2dParams& params() const { return p_; }

  private:
    // Output rows y with y % stride_h == ry and columns x % stride_w == rx form one phase: a
    // stride-1 correlation of the padded input with the taps that land on that phase.
    struct Phase {
        int64_t ry = 0, rx = 0;
        std::vector<int64_t> tap_dy, tap_dx;  // input row / column offset of each tap (+ pad)
        std::vector<float> packed;            // [blocks][in_ch][ntaps][ocb]
    };
    // Rows and columns of the zero-padded input buffer run() builds.
    void padded_extent(const Shape& is, const Shape& os, int64_t* rows, int64_t* cols) const;

    ConvTranspose2dParams p_;
    const KernelTable* k_ = nullptr;
    std::vector<Phase> phases_;
    std::vector<float> bias_;
    int64_t lead_h_ = 0, lead_w_ = 0;  // zero rows / columns padded before the input
};

}  // namespace lucent::ops
