#include "ops/activation.h"

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

namespace {
// Elements per parallel item: large enough to amortise the call, small enough to balance.
constexpr int64_t kChunk = 16384;
}  // namespace

Status activation(const Context& ctx, ConstTensorView in, TensorView out, Activation act,
                  float slope) {
    LUCENT_RETURN_IF_ERROR(check_tensor("activation", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("activation", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(check_shape("activation", "output", out.shape, in.shape));
    int32_t code = kActNone;
    switch (act) {
        case Activation::kNone:
            code = kActNone;
            break;
        case Activation::kRelu:
            code = kActLeaky;
            slope = 0.0f;
            break;
        case Activation::kLeakyRelu:
            code = kActLeaky;
            break;
        case Activation::kSigmoid:
            code = kActSigmoid;
            break;
        default:
            return make_status(StatusCode::kInvalidArgument, "activation: unknown activation %d",
                               static_cast<int>(act));
    }
    const int64_t n = in.shape.numel();
    const KernelTable& k = *ctx.k;
    parallel_for((n + kChunk - 1) / kChunk, ctx.num_threads, [&](int64_t i) {
        const int64_t begin = i * kChunk;
        const int64_t len = n - begin < kChunk ? n - begin : kChunk;
        k.activation(in.data + begin, out.data + begin, len, code, slope);
    });
    return Status();
}

}  // namespace lucent::ops
