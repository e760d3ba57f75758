// Argument checks shared by op drivers. Each returns kInvalidArgument with a sentence that
// names the op, the offending value and the rule.
#pragma once

#include "engine/tensor.h"

namespace lucent::ops {

// data != nullptr and every dimension >= 1 (and the element count sane).
Status check_tensor(const char* op, const char* name, const float* data, const Shape& s);
// got == want, else "<op>: <name> is [..] but must be [..]".
Status check_shape(const char* op, const char* name, const Shape& got, const Shape& want);
// A value in [lo, hi].
Status check_param(const char* op, const char* name, int64_t v, int64_t lo, int64_t hi);
// Row forms (streaming): output rows [y0, y1) read input rows [first, end), which the input
// window `in` must hold.
Status check_row_window(const char* op, int64_t y0, int64_t y1, int64_t first, int64_t end,
                        ConstRows in);

}  // namespace lucent::ops
