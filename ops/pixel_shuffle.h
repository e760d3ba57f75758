// torch.nn.functional.pixel_shuffle / pixel_unshuffle (exact data movement):
//   shuffle   [N, C*r*r, H, W] -> [N, C, H*r, W*r]:  out[c, h*r + i, w*r + j] = in[c*r*r + i*r + j,
//   h, w] unshuffle [N, C, H*r, W*r] -> [N, C*r*r, H, W]:  the inverse
#pragma once

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

Status pixel_shuffle_output_shape(const Shape& in, int64_t r, Shape* out);
Status pixel_unshuffle_output_shape(const Shape& in, int64_t r, Shape* out);
Status pixel_shuffle(const Context& ctx, ConstTensorView in, int64_t r, TensorView out);
Status pixel_unshuffle(const Context& ctx, ConstTensorView in, int64_t r, TensorView out);
// Streaming form: out's rows of pixel_shuffle(in, r); in holds rows
// [out.row0 / r, (out.end() - 1) / r + 1).
void pixel_shuffle_rows(const Context& ctx, ConstRows in, int64_t r, Rows out);

}  // namespace lucent::ops
