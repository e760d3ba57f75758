#include "ops/ref.h"

namespace lucent::ops::ref {

void pixel_shuffle(ConstTensorView in, int64_t r, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    for (int64_t n = 0; n < os.n; ++n)
        for (int64_t c = 0; c < os.c; ++c)
            for (int64_t h = 0; h < is.h; ++h)
                for (int64_t i = 0; i < r; ++i)
                    for (int64_t w = 0; w < is.w; ++w)
                        for (int64_t j = 0; j < r; ++j)
                            out.data[((n * os.c + c) * os.h + h * r + i) * os.w + w * r + j] =
                                in.data[((n * is.c + c * r * r + i * r + j) * is.h + h) * is.w + w];
}

void pixel_unshuffle(ConstTensorView in, int64_t r, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    for (int64_t n = 0; n < is.n; ++n)
        for (int64_t c = 0; c < is.c; ++c)
            for (int64_t h = 0; h < os.h; ++h)
                for (int64_t i = 0; i < r; ++i)
                    for (int64_t w = 0; w < os.w; ++w)
                        for (int64_t j = 0; j < r; ++j)
                            out.data[((n * os.c + c * r * r + i * r + j) * os.h + h) * os.w + w] =
                                in.data[((n * is.c + c) * is.h + h * r + i) * is.w + w * r + j];
}

}  // namespace lucent::ops::ref
