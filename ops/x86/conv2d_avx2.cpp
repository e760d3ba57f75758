// conv2d_row for AVX2 + FMA: register tile of NOC output channels x NV vectors of 8 pixels.
//
// Same scheme as the AVX-512 kernel with 16 ymm registers: NOC = 4, NV = 3 gives 12
// accumulators + 3 inputs + 1 broadcast. Tails use maskload / maskstore on the last vector.
#include <cstddef>
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

const int32_t conv2d_oc_block = 4;

namespace {

constexpr int kOcb = 4;
constexpr int kMaxNv = 3;

// acc[o][j] += w[o] * src[j-th vector] for one (channel, tap): NV input loads (the last one
// masked), NOC broadcasts, NOC*NV FMAs. Force-inlined so acc stays in registers.
template <int NOC, int NV>
__attribute__((always_inline)) inline void accumulate(__m256 (&acc)[NOC][NV], const float* src,
                                                      const float* w, __m256i last_mask) {
    __m256 v[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV - 1; ++j) v[j] = _mm256_loadu_ps(src + 8 * j);
    v[NV - 1] = _mm256_maskload_ps(src + 8 * (NV - 1), last_mask);
#pragma GCC unroll 8
    for (int o = 0; o < NOC; ++o) {
        const __m256 wv = _mm256_broadcast_ss(w + o);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[o][j] = _mm256_fmadd_ps(v[j], wv, acc[o][j]);
    }
}

template <int NOC, int NV>
inline void conv_tile(const ConvRowArgs& a, int32_t x0, __m256i last_mask) {
    __m256 acc[NOC][NV];
#pragma GCC unroll 4
    for (int o = 0; o < NOC; ++o) {
        const __m256 b = _mm256_set1_ps(a.bias != nullptr ? a.bias[o] : 0.0f);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[o][j] = b;
    }
    const float* in_x = a.in + x0;
    const float* w = a.w;
    if (a.ntaps == 1) {
        // 1x1 convolutions and the Winograd GEMMs: no tap table, channels unrolled by 4.
        const float* src0 = in_x + a.taps[0];
#pragma GCC unroll 4
        for (int32_t ic = 0; ic < a.cin; ++ic, w += kOcb) {
            accumulate<NOC, NV>(acc, src0 + ic * a.in_cs, w, last_mask);
        }
    } else {
        for (int32_t ic = 0; ic < a.cin; ++ic) {
            const float* in_c = in_x + ic * a.in_cs;
            for (int32_t t = 0; t < a.ntaps; ++t, w += kOcb) {
                accumulate<NOC, NV>(acc, in_c + a.taps[t], w, last_mask);
            }
        }
    }
    const __m256 slope = _mm256_set1_ps(a.slope);
#pragma GCC unroll 4
    for (int o = 0; o < NOC; ++o) {
        float* dst = a.out + o * a.out_cs + x0;
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) {
            __m256 r = acc[o][j];
            if (a.act == kActLeaky) r = lucent_leaky256(r, slope);
            if (j == NV - 1) {
                _mm256_maskstore_ps(dst + 8 * j, last_mask, r);
            } else {
                _mm256_storeu_ps(dst + 8 * j, r);
            }
        }
    }
}

template <int NOC>
void conv_row_noc(const ConvRowArgs& a) {
    int32_t x0 = 0;
    const __m256i full = _mm256_set1_epi32(-1);
    for (; x0 + 8 * kMaxNv <= a.width; x0 += 8 * kMaxNv) conv_tile<NOC, kMaxNv>(a, x0, full);
    const int32_t rem = a.width - x0;
    if (rem <= 0) return;
    const __m256i mask = lucent_mask8(rem - 8 * ((rem - 1) / 8));
    switch ((rem + 7) / 8) {
        case 1:
            conv_tile<NOC, 1>(a, x0, mask);
            break;
        case 2:
            conv_tile<NOC, 2>(a, x0, mask);
            break;
        default:
            conv_tile<NOC, 3>(a, x0, mask);
            break;
    }
}

}  // namespace

void conv2d_row(const ConvRowArgs& a) {
    switch (a.noc) {
        case 1:
            conv_row_noc<1>(a);
            break;
        case 2:
            conv_row_noc<2>(a);
            break;
        case 3:
            conv_row_noc<3>(a);
            break;
        default:
            conv_row_noc<4>(a);
            break;
    }
}

}  // namespace lucent::ops::avx2
