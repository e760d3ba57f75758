#include "ops/ref.h"

namespace lucent::ops::ref {

void add_scaled(ConstTensorView x, float a, ConstTensorView y, float b, TensorView out) {
    for (int64_t i = 0; i < x.shape.numel(); ++i) {
        out.data[i] = static_cast<float>(static_cast<double>(a) * x.data[i] +
                                         static_cast<double>(b) * y.data[i]);
    }
}

void mul_channels(ConstTensorView x, const float* s, TensorView out) {
    const int64_t plane = x.shape.plane();
    for (int64_t i = 0; i < x.shape.numel(); ++i) out.data[i] = x.data[i] * s[i / plane];
}

void mul_pixels(ConstTensorView x, ConstTensorView g, TensorView out) {
    const int64_t plane = x.shape.plane();
    for (int64_t i = 0; i < x.shape.numel(); ++i) {
        const int64_t n = i / (x.shape.c * plane);
        out.data[i] = x.data[i] * g.data[n * plane + i % plane];
    }
}

}  // namespace lucent::ops::ref
