// rect_sum_max / pool_row, portable tier.
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void rect_sum_max(const float* in, int64_t row_stride, int64_t h, int64_t w, float* sum,
                  float* max) {
    float s = 0.0f, m = in[0];
    for (int64_t y = 0; y < h; ++y) {
        const float* row = in + y * row_stride;
        for (int64_t x = 0; x < w; ++x) {
            s += row[x];
            // NaN propagates, as in PyTorch's max pooling.
            if (!(row[x] <= m)) m = row[x];
        }
    }
    *sum = s;
    *max = m;
}

void pool_row(const PoolRowArgs& a) {
    for (int32_t x = 0; x < a.width; ++x) {
        const float* win = a.in + static_cast<int64_t>(x) * a.stride;
        float acc = a.is_max ? win[0] : 0.0f;
        for (int32_t ky = 0; ky < a.kh; ++ky) {
            for (int32_t kx = 0; kx < a.kw; ++kx) {
                const float v = win[ky * a.row_stride + kx];
                if (a.is_max) {
                    if (!(v <= acc)) acc = v;
                } else {
                    acc += v;
                }
            }
        }
        a.out[x] = a.is_max ? acc : acc * a.inv_area;
    }
}

}  // namespace lucent::ops::scalar
