// Reference (oracle) implementations used by tests and benchmarks: the obviously correct loop
// nests from the PyTorch definitions, accumulating in double, with no tiling and no SIMD.
#pragma once

#include "engine/tensor.h"
#include "ops/conv2d.h"

namespace lucent::ops::ref {

// out must have conv2d_output_shape(p, in.shape). weight [OC, IC, KH, KW]; bias may be null.
void conv2d(const Conv2dParams& p, ConstTensorView in, const float* weight, const float* bias,
            TensorView out);

}  // namespace lucent::ops::ref
