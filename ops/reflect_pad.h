// torch.nn.ReflectionPad2d((left, right, top, bottom)): mirror without repeating the edge,
// so each pad must be smaller than the dimension it pads. Pure data movement (row memcpy plus
// mirrored edges); libc's memcpy already picks its own SIMD width at run time.
#pragma once

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

struct Padding {
    int64_t top = 0, bottom = 0, left = 0, right = 0;
};

Status reflect_pad_output_shape(const Shape& in, const Padding& pad, Shape* out);
Status reflect_pad(const Context& ctx, ConstTensorView in, const Padding& pad, TensorView out);
// Crops rows [top, top + out.h) and columns [left, left + out.w) of in into out.
Status crop(const Context& ctx, ConstTensorView in, int64_t top, int64_t left, TensorView out);

}  // namespace lucent::ops
