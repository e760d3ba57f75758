// BilinearSum (ops/bilinear_sum.h) against the bilinear resizes summed one by one by the oracle,
// on every tier: RED's pyramid bins, odd sizes, maps wider than the output, row windows; and its
// ramp_act kernel against the scalar tier, bit for bit.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <vector>

#include "ops/bilinear_sum.h"
#include "ops/kernels.h"
#include "ops/ref.h"
#include "tests/util/compare.h"
#include "tests/util/guarded.h"
#include "tests/util/isa_param.h"
#include "tests/util/rng.h"

namespace lucent {
namespace {

using test::Guarded;
using test::Rng;

class BilinearSumTest : public ::testing::TestWithParam<Isa> {};

TEST_P(BilinearSumTest, RampKernelMatchesScalarTierBitForBit) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const ops::KernelTable& k = ops::kernels_for(GetParam());
    const ops::KernelTable& s = ops::kernels_for(Isa::kScalar);
    for (int i = 0; i < 80; ++i) {
        const int64_t n = rng.pick(std::vector<int64_t>{1, 7, 8, 15, 16, 17, 33, 100}) +
                          (i % 3 == 0 ? rng.uniform_int(0, 300) : 0);
        const int32_t act = i % 2 ? ops::kActLeaky : ops::kActNone;
        const float a = rng.uniform(-3.0f, 3.0f), b = rng.uniform(-0.1f, 0.1f);
        std::vector<float> in = rng.vec(n, -4.0f, 4.0f), got(static_cast<size_t>(n) + 1, 7.0f),
                           ref(static_cast<size_t>(n) + 1, 7.0f);
        k.ramp_act(in.data(), a, b, got.data(), n, act, 0.2f);
        s.ramp_act(in.data(), a, b, ref.data(), n, act, 0.2f);
        EXPECT_TRUE(test::all_close(got.data(), ref.data(), Shape{1, 1, 1, n + 1}, 0.0, "ramp"));
        k.ramp_act(in.data(), a, b, in.data(), n, act, 0.2f);  // in place
        EXPECT_TRUE(
            test::all_close(in.data(), ref.data(), Shape{1, 1, 1, n}, 0.0, "ramp in place"));
    }
}

// base + sum of the resizes, then leaky ReLU, in double from the oracle's resizes.
std::vector<float> reference(const std::vector<Shape>& maps, const std::vector<Guarded*>& data,
                             const Guarded& base, const Shape& os, float slope) {
    std::vector<double> acc(base.data(), base.data() + os.numel());
    for (size_t i = 0; i < maps.size(); ++i) {
        Guarded up(os);
        ops::ref::upsample_bilinear(data[i]->cview(), up.view());
        for (int64_t j = 0; j < os.numel(); ++j) acc[static_cast<size_t>(j)] += up.data()[j];
    }
    std::vector<float> out(acc.size());
    for (size_t j = 0; j < acc.size(); ++j)
        out[j] = static_cast<float>(acc[j] < 0 ? acc[j] * slope : acc[j]);
    return out;
}

TEST_P(BilinearSumTest, MatchesResizesSummedOneByOne) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    struct Case {
        std::vector<std::pair<int64_t, int64_t>> maps;
        int64_t h, w;
    };
    const std::vector<Case> cases = {
        {{{1, 1}, {2, 2}, {3, 3}, {6, 6}}, 13, 17},   // RED's default bins
        {{{1, 1}, {2, 2}, {3, 3}, {6, 6}}, 31, 144},  // a wide row, long segments
        {{{1, 1}, {2, 2}, {3, 3}, {6, 6}}, 1, 1},
        {{{2, 2}, {6, 6}}, 2, 3},  // output smaller than a map
        {{{7, 5}, {1, 9}}, 3, 2},  // downscales
        {{{5, 9}}, 5, 9},          // same size
        {{{4, 3}, {2, 2}, {1, 1}}, 9, 33},
        {{}, 4, 5},  // no maps: the activation alone
    };
    const auto ctx = test::context_for(GetParam(), 2);
    const int64_t c = 3;
    for (const Case& cs : cases) {
        const Shape os{1, c, cs.h, cs.w};
        SCOPED_TRACE(os.str() + ", " + std::to_string(cs.maps.size()) + " maps");
        std::vector<ops::BilinearSum::MapSize> sizes;
        std::vector<Shape> shapes;
        std::vector<Guarded> maps;
        maps.reserve(cs.maps.size());
        for (const auto& [mh, mw] : cs.maps) {
            sizes.push_back({mh, mw});
            shapes.push_back(Shape{1, c, mh, mw});
            maps.emplace_back(shapes.back());
            rng.fill_edgy(maps.back().data(), maps.back().numel());
        }
        std::vector<Guarded*> ptrs;
        std::vector<const float*> raw;
        double bound = 0;
        for (Guarded& m : maps) {
            ptrs.push_back(&m);
            raw.push_back(m.data());
            bound += test::max_abs(m.data(), m.numel());
        }
        Guarded base(os), whole(os), split(os);
        rng.fill_edgy(base.data(), base.numel());
        bound += test::max_abs(base.data(), base.numel());
        const std::vector<float> ref = reference(shapes, ptrs, base, os, 0.2f);
        ASSERT_TRUE(ops::BilinearSum::create(sizes, cs.h, cs.w).ok());
        const ops::BilinearSum sum = ops::BilinearSum::create(sizes, cs.h, cs.w).value();
        std::copy(base.data(), base.data() + os.numel(), whole.data());
        ASSERT_TRUE(sum.add_rows(ctx, raw.data(), static_cast<int64_t>(raw.size()),
                                 rows_of(whole.view()), ops::Activation::kLeakyRelu, 0.2f)
                        .ok());
        EXPECT_TRUE(whole.intact());
        // A few roundings of the largest magnitude summed (float weights and ramps).
        EXPECT_TRUE(test::all_close(whole.data(), ref.data(), os, 32 * FLT_EPSILON * bound,
                                    "bilinear sum"));
        // Any row window gives the same bits: rows [0, y) then [y, h), each in its own buffer.
        const int64_t y = cs.h / 2;
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, y}, {y, cs.h}}) {
            if (r0 == r1) continue;
            std::vector<float> part(static_cast<size_t>(c * (r1 - r0) * cs.w));
            for (int64_t ch = 0; ch < c; ++ch)
                std::copy(base.data() + (ch * cs.h + r0) * cs.w,
                          base.data() + (ch * cs.h + r1) * cs.w,
                          part.data() + ch * (r1 - r0) * cs.w);
            const Rows rows{part.data(), c, cs.h, cs.w, r0, r1 - r0, (r1 - r0) * cs.w};
            ASSERT_TRUE(sum.add_rows(ctx, raw.data(), static_cast<int64_t>(raw.size()), rows,
                                     ops::Activation::kLeakyRelu, 0.2f)
                            .ok());
            for (int64_t ch = 0; ch < c; ++ch)
                std::copy(part.data() + ch * (r1 - r0) * cs.w,
                          part.data() + (ch * (r1 - r0) + (r1 - r0)) * cs.w,
                          split.data() + (ch * cs.h + r0) * cs.w);
        }
        EXPECT_TRUE(test::all_close(split.data(), whole.data(), os, 0.0, "row windows"));
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, BilinearSumTest, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(BilinearSumErrors, RejectBadPlansAndCalls) {
    std::vector<ops::BilinearSum::MapSize> many(17, {1, 1});
    EXPECT_EQ(ops::BilinearSum::create(many, 4, 4).status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(ops::BilinearSum::create({{0, 3}}, 4, 4).ok());
    EXPECT_FALSE(ops::BilinearSum::create({{2, 2}}, 4, 0).ok());
    const ops::BilinearSum sum = ops::BilinearSum::create({{2, 2}}, 4, 4).value();
    std::vector<float> map(4), rows(16);
    const float* maps[] = {map.data()};
    const auto ctx = test::context_for(Isa::kScalar);
    const Rows wrong{rows.data(), 1, 4, 5, 0, 3, 15};  // planned for width 4
    const Status st = sum.add_rows(ctx, maps, 1, wrong, ops::Activation::kNone, 0.0f);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("planned for"), std::string::npos);
    const Rows ok{rows.data(), 1, 4, 4, 0, 4, 16};
    EXPECT_FALSE(sum.add_rows(ctx, maps, 2, ok, ops::Activation::kNone, 0.0f).ok());
    EXPECT_FALSE(sum.add_rows(ctx, maps, 1, ok, ops::Activation::kSigmoid, 0.0f).ok());
}

}  // namespace
}  // namespace lucent
