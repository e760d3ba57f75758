// Lucent: instruction-set tiers and run-time CPU detection.
//
// One build of liblucent.a runs on any x86-64. Kernels exist per tier; the best tier that
// both the CPU (cpuid) and the OS (XCR0 register state) support is chosen once, and can only
// be lowered, never raised, by the LUCENT_MAX_ISA environment variable or an explicit cap.
#pragma once

#include <cstdint>

namespace lucent {

enum class Isa : int32_t {
    kScalar = 0,  // portable C++, baseline x86-64 (SSE2) code generation
    kAvx2 = 1,    // AVX2 + FMA + F16C
    kAvx512 = 2,  // AVX-512 F/BW/DQ/VL/CD ("Skylake-X" set)
};

// "scalar", "avx2" or "avx512".
const char* isa_name(Isa isa);

// Parses "scalar" | "avx2" | "avx512" (case-sensitive). Returns false on anything else.
bool parse_isa(const char* text, Isa* out);

// Best tier the CPU and OS support, ignoring LUCENT_MAX_ISA. Computed once; thread-safe.
Isa hardware_isa();

// Best tier allowed: min(hardware_isa(), LUCENT_MAX_ISA if set and valid, cap).
// An unparsable LUCENT_MAX_ISA is ignored (the CLI reports it; the library stays silent).
Isa effective_isa(Isa cap = Isa::kAvx512);

}  // namespace lucent
