// Reference (oracle) implementations for tests and benchmarks: the obviously correct loop
// nests written from PyTorch's definitions, accumulating in double, with no tiling, no SIMD
// and no threads. They assume valid arguments (the op drivers' validation has run) and write
// into outputs the caller shaped with the op's *_output_shape function.
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "ops/activation_codes.h"
#include "ops/attention.h"
#include "ops/conv2d.h"
#include "ops/conv_transpose2d.h"
#include "ops/pool2d.h"
#include "ops/reflect_pad.h"

namespace lucent::ops::ref {

// PyTorch's definition of act applied to v (leaky: v > 0 ? v : v * slope).
double apply_activation(Activation act, float slope, double v);

void conv2d(const Conv2dParams& p, ConstTensorView in, const float* weight, const float* bias,
            TensorView out);
// The bf16 tier's k x k (1 or 3), stride 1 or 2, padding k / 2 convolution (ops/conv_bf16.h): same
// roundings, same order.
void conv_bf16(ConstTensorView in, const float* weight, const float* bias, int64_t k,
               int64_t stride, Activation act, float slope, TensorView out);
void conv_transpose2d(const ConvTranspose2dParams& p, ConstTensorView in, const float* weight,
                      const float* bias, TensorView out);
void activation(ConstTensorView in, TensorView out, Activation act, float slope);
void add_scaled(ConstTensorView x, float a, ConstTensorView y, float b, TensorView out);
void mul_channels(ConstTensorView x, const float* s, TensorView out);
void mul_pixels(ConstTensorView x, ConstTensorView g, TensorView out);
void pool2d(const Pool2dParams& p, ConstTensorView in, TensorView out);
void adaptive_pool2d(PoolKind kind, ConstTensorView in, TensorView out);
void upsample_nearest(ConstTensorView in, int64_t r, TensorView out);
void upsample_bilinear(ConstTensorView in, TensorView out);
void pixel_shuffle(ConstTensorView in, int64_t r, TensorView out);
void pixel_unshuffle(ConstTensorView in, int64_t r, TensorView out);
void reflect_pad(ConstTensorView in, const Padding& pad, TensorView out);
void concat_channels(const ConstTensorView* inputs, int64_t count, TensorView out);
// fc weights as in ChannelAttention::create (biases non-null here).
void channel_attention(ConstTensorView in, int64_t hidden, const float* fc1_w, const float* fc1_b,
                       const float* fc2_w, const float* fc2_b, ChannelPooling pooling,
                       TensorView out);
void spatial_attention(ConstTensorView in, int64_t kernel, const float* weight, const float* bias,
                       TensorView out);

}  // namespace lucent::ops::ref
