// Activations and elementwise arithmetic: every tier against the oracle on lengths around the
// vector widths (1, V-1, V, V+1, 2V+1, primes), in place and out of place.
#include <gtest/gtest.h>

#include <cfloat>
#include <vector>

#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/prelu.h"
#include "ops/ref.h"
#include "tests/util/compare.h"
#include "tests/util/guarded.h"
#include "tests/util/isa_param.h"
#include "tests/util/rng.h"

namespace lucent {
namespace {

using test::Guarded;
using test::Rng;

const std::vector<Shape>& edge_shapes() {
    static const std::vector<Shape> shapes = {{1, 1, 1, 1},  {1, 1, 1, 7},    {1, 1, 1, 8},
                                              {1, 1, 1, 9},  {1, 1, 1, 15},   {1, 1, 1, 16},
                                              {1, 1, 1, 17}, {1, 1, 1, 33},   {1, 3, 13, 7},
                                              {2, 17, 5, 3}, {1, 64, 11, 13}, {3, 1, 1, 131}};
    return shapes;
}

class ElementwiseTest : public ::testing::TestWithParam<Isa> {};

TEST_P(ElementwiseTest, ActivationsMatchReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam());
    for (const Shape& s : edge_shapes()) {
        for (auto act : {ops::Activation::kNone, ops::Activation::kRelu,
                         ops::Activation::kLeakyRelu, ops::Activation::kSigmoid}) {
            SCOPED_TRACE(std::string(ops::activation_name(act)) + " " + s.str());
            Guarded in(s), got(s), ref(s);
            rng.fill_edgy(in.data(), in.numel());
            in.data()[0] = -0.0f;
            ops::ref::activation(in.cview(), ref.view(), act, 0.2f);
            ASSERT_TRUE(ops::activation(ctx, in.cview(), got.view(), act, 0.2f).ok());
            EXPECT_TRUE(got.intact());
            // Selection ops are exact; sigmoid's polynomial exp is within a few ulp of 1.
            const double tol = act == ops::Activation::kSigmoid ? 4 * FLT_EPSILON : 0.0;
            EXPECT_TRUE(test::all_close(got.data(), ref.data(), s, tol, "activation"));
            // In place gives the same result.
            ASSERT_TRUE(ops::activation(ctx, in.cview(), in.view(), act, 0.2f).ok());
            EXPECT_TRUE(test::all_close(in.data(), got.data(), s, 0.0, "in place"));
        }
    }
}

TEST_P(ElementwiseTest, ArithmeticMatchesReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam(), 2);
    for (const Shape& s : edge_shapes()) {
        SCOPED_TRACE(s.str());
        Guarded x(s), y(s), got(s), ref(s);
        rng.fill_edgy(x.data(), x.numel());
        rng.fill_edgy(y.data(), y.numel());
        // x * 0.2 + y, SSR's residual scaling: (a*x) + (b*y) rounds like float, so compare
        // with one float rounding of slack against the double oracle.
        ops::ref::add_scaled(x.cview(), 0.2f, y.cview(), 1.0f, ref.view());
        ASSERT_TRUE(ops::add_scaled(ctx, x.cview(), 0.2f, y.cview(), 1.0f, got.view()).ok());
        EXPECT_TRUE(got.intact());
        EXPECT_TRUE(test::all_close(got.data(), ref.data(), s, 64 * FLT_EPSILON, "add_scaled"));
        // Per-channel and per-pixel gates are single products: exact.
        auto scales = rng.vec(s.n * s.c);
        ops::ref::mul_channels(x.cview(), scales.data(), ref.view());
        ASSERT_TRUE(ops::mul_channels(ctx, x.cview(), scales.data(), got.view()).ok());
        EXPECT_TRUE(test::all_close(got.data(), ref.data(), s, 0.0, "mul_channels"));
        Guarded g(Shape{s.n, 1, s.h, s.w});
        rng.fill(g.data(), g.numel(), 0.0f, 1.0f);
        ops::ref::mul_pixels(x.cview(), g.cview(), ref.view());
        ASSERT_TRUE(ops::mul_pixels(ctx, x.cview(), g.cview(), got.view()).ok());
        EXPECT_TRUE(test::all_close(got.data(), ref.data(), s, 0.0, "mul_pixels"));
        ASSERT_TRUE(ops::scale(ctx, x.cview(), 0.5f, got.view()).ok());
        for (int64_t i = 0; i < s.numel(); ++i) ASSERT_EQ(got.data()[i], x.data()[i] * 0.5f);
        EXPECT_TRUE(got.intact());
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, ElementwiseTest, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

// PReLU (the compact SR graph's activation): one slope per channel, in place or not, on every
// edge shape, against its definition; row windows give the same values as the whole tensor.
TEST(Prelu, MatchesItsDefinitionOnEveryShape) {
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const ops::Context ctx = test::context_for(Isa::kScalar, 2);
    for (const Shape& s : edge_shapes()) {
        SCOPED_TRACE(s.str());
        Guarded in(s), got(s);
        rng.fill_edgy(in.data(), in.numel());
        std::vector<float> slopes(static_cast<size_t>(s.c));
        rng.fill_edgy(slopes.data(), s.c);
        ASSERT_TRUE(ops::prelu(ctx, in.cview(), slopes.data(), got.view()).ok());
        EXPECT_TRUE(got.intact());
        const int64_t plane = s.h * s.w;
        for (int64_t i = 0; i < in.numel(); ++i) {
            const float x = in.data()[i], a = slopes[static_cast<size_t>((i / plane) % s.c)];
            ASSERT_EQ(got.data()[i], x > 0.0f ? x : a * x) << i;
        }
        if (s.n == 1 && s.h > 2) {  // a window of rows [1, h - 1), in place
            Guarded win(s);
            std::copy(in.data(), in.data() + in.numel(), win.data());
            Rows r = rows_of(win.view());
            r.data = win.data() + r.w;
            r.row0 = 1;
            r.rows = s.h - 2;
            ops::prelu_rows(ctx, r, slopes.data());
            for (int64_t c = 0; c < s.c; ++c)
                for (int64_t y = 1; y < s.h - 1; ++y)
                    for (int64_t x = 0; x < s.w; ++x) {
                        const int64_t i = c * plane + y * s.w + x;
                        ASSERT_EQ(win.data()[i], got.data()[i]);
                    }
        }
    }
    EXPECT_FALSE(ops::prelu(ctx, Guarded(Shape{1, 2, 2, 2}).cview(), nullptr,
                            Guarded(Shape{1, 2, 2, 2}).view())
                     .ok());
}

TEST(ElementwiseErrors, RejectMismatchedShapes) {
    const auto ctx = test::context_for(Isa::kScalar);
    auto a = Tensor::create({1, 2, 3, 4}).value(), b = Tensor::create({1, 2, 4, 3}).value();
    Status st = ops::add(ctx, a, b, a);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("[1, 2, 4, 3]"), std::string::npos) << st.message();
    EXPECT_FALSE(ops::activation(ctx, a, b, ops::Activation::kRelu).ok());
    EXPECT_FALSE(ops::mul_pixels(ctx, a, a, a).ok());  // gate must have one channel
    EXPECT_FALSE(ops::mul_channels(ctx, a, nullptr, a).ok());
    TensorView null_view{nullptr, Shape{1, 1, 1, 1}};
    EXPECT_FALSE(ops::scale(ctx, null_view, 1.0f, null_view).ok());
}

}  // namespace
}  // namespace lucent
