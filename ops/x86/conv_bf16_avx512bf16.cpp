// The bf16 tier on CPUs with AVX512-BF16 but no AMX (AMD Zen 4 and later, Intel Cooper Lake):
// the input packing (also used by the AMX path) and the convolution rows with VDPBF16PS.
//
// Register budget (conv_bf16_rows): output channels in lanes, pixels broadcast. A tile is
// 2 zmm of output channels (32, the two 16-channel weight blocks of ops/conv_bf16.h) x NP
// pixels: 2 * NP fp32 accumulators (24 for NP = 12), 2 weight vectors and the broadcast, 27 of
// 32 zmm. Per (tap, K block, channel pair): 2 weight loads (one 64-byte row of each block:
// 16 outputs x the pair) and NP dword broadcasts (the pixel's two channels) feed 2 * NP
// VDPBF16PS. A 32-pixel block runs as tiles of 12, 12 and 8 pixels into [pixel][channel] sums,
// then the AMX path's epilogue (ops/x86/bf16_avx512.h) stores it.
// Sum order per output: taps in order, K blocks in order, channel pairs in order, the two
// products of a pair as VDPBF16PS adds them (hardware-defined, like TDPBF16PS's; the oracle
// allows for it). Tails: as on AMX, output channels are padded with zero weights and pixels
// with zero columns to 32, the epilogue stores only valid channels and pixels.
#include <immintrin.h>

// GCC 12 reports the undefined pass-through operands of the unmasked shuffle intrinsics
// (_mm512_undefined_ps) once transpose16 is inlined into pack_row_bf16; they are never read.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/kernels_bf16.h"
#include "ops/x86/bf16_avx512.h"

namespace lucent::ops::avx512bf16 {

void pack_row_bf16(const float* src, int64_t cs, int32_t cin, int32_t width, uint16_t* dst,
                   int32_t cp, int32_t wx, int32_t step) {
    const size_t pixel_bytes = static_cast<size_t>(cp) * 2;
    if (src == nullptr) {
        std::memset(dst, 0, pixel_bytes * static_cast<size_t>(wx));
        return;
    }
    std::memset(dst, 0, pixel_bytes);  // column 0: the left padding
    std::memset(dst + static_cast<int64_t>(width + 1) * cp, 0,
                pixel_bytes * static_cast<size_t>(wx - width - 1));
    const int32_t c_end = (cin + 31) / 32 * 32;
    const __m512i pairs = bf16x::pair_index();
    const __m512i evens =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    // 16 pixels of one channel row from pixel x on (every other float when step is 2).
    const auto load16 = [&](const float* row, int32_t x) {
        if (step == 1) return _mm512_maskz_loadu_ps(bf16x::lanes(width - x), row + x);
        const int32_t floats = 2 * (width - x) - 1;  // up to the last pixel wanted
        const __m512 lo = _mm512_maskz_loadu_ps(bf16x::lanes(floats), row + 2 * x);
        const __m512 hi = _mm512_maskz_loadu_ps(bf16x::lanes(floats - 16), row + 2 * x + 16);
        return _mm512_permutex2var_ps(lo, evens, hi);
    };
    __m512 r[16];
    // Channel blocks outside, pixels inside: each block reads 32 channel rows front to back
    // (pixels outside read every channel plane per 16 pixels, 512 streams for RED's fuse, and
    // the loads stalled on misses).
    for (int32_t c0 = 0; c0 < c_end; c0 += 32) {
        for (int32_t x = 0; x < width; x += 16) {
            const int32_t npx = width - x < 16 ? width - x : 16;
            // Per channel pair k: both rows to bf16 in one conversion, then interleaved so that
            // dword p is the pair's two channels at pixel p. Transposing the 16 x 16 dwords
            // then gives, per pixel, channels c0..c0+31 (one tile row): one transpose per 32
            // channels, where transposing floats took two.
            for (int k = 0; k < 16; ++k) {
                const int32_t ca = c0 + 2 * k, cb = ca + 1;
                const __m512 a = ca < cin ? load16(src + ca * cs, x) : _mm512_setzero_ps();
                const __m512 b = cb < cin ? load16(src + cb * cs, x) : _mm512_setzero_ps();
                const __m512i halves = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(b, a));
                r[k] = _mm512_castsi512_ps(_mm512_permutexvar_epi16(pairs, halves));
            }
            bf16x::transpose16(r);  // r[j]: pixel x + j, channels c0..c0+31 (bit moves only)
            uint16_t* d = dst + static_cast<int64_t>(x + 1) * cp + c0;
            for (int32_t j = 0; j < npx; ++j)
                _mm512_storeu_ps(d + static_cast<int64_t>(j) * cp, r[j]);
        }
    }
}

