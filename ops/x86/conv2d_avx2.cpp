// conv2d_row for AVX2 + FMA: register tile of NOC output channels x NV vectors of 8 pixels.
//
// Same scheme as the AVX-512 kernel with 16 ymm registers: NOC = 4, NV = 3 gives 12
// accumulators + 3 inputs + 1 broadcast. Tails use maskload / maskstore on the last vector.
// 1-tap rows (1x1 convolutions, Winograd GEMMs) run in passes of 64 input channels over the
// whole row, keeping partial sums in the output row (one_tap_tile).
#include <cstddef>
#include <cstdint>
#include <type_traits>

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

// acc = each channel's bias, or (from_out) the partial sums stored in the output row.
template <int NOC, int NV>
__attribute__((always_inline)) inline void start_sums(__m256 (&acc)[NOC][NV], const ConvRowArgs& a,
                                                      int32_t x0, __m256i last_mask,
                                                      bool from_out) {
    const __m256i full = _mm256_set1_epi32(-1);
#pragma GCC unroll 4
    for (int o = 0; o < NOC; ++o) {
        const float* dst = a.out + o * a.out_cs + x0;
        const __m256 b = _mm256_set1_ps(a.bias != nullptr ? a.bias[o] : 0.0f);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) {
            acc[o][j] =
                from_out ? _mm256_maskload_ps(dst + 8 * j, j == NV - 1 ? last_mask : full) : b;
        }
    }
}

// The output row = acc, through the activation when `activate` (else partial sums).
template <int NOC, int NV>
__attribute__((always_inline)) inline void store_sums(const __m256 (&acc)[NOC][NV],
                                                      const ConvRowArgs& a, int32_t x0,
                                                      __m256i last_mask, bool activate) {
    const __m256 slope = _mm256_set1_ps(a.slope);
#pragma GCC unroll 4
    for (int o = 0; o < NOC; ++o) {
        float* dst = a.out + o * a.out_cs + x0;
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) {
            __m256 r = acc[o][j];
            if (activate && a.act == kActLeaky) r = lucent_leaky256(r, slope);
            if (j == NV - 1) {
                _mm256_maskstore_ps(dst + 8 * j, last_mask, r);
            } else {
                _mm256_storeu_ps(dst + 8 * j, r);
            }
        }
    }
}

// Input channels per pass of a 1-tap row, as in the AVX-512 kernel (one_tap_tile there).
constexpr int32_t kOneTapChannels = 64;

// 1-tap rows over channels [ic0, ic0 + nc): sums start from the bias (first pass) or from the
// partial sums stored in out, and leave as partial sums or, after the last pass, activated.
template <int NOC, int NV>
inline void one_tap_tile(const ConvRowArgs& a, int32_t x0, __m256i last_mask, int32_t ic0,
                         int32_t nc) {
    __m256 acc[NOC][NV];
    start_sums<NOC, NV>(acc, a, x0, last_mask, ic0 > 0 || a.accumulate != 0);
    const float* src = a.in + x0 + a.taps[0] + ic0 * a.in_cs;
    const float* w = a.w + static_cast<int64_t>(ic0) * kOcb;
#pragma GCC unroll 4
    for (int32_t ic = 0; ic < nc; ++ic, w += kOcb) {
        accumulate<NOC, NV>(acc, src + ic * a.in_cs, w, last_mask);
    }
    store_sums<NOC, NV>(acc, a, x0, last_mask, ic0 + nc == a.cin);
}

template <int NOC, int NV>
inline void conv_tile(const ConvRowArgs& a, int32_t x0, __m256i last_mask) {
    __m256 acc[NOC][NV];
    start_sums<NOC, NV>(acc, a, x0, last_mask, a.accumulate != 0);
    const float* in_x = a.in + x0;
    const float* w = a.w;
    for (int32_t ic = 0; ic < a.cin; ++ic) {
        const float* in_c = in_x + ic * a.in_cs;
        for (int32_t t = 0; t < a.ntaps; ++t, w += kOcb) {
            accumulate<NOC, NV>(acc, in_c + a.taps[t], w, last_mask);
        }
    }
    store_sums<NOC, NV>(acc, a, x0, last_mask, true);
}

// Tiles of kMaxNv vectors along the row, then the tail (masked last vector). A one-vector
// tail after a full tile (24 + 8 pixels, say) runs as two 2-vector tiles over the last full tile
// and the tail instead: a 1-vector tile issues one FMA per broadcast. Per element the sums are
// the same whatever tile computes them.
template <typename Tile>
void along_row(const ConvRowArgs& a, const Tile& tile) {
    const __m256i full = _mm256_set1_epi32(-1);
    int32_t end = a.width / (8 * kMaxNv) * (8 * kMaxNv);
    if (end > 0 && a.width - end > 0 && a.width - end <= 8) end -= 8 * kMaxNv;
    int32_t x0 = 0;
    for (; x0 < end; x0 += 8 * kMaxNv) {
        tile(std::integral_constant<int, kMaxNv>(), x0, full);
    }
    if (a.width - x0 > 8 * kMaxNv) {  // the split tail: two full vectors first
        tile(std::integral_constant<int, 2>(), x0, full);
        x0 += 2 * 8;
    }
    const int32_t rem = a.width - x0;
    if (rem <= 0) return;
    const __m256i mask = lucent_mask8(rem - 8 * ((rem - 1) / 8));
    switch ((rem + 7) / 8) {
        case 1:
            tile(std::integral_constant<int, 1>(), x0, mask);
            break;
        case 2:
            tile(std::integral_constant<int, 2>(), x0, mask);
            break;
        default:
            tile(std::integral_constant<int, 3>(), x0, mask);
            break;
    }
}

template <int NOC>
void conv_row_noc(const ConvRowArgs& a) {
    if (a.ntaps == 1) {
        // Channels outermost: each pass runs the whole row over kOneTapChannels channels.
        for (int32_t ic0 = 0; ic0 < a.cin || ic0 == 0; ic0 += kOneTapChannels) {
            const int32_t nc = a.cin - ic0 < kOneTapChannels ? a.cin - ic0 : kOneTapChannels;
            along_row(a, [&](auto nv, int32_t x0, __m256i mask) {
                one_tap_tile<NOC, decltype(nv)::value>(a, x0, mask, ic0, nc);
            });
        }
        return;
    }
    along_row(a, [&](auto nv, int32_t x0, __m256i mask) {
        conv_tile<NOC, decltype(nv)::value>(a, x0, mask);
    });
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
