#include "api/plan_cache.h"

#include <algorithm>
#include <cstddef>
#include <new>

namespace lucent {

std::unique_ptr<models::StreamRun> PlanCache::take(const PlanKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it =
        std::find_if(idle_.begin(), idle_.end(), [&](const Entry& e) { return e.key == key; });
    if (it == idle_.end()) return nullptr;
    std::unique_ptr<models::StreamRun> plan = std::move(it->plan);
    idle_.erase(it);
    return plan;
}

void PlanCache::lent(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    lent_ += bytes;
}

void PlanCache::give(const PlanKey& key, std::unique_ptr<models::StreamRun> plan) noexcept {
    if (plan == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    lent_ -= std::min(lent_, plan->bytes());
    if (lent_ + plan->bytes() > cap_) return;  // dropped (after the lock is released)
    try {
        idle_.insert(idle_.begin(), Entry{key, std::move(plan)});
    } catch (const std::bad_alloc&) {
        return;  // not kept: the plan (in the temporary entry) is freed
    }
    uint64_t total = lent_;
    size_t keep = 0;
    while (keep < idle_.size() && total + idle_[keep].plan->bytes() <= cap_)
        total += idle_[keep++].plan->bytes();
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(keep), idle_.end());  // frees them
}

void PlanCache::clear() {
    std::vector<Entry> dropped;
    std::lock_guard<std::mutex> lock(mu_);
    dropped.swap(idle_);
}

uint64_t PlanCache::idle_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t total = 0;
    for (const Entry& e : idle_) total += e.plan->bytes();
    return total;
}

}  // namespace lucent
