// pixel_shuffle_row / pixel_unshuffle_row for AVX2 (pure data movement, exact): r = 2 by
// unpack + lane permutes, other factors by 32-bit index gathers when the channel stride allows.
#include <cstdint>

#include "ops/kernels.h"
#include "ops/x86/simd_avx2.h"

namespace lucent::ops::avx2 {

namespace {
constexpr int64_t kMaxGatherSpan = int64_t{1} << 30;
}

void pixel_shuffle_row(const float* in, int64_t cs, int32_t r, float* out, int32_t out_w) {
    if (r == 2) {
        const float* in1 = in + cs;
        const int32_t in_w = out_w / 2;
        for (int32_t i = 0; i < in_w; i += 8) {
            const __m256i m = lucent_mask8(in_w - i);
            const __m256 a = _mm256_maskload_ps(in + i, m);
            const __m256 b = _mm256_maskload_ps(in1 + i, m);
            // unpack interleaves within 128-bit halves; permute2f128 puts the halves in order.
            const __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
            const __m256 first = _mm256_permute2f128_ps(lo, hi, 0x20);
            const __m256 second = _mm256_permute2f128_ps(lo, hi, 0x31);
            const int32_t rem = out_w - 2 * i;
            _mm256_maskstore_ps(out + 2 * i, lucent_mask8(rem), first);
            if (rem > 8) _mm256_maskstore_ps(out + 2 * i + 8, lucent_mask8(rem - 8), second);
        }
        return;
    }
    if (r > 8 || cs * r > kMaxGatherSpan) {
        for (int32_t x = 0; x < out_w; ++x) out[x] = in[(x % r) * cs + x / r];
        return;
    }
    __m256i idx[8];
    for (int32_t j = 0; j < r; ++j) {
        alignas(32) int32_t t[8];
        for (int32_t l = 0; l < 8; ++l) {
            const int32_t q = 8 * j + l;
            t[l] = static_cast<int32_t>((q % r) * cs + q / r);
        }
        idx[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(t));
    }
    for (int32_t base = 0, col = 0; base < out_w; base += 8 * r, col += 8) {
        for (int32_t j = 0; j < r && base + 8 * j < out_w; ++j) {
            const __m256i m = lucent_mask8(out_w - base - 8 * j);
            const __m256 v = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), in + col, idx[j],
                                                      _mm256_castsi256_ps(m), 4);
            _mm256_maskstore_ps(out + base + 8 * j, m, v);
        }
    }
}

void pixel_unshuffle_row(const float* in, int32_t r, float* out, int32_t out_w) {
    const __m256i vidx =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(r));
    for (int32_t x = 0; x < out_w; x += 8) {
        const __m256i m = lucent_mask8(out_w - x);
        const __m256 v = _mm256_mask_i32gather_ps(
            _mm256_setzero_ps(), in + static_cast<int64_t>(x) * r, vidx, _mm256_castsi256_ps(m), 4);
        _mm256_maskstore_ps(out + x, m, v);
    }
}

}  // namespace lucent::ops::avx2
