// Activations an op can apply to its output, as in PyTorch.
#pragma once

#include <cstdint>

namespace lucent::ops {

enum class Activation : int32_t {
    kNone = 0,
    kRelu = 1,       // torch.relu
    kLeakyRelu = 2,  // torch.nn.functional.leaky_relu(x, slope): x > 0 ? x : x * slope
    kSigmoid = 3,    // torch.sigmoid
};

const char* activation_name(Activation act);

}  // namespace lucent::ops
