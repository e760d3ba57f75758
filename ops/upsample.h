// Upsampling with PyTorch semantics:
//   upsample_nearest:  F.interpolate(scale_factor=r, mode="nearest"), integer r >= 1:
//                      out[y, x] = in[y / r, x / r]
//   upsample_bilinear: F.interpolate(size=out.shape, mode="bilinear", align_corners=False):
//                      src = max(0, (dst + 0.5) * in/out - 0.5), neighbours floor(src) and
//                      min(floor(src) + 1, in - 1), weights src - floor(src) and its complement.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

Status upsample_nearest(const Context& ctx, ConstTensorView in, int64_t r, TensorView out);
// Streaming form: out's rows of the nearest x r upsampling of `in` (which holds rows
// [out.row0 / r, (out.end() - 1) / r + 1)).
void upsample_nearest_rows(const Context& ctx, ConstRows in, int64_t r, Rows out);
Status upsample_bilinear(const Context& ctx, ConstTensorView in, TensorView out);
// Streaming form: out's rows of the bilinear resize of one whole image `in` ([1, C, h, w]).
void upsample_bilinear_rows(const Context& ctx, ConstTensorView in, Rows out);

// The column taps of a bilinear resize from in_w to out_w columns, computed once (a plan holds
// them, so that its runs allocate nothing).
struct BilinearColumns {
    std::vector<int32_t> x0, x1;
    std::vector<float> l0, l1;
};
BilinearColumns bilinear_columns(int64_t in_w, int64_t out_w);
// As above with the column taps given (cols from bilinear_columns(in.shape.w, out.w)).
void upsample_bilinear_rows(const Context& ctx, ConstTensorView in, const BilinearColumns& cols,
                            Rows out);

// Source index and weights of bilinear output index dst (align_corners=False), as PyTorch
// computes them in float. Shared with the reference implementation.
struct LinearTap {
    int32_t i0, i1;
    float l0, l1;
};
LinearTap bilinear_tap(int64_t dst, int64_t in_len, int64_t out_len);

}  // namespace lucent::ops
