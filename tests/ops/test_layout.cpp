// Data-movement ops (exact): pixel shuffle / unshuffle for r in {1, 2, 3, 4}, reflection pad,
// crop and channel concatenation, on every tier.
#include <gtest/gtest.h>

#include <vector>

#include "ops/concat.h"
#include "ops/pixel_shuffle.h"
#include "ops/ref.h"
#include "ops/reflect_pad.h"
#include "tests/util/compare.h"
#include "tests/util/guarded.h"
#include "tests/util/isa_param.h"
#include "tests/util/rng.h"

namespace lucent {
namespace {

using test::Guarded;
using test::Rng;

class LayoutTest : public ::testing::TestWithParam<Isa> {};

TEST_P(LayoutTest, PixelShuffleRoundTripsAndMatchesReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam(), 2);
    for (int64_t r : {1, 2, 3, 4}) {
        for (int64_t w : {1, 3, 7, 8, 9, 16, 17, 33}) {
            const Shape is{2, 3 * r * r, 5, w};
            SCOPED_TRACE(::testing::Message() << "r " << r << " in " << is.str());
            Shape os;
            ASSERT_TRUE(ops::pixel_shuffle_output_shape(is, r, &os).ok());
            Guarded in(is), got(os), ref(os), back(is);
            rng.fill_edgy(in.data(), in.numel());
            ops::ref::pixel_shuffle(in.cview(), r, ref.view());
            ASSERT_TRUE(ops::pixel_shuffle(ctx, in.cview(), r, got.view()).ok());
            EXPECT_TRUE(got.intact());
            EXPECT_TRUE(test::all_close(got.data(), ref.data(), os, 0.0, "pixel_shuffle"));
            Guarded ref_back(is);
            ops::ref::pixel_unshuffle(got.cview(), r, ref_back.view());
            ASSERT_TRUE(ops::pixel_unshuffle(ctx, got.cview(), r, back.view()).ok());
            EXPECT_TRUE(back.intact());
            EXPECT_TRUE(test::all_close(back.data(), ref_back.data(), is, 0.0, "pixel_unshuffle"));
            EXPECT_TRUE(test::all_close(back.data(), in.data(), is, 0.0, "round trip"));
        }
    }
}

TEST_P(LayoutTest, ReflectPadCropConcat) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam(), 2);
    for (int i = 0; i < 30; ++i) {
        const Shape is{rng.uniform_int(1, 2), rng.uniform_int(1, 5), rng.uniform_int(1, 9),
                       rng.uniform_int(1, 19)};
        // Half the cases stay within PyTorch's pad < size rule; the rest test the periodic mirror.
        const int64_t mh = i % 2 ? is.h - 1 : 2 * is.h + 3, mw = i % 2 ? is.w - 1 : 2 * is.w + 3;
        ops::Padding pad{rng.uniform_int(0, mh), rng.uniform_int(0, mh), rng.uniform_int(0, mw),
                         rng.uniform_int(0, mw)};
        SCOPED_TRACE(is.str());
        Shape os;
        ASSERT_TRUE(ops::reflect_pad_output_shape(is, pad, &os).ok());
        Guarded in(is), got(os), ref(os), cropped(is);
        rng.fill_edgy(in.data(), in.numel());
        ops::ref::reflect_pad(in.cview(), pad, ref.view());
        ASSERT_TRUE(ops::reflect_pad(ctx, in.cview(), pad, got.view()).ok());
        EXPECT_TRUE(got.intact());
        EXPECT_TRUE(test::all_close(got.data(), ref.data(), os, 0.0, "reflect_pad"));
        ASSERT_TRUE(ops::crop(ctx, got.cview(), pad.top, pad.left, cropped.view()).ok());
        EXPECT_TRUE(test::all_close(cropped.data(), in.data(), is, 0.0, "crop"));

        Guarded second(Shape{is.n, rng.uniform_int(1, 4), is.h, is.w});
        rng.fill(second.data(), second.numel());
        const ConstTensorView parts[] = {in.cview(), second.cview(), in.cview()};
        Shape cs;
        ASSERT_TRUE(ops::concat_output_shape(parts, 3, &cs).ok());
        Guarded cat(cs), cat_ref(cs);
        ops::ref::concat_channels(parts, 3, cat_ref.view());
        ASSERT_TRUE(ops::concat_channels(ctx, parts, 3, cat.view()).ok());
        EXPECT_TRUE(cat.intact());
        EXPECT_TRUE(test::all_close(cat.data(), cat_ref.data(), cs, 0.0, "concat"));
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, LayoutTest, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(LayoutErrors, RejectImpossibleShapes) {
    Shape os;
    Status st = ops::pixel_shuffle_output_shape(Shape{1, 6, 4, 4}, 2, &os);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("not divisible"), std::string::npos);
    EXPECT_FALSE(ops::pixel_unshuffle_output_shape(Shape{1, 3, 5, 4}, 2, &os).ok());
    EXPECT_FALSE(ops::pixel_shuffle_output_shape(Shape{1, 4, 4, 4}, 0, &os).ok());
    st = ops::reflect_pad_output_shape(Shape{1, 1, 3, 3}, ops::Padding{-1, 0, 0, 0}, &os);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("top = -1"), std::string::npos) << st.message();
    auto a = Tensor::create({1, 2, 3, 3}).value(), b = Tensor::create({1, 2, 3, 4}).value();
    const ConstTensorView parts[] = {a, b};
    EXPECT_FALSE(ops::concat_output_shape(parts, 2, &os).ok());
}

}  // namespace
}  // namespace lucent
