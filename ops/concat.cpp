#include "ops/concat.h"

#include <cstring>
#include <vector>

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

Status concat_output_shape(const ConstTensorView* inputs, int64_t count, Shape* out) {
    LUCENT_RETURN_IF_ERROR(check_param("concat", "input count", count, 1, 1 << 16));
    if (inputs == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "concat: inputs pointer is null");
    }
    Shape s = inputs[0].shape;
    s.c = 0;
    for (int64_t i = 0; i < count; ++i) {
        const Shape& is = inputs[i].shape;
        LUCENT_RETURN_IF_ERROR(check_tensor("concat", "input", inputs[i].data, is));
        if (is.n != s.n || is.h != s.h || is.w != s.w) {
            return make_status(StatusCode::kInvalidArgument,
                               "concat: input %lld is %s but input 0 is %s; N, H and W must match",
                               static_cast<long long>(i), is.str().c_str(),
                               inputs[0].shape.str().c_str());
        }
        s.c += is.c;
    }
    *out = s;
    int64_t numel;
    return checked_numel(s, "concat output", &numel);
}

Status concat_channels(const Context& ctx, const ConstTensorView* inputs, int64_t count,
                       TensorView out) {
    Shape os;
    LUCENT_RETURN_IF_ERROR(concat_output_shape(inputs, count, &os));
    LUCENT_RETURN_IF_ERROR(check_tensor("concat", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(check_shape("concat", "output", out.shape, os));
    // (input, channel) of every output channel, so one parallel loop copies all planes.
    std::vector<int64_t> src_input(static_cast<size_t>(os.c)),
        src_channel(static_cast<size_t>(os.c));
    for (int64_t i = 0, c = 0; i < count; ++i) {
        for (int64_t k = 0; k < inputs[i].shape.c; ++k, ++c) {
            src_input[static_cast<size_t>(c)] = i;
            src_channel[static_cast<size_t>(c)] = k;
        }
    }
    const int64_t plane = os.plane();
    parallel_for(os.n * os.c, ctx.num_threads, [&](int64_t nc) {
        const int64_t n = nc / os.c, c = nc % os.c;
        const ConstTensorView& src = inputs[src_input[static_cast<size_t>(c)]];
        std::memcpy(out.data + nc * plane,
                    src.data + (n * src.shape.c + src_channel[static_cast<size_t>(c)]) * plane,
                    static_cast<size_t>(plane) * sizeof(float));
    });
    return Status();
}

}  // namespace lucent::ops
