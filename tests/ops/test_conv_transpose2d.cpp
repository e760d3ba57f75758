// ConvTranspose2d against the scatter-form oracle, every tier, randomized shapes including
// RED's 4x4 / stride 2 / padding 1 upsampler, output_padding, dilation and thread invariance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/conv_transpose2d.h"
#include "ops/ref.h"
#include "tests/util/compare.h"
#include "tests/util/guarded.h"
#include "tests/util/isa_param.h"
#include "tests/util/rng.h"

namespace lucent {
namespace {

using test::Guarded;
using test::Rng;

void check(Isa isa, const ops::ConvTranspose2dParams& p, const Shape& is, Rng& rng,
           int threads = 1) {
    SCOPED_TRACE(::testing::Message()
                 << isa_name(isa) << " in " << is.str() << " out_ch " << p.out_ch << " k "
                 << p.kernel_h << "x" << p.kernel_w << " s " << p.stride_h << "," << p.stride_w
                 << " pad " << p.pad_h << "," << p.pad_w << " opad " << p.output_padding_h << ","
                 << p.output_padding_w << " d " << p.dilation_h << "," << p.dilation_w);
    Shape os;
    ASSERT_TRUE(ops::conv_transpose2d_output_shape(p, is, &os).ok());
    auto w = rng.vec(p.in_ch * p.out_ch * p.kernel_h * p.kernel_w), b = rng.vec(p.out_ch);
    Guarded in(is), got(os), ref(os);
    rng.fill_edgy(in.data(), in.numel());
    ops::ref::conv_transpose2d(p, in.cview(), w.data(), b.data(), ref.view());
    auto op = ops::ConvTranspose2d::create(p, w.data(), b.data(), ops::kernels_for(isa));
    ASSERT_TRUE(op.ok()) << op.status().to_string();
    const Status st = op.value().run(test::context_for(isa, threads), in.cview(), got.view());
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_TRUE(got.intact());
    const double tol = test::sum_tolerance(p.in_ch * p.kernel_h * p.kernel_w + 1,
                                           test::max_abs(in.data(), in.numel()), 1.0);
    EXPECT_TRUE(test::all_close(got.data(), ref.data(), os, tol, "conv_transpose2d"));
}

class ConvTranspose2dTest : public ::testing::TestWithParam<Isa> {};

TEST_P(ConvTranspose2dTest, MatchesReferenceOnRandomShapes) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const std::vector<int64_t> ch = {1, 3, 5, 8, 9, 13, 17};
    for (int i = 0; i < 40; ++i) {
        ops::ConvTranspose2dParams p;
        p.in_ch = rng.pick(ch);
        p.out_ch = rng.pick(ch);
        p.kernel_h = rng.uniform_int(1, 5);
        p.kernel_w = rng.uniform_int(1, 5);
        p.stride_h = rng.uniform_int(1, 3);
        p.stride_w = rng.uniform_int(1, 3);
        p.dilation_h = rng.uniform_int(1, 2);
        p.dilation_w = rng.uniform_int(1, 2);
        p.pad_h = rng.uniform_int(0, 2);
        p.pad_w = rng.uniform_int(0, 2);
        p.output_padding_h = rng.uniform_int(0, std::max(p.stride_h, p.dilation_h) - 1);
        p.output_padding_w = rng.uniform_int(0, std::max(p.stride_w, p.dilation_w) - 1);
        p.act = static_cast<ops::Activation>(rng.uniform_int(0, 2));
        const Shape is{rng.uniform_int(1, 2), p.in_ch, rng.uniform_int(1, 17),
                       rng.uniform_int(1, 23)};
        Shape os;
        if (!ops::conv_transpose2d_output_shape(p, is, &os).ok()) continue;
        check(GetParam(), p, is, rng);
    }
}

TEST_P(ConvTranspose2dTest, RedUpsamplerShapeAndThreads) {
    LUCENT_REQUIRE_ISA(GetParam());
    Rng rng(test::test_seed());
    ops::ConvTranspose2dParams p;
    p.in_ch = 32;
    p.out_ch = 16;
    p.kernel_h = p.kernel_w = 4;
    p.stride_h = p.stride_w = 2;
    p.pad_h = p.pad_w = 1;
    p.act = ops::Activation::kLeakyRelu;
    check(GetParam(), p, Shape{1, 32, 9, 13}, rng);
    check(GetParam(), p, Shape{2, 32, 1, 1}, rng, 2);
    // Bitwise equality across thread counts.
    auto w = rng.vec(32 * 16 * 16), b = rng.vec(16);
    auto op =
        ops::ConvTranspose2d::create(p, w.data(), b.data(), ops::kernels_for(GetParam())).value();
    auto in = Tensor::create({1, 32, 11, 7}).value();
    rng.fill(in.data(), in.numel());
    Shape os;
    ASSERT_TRUE(ops::conv_transpose2d_output_shape(p, in.shape(), &os).ok());
    auto a = Tensor::create(os).value(), c = Tensor::create(os).value();
    ASSERT_TRUE(op.run(test::context_for(GetParam(), 1), in, a).ok());
    ASSERT_TRUE(op.run(test::context_for(GetParam(), 3), in, c).ok());
    EXPECT_TRUE(test::all_close(c.data(), a.data(), os, 0.0, "threads"));
}

// The RED upsampler runs as one Winograd 3x3 convolution to 4 * out_ch channels: every row
// window (any start, so windows that cut its 4-row tiles anywhere) gives the whole image's bits.
TEST_P(ConvTranspose2dTest, WinogradUpsamplerRowWindowsGiveTheWholeImageBits) {
    LUCENT_REQUIRE_ISA(GetParam());
    Rng rng(test::test_seed());
    LUCENT_SCOPED_SEED(test::test_seed());
    const auto p = ops::ConvTranspose2dParams::up2x(24, 13, ops::Activation::kLeakyRelu);
    const int64_t h = 11, w = 9;
    auto wt = rng.vec(24 * 13 * 16), b = rng.vec(13), in = rng.vec(24 * h * w);
    auto op =
        ops::ConvTranspose2d::create(p, wt.data(), b.data(), ops::kernels_for(GetParam())).value();
    ASSERT_TRUE(op.uses_winograd());
    const ConstRows src{in.data(), 24, h, w, 0, h, h * w};
    const int64_t oh = 2 * h, ow = 2 * w;
    std::vector<float> whole(static_cast<size_t>(13 * oh * ow));
    ASSERT_TRUE(op.run_rows(test::context_for(GetParam(), 1), src,
                            Rows{whole.data(), 13, oh, ow, 0, oh, oh * ow}, nullptr)
                    .ok());
    for (int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{5}, int64_t{8}, int64_t{13}}) {
        for (int threads : {1, 2}) {
            std::vector<float> got(whole.size(), std::nanf(""));
            for (int64_t y0 = 0; y0 < oh; y0 += chunk) {
                const int64_t y1 = std::min(oh, y0 + chunk);
                int64_t lo = 0, hi = 0;
                op.input_rows(y0, y1, h, &lo, &hi);
                // Only the rows input_rows() names, as the stream gives them.
                const ConstRows part{in.data() + lo * w, 24, h, w, lo, hi - lo, h * w};
                Rows dst{got.data() + y0 * ow, 13, oh, ow, y0, y1 - y0, oh * ow};
                const Status st =
                    op.run_rows(test::context_for(GetParam(), threads), part, dst, nullptr);
                ASSERT_TRUE(st.ok()) << st.message();
            }
            EXPECT_EQ(0, std::memcmp(got.data(), whole.data(), got.size() * sizeof(float)))
                << "chunks of " << chunk << ", " << threads << " threads";
        }
    }
    // Too few channels for Winograd: the per-phase kernels.
    const auto small = ops::ConvTranspose2dParams::up2x(8, 3, ops::Activation::kNone);
    EXPECT_FALSE(
        ops::ConvTranspose2d::create(small, wt.data(), b.data(), ops::kernels_for(GetParam()))
            .value()
            .uses_winograd());
}

INSTANTIATE_TEST_SUITE_P(AllIsas, ConvTranspose2dTest, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(ConvTranspose2dErrors, RejectsBadArguments) {
    ops::ConvTranspose2dParams p;
    p.in_ch = 2;
    p.out_ch = 2;
    p.kernel_h = p.kernel_w = 3;
    p.stride_h = p.stride_w = 2;
    p.output_padding_h = 2;  // must be < max(stride, dilation)
    std::vector<float> w(2 * 2 * 9, 0.0f);
    auto r = ops::ConvTranspose2d::create(p, w.data(), nullptr, ops::kernels_for(Isa::kScalar));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("output_padding_h"), std::string::npos);
    p.output_padding_h = 0;
    p.pad_h = p.pad_w = 5;
    Shape os;
    EXPECT_FALSE(ops::conv_transpose2d_output_shape(p, Shape{1, 2, 1, 1}, &os).ok());
}

}  // namespace
}  // namespace lucent
