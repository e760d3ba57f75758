// Plans kept between a Model's runs. A plan (models::StreamRun) holds its schedule and, once
// it has run, its arena; planning costs milliseconds and a fresh arena's first touch costs the
// kernel's page clearing (on one of these VMs 30-37 % of a cold RED 576x576 run's perf samples,
// and the largest part of its run-to-run spread). A run takes an idle plan of its key when there is
// one, else plans anew, and gives it back when done, so a server or a batch of same-sized images
// plans and allocates once. Idle plans are kept while they and the plans lent to runs in progress
// total at most the cache's cap (Options::keep_memory_limit, else the memory a run may spend to go
// faster), the most recently used first: under a full load of concurrent runs nothing idle is
// kept, so a model never holds more than the cap in kept plans plus what its running runs need.
// Thread-safe: a plan is lent to one run at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "models/graph.h"

namespace lucent {

// What a plan was made for: the image's channels and size, the working-memory budget it was fit
// to, the thread count it was scheduled for, and whether it is the traced whole-image plan.
struct PlanKey {
    int64_t c = 0, h = 0, w = 0;
    uint64_t budget = 0;
    int threads = 0;
    bool whole = false;
    bool operator==(const PlanKey& o) const {
        return c == o.c && h == o.h && w == o.w && budget == o.budget && threads == o.threads &&
               whole == o.whole;
    }
};

class PlanCache {
  public:
    // The most bytes of idle and lent plans together past which no idle plan is kept (0, the
    // default: nothing is kept). Set before use.
    void set_cap(uint64_t cap_bytes) { cap_ = cap_bytes; }
    // The most recently kept idle plan of `key`, removed from the cache; null when none.
    std::unique_ptr<models::StreamRun> take(const PlanKey& key);
    // Counts a plan lent to a run (PlanLease does, for plans taken and plans made anew).
    void lent(uint64_t bytes);
    // Takes back a lent plan (made for `key`) and keeps it for a later take(), evicting the least
    // recently used idle plans while idle and lent plans exceed the cap; a plan that does not
    // fit is dropped, and so is one that cannot be stored (never throws: leases give back from
    // their destructors).
    void give(const PlanKey& key, std::unique_ptr<models::StreamRun> plan) noexcept;
    // Drops every idle plan (and its arena).
    void clear();
    // Bytes of the idle plans' arenas, allocated or to be.
    uint64_t idle_bytes() const;

  private:
    struct Entry {
        PlanKey key;
        std::unique_ptr<models::StreamRun> plan;
    };
    uint64_t cap_ = 0;
    uint64_t lent_ = 0;  // bytes of the plans lent to runs now
    mutable std::mutex mu_;
    std::vector<Entry> idle_;  // most recently given first
};

// A plan lent to one run: gives it back to its cache when it goes out of scope (after the run,
// whether or not the run succeeded: a plan starts every run from its first row).
class PlanLease {
  public:
    PlanLease() = default;
    // Counts `plan` as lent from `cache` (may throw only what locking a mutex throws).
    PlanLease(PlanCache* cache, const PlanKey& key, std::unique_ptr<models::StreamRun> plan)
        : cache_(cache), key_(key), plan_(std::move(plan)) {
        if (cache_ != nullptr && plan_ != nullptr) cache_->lent(plan_->bytes());
    }
    PlanLease(PlanLease&& o) noexcept : cache_(o.cache_), key_(o.key_), plan_(std::move(o.plan_)) {}
    PlanLease& operator=(PlanLease&& o) noexcept {
        give_back();
        cache_ = o.cache_;
        key_ = o.key_;
        plan_ = std::move(o.plan_);
        return *this;
    }
    PlanLease(const PlanLease&) = delete;
    PlanLease& operator=(const PlanLease&) = delete;
    ~PlanLease() { give_back(); }

    models::StreamRun* get() const { return plan_.get(); }
    models::StreamRun* operator->() const { return plan_.get(); }
    explicit operator bool() const { return plan_ != nullptr; }

  private:
    void give_back() {
        if (cache_ != nullptr && plan_ != nullptr) cache_->give(key_, std::move(plan_));
        plan_.reset();
    }
    PlanCache* cache_ = nullptr;
    PlanKey key_;
    std::unique_ptr<models::StreamRun> plan_;
};

}  // namespace lucent
