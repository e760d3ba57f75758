// parallel_for over independent work items. OpenMP when built with LUCENT_OPENMP, a plain
// loop otherwise. The library never calls omp_set_num_threads (that is the host's state); the
// thread count goes on each parallel region. Items are split statically, so which thread runs
// an item never changes what the item computes: results are bitwise identical for any count.
#pragma once

#include <cstdint>

#if defined(LUCENT_HAVE_OPENMP)
#include <omp.h>
#endif

namespace lucent {

// 0 means "the OpenMP default" (OMP_NUM_THREADS or the core count).
inline int resolve_threads(int requested) {
#if defined(LUCENT_HAVE_OPENMP)
    return requested > 0 ? requested : omp_get_max_threads();
#else
    (void)requested;
    return 1;
#endif
}

// Calls fn(i) for i in [0, count). fn must not throw.
template <typename Fn>
void parallel_for(int64_t count, int num_threads, const Fn& fn) {
    const int threads = resolve_threads(num_threads);
#if defined(LUCENT_HAVE_OPENMP)
    if (threads > 1 && count > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t i = 0; i < count; ++i) fn(i);
        return;
    }
#endif
    (void)threads;
    for (int64_t i = 0; i < count; ++i) fn(i);
}

// Calls fn(i, thread) for i in [0, count), where thread in [0, resolve_threads(num_threads))
// identifies the calling thread, so fn can use per-thread scratch. fn must not throw.
template <typename Fn>
void parallel_for_with_thread(int64_t count, int num_threads, const Fn& fn) {
    const int threads = resolve_threads(num_threads);
#if defined(LUCENT_HAVE_OPENMP)
    if (threads > 1 && count > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t i = 0; i < count; ++i) fn(i, omp_get_thread_num());
        return;
    }
#endif
    (void)threads;
    for (int64_t i = 0; i < count; ++i) fn(i, 0);
}

}  // namespace lucent
