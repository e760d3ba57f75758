// Pooling with PyTorch semantics (ceil_mode = False):
//   pool2d: nn.MaxPool2d / nn.AvgPool2d(kernel, stride, padding, count_include_pad=True).
//           Padding (at most half the kernel, PyTorch's rule) is -inf for max, 0 for average;
//           out = (in + 2*pad - kernel) / stride + 1.
//   adaptive_pool2d: nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d to out.shape's (H, W); bin i of
//           an axis of length L split b ways covers [floor(i*L/b), ceil((i+1)*L/b)).
//   global_pool: per-(n, c) mean and max over the whole plane (either output may be null).
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::ops {

enum class PoolKind : int32_t { kMax = 0, kAvg = 1 };

struct Pool2dParams {
    PoolKind kind = PoolKind::kMax;
    int64_t kernel_h = 2, kernel_w = 2;
    int64_t stride_h = 2, stride_w = 2;
    int64_t pad_h = 0, pad_w = 0;
};

Status pool2d_output_shape(const Pool2dParams& p, const Shape& in, Shape* out);
Status pool2d(const Context& ctx, const Pool2dParams& p, ConstTensorView in, TensorView out);
Status adaptive_pool2d(const Context& ctx, PoolKind kind, ConstTensorView in, TensorView out);
// avg and max each hold N*C values (index n*C + c).
Status global_pool(const Context& ctx, ConstTensorView in, float* avg, float* max);

// Row-ordered reductions (streaming, and the graphs' whole-image paths alike): rows arrive in
// order, each row is reduced on its own, and each running sum adds its rows one at a time in row
// order. A chunked run thus gives the same bits as one pass over the whole image, for every chunk
// height and thread count (threads split channels).
//
// adaptive_sum_rows: for each channel c, adaptive bin (i, j) of bh x bw over an in.h x in.w
//   plane (bins overlap as in PyTorch), sums[(c*bh + i)*bw + j] += the sum of the bin's columns of
//   every row of `in` that bin row i covers. Zero sums before the first rows;
//   adaptive_mean_finish divides by each bin's area once every row was added. adaptive_pool2d's
//   average is these two over the whole image.
void adaptive_sum_rows(const Context& ctx, ConstRows in, int64_t bh, int64_t bw, float* sums);
void adaptive_mean_finish(int64_t c, int64_t h, int64_t w, int64_t bh, int64_t bw, float* sums);
// Per channel: sum[c] += each row's sum; max[c] = max(max[c], the row's max). Start from 0 and
// -infinity (max may be null). global_pool is this over the whole image.
void global_sum_max_rows(const Context& ctx, ConstRows in, float* sum, float* max);

// First and one-past-last input index of adaptive bin i of b over length len.
inline int64_t adaptive_bin_start(int64_t i, int64_t len, int64_t b) { return (i * len) / b; }
inline int64_t adaptive_bin_end(int64_t i, int64_t len, int64_t b) {
    return ((i + 1) * len + b - 1) / b;
}

}  // namespace lucent::ops
