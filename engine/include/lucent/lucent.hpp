// Lucent: CPU inference engine for image super-resolution (SSR) and enhancement (RED).
//
// This is the public entry header of liblucent.a. Everything it declares is thread-safe
// unless stated. Link with the C++ runtime and, when built with LUCENT_OPENMP, OpenMP.
#pragma once

#include "lucent/isa.hpp"     // IWYU pragma: export
#include "lucent/model.hpp"   // IWYU pragma: export
#include "lucent/status.hpp"  // IWYU pragma: export

namespace lucent {

// Library version, "MAJOR.MINOR.PATCH".
const char* version();

}  // namespace lucent
