#include "lucent/lucent.hpp"

namespace lucent {

const char* version() { return LUCENT_VERSION_STRING; }

}  // namespace lucent
