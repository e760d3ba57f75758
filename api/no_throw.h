// The public API's exception barrier: std::bad_alloc (and anything else a standard library
// call may throw) becomes a Status, so no exception ever leaves liblucent.a.
#pragma once

#include <exception>
#include <new>

#include "lucent/status.hpp"

namespace lucent {

// Calls fn() (returning Status or Result<T>) and turns an escaping exception into a status
// naming `what`.
template <typename Fn>
auto no_throw(const char* what, const Fn& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const std::bad_alloc&) {
        return make_status(StatusCode::kOutOfMemory, "%s: out of memory", what);
    } catch (const std::exception& e) {
        return make_status(StatusCode::kInternal, "%s: unexpected exception: %s", what, e.what());
    } catch (...) {
        return make_status(StatusCode::kInternal, "%s: unexpected exception", what);
    }
}

}  // namespace lucent
