// The thread pool behind parallel_for (engine/thread_pool.h): every item exactly once for any
// count and thread count; thread ids in range; many short regions; nested and concurrent
// callers, and a caller that finds the pool busy.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/threading.h"

namespace lucent {
namespace {

TEST(ThreadPool, EveryItemOnceWithThreadIdsInRange) {
    for (int threads : {1, 2, 3, 5, 8}) {
        for (int64_t count : {0, 1, 2, 3, 7, 64, 1000, 4097}) {
            std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
            std::atomic<bool> bad_thread{false};
            parallel_for_with_thread(count, threads, [&](int64_t i, int t) {
                hits[static_cast<size_t>(i)].fetch_add(1);
                if (t < 0 || t >= resolve_threads(threads)) bad_thread = true;
            });
            for (int64_t i = 0; i < count; ++i)
                ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1)
                    << "item " << i << " of " << count << " at " << threads << " threads";
            EXPECT_FALSE(bad_thread.load());
        }
    }
}

TEST(ThreadPool, ManyShortRegionsInARow) {
    // Streaming runs thousands of small regions back to back: none may lose an item.
    std::atomic<int64_t> sum{0};
    for (int r = 0; r < 5000; ++r) parallel_for(3, 2, [&](int64_t i) { sum += i + 1; });
    EXPECT_EQ(sum.load(), 5000 * 6);
}

TEST(ThreadPool, NestedCallsRunInline) {
    std::atomic<int64_t> sum{0};
    parallel_for(8, 2,
                 [&](int64_t i) { parallel_for(10, 2, [&](int64_t j) { sum += i * 10 + j; }); });
    EXPECT_EQ(sum.load(), 79 * 80 / 2);
}

TEST(ThreadPool, ConcurrentCallersEachFinish) {
    std::vector<std::thread> callers;
    std::atomic<int64_t> total{0};
    for (int c = 0; c < 4; ++c)
        callers.emplace_back([&] {
            for (int r = 0; r < 200; ++r) parallel_for(100, 2, [&](int64_t) { total += 1; });
        });
    for (std::thread& t : callers) t.join();
    EXPECT_EQ(total.load(), 4 * 200 * 100);
}

TEST(ThreadPool, ACallerFindingThePoolBusyRunsInline) {
    // A region stuck in one item (its thread descheduled, say) does not hold up another caller:
    // that caller runs its items itself.
    std::atomic<bool> release{false};
    std::atomic<int> stuck{0};
    std::thread blocker([&] {
        parallel_for(2, 2, [&](int64_t i) {
            if (i == 1) {
                stuck = 1;
                while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
    });
    while (stuck.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // The pool is busy with the blocked region: this caller runs inline and finishes.
    std::atomic<int64_t> sum{0};
    parallel_for(100, 2, [&](int64_t i) { sum += i; });
    EXPECT_EQ(sum.load(), 99 * 100 / 2);
    release = true;
    blocker.join();
}

}  // namespace
}  // namespace lucent
