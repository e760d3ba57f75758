// Comparison against an oracle. Exact ops (data movement, selection) use max_abs_tol = 0.
// Reductions use |got - ref| <= atol + kEpsMul * eps * K * max|x| * max|w| where K is the
// reduction length (XNNPACK's compute_sum_tolerance idea): the error bound of a length-K
// float dot product grows with K.
#pragma once

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <string>

#include "engine/tensor.h"

namespace lucent::test {

inline double sum_tolerance(int64_t k, double max_x, double max_w, double atol = 1e-6) {
    constexpr double kEpsMul = 4.0;
    return atol + kEpsMul * FLT_EPSILON * static_cast<double>(k) * max_x * max_w;
}

inline double max_abs(const float* p, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(static_cast<double>(p[i])));
    return m;
}

// Compares got with ref elementwise; reports the first mismatch with its NCHW coordinates.
inline ::testing::AssertionResult all_close(const float* got, const float* ref, const Shape& s,
                                            double tol, const std::string& what) {
    for (int64_t i = 0; i < s.numel(); ++i) {
        const double g = got[i], r = ref[i];
        const bool both_nan = std::isnan(g) && std::isnan(r);
        const bool ok = both_nan || (tol == 0.0 ? g == r : std::fabs(g - r) <= tol);
        if (!ok) {
            const int64_t w = i % s.w, h = (i / s.w) % s.h, c = (i / s.plane()) % s.c,
                          n = i / (s.plane() * s.c);
            return ::testing::AssertionFailure()
                   << what << ": mismatch at index " << i << " (n=" << n << ", c=" << c
                   << ", h=" << h << ", w=" << w << ") of " << s.str() << ": got " << g << ", ref "
                   << r << ", |diff| " << std::fabs(g - r) << " > tol " << tol;
        }
    }
    return ::testing::AssertionSuccess();
}

}  // namespace lucent::test
