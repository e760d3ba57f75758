// Counters of the engine's buffer allocations (AlignedBuffer: every activation, arena and
// scratch block), process-wide. Tests use them to check that a planned run allocates only
// its arena and that the plan's byte count covers what is really live at the peak. A few
// relaxed atomics per allocation: allocations are few and large.
#pragma once

#include <cstdint>

namespace lucent::alloc_stats {

struct Snapshot {
    uint64_t live_bytes = 0;   // allocated now
    uint64_t peak_bytes = 0;   // highest live_bytes since the last reset_peak()
    uint64_t allocations = 0;  // allocations since the process started
};

Snapshot now();
// Sets the peak to the bytes live now.
void reset_peak();

// For AlignedBuffer.
void on_alloc(uint64_t bytes);
void on_free(uint64_t bytes);

}  // namespace lucent::alloc_stats
