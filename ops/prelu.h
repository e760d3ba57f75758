// PReLU with one slope per channel, as torch.nn.PReLU(num_parameters = C):
// out = x > 0 ? x : slope[c] * x (the kernel table's leaky activation per channel). The row form
// runs in place on a row window (the compact SR graph's epilogue after each conv); the tensor form
// is a thin wrapper over it.
#pragma once

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

// In place on every channel and row of `rows`; slopes holds rows.c values.
void prelu_rows(const Context& ctx, Rows rows, const float* slopes);
// out = prelu(in) (out may be in); slopes holds in.shape.c values.
Status prelu(const Context& ctx, ConstTensorView in, const float* slopes, TensorView out);

}  // namespace lucent::ops
