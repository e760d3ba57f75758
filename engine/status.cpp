#include "lucent/status.hpp"

#include <cstdarg>
#include <cstdio>

namespace lucent {

const char* status_code_name(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return "ok";
        case StatusCode::kInvalidArgument:
            return "invalid argument";
        case StatusCode::kIo:
            return "i/o error";
        case StatusCode::kBadWeights:
            return "bad weights";
        case StatusCode::kUnsupported:
            return "unsupported";
        case StatusCode::kOutOfMemory:
            return "out of memory";
        case StatusCode::kInternal:
            return "internal error";
    }
    return "unknown status";
}

std::string Status::to_string() const {
    if (ok()) return "ok";
    return std::string(status_code_name(code_)) + ": " + message_;
}

Status make_status(StatusCode code, const char* fmt, ...) {
    char buf[1024];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    return Status(code, buf);
}

}  // namespace lucent
