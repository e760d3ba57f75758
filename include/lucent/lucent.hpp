// Lucent: CPU inference engine for image super-resolution (SSR) and enhancement (RED).
//
// This is the public C++ entry header of liblucent.a (the C API is lucent/lucent.h).
// Everything it declares is thread-safe unless stated. Link with the C++ runtime and the
// system's threads library: find_package(Lucent CONFIG) and Lucent::lucent, or
// `pkg-config --static --libs lucent`, carry both.
#pragma once

#include "lucent/image.hpp"   // IWYU pragma: export
#include "lucent/isa.hpp"     // IWYU pragma: export
#include "lucent/model.hpp"   // IWYU pragma: export
#include "lucent/status.hpp"  // IWYU pragma: export
#include "lucent/version.h"   // IWYU pragma: export

namespace lucent {

// Version of the library linked in, "MAJOR.MINOR.PATCH" (LUCENT_VERSION_STRING is the
// headers' version).
const char* version();

}  // namespace lucent
