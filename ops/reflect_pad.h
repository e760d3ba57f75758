// torch.nn.ReflectionPad2d((left, right, top, bottom)): mirror without repeating the edge.
// PyTorch needs each pad smaller than the dimension it pads; here larger pads continue the
// mirror periodically (period 2*(len-1); a dimension of 1 repeats its value), which the graphs
// use to pad inputs smaller than their unshuffle factor. For pads < len this is PyTorch exactly.
// Pure data movement (row memcpy plus mirrored edges); libc's memcpy already picks its own SIMD
// width at run time.
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

// Source index of padded index i (may be negative or >= len) under that periodic mirror.
inline int64_t mirror_index(int64_t i, int64_t len) {
    if (len == 1) return 0;
    const int64_t period = 2 * (len - 1);
    int64_t j = i % period;
    if (j < 0) j += period;
    return j < len ? j : period - j;
}

struct Padding {
    int64_t top = 0, bottom = 0, left = 0, right = 0;
};

Status reflect_pad_output_shape(const Shape& in, const Padding& pad, Shape* out);
Status reflect_pad(const Context& ctx, ConstTensorView in, const Padding& pad, TensorView out);
// Crops rows [top, top + out.h) and columns [left, left + out.w) of in into out.
Status crop(const Context& ctx, ConstTensorView in, int64_t top, int64_t left, TensorView out);

}  // namespace lucent::ops
