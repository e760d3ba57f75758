// libFuzzer target: the .npy reader (header parser, shape and size checks).
#include <cstddef>
#include <cstdint>

#include "cli/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)lucent::parse_npy(data, size, "fuzz input");
    return 0;
}
