// Channel attention (SSR CA: avg; RED: avg + max) and spatial attention (RED) against the
// double-precision oracle, with channel counts that are not multiples of the vector width.
#include <gtest/gtest.h>

#include <cfloat>
#include <vector>

#include "ops/attention.h"
#include "ops/ref.h"
#include "tests/util/compare.h"
#include "tests/util/guarded.h"
#include "tests/util/isa_param.h"
#include "tests/util/rng.h"

namespace lucent {
namespace {

using test::Guarded;
using test::Rng;

class AttentionTest : public ::testing::TestWithParam<Isa> {};

TEST_P(AttentionTest, ChannelAttentionMatchesReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    const auto ctx = test::context_for(GetParam(), 2);
    for (int64_t c : {1, 3, 13, 17, 64}) {
        for (auto pooling : {ops::ChannelPooling::kAvg, ops::ChannelPooling::kAvgPlusMax}) {
            const int64_t hidden = c >= 16 ? c / 16 : 1;
            const Shape s{2, c, 7, 13};
            SCOPED_TRACE(::testing::Message()
                         << s.str() << " pooling " << static_cast<int>(pooling));
            auto w1 = rng.vec(hidden * c), b1 = rng.vec(hidden), w2 = rng.vec(c * hidden),
                 b2 = rng.vec(c);
            Guarded in(s), got(s), ref(s);
            rng.fill_edgy(in.data(), in.numel());
            ops::ref::channel_attention(in.cview(), hidden, w1.data(), b1.data(), w2.data(),
                                        b2.data(), pooling, ref.view());
            auto ca = ops::ChannelAttention::create(c, hidden, w1.data(), b1.data(), w2.data(),
                                                    b2.data(), pooling);
            ASSERT_TRUE(ca.ok()) << ca.status().to_string();
            ASSERT_TRUE(ca.value().run(ctx, in.cview(), got.view()).ok());
            EXPECT_TRUE(got.intact());
            const double tol =
                test::sum_tolerance(s.plane() + 2 * c, test::max_abs(in.data(), in.numel()), 1.0);
            EXPECT_TRUE(test::all_close(got.data(), ref.data(), s, tol, "channel_attention"));
        }
    }
}

TEST_P(AttentionTest, SpatialAttentionMatchesReference) {
    LUCENT_REQUIRE_ISA(GetParam());
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    Rng rng(seed);
    for (int threads : {1, 2}) {
        const auto ctx = test::context_for(GetParam(), threads);
        for (const Shape& s :
             {Shape{1, 1, 1, 1}, Shape{1, 3, 7, 9}, Shape{2, 17, 13, 19}, Shape{1, 64, 8, 33}}) {
            for (int64_t k : {3, 7}) {
                SCOPED_TRACE(::testing::Message() << s.str() << " k " << k);
                auto w = rng.vec(2 * k * k), b = rng.vec(1);
                Guarded in(s), got(s), ref(s);
                rng.fill_edgy(in.data(), in.numel());
                ops::ref::spatial_attention(in.cview(), k, w.data(), b.data(), ref.view());
                auto sa = ops::SpatialAttention::create(k, w.data(), b.data(),
                                                        ops::kernels_for(GetParam()));
                ASSERT_TRUE(sa.ok()) << sa.status().to_string();
                ASSERT_TRUE(sa.value().run(ctx, in.cview(), got.view()).ok());
                EXPECT_TRUE(got.intact());
                const double tol =
                    test::sum_tolerance(2 * k * k + s.c, test::max_abs(in.data(), in.numel()), 1.0);
                EXPECT_TRUE(test::all_close(got.data(), ref.data(), s, tol, "spatial_attention"));
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, AttentionTest, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(AttentionErrors, RejectBadArguments) {
    std::vector<float> w(64, 0.1f);
    EXPECT_FALSE(ops::ChannelAttention::create(0, 1, w.data(), nullptr, w.data(), nullptr,
                                               ops::ChannelPooling::kAvg)
                     .ok());
    EXPECT_FALSE(ops::ChannelAttention::create(4, 1, nullptr, nullptr, w.data(), nullptr,
                                               ops::ChannelPooling::kAvg)
                     .ok());
    auto sa = ops::SpatialAttention::create(4, w.data(), nullptr, ops::kernels_for(Isa::kScalar));
    EXPECT_EQ(sa.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(sa.status().message().find("odd"), std::string::npos);
    auto ca = ops::ChannelAttention::create(4, 1, w.data(), nullptr, w.data(), nullptr,
                                            ops::ChannelPooling::kAvg)
                  .value();
    auto t = Tensor::create({1, 5, 2, 2}).value();
    Status st = ca.run(test::context_for(Isa::kScalar), t, t);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("5 channels"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace lucent
