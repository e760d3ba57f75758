#include "lucent/lucent.hpp"

namespace lucent {

const char* version() { return "0.1.0"; }

}  // namespace lucent
