// Pooling (max / average, adaptive with bins that do not divide the input, global) and
// upsampling (nearest, bilinear align_corners=False to arbitrary sizes) on every tier.
#include <gtest/gtest.h>

#include <cfloat>
#include <vector>

#include "ops/pool2d.h"
#include "ops/ref.h"
#include "ops/upsample.h"
#include "tests/util/compare.h"
#include "tests/util/guarded.h"
#include "tests/util/isa_param.h"
#include "tests/util/rng.h"

namespace lucent {
namespace {

using test::Guarded;
using test::Rng;

class PoolUpsampleTest : public ::testing::TestWithParam<Isa> {};

TEST_P(PoolUpsampleTest, Pool2dMatchesReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam(), 2);
    for (int i = 0; i < 60; ++i) {
        ops::Pool2dParams p;
        p.kind = rng.uniform_int(0, 1) ? ops::PoolKind::kMax : ops::PoolKind::kAvg;
        p.kernel_h = rng.uniform_int(1, 4);
        p.kernel_w = rng.uniform_int(1, 4);
        p.stride_h = rng.uniform_int(1, 3);
        p.stride_w = rng.uniform_int(1, 3);
        p.pad_h = rng.uniform_int(0, p.kernel_h / 2);
        p.pad_w = rng.uniform_int(0, p.kernel_w / 2);
        const Shape is{rng.uniform_int(1, 2), rng.uniform_int(1, 17), rng.uniform_int(1, 13),
                       rng.uniform_int(1, 41)};
        Shape os;
        if (!ops::pool2d_output_shape(p, is, &os).ok()) continue;
        SCOPED_TRACE(::testing::Message()
                     << (p.kind == ops::PoolKind::kMax ? "max " : "avg ") << is.str() << " k "
                     << p.kernel_h << "x" << p.kernel_w << " s " << p.stride_h << "," << p.stride_w
                     << " p " << p.pad_h << "," << p.pad_w);
        Guarded in(is), got(os), ref(os);
        rng.fill_edgy(in.data(), in.numel());
        ops::ref::pool2d(p, in.cview(), ref.view());
        ASSERT_TRUE(ops::pool2d(ctx, p, in.cview(), got.view()).ok());
        EXPECT_TRUE(got.intact());
        const double tol = p.kind == ops::PoolKind::kMax
                               ? 0.0
                               : test::sum_tolerance(p.kernel_h * p.kernel_w,
                                                     test::max_abs(in.data(), in.numel()), 1.0);
        EXPECT_TRUE(test::all_close(got.data(), ref.data(), os, tol, "pool2d"));
    }
}

TEST_P(PoolUpsampleTest, AdaptiveAndGlobalPoolMatchReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam(), 2);
    for (int64_t bins : {1, 2, 3, 6}) {
        for (const Shape& is :
             {Shape{1, 3, 7, 13}, Shape{2, 17, 11, 5}, Shape{1, 1, 6, 6}, Shape{1, 2, 40, 33}}) {
            for (auto kind : {ops::PoolKind::kAvg, ops::PoolKind::kMax}) {
                SCOPED_TRACE(::testing::Message() << "bins " << bins << " " << is.str());
                const Shape os{is.n, is.c, bins, bins};
                Guarded in(is), got(os), ref(os);
                rng.fill_edgy(in.data(), in.numel());
                ops::ref::adaptive_pool2d(kind, in.cview(), ref.view());
                ASSERT_TRUE(ops::adaptive_pool2d(ctx, kind, in.cview(), got.view()).ok());
                EXPECT_TRUE(got.intact());
                const double tol = kind == ops::PoolKind::kMax
                                       ? 0.0
                                       : test::sum_tolerance(
                                             is.plane(), test::max_abs(in.data(), in.numel()), 1.0);
                EXPECT_TRUE(test::all_close(got.data(), ref.data(), os, tol, "adaptive_pool2d"));
            }
        }
    }
    const Shape is{2, 5, 9, 21};
    Guarded in(is), avg_ref(Shape{2, 5, 1, 1}), max_ref(Shape{2, 5, 1, 1});
    rng.fill_edgy(in.data(), in.numel());
    ops::ref::adaptive_pool2d(ops::PoolKind::kAvg, in.cview(), avg_ref.view());
    ops::ref::adaptive_pool2d(ops::PoolKind::kMax, in.cview(), max_ref.view());
    std::vector<float> avg(10), mx(10);
    ASSERT_TRUE(ops::global_pool(ctx, in.cview(), avg.data(), mx.data()).ok());
    const double tol = test::sum_tolerance(is.plane(), test::max_abs(in.data(), in.numel()), 1.0);
    EXPECT_TRUE(test::all_close(avg.data(), avg_ref.data(), Shape{2, 5, 1, 1}, tol, "global avg"));
    EXPECT_TRUE(test::all_close(mx.data(), max_ref.data(), Shape{2, 5, 1, 1}, 0.0, "global max"));
}

