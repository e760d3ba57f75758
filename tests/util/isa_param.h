// Parametrising tests over every ISA tier: a tier the machine lacks is skipped, not faked.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "lucent/isa.hpp"
#include "ops/dispatch.h"

namespace lucent {
// Readable parameter names in test output and CTest listings.
inline void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }
}  // namespace lucent

namespace lucent::test {

inline std::vector<Isa> all_isas() { return {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}; }

// Skips the current test when the CPU (or LUCENT_MAX_ISA) does not allow isa.
#define LUCENT_REQUIRE_ISA(isa)                                                             \
    do {                                                                                    \
        if (static_cast<int>(::lucent::effective_isa(isa)) < static_cast<int>(isa)) {       \
            GTEST_SKIP() << ::lucent::isa_name(isa) << " not available on this machine or " \
                         << "capped by LUCENT_MAX_ISA";                                     \
        }                                                                                   \
    } while (0)

inline ops::Context context_for(Isa isa, int threads = 1) {
    ops::Context c;
    c.k = &ops::kernels_for(isa);
    c.num_threads = threads;
    return c;
}

struct IsaName {
    std::string operator()(const ::testing::TestParamInfo<Isa>& info) const {
        return isa_name(info.param);
    }
};

}  // namespace lucent::test
