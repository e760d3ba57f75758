// Winograd F(4x4, 3x3) transforms, portable tier: ops/winograd_f43.h's transforms on floats,
// one tile at a time (the AVX2 and AVX-512 tiers run the same code on 8 or 16 tiles).
#include <cstdint>

#include "ops/kernels.h"
#include "ops/winograd_f43.h"

namespace lucent::ops::scalar {

void winograd_input(const WinogradInputArgs& a) {
    for (int32_t t = 0; t < a.tiles; ++t) {
        float d[6][6];
        for (int i = 0; i < 6; ++i) {
            for (int j = 0; j < 6; ++j) {
                const int64_t x = a.x0 + 4 * static_cast<int64_t>(t) + j;
                d[i][j] = a.rows[i] != nullptr && x >= 0 && x < a.width ? a.rows[i][x] : 0.0f;
            }
        }
        float x[36];
        winograd43::input_2d(d, x);
        for (int xi = 0; xi < 36; ++xi) a.v[xi * a.v_xs + t] = x[xi];
    }
}

void winograd_output(const WinogradOutputArgs& a) {
    for (int32_t t = 0; t < a.tiles; ++t) {
        float m[36];
        for (int xi = 0; xi < 36; ++xi) m[xi] = a.m[xi * a.m_xs + t];
        float y[4][4];
        winograd43::output_2d(m, y);
        for (int r = 0; r < 4; ++r) {
            if (a.out[r] == nullptr) continue;
            for (int c = 0; c < 4; ++c) {
                const int64_t x = 4 * static_cast<int64_t>(t) + c;
                if (x >= a.out_w) continue;
                const float u = y[r][c] + a.bias;
                a.out[r][x] = (a.act == kActLeaky && u < 0.0f) ? u * a.slope : u;
            }
        }
    }
}

}  // namespace lucent::ops::scalar
