// channel_mean_max, portable tier.
#include <cstdint>

#include "ops/kernels.h"

namespace lucent::ops::scalar {

void channel_mean_max(const float* in, int64_t c, int64_t cs, int64_t n, float* mean, float* max) {
    const float inv_c = 1.0f / static_cast<float>(c);
    for (int64_t p = 0; p < n; ++p) {
        mean[p] = in[p];
        max[p] = in[p];
    }
    for (int64_t k = 1; k < c; ++k) {
        const float* row = in + k * cs;
        for (int64_t p = 0; p < n; ++p) {
            mean[p] += row[p];
            if (!(row[p] <= max[p])) max[p] = row[p];
        }
    }
    for (int64_t p = 0; p < n; ++p) mean[p] *= inv_c;
}

}  // namespace lucent::ops::scalar
