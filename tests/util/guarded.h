// A float tensor surrounded by guard words: a kernel that writes past either end (a bad
// masked tail store) changes a guard, which intact() reports.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/tensor.h"

namespace lucent::test {

class Guarded {
  public:
    explicit Guarded(const Shape& s)
        : shape_(s), buf_(static_cast<size_t>(s.numel() + 2 * kGuard)) {
        for (int64_t i = 0; i < kGuard; ++i) {
            buf_[static_cast<size_t>(i)] = kCanary;
            buf_[static_cast<size_t>(kGuard + s.numel() + i)] = kCanary;
        }
        // Output starts as NaN so a kernel that skips an element is caught too.
        for (int64_t i = 0; i < s.numel(); ++i)
            buf_[static_cast<size_t>(kGuard + i)] = std::nanf("");
    }
    float* data() { return buf_.data() + kGuard; }
    const float* data() const { return buf_.data() + kGuard; }
    TensorView view() { return {data(), shape_}; }
    ConstTensorView cview() const { return {data(), shape_}; }
    const Shape& shape() const { return shape_; }
    int64_t numel() const { return shape_.numel(); }
    bool intact() const {
        for (int64_t i = 0; i < kGuard; ++i) {
            if (std::memcmp(&buf_[static_cast<size_t>(i)], &kCanary, 4) != 0) return false;
            if (std::memcmp(&buf_[static_cast<size_t>(kGuard + numel() + i)], &kCanary, 4) != 0)
                return false;
        }
        return true;
    }

  private:
    static constexpr int64_t kGuard = 32;
    static constexpr float kCanary = -12345.678f;
    Shape shape_;
    std::vector<float> buf_;
};

}  // namespace lucent::test