namespace {

// acc[j] += the tap's products for NP pixels from packed pixel `in` on (pixels in_cp uint16
// apart), over `kblocks` K blocks; w0 and w1 the two output blocks' weights of this tap.
template <int NP>
inline void tile_tap(const uint16_t* in, int64_t in_cp, int32_t kblocks, const uint16_t* w0,
                     const uint16_t* w1, __m512 (&acc)[NP][2]) {
    constexpr int64_t w_block = 16 * 32;  // uint16 per weight block (16 pairs x 16 x 2)
    for (int32_t kb = 0; kb < kblocks; ++kb) {
        const uint16_t* src = in + kb * 32;
        const uint16_t* a = w0 + kb * w_block;
        const uint16_t* b = w1 + kb * w_block;
#pragma GCC unroll 2
        for (int p = 0; p < 16; ++p) {
            const __m512bh wa = reinterpret_cast<__m512bh>(_mm512_loadu_si512(a + 32 * p));
            const __m512bh wb = reinterpret_cast<__m512bh>(_mm512_loadu_si512(b + 32 * p));
#pragma GCC unroll 12
            for (int j = 0; j < NP; ++j) {
                int32_t pair;
                std::memcpy(&pair, src + j * in_cp + 2 * p, sizeof(pair));
                const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
                acc[j][0] = _mm512_dpbf16_ps(acc[j][0], wa, x);
                acc[j][1] = _mm512_dpbf16_ps(acc[j][1], wb, x);
            }
        }
    }
}

// Pixels [j0, j0 + NP) of a 32-pixel block over every tap into tmp ([pixel][32 channels]).
template <int NP>
inline void tile_block(const Bf16ConvRowsArgs& a, const uint16_t* const (&taps)[3], int32_t x0,
                       int32_t j0, const uint16_t* wn, int64_t w_tap, int64_t w_n, float* tmp) {
    __m512 acc[NP][2];
    for (int j = 0; j < NP; ++j) acc[j][0] = acc[j][1] = _mm512_setzero_ps();
    for (int32_t t = 0; t < a.ntaps; ++t) {
        const uint16_t* src =
            taps[a.tap_dy[t] + 1] + static_cast<int64_t>(x0 + j0 + a.tap_col[t]) * a.in_cp;
        const uint16_t* wt = wn + t * w_tap;
        tile_tap<NP>(src, a.in_cp, a.kblocks, wt, wt + w_n, acc);
    }
    for (int j = 0; j < NP; ++j) {
        _mm512_store_ps(tmp + (j0 + j) * 32, acc[j][0]);
        _mm512_store_ps(tmp + (j0 + j) * 32 + 16, acc[j][1]);
    }
}

}  // namespace

void conv_bf16_rows(const Bf16ConvRowsArgs& a) {
    const int64_t w_block = 16 * 32;  // uint16 per weight block
    const int64_t w_tap = a.kblocks * w_block, w_n = a.ntaps * w_tap;
    // [pixel][output channel] of one 32 x 32 block. The epilogue transposes whole 16-pixel
    // halves and stores the valid lanes; zeroed once so that it never reads uninitialised
    // floats (past a short row's pixels it reads an earlier block's sums and drops them).
    alignas(64) float tmp[32 * 32];
    std::memset(tmp, 0, sizeof(tmp));
    bf16x::for_each_block(
        a, w_n, tmp,
        [&](const uint16_t* const(&taps)[3], const uint16_t* wn, int32_t x0, float* sums) {
            // The row's pixels, rounded up to 4 (the packed row's zero columns cover the rest of
            // the 32 that AMX computes).
            const int32_t npx = a.width - x0 < 32 ? a.width - x0 : 32;
            int32_t j0 = 0;
            for (; j0 + 12 <= npx; j0 += 12) tile_block<12>(a, taps, x0, j0, wn, w_tap, w_n, sums);
            if (j0 + 8 <= npx) {
                tile_block<8>(a, taps, x0, j0, wn, w_tap, w_n, sums);
                j0 += 8;
            }
            for (; j0 < npx; j0 += 4) tile_block<4>(a, taps, x0, j0, wn, w_tap, w_n, sums);
        });
}

}  // namespace lucent::ops::avx512bf16
