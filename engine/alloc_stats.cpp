#include "engine/alloc_stats.h"

#include <atomic>

namespace lucent::alloc_stats {
namespace {

std::atomic<uint64_t> g_live{0}, g_peak{0}, g_count{0};

}  // namespace

Snapshot now() {
    return Snapshot{g_live.load(std::memory_order_relaxed), g_peak.load(std::memory_order_relaxed),
                    g_count.load(std::memory_order_relaxed)};
}

void reset_peak() {
    g_peak.store(g_live.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void on_alloc(uint64_t bytes) {
    const uint64_t live = g_live.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    g_count.fetch_add(1, std::memory_order_relaxed);
    uint64_t peak = g_peak.load(std::memory_order_relaxed);
    while (live > peak && !g_peak.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
}

void on_free(uint64_t bytes) { g_live.fetch_sub(bytes, std::memory_order_relaxed); }

}  // namespace lucent::alloc_stats
