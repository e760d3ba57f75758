// The stream scheduler's chunking (models/stream.h): on synthetic nodes that only record what
// they are asked to compute, every node runs whole chunks of its cap (its chunk grid), however
// small the steps of the consumers that pull it, and the plan's arena suffices for the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/stream.h"
#include "models/stream_builder.h"

namespace lucent {
namespace {

using Chunks = std::map<std::string, std::vector<std::pair<int64_t, int64_t>>>;

// A 3-row window (a 3x3 convolution's halo) clipped to the producer's h rows.
models::RowsFn halo_rows(int64_t h) {
    return [h](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
        *a = std::max<int64_t>(y0 - 1, 0);
        *b = std::min(y1 + 1, h);
    };
}

// in -> `depth` halo layers at low resolution -> nearest x4 -> 2 halo layers -> sink. The low
// layers are 4096 columns wide (chunks capped at 16 rows by pixels), the high ones 16384 (4
// rows): pulled from the sink, the low layers would be asked one row at a time.
struct Pipeline {
    models::Stream s;
    Chunks chunks;
    int sink = -1;
    std::vector<std::string> low, high;

    Pipeline(int64_t low_h, int depth, int64_t step) {
        const int64_t low_w = 4096, high_w = 16384, r = 4;
        auto node = [this](const std::string& name, int ring, int64_t out_h, int64_t node_step,
                           std::vector<models::StreamNode::Input> inputs) {
            models::StreamNode n;
            n.name = name;
            n.ring = ring;
            n.out_h = out_h;
            n.step = node_step;
            n.inputs = std::move(inputs);
            Chunks* c = &chunks;
            n.run = [c, name](const ops::Context&, int64_t y0, int64_t y1, float*) {
                (*c)[name].emplace_back(y0, y1);
                return Status();
            };
            return s.add_node(std::move(n));
        };
        int ring = s.add_ring(1, low_h, low_w);
        int prev = node("input", ring, low_h, 1, {});
        for (int i = 0; i < depth; ++i) {
            const std::string name = "low" + std::to_string(i);
            ring = s.add_ring(1, low_h, low_w);
            prev = node(name, ring, low_h, step, {{prev, halo_rows(low_h), -1}});
            low.push_back(name);
        }
        const int64_t high_h = low_h * r;
        ring = s.add_ring(1, high_h, high_w);
        prev = node("up", ring, high_h, 1, {{prev, models::divided_rows(r), -1}});
        for (int i = 0; i < 2; ++i) {
            const std::string name = "high" + std::to_string(i);
            ring = s.add_ring(1, high_h, high_w);
            prev = node(name, ring, high_h, step, {{prev, halo_rows(high_h), -1}});
            high.push_back(name);
        }
        sink = node("sink", -1, high_h, 1, {{prev, models::same_rows(), -1}});
    }

    Status run(int64_t stripe) {
        LUCENT_RETURN_IF_ERROR(s.plan(sink, stripe, 1));
        std::vector<float> arena(static_cast<size_t>(std::max<int64_t>(s.arena_floats(), 1)));
        ops::Context ctx;
        ctx.num_threads = 1;
        chunks.clear();
        return s.run(ctx, arena.data());
    }
};

// Every chunk but the first (up to the node's phase) and the last (clipped at its height) is
// exactly `cap` rows, and the chunks tile [0, h).
void expect_grid(const std::vector<std::pair<int64_t, int64_t>>& c, int64_t cap, int64_t h,
                 const std::string& name) {
    SCOPED_TRACE(name);
    ASSERT_FALSE(c.empty());
    EXPECT_EQ(c.front().first, 0);
    EXPECT_EQ(c.back().second, h);
    for (size_t i = 0; i < c.size(); ++i) {
        if (i == 0) continue;
        EXPECT_EQ(c[i].first, c[i - 1].second);
        if (i + 1 < c.size()) {
            EXPECT_EQ(c[i].second - c[i].first, cap) << "chunk " << i;
        }
    }
}

TEST(StreamSchedule, EveryNodeRunsWholeChunksOfItsCap) {
    for (const int64_t step : {1, 2}) {
        SCOPED_TRACE("step " + std::to_string(step));
        Pipeline p(/*low_h=*/203, /*depth=*/12, step);
        const Status st = p.run(/*stripe=*/812);
        ASSERT_TRUE(st.ok()) << st.message();
        // Caps: 64k pixels per chunk (models::chunk_limit), whole steps.
        for (const std::string& n : p.low) expect_grid(p.chunks[n], 16, 203, n);
        for (const std::string& n : p.high) expect_grid(p.chunks[n], 4, 812, n);
        // A low layer is asked about 4 / 4 = 1 row per high chunk; whole chunks mean ~13 runs.
        EXPECT_LE(p.chunks["low0"].size(), 203u / 16 + 2);
    }
}

TEST(StreamSchedule, ShortStripesShortenTheChunks) {
    // A 40-row stripe of the 812-row sink is 10 rows of the low layers: their cap.
    Pipeline p(/*low_h=*/203, /*depth=*/12, /*step=*/2);
    ASSERT_TRUE(p.run(/*stripe=*/40).ok());
    for (const std::string& n : p.low) expect_grid(p.chunks[n], 10, 203, n);
}

}  // namespace
}  // namespace lucent
