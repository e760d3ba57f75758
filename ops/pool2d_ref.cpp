#include <limits>

#include "ops/ref.h"

namespace lucent::ops::ref {

void pool2d(const Pool2dParams& p, ConstTensorView in, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    const bool is_max = p.kind == PoolKind::kMax;
    for (int64_t nc = 0; nc < os.n * os.c; ++nc) {
        for (int64_t y = 0; y < os.h; ++y) {
            for (int64_t x = 0; x < os.w; ++x) {
                double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
                for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
                    for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
                        const int64_t iy = y * p.stride_h - p.pad_h + ky;
                        const int64_t ix = x * p.stride_w - p.pad_w + kx;
                        const bool inside = iy >= 0 && iy < is.h && ix >= 0 && ix < is.w;
                        if (!inside) continue;  // -inf for max, 0 (still counted) for average
                        const double v = in.data[(nc * is.h + iy) * is.w + ix];
                        if (is_max) {
                            acc = v > acc ? v : acc;
                        } else {
                            acc += v;
                        }
                    }
                }
                if (!is_max) acc /= static_cast<double>(p.kernel_h * p.kernel_w);
                out.data[(nc * os.h + y) * os.w + x] = static_cast<float>(acc);
            }
        }
    }
}

void adaptive_pool2d(PoolKind kind, ConstTensorView in, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    for (int64_t nc = 0; nc < os.n * os.c; ++nc) {
        for (int64_t oy = 0; oy < os.h; ++oy) {
            const int64_t y0 = (oy * is.h) / os.h, y1 = ((oy + 1) * is.h + os.h - 1) / os.h;
            for (int64_t ox = 0; ox < os.w; ++ox) {
                const int64_t x0 = (ox * is.w) / os.w, x1 = ((ox + 1) * is.w + os.w - 1) / os.w;
                double sum = 0.0, mx = -std::numeric_limits<double>::infinity();
                for (int64_t y = y0; y < y1; ++y) {
                    for (int64_t x = x0; x < x1; ++x) {
                        const double v = in.data[(nc * is.h + y) * is.w + x];
                        sum += v;
                        mx = v > mx ? v : mx;
                    }
                }
                const double avg = sum / static_cast<double>((y1 - y0) * (x1 - x0));
                out.data[(nc * os.h + oy) * os.w + ox] =
                    static_cast<float>(kind == PoolKind::kMax ? mx : avg);
            }
        }
    }
}

}  // namespace lucent::ops::ref
