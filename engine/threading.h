// parallel_for over independent work items, on the library's thread pool (engine/thread_pool.h)
// when built with LUCENT_THREADS, a plain loop otherwise. The thread count goes on each call;
// the library never changes a process-wide setting. Threads take items in chunks as they come
// free (about 8 chunks per thread), so a thread whose core is busy elsewhere takes fewer items
// instead of holding up the others. No item's result depends on which thread runs it (threads
// only pick per-thread scratch), so results are bitwise identical for any thread count.
#pragma once

#include <cstdint>

#include "engine/thread_pool.h"

namespace lucent {

// 0 means the default (default_threads(): the cores this process may use).
inline int resolve_threads(int requested) {
#if defined(LUCENT_HAVE_THREADS)
    return requested > 0 ? requested : default_threads();
#else
    (void)requested;
    return 1;
#endif
}

// Items per chunk: about 8 chunks per thread, so that a late thread can be made up for while
// each chunk stays a contiguous run (rows of one plane stay together).
inline int64_t chunk_items(int64_t count, int threads) {
    const int64_t c = count / (int64_t{8} * threads);
    return c > 1 ? c : 1;
}

// Calls fn(i, thread) for i in [0, count), where thread in [0, resolve_threads(num_threads))
// identifies the calling thread, so fn can use per-thread scratch. fn must not throw.
template <typename Fn>
void parallel_for_with_thread(int64_t count, int num_threads, const Fn& fn) {
    const int threads = resolve_threads(num_threads);
#if defined(LUCENT_HAVE_THREADS)
    if (threads > 1 && count > 1) {
        parallel_run(
            count, threads, chunk_items(count, threads),
            [](const void* f, int64_t i, int thread) { (*static_cast<const Fn*>(f))(i, thread); },
            &fn);
        return;
    }
#endif
    (void)threads;
    for (int64_t i = 0; i < count; ++i) fn(i, 0);
}

// Calls fn(i) for i in [0, count). fn must not throw.
template <typename Fn>
void parallel_for(int64_t count, int num_threads, const Fn& fn) {
    parallel_for_with_thread(count, num_threads, [&fn](int64_t i, int) { fn(i); });
}

}  // namespace lucent
