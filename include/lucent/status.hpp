// Lucent: error reporting. Every fallible library call returns a Status (or a Result<T>) whose
// message is one sentence naming the offending value and the rule it broke. The library never
// throws its own exceptions and never aborts on bad input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace lucent {

// Stable numeric codes; the C API mirrors them as LUCENT_STATUS_*.
enum class StatusCode : int32_t {
    kOk = 0,
    kInvalidArgument = 1,  // a shape, size, option or argument breaks a documented rule
    kIo = 2,               // a file could not be opened, read or written
    kBadWeights = 3,       // a weight file is corrupt, truncated or does not fit the graph
    kUnsupported = 4,      // valid input that this build or CPU cannot handle
    kOutOfMemory = 5,      // an allocation failed or would exceed a size limit
    kInternal = 6,         // a bug in Lucent; please report it
};

// Name of a code, e.g. "invalid argument". Never null.
const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
  public:
    Status() = default;  // OK
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

    bool ok() const { return code_ == StatusCode::kOk; }
    StatusCode code() const { return code_; }
    // The sentence describing the error; empty when ok().
    const std::string& message() const { return message_; }
    // "<code name>: <message>", or "ok".
    std::string to_string() const;

  private:
    StatusCode code_ = StatusCode::kOk;
    std::string message_;
};

// Builds a Status with a printf-style message.
Status make_status(StatusCode code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
    Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
        if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result built from OK status");
    }
    bool ok() const { return status_.ok(); }
    const Status& status() const { return status_; }
    T& value() & { return *value_; }
    const T& value() const& { return *value_; }
    T&& value() && { return std::move(*value_); }

  private:
    Status status_;
    std::optional<T> value_;
};

}  // namespace lucent

// The one way errors travel inside Lucent (and a convenience for C++ callers):
//   LUCENT_RETURN_IF_ERROR(status_expr);            returns the Status when it is not OK
//   LUCENT_ASSIGN_OR_RETURN(T x, result_expr);      declares / assigns x from a Result<T>,
//                                                   or returns its Status
#define LUCENT_RETURN_IF_ERROR(expr)                             \
    do {                                                         \
        ::lucent::Status lucent_status_tmp_ = (expr);            \
        if (!lucent_status_tmp_.ok()) return lucent_status_tmp_; \
    } while (0)

#define LUCENT_STATUS_CONCAT_INNER_(a, b) a##b
#define LUCENT_STATUS_CONCAT_(a, b) LUCENT_STATUS_CONCAT_INNER_(a, b)
#define LUCENT_ASSIGN_OR_RETURN(lhs, expr) \
    LUCENT_ASSIGN_OR_RETURN_IMPL_(LUCENT_STATUS_CONCAT_(lucent_result_, __LINE__), lhs, expr)
#define LUCENT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
    auto tmp = (expr);                                \
    if (!tmp.ok()) return tmp.status();               \
    lhs = std::move(tmp).value()
