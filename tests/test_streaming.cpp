// Streaming execution (models/stream.h): every stripe height gives the same bits as the
// whole-image path, for every thread count and tier; the plan's arena is what run() uses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "models/graph.h"
#include "tests/util/isa_param.h"
#include "tests/util/rng.h"
#include "weights/weight_file.h"

#ifndef LUCENT_GOLDEN_MODELS_DIR
#error "LUCENT_GOLDEN_MODELS_DIR must name the committed fixture folder"
#endif

namespace lucent {
namespace {

std::unique_ptr<models::Graph> load(const std::string& name, const ops::KernelTable& k) {
    Result<weights::WeightFile> wf =
        weights::WeightFile::open(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + name + ".lcw");
    EXPECT_TRUE(wf.ok()) << wf.status().message();
    Result<std::unique_ptr<models::Graph>> g = models::load_graph(wf.value(), k, {});
    EXPECT_TRUE(g.ok()) << g.status().message();
    return std::move(g).value();
}

std::vector<float> run(const models::Graph& g, const ops::Context& ctx, const Tensor& in,
                       int64_t stripe) {
    Shape os;
    EXPECT_TRUE(g.output_shape(in.shape(), &os).ok());
    Result<Tensor> out = Tensor::create(os);
    EXPECT_TRUE(out.ok());
    const Status st = g.run(ctx, in, out.value(), stripe);
    EXPECT_TRUE(st.ok()) << st.message();
    return std::vector<float>(out.value().data(), out.value().data() + os.numel());
}

// As run(), through a plan of the given mode (RED's kKeep keeps its statistics' inputs).
std::vector<float> run_mode(const models::Graph& g, const ops::Context& ctx, const Tensor& in,
                            int64_t stripe, models::StreamMode mode) {
    Shape os;
    EXPECT_TRUE(g.output_shape(in.shape(), &os).ok());
    Result<Tensor> out = Tensor::create(os);
    EXPECT_TRUE(out.ok());
    const Shape one{1, in.shape().c, in.shape().h, in.shape().w};
    Result<std::unique_ptr<models::StreamRun>> plan =
        g.plan_stream(one, stripe, ctx.num_threads, mode);
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    if (!plan.ok()) return {};
    const Status st = g.run_planned(ctx, in, out.value(), plan.value().get());
    EXPECT_TRUE(st.ok()) << st.message();
    return std::vector<float>(out.value().data(), out.value().data() + os.numel());
}

class StreamingPerIsa : public ::testing::TestWithParam<Isa> {};

// Every stripe height and thread count (and, with `kept`, RED's kept stream too) against the
// whole-image plan, on random inputs of the given shapes.
void check_stripes(Isa isa, const std::vector<const char*>& names, const std::vector<Shape>& shapes,
                   bool kept) {
    const ops::KernelTable& k = ops::kernels_for(isa);
    const uint32_t seed = test::test_seed();
    LUCENT_SCOPED_SEED(seed);
    test::Rng rng(seed);
    for (const char* name : names) {
        const std::unique_ptr<models::Graph> g = load(name, k);
        for (const Shape& s : shapes) {
            SCOPED_TRACE(std::string(name) + " " + s.str());
            Result<Tensor> in = Tensor::create(s);
            ASSERT_TRUE(in.ok());
            rng.fill(in.value().data(), s.numel(), 0.0f, 1.0f);
            ops::Context one;
            one.k = &k;
            one.num_threads = 1;
            const std::vector<float> whole = run(*g, one, in.value(), models::Graph::kWholeImage);
            for (int threads : {1, 2, 3}) {
                ops::Context ctx = one;
                ctx.num_threads = threads;
                for (int64_t stripe : {1, 2, 3, 5, 8, 0}) {
                    EXPECT_EQ(run(*g, ctx, in.value(), stripe), whole)
                        << "stripe " << stripe << ", " << threads << " threads";
                    if (!kept) continue;
                    EXPECT_EQ(run_mode(*g, ctx, in.value(), stripe == 0 ? 64 : stripe,
                                       models::StreamMode::kKeep),
                              whole)
                        << "kept, stripe " << stripe << ", " << threads << " threads";
                }
            }
        }
    }
}

TEST_P(StreamingPerIsa, EveryStripeHeightIsBitIdenticalToTheWholeImage) {
    LUCENT_REQUIRE_ISA(GetParam());
    check_stripes(GetParam(), {"ssr_nearest_x4", "ssr_pixelshuffle_x3", "ssr_unshuffle2_ca"},
                  {Shape{1, 3, 1, 1}, Shape{1, 3, 2, 2}, Shape{1, 3, 9, 5}, Shape{2, 3, 7, 12}},
                  false);
}

// RED streams in passes (pooled statistics, the gate's statistics, then the output), with its
// statistics' inputs computed again in each pass or kept: the same bits either way, for every
// stripe height and thread count, odd sizes (reflection padded) and both pyramid variants.
TEST_P(StreamingPerIsa, RedPassesAreBitIdenticalToTheWholeImage) {
    LUCENT_REQUIRE_ISA(GetParam());
    check_stripes(GetParam(), {"red_bins1236", "red_nobins"},
                  {Shape{1, 3, 2, 2}, Shape{1, 3, 3, 3}, Shape{1, 3, 13, 6}, Shape{2, 3, 8, 11}},
                  true);
}

INSTANTIATE_TEST_SUITE_P(AllIsas, StreamingPerIsa, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(Streaming, PlanShrinksWithTheStripe) {
    const ops::KernelTable& k = ops::kernels();
    const std::unique_ptr<models::Graph> g = load("ssr_nearest_x4", k);
    const Shape s{1, 3, 200, 64};
    Result<std::unique_ptr<models::StreamRun>> small = g->plan_stream(s, 4, 1);
    Result<std::unique_ptr<models::StreamRun>> large = g->plan_stream(s, 800, 1);
    ASSERT_TRUE(small.ok() && large.ok());
    EXPECT_LT(small.value()->bytes() * 4, large.value()->bytes());
}

// Wide images compute in chunks of about models::kChunkPixels, whatever the stripe: the plan
// stops growing with the stripe, and the bits stay those of the whole image.
TEST(Streaming, WideImagesChunkByPixelsWithTheSameBits) {
    const ops::KernelTable& k = ops::kernels();
    const std::unique_ptr<models::Graph> g = load("ssr_nearest_x4", k);
    const Shape s{1, 3, 9, 4100};  // 16 input rows and 8 output rows make a chunk here
    Result<std::unique_ptr<models::StreamRun>> mid = g->plan_stream(s, 64, 2);
    Result<std::unique_ptr<models::StreamRun>> tall = g->plan_stream(s, 84, 2);
    ASSERT_TRUE(mid.ok() && tall.ok());
    EXPECT_EQ(mid.value()->bytes(), tall.value()->bytes());
    test::Rng rng(5);
    Result<Tensor> in = Tensor::create(s);
    ASSERT_TRUE(in.ok());
    rng.fill(in.value().data(), s.numel(), 0.0f, 1.0f);
    ops::Context ctx;
    ctx.k = &k;
    ctx.num_threads = 2;
    const std::vector<float> whole = run(*g, ctx, in.value(), models::Graph::kWholeImage);
    EXPECT_EQ(run(*g, ctx, in.value(), 0), whole);
    EXPECT_EQ(run(*g, ctx, in.value(), 7), whole);
}

}  // namespace
}  // namespace lucent
