#include "ops/ref.h"

namespace lucent::ops::ref {

namespace {
// Written out separately from mirror_index() so the oracle does not share the op's code.
int64_t reflect(int64_t i, int64_t len) {
    while (i < 0 || i >= len) {
        if (len == 1) return 0;
        i = i < 0 ? -i : 2 * (len - 1) - i;
    }
    return i;
}
}  // namespace

void reflect_pad(ConstTensorView in, const Padding& pad, TensorView out) {
    const Shape& is = in.shape;
    const Shape& os = out.shape;
    for (int64_t nc = 0; nc < os.n * os.c; ++nc)
        for (int64_t y = 0; y < os.h; ++y)
            for (int64_t x = 0; x < os.w; ++x)
                out.data[(nc * os.h + y) * os.w + x] =
                    in.data[(nc * is.h + reflect(y - pad.top, is.h)) * is.w +
                            reflect(x - pad.left, is.w)];
}

}  // namespace lucent::ops::ref
