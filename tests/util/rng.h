// Replayable randomness: every test draws from a seed derived from GoogleTest's
// --gtest_random_seed, and failures print the flag that replays them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace lucent::test {

inline uint32_t test_seed() {
    const int s = ::testing::UnitTest::GetInstance()->random_seed();
    return static_cast<uint32_t>(s == 0 ? 12345 : s);
}

#define LUCENT_SCOPED_SEED(seed) \
    SCOPED_TRACE(::testing::Message() << "replay with --gtest_random_seed=" << (seed))

class Rng {
  public:
    explicit Rng(uint32_t seed) : gen_(seed) {}
    int64_t uniform_int(int64_t lo, int64_t hi) {  // inclusive
        return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
    }
    float uniform(float lo, float hi) {
        return std::uniform_real_distribution<float>(lo, hi)(gen_);
    }
    // Uniform in [-1, 1], with exact zeros, -0.0f and a few large values mixed in.
    void fill_edgy(float* p, int64_t n) {
        for (int64_t i = 0; i < n; ++i) {
            const int64_t pick = uniform_int(0, 99);
            if (pick == 0) {
                p[i] = 0.0f;
            } else if (pick == 1) {
                p[i] = -0.0f;
            } else if (pick == 2) {
                p[i] = uniform(-30.0f, 30.0f);
            } else {
                p[i] = uniform(-1.0f, 1.0f);
            }
        }
    }
    void fill(float* p, int64_t n, float lo = -1.0f, float hi = 1.0f) {
        for (int64_t i = 0; i < n; ++i) p[i] = uniform(lo, hi);
    }
    std::vector<float> vec(int64_t n, float lo = -1.0f, float hi = 1.0f) {
        std::vector<float> v(static_cast<size_t>(n));
        fill(v.data(), n, lo, hi);
        return v;
    }
    template <typename T>
    const T& pick(const std::vector<T>& v) {
        return v[static_cast<size_t>(uniform_int(0, static_cast<int64_t>(v.size()) - 1))];
    }

  private:
    std::mt19937 gen_;
};

}  // namespace lucent::test
