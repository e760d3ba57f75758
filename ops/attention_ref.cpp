#include <cmath>
#include <limits>
#include <vector>

#include "ops/ref.h"

namespace lucent::ops::ref {

void channel_attention(ConstTensorView in, int64_t hidden, const float* fc1_w, const float* fc1_b,
                       const float* fc2_w, const float* fc2_b, ChannelPooling pooling,
                       TensorView out) {
    const Shape& s = in.shape;
    const int64_t plane = s.plane();
    auto mlp = [&](const std::vector<double>& v, std::vector<double>* acc) {
        std::vector<double> h(static_cast<size_t>(hidden));
        for (int64_t j = 0; j < hidden; ++j) {
            double t = fc1_b[j];
            for (int64_t i = 0; i < s.c; ++i) t += fc1_w[j * s.c + i] * v[static_cast<size_t>(i)];
            h[static_cast<size_t>(j)] = t > 0 ? t : 0;
        }
        for (int64_t o = 0; o < s.c; ++o) {
            double t = fc2_b[o];
            for (int64_t j = 0; j < hidden; ++j)
                t += fc2_w[o * hidden + j] * h[static_cast<size_t>(j)];
            (*acc)[static_cast<size_t>(o)] += t;
        }
    };
    for (int64_t n = 0; n < s.n; ++n) {
        std::vector<double> avg(static_cast<size_t>(s.c)), mx(static_cast<size_t>(s.c));
        for (int64_t c = 0; c < s.c; ++c) {
            double sum = 0, m = -std::numeric_limits<double>::infinity();
            for (int64_t p = 0; p < plane; ++p) {
                const double v = in.data[(n * s.c + c) * plane + p];
                sum += v;
                m = v > m ? v : m;
            }
            avg[static_cast<size_t>(c)] = sum / static_cast<double>(plane);
            mx[static_cast<size_t>(c)] = m;
        }
        std::vector<double> logit(static_cast<size_t>(s.c), 0.0);
        mlp(avg, &logit);
        if (pooling == ChannelPooling::kAvgPlusMax) mlp(mx, &logit);
        for (int64_t c = 0; c < s.c; ++c) {
            const double g = 1.0 / (1.0 + std::exp(-logit[static_cast<size_t>(c)]));
            for (int64_t p = 0; p < plane; ++p) {
                const int64_t i = (n * s.c + c) * plane + p;
                out.data[i] = static_cast<float>(in.data[i] * g);
            }
        }
    }
}

void spatial_attention(ConstTensorView in, int64_t kernel, const float* weight, const float* bias,
                       TensorView out) {
    const Shape& s = in.shape;
    const int64_t plane = s.plane(), pad = kernel / 2;
    for (int64_t n = 0; n < s.n; ++n) {
        std::vector<double> mean(static_cast<size_t>(plane), 0.0);
        std::vector<double> mx(static_cast<size_t>(plane),
                               -std::numeric_limits<double>::infinity());
        for (int64_t c = 0; c < s.c; ++c)
            for (int64_t p = 0; p < plane; ++p) {
                const double v = in.data[(n * s.c + c) * plane + p];
                mean[static_cast<size_t>(p)] += v / static_cast<double>(s.c);
                mx[static_cast<size_t>(p)] =
                    v > mx[static_cast<size_t>(p)] ? v : mx[static_cast<size_t>(p)];
            }
        for (int64_t y = 0; y < s.h; ++y) {
            for (int64_t x = 0; x < s.w; ++x) {
                double acc = bias != nullptr ? bias[0] : 0.0;
                for (int64_t ky = 0; ky < kernel; ++ky)
                    for (int64_t kx = 0; kx < kernel; ++kx) {
                        const int64_t iy = y - pad + ky, ix = x - pad + kx;
                        if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                        const size_t p = static_cast<size_t>(iy * s.w + ix);
                        acc += weight[ky * kernel + kx] * mean[p] +
                               weight[kernel * kernel + ky * kernel + kx] * mx[p];
                    }
                const double g = 1.0 / (1.0 + std::exp(-acc));
                for (int64_t c = 0; c < s.c; ++c) {
                    const int64_t i = (n * s.c + c) * plane + y * s.w + x;
                    out.data[i] = static_cast<float>(in.data[i] * g);
                }
            }
        }
    }
}

}  // namespace lucent::ops::ref
