// Elementwise activations with PyTorch semantics: relu, leaky_relu (x > 0 ? x : x * slope)
// and sigmoid (1 / (1 + exp(-x))). Any shape; in and out may be the same tensor.
#pragma once

#include "engine/tensor.h"
#include "ops/activation_codes.h"
#include "ops/dispatch.h"

namespace lucent::ops {

Status activation(const Context& ctx, ConstTensorView in, TensorView out, Activation act,
                  float slope = 0.2f);

}  // namespace lucent::ops
