// Scalar activation formulas in double, shared by the reference (oracle) implementations.
#pragma once

#include "ops/activation_codes.h"

namespace lucent::ops::ref {

// PyTorch's definition of act applied to v (leaky: v > 0 ? v : v * slope).
double apply_activation(Activation act, float slope, double v);

}  // namespace lucent::ops::ref
