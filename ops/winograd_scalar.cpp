// Winograd F(2x2, 3x3) transforms, portable tier: the same arithmetic, in the same order, as
// the AVX2 and AVX-512 kernels, one tile at a time.
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void winograd_input(const float* in, int64_t row_stride, int32_t tiles, float* v, int64_t v_xs) {
    for (int32_t t = 0; t < tiles; ++t) {
        float h[4][4];
        for (int i = 0; i < 4; ++i) {
            const float* d = in + i * row_stride + 2 * t;
            h[i][0] = d[0] - d[2];
            h[i][1] = d[1] + d[2];
            h[i][2] = d[2] - d[1];
            h[i][3] = d[1] - d[3];
        }
        for (int j = 0; j < 4; ++j) {
            v[(0 + j) * v_xs + t] = h[0][j] - h[2][j];
            v[(4 + j) * v_xs + t] = h[1][j] + h[2][j];
            v[(8 + j) * v_xs + t] = h[2][j] - h[1][j];
            v[(12 + j) * v_xs + t] = h[1][j] - h[3][j];
        }
    }
}

void winograd_output(const WinogradOutputArgs& a) {
    for (int32_t t = 0; t < a.tiles; ++t) {
        float s[4][2];
        for (int i = 0; i < 4; ++i) {
            const float* mi = a.m + 4 * i * a.m_xs + t;
            s[i][0] = (mi[0] + mi[a.m_xs]) + mi[2 * a.m_xs];
            s[i][1] = (mi[a.m_xs] - mi[2 * a.m_xs]) - mi[3 * a.m_xs];
        }
        float* rows[2] = {a.out0, a.out1};
        for (int r = 0; r < 2; ++r) {
            if (rows[r] == nullptr) continue;
            for (int j = 0; j < 2; ++j) {
                const int64_t x = 2 * static_cast<int64_t>(t) + j;
                if (x >= a.out_w) continue;
                float y = r == 0 ? (s[0][j] + s[1][j]) + s[2][j] : (s[1][j] - s[2][j]) - s[3][j];
                y = y + a.bias;
                rows[r][x] = (a.act == kActLeaky && y < 0.0f) ? y * a.slope : y;
            }
        }
    }
}

}  // namespace lucent::ops::scalar
