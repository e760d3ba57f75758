// AMX (Advanced Matrix Extensions) readiness for the bf16 tier: the CPU has AMX-TILE and
// AMX-BF16, the OS saves the tile state (XCR0 bits 17-18), and Linux granted this process the
// tile data permission (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); a tile instruction
// before that faults). Checked and requested once, thread-safe; false on any refusal.
// Also which kernels the bf16 tier uses (bf16_kernel()).
#pragma once

namespace lucent {

bool amx_ready();

// The kernels the bf16 tier runs on (ops/kernels_bf16.h): AMX tiles where amx_ready(), else
// AVX512-BF16's VDPBF16PS where the CPU has it with the avx512 tier (AMD Zen 4 and later, Intel
// Cooper Lake), else none. LUCENT_BF16_KERNEL=avx512bf16 picks VDPBF16PS on an AMX machine too
// (tests and comparisons); any other value is ignored. Decided once.
enum class Bf16Kernel : int { kNone = 0, kAvx512Bf16 = 1, kAmx = 2 };
Bf16Kernel bf16_kernel();
const char* bf16_kernel_name(Bf16Kernel k);

}  // namespace lucent
