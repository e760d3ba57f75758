// torch.cat(inputs, dim=1): concatenation along channels. Inputs share N, H and W. Pure data
// movement (one memcpy per input plane).
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

Status concat_output_shape(const ConstTensorView* inputs, int64_t count, Shape* out);
Status concat_channels(const Context& ctx, const ConstTensorView* inputs, int64_t count,
                       TensorView out);

}  // namespace lucent::ops
