#include <cmath>

#include "ops/ref.h"

namespace lucent::ops::ref {

void upsample_nearest(ConstTensorView in, int64_t r, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    for (int64_t nc = 0; nc < os.n * os.c; ++nc) {
        for (int64_t y = 0; y < os.h; ++y) {
            for (int64_t x = 0; x < os.w; ++x) {
                out.data[(nc * os.h + y) * os.w + x] = in.data[(nc * is.h + y / r) * is.w + x / r];
            }
        }
    }
}

namespace {
// Source coordinate of output index dst for align_corners=False, in double.
void linear_source(int64_t dst, int64_t in_len, int64_t out_len, int64_t* i0, int64_t* i1,
                   double* l1) {
    double src = (static_cast<double>(dst) + 0.5) * static_cast<double>(in_len) /
                     static_cast<double>(out_len) -
                 0.5;
    if (src < 0.0) src = 0.0;
    *i0 = static_cast<int64_t>(std::floor(src));
    if (*i0 > in_len - 1) *i0 = in_len - 1;
    *i1 = *i0 < in_len - 1 ? *i0 + 1 : *i0;
    *l1 = src - static_cast<double>(*i0);
}
}  // namespace

void upsample_bilinear(ConstTensorView in, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    for (int64_t nc = 0; nc < os.n * os.c; ++nc) {
        const float* plane = in.data + nc * is.plane();
        for (int64_t y = 0; y < os.h; ++y) {
            int64_t y0, y1;
            double ly;
            linear_source(y, is.h, os.h, &y0, &y1, &ly);
            for (int64_t x = 0; x < os.w; ++x) {
                int64_t x0, x1;
                double lx;
                linear_source(x, is.w, os.w, &x0, &x1, &lx);
                const double top = (1 - lx) * plane[y0 * is.w + x0] + lx * plane[y0 * is.w + x1];
                const double bot = (1 - lx) * plane[y1 * is.w + x0] + lx * plane[y1 * is.w + x1];
                out.data[(nc * os.h + y) * os.w + x] =
                    static_cast<float>((1 - ly) * top + ly * bot);
            }
        }
    }
}

}  // namespace lucent::ops::ref
