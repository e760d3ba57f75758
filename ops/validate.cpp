#include "ops/validate.h"

#include <string>

namespace lucent::ops {

Status check_tensor(const char* op, const char* name, const float* data, const Shape& s) {
    int64_t numel;
    const std::string what = std::string(op) + " " + name;
    LUCENT_RETURN_IF_ERROR(checked_numel(s, what.c_str(), &numel));
    if (data == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "%s data pointer is null", what.c_str());
    }
    return Status();
}

Status check_shape(const char* op, const char* name, const Shape& got, const Shape& want) {
    if (got != want) {
        return make_status(StatusCode::kInvalidArgument, "%s: %s is %s but must be %s", op, name,
                           got.str().c_str(), want.str().c_str());
    }
    return Status();
}

Status check_param(const char* op, const char* name, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi) {
        return make_status(StatusCode::kInvalidArgument,
                           "%s: %s = %lld is outside the allowed range [%lld, %lld]", op, name,
                           static_cast<long long>(v), static_cast<long long>(lo),
                           static_cast<long long>(hi));
    }
    return Status();
}

Status check_row_window(const char* op, int64_t y0, int64_t y1, int64_t first, int64_t end,
                        ConstRows in) {
    if (first < in.row0 || end > in.end()) {
        return make_status(StatusCode::kInvalidArgument,
                           "%s output rows [%lld, %lld) read input rows [%lld, %lld) but the "
                           "input window holds [%lld, %lld)",
                           op, static_cast<long long>(y0), static_cast<long long>(y1),
                           static_cast<long long>(first), static_cast<long long>(end),
                           static_cast<long long>(in.row0), static_cast<long long>(in.end()));
    }
    return Status();
}

}  // namespace lucent::ops
