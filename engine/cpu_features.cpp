// Run-time ISA detection: cpuid for what the CPU implements, XGETBV(0) for what the OS saves
// on context switch. Both are needed: a CPU with AVX-512 under an OS that does not enable the
// opmask/ZMM state faults on the first AVX-512 instruction. This TU is built for baseline
// x86-64 and executes no AVX code itself.
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "engine/amx.h"
#include "lucent/isa.hpp"

namespace lucent {
namespace {

struct CpuidRegs {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs cpuid(unsigned leaf, unsigned subleaf) {
    CpuidRegs r;
    if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) return CpuidRegs{};
    return r;
}

// XGETBV with ECX=0 reads XCR0. Only valid when CPUID.1:ECX.OSXSAVE is set.
unsigned long long read_xcr0() {
    unsigned eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}

bool bit(unsigned reg, int n) { return ((reg >> n) & 1u) != 0; }

Isa detect() {
    const unsigned max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf < 7) return Isa::kScalar;
    const CpuidRegs l1 = cpuid(1, 0);
    const bool osxsave = bit(l1.ecx, 27), avx = bit(l1.ecx, 28), fma = bit(l1.ecx, 12),
               f16c = bit(l1.ecx, 29);
    if (!osxsave || !avx || !fma || !f16c) return Isa::kScalar;
    const unsigned long long xcr0 = read_xcr0();
    const bool ymm_state = (xcr0 & 0x6) == 0x6;    // XMM (bit 1) and YMM (bit 2)
    const bool zmm_state = (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM (bits 5-7)
    if (!ymm_state) return Isa::kScalar;
    const CpuidRegs l7 = cpuid(7, 0);
    const bool avx2 = bit(l7.ebx, 5);
    if (!avx2) return Isa::kScalar;
    const bool avx512 = bit(l7.ebx, 16) /*F*/ && bit(l7.ebx, 17) /*DQ*/ && bit(l7.ebx, 28) /*CD*/ &&
                        bit(l7.ebx, 30) /*BW*/ && bit(l7.ebx, 31) /*VL*/;
    if (avx512 && zmm_state) return Isa::kAvx512;
    return Isa::kAvx2;
}

bool detect_amx() {
    if (detect() != Isa::kAvx512) return false;  // the kernels use AVX-512 for conversions
    const CpuidRegs l7 = cpuid(7, 0);
    const CpuidRegs l71 = cpuid(7, 1);
    const bool amx_bf16 = bit(l7.edx, 22), amx_tile = bit(l7.edx, 24),
               avx512_bf16 = bit(l71.eax, 5);
    if (!amx_bf16 || !amx_tile || !avx512_bf16) return false;
    if ((read_xcr0() & (3ull << 17)) != (3ull << 17)) return false;  // XTILECFG, XTILEDATA
#if defined(__linux__)
    constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
}

bool detect_avx512_bf16() { return detect() == Isa::kAvx512 && bit(cpuid(7, 1).eax, 5); }

Bf16Kernel detect_bf16_kernel() {
    const char* want = std::getenv("LUCENT_BF16_KERNEL");
    const bool force_dp = want != nullptr && std::strcmp(want, "avx512bf16") == 0;
    if (!force_dp && amx_ready()) return Bf16Kernel::kAmx;
    return detect_avx512_bf16() ? Bf16Kernel::kAvx512Bf16 : Bf16Kernel::kNone;
}

Isa min_isa(Isa a, Isa b) { return static_cast<int>(a) < static_cast<int>(b) ? a : b; }

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::kScalar:
            return "scalar";
        case Isa::kAvx2:
            return "avx2";
        case Isa::kAvx512:
            return "avx512";
    }
    return "unknown";
}

bool parse_isa(const char* text, Isa* out) {
    if (text == nullptr) return false;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
        if (std::strcmp(text, isa_name(isa)) == 0) {
            *out = isa;
            return true;
        }
    }
    return false;
}

bool amx_ready() {
    static const bool ready = detect_amx();  // thread-safe static init: one request
    return ready;
}

Bf16Kernel bf16_kernel() {
    static const Bf16Kernel k = detect_bf16_kernel();  // thread-safe static init
    return k;
}

const char* bf16_kernel_name(Bf16Kernel k) {
    switch (k) {
        case Bf16Kernel::kAmx:
            return "amx";
        case Bf16Kernel::kAvx512Bf16:
            return "avx512bf16";
        case Bf16Kernel::kNone:
            break;
    }
    return "none";
}

Isa hardware_isa() {
    static const Isa isa = detect();  // thread-safe static init
    return isa;
}

Isa effective_isa(Isa cap) {
    Isa isa = min_isa(hardware_isa(), cap);
    Isa env_cap;
    if (parse_isa(std::getenv("LUCENT_MAX_ISA"), &env_cap)) isa = min_isa(isa, env_cap);
    return isa;
}

}  // namespace lucent
