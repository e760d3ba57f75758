// Microkernel contract shared by every ISA tier.
//
// A microkernel only computes: single-threaded, over one row or one flat range, preconditions
// checked with assert only. Drivers (ops/<op>.cpp, baseline flags) validate, pad, tile, thread
// and then call through the KernelTable chosen once at run time (ops/dispatch.cpp).
//
// This header is included by the ISA translation units (ops/x86/*_avx2.cpp, *_avx512.cpp), so
// it holds PODs and declarations only: no inline function bodies, no templates, no STL.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lucent/isa.hpp"

namespace lucent::ops {

// Epilogue activation codes shared by conv kernels and the activation kernel.
enum ActCode : int32_t {
    kActNone = 0,
    kActLeaky = 1 /* relu = leaky with slope 0 */,
    kActSigmoid = 2
};

// One output row of one output-channel block of a stride-1 correlation:
//   out[o*out_cs + x] = act(bias[o] + sum_{ic, t} w[(ic*ntaps + t)*ocb + o] * in[ic*in_cs + taps[t]
//   + x])
// for o < noc, x < width. Strided, dilated and transposed convolutions are reduced to this form
// by the drivers (phase-split input, per-phase tap lists), so one kernel serves them all.
struct ConvRowArgs {
    const float* in;      // input at (row, x = 0) of channel 0, tap offset 0
    int64_t in_cs;        // floats between input channels
    const int64_t* taps;  // [ntaps] float offsets of each kernel tap, >= 0
    int32_t ntaps;        // may be 0 (output = bias)
    int32_t cin;          // input channels
    const float* w;       // [cin][ntaps][ocb] packed weights of this block (ocb = conv2d_oc_block)
    const float* bias;    // [noc], or nullptr for zero
    float* out;           // output at (row, x = 0) of the block's first channel
    int64_t out_cs;       // floats between output channels
    int32_t noc;          // valid channels in this block, 1..ocb
    int32_t width;        // output pixels, >= 1
    int32_t act;          // kActNone or kActLeaky
    float slope;          // negative slope for kActLeaky
    int32_t prefetch_step;  // taps between distinct input rows (kernel_w), for prefetching; >= 1
    // 1: the sums start from the partial sums already in out instead of the bias (bias unused),
    // for drivers that split the input channels into passes; the sum order per element is that
    // of one call over all the channels.
    int32_t accumulate = 0;
};
using Conv2dRowFn = void(const ConvRowArgs& args);

// out[i] = act(in[i]) for i < n; kActLeaky uses slope, kActSigmoid is 1 / (1 + exp(-x)).
// in == out is allowed.
using ActivationFn = void(const float* in, float* out, int64_t n, int32_t act, float slope);
// out[i] = a * x[i] + b * y[i], rounded as (a*x) + (b*y) without FMA. Aliasing allowed.
using AxpbyFn = void(const float* x, float a, const float* y, float b, float* out, int64_t n);
// out[i] = x[i] * s. Aliasing allowed.
using ScaleFn = void(const float* x, float s, float* out, int64_t n);
// out[i] = x[i] * y[i]. Aliasing allowed.
using MulFn = void(const float* x, const float* y, float* out, int64_t n);

// Sum and max over a h x w rectangle whose rows are row_stride floats apart (h, w >= 1).
using RectSumMaxFn = void(const float* in, int64_t row_stride, int64_t h, int64_t w, float* sum,
                          float* max);
// For p < n: mean[p] = (1/c) * sum_k in[k*cs + p], max[p] = max_k in[k*cs + p] (c >= 1).
using ChannelMeanMaxFn = void(const float* in, int64_t c, int64_t cs, int64_t n, float* mean,
                              float* max);

// One output row of a pooling window over an already padded input:
//   out[x] = reduce_{ky<kh, kx<kw} in[ky*row_stride + x*stride + kx]; avg multiplies by inv_area.
struct PoolRowArgs {
    const float* in;
    int64_t row_stride;
    int32_t kh, kw, stride;
    int32_t is_max;  // 1 max, 0 average
    float inv_area;  // 1 / (kh*kw) for average
    float* out;
    int32_t width;
};
using PoolRowFn = void(const PoolRowArgs& args);

// out[x] = in[x / r] for x < out_w (nearest upsampling by an integer factor along a row).
using NearestRowFn = void(const float* in, int32_t r, float* out, int32_t out_w);

// Bilinear row, PyTorch's order of operations:
//   out[x] = wy0 * (lx0[x]*r0[x0[x]] + lx1[x]*r0[x1[x]]) + wy1 * (lx0[x]*r1[x0[x]] +
//   lx1[x]*r1[x1[x]])
struct BilinearRowArgs {
    const float* r0;
    const float* r1;
    float wy0, wy1;
    const int32_t* x0;
    const int32_t* x1;
    const float* lx0;
    const float* lx1;
    float* out;
    int32_t width;
};
using BilinearRowFn = void(const BilinearRowArgs& args);

// A ramp added to a row, then an activation (kActNone or kActLeaky): for t < n,
//   out[t] = act(in[t] + (a + b * t))   (t as float, exact below 2^24; rounded as written, no FMA).
// in == out is allowed.
using RampActFn = void(const float* in, float a, float b, float* out, int64_t n, int32_t act,
                       float slope);

// Pixel shuffle row: out[x] = in[(x % r) * cs + x / r] for x < out_w.
using PixelShuffleRowFn = void(const float* in, int64_t cs, int32_t r, float* out, int32_t out_w);
// Pixel unshuffle row: out[x] = in[x * r] for x < out_w.
using PixelUnshuffleRowFn = void(const float* in, int32_t r, float* out, int32_t out_w);

// Winograd F(4x4, 3x3) input transform of one channel for `tiles` consecutive tiles
// (ops/winograd_f43.h has the matrices), straight from the unpadded input rows: tile t reads
// rows[0..5] at columns x0 + 4t .. x0 + 4t + 5, where a null row and any column outside
// [0, width) read as zero (the convolution's padding), and writes its 36 transformed values
// v[xi * v_xs + t], xi = 6*k + j, of B^T d B. Nothing outside [0, width) is read.
struct WinogradInputArgs {
    const float* rows[6];
    int64_t x0;
    int64_t width;
    int32_t tiles;
    float* v;
    int64_t v_xs;
};
using WinogradInputFn = void(const WinogradInputArgs& args);

// Winograd F(4x4, 3x3) output transform of one output channel: tile t's 36 products
// m[xi * m_xs + t] become the 4x4 outputs A^T M A plus bias, then the epilogue;
// out[r][4t + c] for 4t + c < out_w and every r whose out[r] is not null.
struct WinogradOutputArgs {
    const float* m;
    int64_t m_xs;
    int32_t tiles;
    float bias;
    int32_t act;  // kActNone or kActLeaky
    float slope;
    float* out[4];
    int32_t out_w;
};
using WinogradOutputFn = void(const WinogradOutputArgs& args);

// The X-macro list of every microkernel: it declares them per ISA namespace below and fills
// the dispatch table, so a kernel cannot be added to one without the others.
#define LUCENT_KERNELS(X)                       \
    X(conv2d_row, Conv2dRowFn)                  \
    X(activation, ActivationFn)                 \
    X(axpby, AxpbyFn)                           \
    X(scale, ScaleFn)                           \
    X(mul, MulFn)                               \
    X(rect_sum_max, RectSumMaxFn)               \
    X(channel_mean_max, ChannelMeanMaxFn)       \
    X(pool_row, PoolRowFn)                      \
    X(nearest_row, NearestRowFn)                \
    X(bilinear_row, BilinearRowFn)              \
    X(ramp_act, RampActFn)                      \
    X(pixel_shuffle_row, PixelShuffleRowFn)     \
    X(pixel_unshuffle_row, PixelUnshuffleRowFn) \
    X(winograd_input, WinogradInputFn)          \
    X(winograd_output, WinogradOutputFn)

#define LUCENT_DECLARE_KERNEL(name, type) type name;

// Output channels per conv2d_row call; weights are packed for it.
namespace scalar {
extern const int32_t conv2d_oc_block;
LUCENT_KERNELS(LUCENT_DECLARE_KERNEL)
}  // namespace scalar
namespace avx2 {
extern const int32_t conv2d_oc_block;
LUCENT_KERNELS(LUCENT_DECLARE_KERNEL)
}  // namespace avx2
namespace avx512 {
extern const int32_t conv2d_oc_block;
LUCENT_KERNELS(LUCENT_DECLARE_KERNEL)
}  // namespace avx512

#define LUCENT_TABLE_ENTRY(name, type) type* name;
struct KernelTable {
    Isa isa;
    int32_t conv2d_oc_block;
    LUCENT_KERNELS(LUCENT_TABLE_ENTRY)
};
#undef LUCENT_TABLE_ENTRY

}  // namespace lucent::ops
