// The library's worker threads: one process-wide pool that parallel_for (engine/threading.h)
// hands its items to.
//
// Why not OpenMP: a fork-join region ends at a barrier that every thread of the team must reach,
// so a thread whose core is busy with another process (a shared server, CI) holds up every
// region until the scheduler gives it a slice: at 2 threads with a busy loop on the second core
// the 6-block SSR ran 5-10x slower than unloaded, 3-6x slower than at one thread. Here the
// caller takes chunks of items itself, and waits at the end only for workers that claimed a
// chunk and are still running it; a worker that was not scheduled in time claims nothing and
// is not waited for. Idle workers spin briefly (streaming runs many short regions), then sleep.
#pragma once

#include <cstdint>

namespace lucent {

// Calls call(ctx, item, thread) for every item in [0, count), on up to `threads` threads (the
// caller is thread 0, workers 1 ..), chunk items at a time. Runs everything on the caller when
// threads <= 1, when called from inside another parallel_run (nested), or while another caller
// has the pool (concurrent runs then proceed side by side, the later ones serially).
// call must not throw.
void parallel_run(int64_t count, int threads, int64_t chunk,
                  void (*call)(const void*, int64_t, int), const void* ctx);

// The number of threads `0` means: the cores this process may run on (sched_getaffinity), or
// LUCENT_NUM_THREADS (then OMP_NUM_THREADS) when set to a positive number.
int default_threads();

}  // namespace lucent