TEST_P(PoolUpsampleTest, UpsampleMatchesReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam(), 2);
    for (int64_t r : {1, 2, 3, 4}) {
        for (int64_t w : {1, 5, 8, 9, 17}) {
            const Shape is{2, 3, 3, w}, os{2, 3, 3 * r, w * r};
            Guarded in(is), got(os), ref(os);
            rng.fill_edgy(in.data(), in.numel());
            ops::ref::upsample_nearest(in.cview(), r, ref.view());
            ASSERT_TRUE(ops::upsample_nearest(ctx, in.cview(), r, got.view()).ok());
            EXPECT_TRUE(got.intact());
            EXPECT_TRUE(test::all_close(got.data(), ref.data(), os, 0.0, "nearest"));
        }
    }
    // PPM case: tiny bins up to the feature size, plus arbitrary up- and down-scales.
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{1, 4, 1, 1}, {1, 4, 13, 17}}, {{1, 4, 2, 2}, {1, 4, 13, 17}},
        {{2, 3, 3, 3}, {2, 3, 8, 9}},   {{1, 2, 6, 6}, {1, 2, 31, 33}},
        {{1, 1, 7, 5}, {1, 1, 3, 2}},   {{1, 1, 5, 9}, {1, 1, 5, 9}}};
    for (const auto& [is, os] : cases) {
        SCOPED_TRACE(is.str() + " -> " + os.str());
        Guarded in(is), got(os), ref(os);
        rng.fill_edgy(in.data(), in.numel());
        ops::ref::upsample_bilinear(in.cview(), ref.view());
        ASSERT_TRUE(ops::upsample_bilinear(ctx, in.cview(), got.view()).ok());
        EXPECT_TRUE(got.intact());
        // Float weights vs the double oracle: a few roundings of max|x|.
        EXPECT_TRUE(test::all_close(got.data(), ref.data(), os,
                                    16 * FLT_EPSILON * test::max_abs(in.data(), in.numel()),
                                    "bilinear"));
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, PoolUpsampleTest, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(PoolErrors, RejectBadParameters) {
    Shape os;
    ops::Pool2dParams p;
    p.kernel_h = 3;
    p.pad_h = 2;  // more than half the kernel
    Status st = ops::pool2d_output_shape(p, Shape{1, 1, 8, 8}, &os);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("pad_h"), std::string::npos);
    p = ops::Pool2dParams{};
    p.kernel_h = p.kernel_w = 5;
    EXPECT_FALSE(ops::pool2d_output_shape(p, Shape{1, 1, 3, 3}, &os).ok());
    const auto ctx = test::context_for(Isa::kScalar);
    auto a = Tensor::create({1, 2, 4, 4}).value(), b = Tensor::create({1, 3, 2, 2}).value();
    EXPECT_FALSE(ops::adaptive_pool2d(ctx, ops::PoolKind::kAvg, a, b).ok());
    EXPECT_FALSE(ops::upsample_nearest(ctx, a, 0, a).ok());
}

}  // namespace
}  // namespace lucent
