// conv2d_row for AVX-512: register tile of NOC output channels x NV vectors of 16 pixels.
//
// Layout: input rows are contiguous in x (drivers phase-split strided inputs), weights packed
// [cin][ntaps][8]. Per (ic, tap) the tile loads NV input vectors once and broadcasts NOC
// weights, issuing NOC*NV FMAs: with NOC = 8, NV = 3 that is 24 accumulators + 3 inputs +
// 1 broadcast = 28 of 32 zmm registers, 11 loads per 24 FMAs, so the FMA ports bound it.
// Tails: the last vector of a row uses a lane mask for loads and stores; blocks with fewer than
// 8 channels use a smaller NOC instantiation, so nothing is computed for absent channels.
// 1-tap rows (1x1 convolutions, Winograd GEMMs) run in passes of 64 input channels over the
// whole row, keeping partial sums in the output row (see one_tap_tile).
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ops/kernels.h"
#include "ops/x86/simd_avx512.h"

namespace lucent::ops::avx512 {

const int32_t conv2d_oc_block = 8;

namespace {

constexpr int kOcb = 8;
constexpr int kMaxNv = 3;

// acc[o][j] += w[o] * src[j-th vector] for one (channel, tap): NV input loads (the last one
// masked), NOC broadcasts, NOC*NV FMAs. Force-inlined so acc stays in registers.
template <int NOC, int NV>
__attribute__((always_inline)) inline void accumulate(__m512 (&acc)[NOC][NV], const float* src,
                                                      const float* w, __mmask16 last_mask) {
    __m512 v[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV - 1; ++j) v[j] = _mm512_loadu_ps(src + 16 * j);
    v[NV - 1] = _mm512_maskz_loadu_ps(last_mask, src + 16 * (NV - 1));
#pragma GCC unroll 8
    for (int o = 0; o < NOC; ++o) {
        const __m512 wv = _mm512_set1_ps(w[o]);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) acc[o][j] = _mm512_fmadd_ps(v[j], wv, acc[o][j]);
    }
}

// acc = each channel's bias, or (from_out) the partial sums stored in the output row.
template <int NOC, int NV>
__attribute__((always_inline)) inline void start_sums(__m512 (&acc)[NOC][NV], const ConvRowArgs& a,
                                                      int32_t x0, __mmask16 last_mask,
                                                      bool from_out) {
#pragma GCC unroll 8
    for (int o = 0; o < NOC; ++o) {
        const float* dst = a.out + o * a.out_cs + x0;
        const __m512 b = _mm512_set1_ps(a.bias != nullptr ? a.bias[o] : 0.0f);
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) {
            acc[o][j] = from_out
                            ? _mm512_maskz_loadu_ps(j == NV - 1 ? last_mask : 0xFFFF, dst + 16 * j)
                            : b;
        }
    }
}

// The output row = acc, through the activation when `activate` (else partial sums).
template <int NOC, int NV>
__attribute__((always_inline)) inline void store_sums(const __m512 (&acc)[NOC][NV],
                                                      const ConvRowArgs& a, int32_t x0,
                                                      __mmask16 last_mask, bool activate) {
    const __m512 slope = _mm512_set1_ps(a.slope);
#pragma GCC unroll 8
    for (int o = 0; o < NOC; ++o) {
        float* dst = a.out + o * a.out_cs + x0;
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j) {
            __m512 r = acc[o][j];
            if (activate && a.act == kActLeaky) r = lucent_leaky512(r, slope);
            if (j == NV - 1) {
                _mm512_mask_storeu_ps(dst + 16 * j, last_mask, r);
            } else {
                _mm512_storeu_ps(dst + 16 * j, r);
            }
        }
    }
}

// Input channels per pass of a 1-tap row (kOneTapChannels): a tile reads one vector run from
// every channel it covers, each in its own plane; 512 planes per tile (RED's pyramid fuse) cost
// a TLB miss and an L2 round trip per 24 FMAs, 64 stay in the L1 TLB and prefetch as streams.
constexpr int32_t kOneTapChannels = 64;

// 1-tap rows (1x1 convolutions, the Winograd GEMMs) over channels [ic0, ic0 + nc): the sums
// start from the bias (first pass) or from the partial sums stored in out, and leave as partial
// sums or, after the last pass, activated. The sum order per element is the same as one pass.
template <int NOC, int NV>
inline void one_tap_tile(const ConvRowArgs& a, int32_t x0, __mmask16 last_mask, int32_t ic0,
                         int32_t nc) {
    __m512 acc[NOC][NV];
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
inline void conv_tile(const ConvRowArgs& a, int32_t x0, __mmask16 last_mask) {
    __m512 acc[NOC][NV];
    start_sums<NOC, NV>(acc, a, x0, last_mask, a.accumulate != 0);
    const float* in_x = a.in + x0;
    const float* w = a.w;
    for (int32_t ic = 0; ic < a.cin; ++ic) {
        const float* in_c = in_x + ic * a.in_cs;
        // Prefetch the next channel's rows (one per kernel row) so L2 latency overlaps the FMAs.
        const float* next = in_c + a.in_cs;
        for (int32_t t = 0; t < a.ntaps; t += a.prefetch_step) {
#pragma GCC unroll 4
            for (int j = 0; j <= NV; ++j) {
                _mm_prefetch(reinterpret_cast<const char*>(next + a.taps[t] + 16 * j), _MM_HINT_T0);
            }
        }
        for (int32_t t = 0; t < a.ntaps; ++t, w += kOcb) {
            accumulate<NOC, NV>(acc, in_c + a.taps[t], w, last_mask);
        }
    }
    store_sums<NOC, NV>(acc, a, x0, last_mask, true);
}

// Tiles of kMaxNv vectors along the row, then the tail (masked last vector). A one-vector
// tail after a full tile (48 + 16 pixels, say) runs as two 2-vector tiles over the last full tile
// and the tail instead: a 1-vector tile issues one FMA per broadcast. Per element the sums are
// the same whatever tile computes them.
template <typename Tile>
void along_row(const ConvRowArgs& a, const Tile& tile) {
    int32_t end = a.width / (16 * kMaxNv) * (16 * kMaxNv);
    if (end > 0 && a.width - end > 0 && a.width - end <= 16) end -= 16 * kMaxNv;
    int32_t x0 = 0;
    for (; x0 < end; x0 += 16 * kMaxNv) {
        tile(std::integral_constant<int, kMaxNv>(), x0, static_cast<__mmask16>(0xFFFF));
    }
    if (a.width - x0 > 16 * kMaxNv) {  // the split tail: two full vectors first
        tile(std::integral_constant<int, 2>(), x0, static_cast<__mmask16>(0xFFFF));
        x0 += 2 * 16;
    }
    const int32_t rem = a.width - x0;
    if (rem <= 0) return;
    const __mmask16 mask = lucent_mask16(rem - 16 * ((rem - 1) / 16));
    switch ((rem + 15) / 16) {
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
            along_row(a, [&](auto nv, int32_t x0, __mmask16 mask) {
                one_tap_tile<NOC, decltype(nv)::value>(a, x0, mask, ic0, nc);
            });
        }
        return;
    }
    along_row(a, [&](auto nv, int32_t x0, __mmask16 mask) {
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
        case 4:
            conv_row_noc<4>(a);
            break;
        case 5:
            conv_row_noc<5>(a);
            break;
        case 6:
            conv_row_noc<6>(a);
            break;
        case 7:
            conv_row_noc<7>(a);
            break;
        default:
            conv_row_noc<8>(a);
            break;
    }
}

}  // namespace lucent::ops::avx512
