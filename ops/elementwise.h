// Elementwise arithmetic on NCHW tensors (out may alias an input):
//   add_scaled:   out = a * x + b * y          (rounded as (a*x) + (b*y), like PyTorch's x*a + y)
//   scale:        out = x * s
//   mul_channels: out[n, c, :, :] = x[n, c, :, :] * s[n*C + c]   (per-channel gate)
//   mul_pixels:   out[n, c, h, w] = x[n, c, h, w] * g[n, 0, h, w] (per-pixel gate)
#pragma once

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

Status add_scaled(const Context& ctx, ConstTensorView x, float a, ConstTensorView y, float b,
                  TensorView out);
Status add(const Context& ctx, ConstTensorView x, ConstTensorView y, TensorView out);
Status scale(const Context& ctx, ConstTensorView x, float s, TensorView out);
// s holds x.shape.n * x.shape.c factors.
Status mul_channels(const Context& ctx, ConstTensorView x, const float* s, TensorView out);
// g has shape [N, 1, H, W] matching x.
Status mul_pixels(const Context& ctx, ConstTensorView x, ConstTensorView g, TensorView out);

// Streaming forms over row windows (engine/tensor.h): out = a * x + b * y (rounded as
// add_scaled) and out = x, for out's rows and channels; x and y must hold those rows. Drivers
// inside the graphs; the shapes are the caller's to get right (asserted).
void add_scaled_rows(const Context& ctx, ConstRows x, float a, ConstRows y, float b, Rows out);
void copy_rows(const Context& ctx, ConstRows x, Rows out);

}  // namespace lucent::ops
