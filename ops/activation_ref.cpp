#include <cmath>

#include "ops/ref.h"

namespace lucent::ops::ref {

double apply_activation(Activation act, float slope, double v) {
    switch (act) {
        case Activation::kNone:
            return v;
        case Activation::kRelu:
            return v > 0.0 ? v : 0.0;
        case Activation::kLeakyRelu:
            return v > 0.0 ? v : v * static_cast<double>(slope);
        case Activation::kSigmoid:
            return 1.0 / (1.0 + std::exp(-v));
    }
    return v;
}

void activation(ConstTensorView in, TensorView out, Activation act, float slope) {
    for (int64_t i = 0; i < in.shape.numel(); ++i) {
        out.data[i] = static_cast<float>(apply_activation(act, slope, in.data[i]));
    }
}

}  // namespace lucent::ops::ref
