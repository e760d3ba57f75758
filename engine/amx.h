// AMX (Advanced Matrix Extensions) readiness for the bf16 tier: the CPU has AMX-TILE and
// AMX-BF16, the OS saves the tile state (XCR0 bits 17-18), and Linux granted this process the
// tile data permission (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); a tile instruction
// before that faults). Checked and requested once, thread-safe; false on any refusal.
#pragma once

namespace lucent {

bool amx_ready();

}  // namespace lucent
