// conv2d_row, portable tier: accumulates a 4-channel x 64-pixel tile in a local array so the
// compiler can vectorise the innermost loop with baseline SSE2. Plain mul + add (no FMA).
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

const int32_t conv2d_oc_block = 4;

namespace {
constexpr int kOcb = 4;
constexpr int32_t kChunk = 64;
}  // namespace

void conv2d_row(const ConvRowArgs& a) {
    for (int32_t x0 = 0; x0 < a.width; x0 += kChunk) {
        const int32_t n = a.width - x0 < kChunk ? a.width - x0 : kChunk;
        float acc[kOcb][kChunk];
        for (int32_t o = 0; o < a.noc; ++o) {
            const float* prev = a.out + o * a.out_cs + x0;
            const float b = a.bias != nullptr ? a.bias[o] : 0.0f;
            for (int32_t x = 0; x < n; ++x) acc[o][x] = a.accumulate ? prev[x] : b;
        }
        const float* w = a.w;
        for (int32_t ic = 0; ic < a.cin; ++ic) {
            const float* in_c = a.in + ic * a.in_cs + x0;
            for (int32_t t = 0; t < a.ntaps; ++t, w += kOcb) {
                const float* src = in_c + a.taps[t];
                for (int32_t o = 0; o < a.noc; ++o) {
                    const float wo = w[o];
                    for (int32_t x = 0; x < n; ++x) acc[o][x] += wo * src[x];
                }
            }
        }
        for (int32_t o = 0; o < a.noc; ++o) {
            float* dst = a.out + o * a.out_cs + x0;
            for (int32_t x = 0; x < n; ++x) {
                const float v = acc[o][x];
                dst[x] = (a.act == kActLeaky && v < 0.0f) ? v * a.slope : v;
            }
        }
    }
}

}  // namespace lucent::ops::scalar
