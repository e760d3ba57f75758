// Plan once, run without allocating: a planned stream allocates exactly its arena (one
// allocation of the plan's bytes, the whole live peak of the run), and the public working-memory
// figures are upper bounds of what a run really holds at its peak, for streaming and whole-image
// models alike. Measured with the engine's allocation counters (engine/alloc_stats.h).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "api/plan_cache.h"
#include "engine/alloc_stats.h"
#include "lucent/lucent.hpp"
#include "models/graph.h"
#include "tests/util/rng.h"
#include "weights/weight_file.h"

namespace lucent {
namespace {

std::string fixture(const std::string& name) {
    return std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + name + ".lcw";
}

uint64_t rounded(uint64_t bytes) {
    return (bytes + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
}

TEST(PlanMemory, AStreamAllocatesOnlyItsArena) {
    const ops::KernelTable& k = ops::kernels();
    for (const char* name : {"ssr_nearest_x4", "red_bins1236"}) {
        Result<weights::WeightFile> wf = weights::WeightFile::open(fixture(name));
        ASSERT_TRUE(wf.ok());
        Result<std::unique_ptr<models::Graph>> g = models::load_graph(wf.value(), k, {});
        ASSERT_TRUE(g.ok());
        test::Rng rng(3);
        for (const Shape& s : {Shape{1, 3, 40, 9}, Shape{1, 3, 13, 31}}) {
            for (int64_t stripe : {1, 4, 16, 1000}) {
                for (models::StreamMode mode :
                     {models::StreamMode::kStream, models::StreamMode::kKeep,
                      models::StreamMode::kWhole}) {
                    SCOPED_TRACE(std::string(name) + " " + s.str() + " stripe " +
                                 std::to_string(stripe) + " mode " +
                                 std::to_string(static_cast<int>(mode)));
                    Result<std::unique_ptr<models::StreamRun>> plan =
                        g.value()->plan_stream(s, stripe, 2, mode);
                    ASSERT_TRUE(plan.ok()) << plan.status().message();
                    Shape os;
                    ASSERT_TRUE(g.value()->output_shape(s, &os).ok());
                    std::vector<float> in(static_cast<size_t>(s.numel())),
                        out(static_cast<size_t>(os.numel()));
                    rng.fill(in.data(), s.numel(), 0.0f, 1.0f);
                    ops::Context ctx;
                    ctx.k = &k;
                    ctx.num_threads = 2;
                    const models::RowSource source = [&](Rows d) -> Status {
                        for (int64_t c = 0; c < d.c; ++c)
                            for (int64_t y = d.row0; y < d.end(); ++y)
                                std::copy(&in[static_cast<size_t>((c * s.h + y) * s.w)],
                                          &in[static_cast<size_t>((c * s.h + y + 1) * s.w)],
                                          d.row(c, y));
                        return Status();
                    };
                    const models::RowSink sink = [&](ConstRows r) -> Status {
                        for (int64_t c = 0; c < r.c; ++c)
                            for (int64_t y = r.row0; y < r.end(); ++y)
                                std::copy(r.row(c, y), r.row(c, y) + os.w,
                                          &out[static_cast<size_t>((c * os.h + y) * os.w)]);
                        return Status();
                    };
                    const alloc_stats::Snapshot before = alloc_stats::now();
                    alloc_stats::reset_peak();
                    ASSERT_TRUE(plan.value()->run(ctx, source, sink).ok());
                    const alloc_stats::Snapshot after = alloc_stats::now();
                    EXPECT_EQ(after.allocations - before.allocations,
                              1u);  // the arena, nothing else
                    const uint64_t arena = rounded(plan.value()->bytes());
                    EXPECT_EQ(after.peak_bytes - before.live_bytes, arena);
                    EXPECT_EQ(after.live_bytes - before.live_bytes, arena);  // the plan keeps it
                    // A second run of the plan allocates nothing and gives the same bits.
                    const std::vector<float> first = out;
                    std::fill(out.begin(), out.end(), -1.0f);
                    ASSERT_TRUE(plan.value()->run(ctx, source, sink).ok());
                    const alloc_stats::Snapshot again = alloc_stats::now();
                    EXPECT_EQ(again.allocations, after.allocations);
                    EXPECT_EQ(again.peak_bytes, after.peak_bytes);
                    EXPECT_EQ(0, std::memcmp(first.data(), out.data(), out.size() * 4));
                    plan.value().reset();
                    EXPECT_EQ(alloc_stats::now().live_bytes, before.live_bytes);
                }
            }
        }
    }
}

// The public figure against the real peak of run_image, for every fixture model and each kind
// of plan it takes (streams; RED kept; channel-attention SSR's whole-image plan).
TEST(PlanMemory, WorkingBytesBoundTheRealPeak) {
    for (const char* name : {"ssr_nearest_x4", "ssr_pixelshuffle_x3", "ssr_unshuffle2_ca",
                             "red_bins1236", "red_nobins"}) {
        for (int threads : {1, 2}) {
            SCOPED_TRACE(std::string(name) + ", " + std::to_string(threads) + " threads");
            Options opt;
            opt.num_threads = threads;
            Result<Model> m = Model::load(fixture(name), opt);
            ASSERT_TRUE(m.ok());
            const int64_t w = 37, h = 29;
            std::vector<uint8_t> in(static_cast<size_t>(w * h * 4));
            for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i * 31 % 251);
            ImageSize os;
            ASSERT_TRUE(m.value().output_image_size(w, h, 4, &os).ok());
            std::vector<uint8_t> out(image_buffer_bytes(os, PixelType::kU8));
            Result<uint64_t> need = m.value().image_working_bytes(w, h, 4);
            ASSERT_TRUE(need.ok());
            const alloc_stats::Snapshot before = alloc_stats::now();
            alloc_stats::reset_peak();
            ASSERT_TRUE(
                m.value()
                    .run_image(ConstImageView{in.data(), in.size(), w, h, 4, PixelType::kU8, 0},
                               ImageView{out.data(), out.size(), os.width, os.height, 4,
                                         PixelType::kU8, 0})
                    .ok());
            const uint64_t peak = alloc_stats::now().peak_bytes - before.live_bytes;
            EXPECT_LE(peak, need.value());
            EXPECT_GE(peak, need.value() / 2)
                << "the figure overstates the peak: " << peak << " of " << need.value();
        }
    }
}

// An RGBA image of w x h (samples from `seed`) through m, as 8-bit RGBA.
std::vector<uint8_t> run_rgba(const Model& m, int64_t w, int64_t h, uint32_t seed) {
    std::vector<uint8_t> in(static_cast<size_t>(w * h * 4));
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>((i * 31 + seed) % 251);
    ImageSize os;
    EXPECT_TRUE(m.output_image_size(w, h, 4, &os).ok());
    std::vector<uint8_t> out(image_buffer_bytes(os, PixelType::kU8));
    const Status st =
        m.run_image(ConstImageView{in.data(), in.size(), w, h, 4, PixelType::kU8, 0},
                    ImageView{out.data(), out.size(), os.width, os.height, 4, PixelType::kU8, 0});
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
}

// Options::keep_working_memory: a second run of the same size takes the first run's plan and
// arena (no arena allocated: its peak stays below the arena's size), gives the same bits as a
// model that keeps nothing, whatever other sizes and images ran in between; the kept memory is
// what stays live after a run, and release_working_memory() frees it.
TEST(PlanMemory, KeptPlansRunAgainWithoutAllocatingAndGiveTheSameBits) {
    for (const char* name : {"ssr_nearest_x4", "ssr_unshuffle2_ca", "red_bins1236"}) {
        SCOPED_TRACE(name);
        Options keep, fresh;
        keep.num_threads = fresh.num_threads = 2;
        fresh.keep_working_memory = false;
        Result<Model> mk = Model::load(fixture(name), keep);
        Result<Model> mf = Model::load(fixture(name), fresh);
        ASSERT_TRUE(mk.ok() && mf.ok());
        const Model& k = mk.value();
        const Model& f = mf.value();

        const alloc_stats::Snapshot start = alloc_stats::now();
        const std::vector<uint8_t> want = run_rgba(f, 37, 29, 1);
        EXPECT_EQ(alloc_stats::now().live_bytes, start.live_bytes) << "kept without the option";

        EXPECT_EQ(run_rgba(k, 37, 29, 1), want);
        const uint64_t kept = alloc_stats::now().live_bytes - start.live_bytes;
        Result<uint64_t> need = k.working_bytes(Dims{1, 3, 29, 37});
        ASSERT_TRUE(need.ok());
        EXPECT_GE(kept, need.value()) << "the arena is kept";

        (void)run_rgba(k, 23, 41, 7);  // another size and image in between
        (void)run_rgba(k, 37, 29, 9);
        const alloc_stats::Snapshot before = alloc_stats::now();
        alloc_stats::reset_peak();
        EXPECT_EQ(run_rgba(k, 37, 29, 1), want);
        EXPECT_LT(alloc_stats::now().peak_bytes - before.live_bytes, need.value())
            << "the second run of a size allocated an arena again";

        k.release_working_memory();
        EXPECT_EQ(alloc_stats::now().live_bytes, start.live_bytes);
        EXPECT_EQ(run_rgba(k, 37, 29, 1), want);
    }
}

// The cache's cap counts the plans lent to runs: with one plan still out, a plan given back is
// kept only if both fit the cap; once nothing is out, one fitting plan is kept; a plan over the
// cap never is, and take() finds only its own key.
TEST(PlanMemory, KeptPlansAndRunningOnesStayWithinTheCap) {
    Result<weights::WeightFile> wf = weights::WeightFile::open(fixture("ssr_nearest_x4"));
    ASSERT_TRUE(wf.ok());
    Result<std::unique_ptr<models::Graph>> g = models::load_graph(wf.value(), ops::kernels(), {});
    ASSERT_TRUE(g.ok());
    const Shape s{1, 3, 13, 31};
    const PlanKey key{3, 13, 31, 0, 2, false}, other{3, 13, 32, 0, 2, false};
    auto plan = [&]() {
        Result<std::unique_ptr<models::StreamRun>> p = g.value()->plan_stream(s, 8, 2);
        EXPECT_TRUE(p.ok());
        return std::move(p).value();
    };
    const uint64_t b = plan()->bytes();
    for (const double plans : {1.5, 2.5, 0.5}) {
        SCOPED_TRACE(plans);
        PlanCache cache;
        cache.set_cap(static_cast<uint64_t>(plans * static_cast<double>(b)));
        {
            PlanLease first(&cache, key, plan());
            { PlanLease second(&cache, key, plan()); }
            EXPECT_EQ(cache.idle_bytes(), plans > 2 ? b : 0) << "while one plan is out";
        }
        const uint64_t want = plans > 2 ? 2 * b : plans > 1 ? b : 0;
        EXPECT_EQ(cache.idle_bytes(), want);
        EXPECT_EQ(cache.take(other), nullptr);
        EXPECT_EQ(cache.take(key) != nullptr, want > 0);
    }
}

// Concurrent runs of one model each get a plan of their own (a kept plan is lent to one run at
// a time) and the same bits as one at a time.
TEST(PlanMemory, ConcurrentRunsOfOneSizeShareNoPlan) {
    Options opt;
    opt.num_threads = 1;
    Result<Model> m = Model::load(fixture("red_bins1236"), opt);
    ASSERT_TRUE(m.ok());
    const std::vector<uint8_t> want = run_rgba(m.value(), 31, 17, 3);
    std::vector<std::vector<uint8_t>> got(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < got.size(); ++t)
        threads.emplace_back([&, t] {
            for (int rep = 0; rep < 3; ++rep) got[t] = run_rgba(m.value(), 31, 17, 3);
        });
    for (std::thread& t : threads) t.join();
    for (const std::vector<uint8_t>& g : got) EXPECT_EQ(g, want);
}

}  // namespace
}  // namespace lucent
