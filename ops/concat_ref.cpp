#include "ops/ref.h"

namespace lucent::ops::ref {

void concat_channels(const ConstTensorView* inputs, int64_t count, TensorView out) {
    const Shape& os = out.shape;
    for (int64_t n = 0; n < os.n; ++n) {
        int64_t c0 = 0;
        for (int64_t i = 0; i < count; ++i) {
            const ConstTensorView& t = inputs[i];
            for (int64_t c = 0; c < t.shape.c; ++c)
                for (int64_t p = 0; p < os.plane(); ++p)
                    out.data[(n * os.c + c0 + c) * os.plane() + p] =
                        t.data[(n * t.shape.c + c) * os.plane() + p];
            c0 += t.shape.c;
        }
    }
}

}  // namespace lucent::ops::ref
