// Red::build_stream: the RED graph of docs/GRAPHS.md as streaming nodes (models/stream.h).
//
// RED's statistics are global: the pyramid pools e2 over adaptive bins of the whole image and
// the channel gate takes the mean and max of the pyramid's output p over the whole image. So the
// image streams in up to three passes:
//   A. x -> e0 -> e1 -> e2, into the pooled sums of every bin; at the end the bins' means go
//      through the stage convs (a few values each).
//   B. x -> ... -> e2 and the upsampled stages -> p, into the gate's sum and max; at the end
//      the gate's MLP.
//   C. the whole graph to the output: p gated per channel, spatial attention (a k/2-row halo),
//      the deconvolution, dec1 plus the e0 skip, out, sigmoid.
// Reductions add rows in row order (ops/pool2d.h), so the bits do not depend on the stripe
// height or thread count (the whole-image plan is one stripe).
//
// Passes B and C compute e2 (and C computes p) again. With StreamMode::kKeep, the rows of e2 (with
// the upsampled stages beside it) and of p stay in pinned rings for the whole run instead: nothing
// is computed twice (but e0 for the skip, the cheapest layer), at about 3 bytes per output pixel
// per channel of c2 in memory.
#include <algorithm>
#include <array>
#include <limits>
#include <memory>

#include "engine/threading.h"
#include "models/red.h"
#include "models/stream_builder.h"
#include "ops/bilinear_sum.h"
#include "ops/pool2d.h"
#include "ops/reflect_pad.h"
#include "ops/upsample.h"

namespace lucent::models {
namespace {

// The input rows [*a, *b) that output rows [y0, y1) of a reflection pad (bottom and right only)
// read.
RowsFn mirrored_rows(int64_t in_h) {
    return [in_h](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
        *a = in_h;
        *b = 0;
        for (int64_t y = y0; y < y1; ++y) {
            const int64_t m = ops::mirror_index(y, in_h);
            *a = std::min(*a, m);
            *b = std::max(*b, m + 1);
        }
    };
}

class RedStreamBuilder : public StreamBuilder {
  public:
    using StreamBuilder::StreamBuilder;

    // Reflection pad of in_ring to out_ring's (even) size: bottom rows and right columns.
    int pad(int in_ring, int producer, int out_ring) {
        StreamNode n = node_into("pad", out_ring);
        const int64_t in_h = s_.ring(in_ring).height(), in_w = s_.ring(in_ring).width();
        n.inputs.push_back({producer, mirrored_rows(in_h), -1});
        Stream* s = &s_;
        n.run = [s, in_ring, out_ring, in_h, in_w](const ops::Context&, int64_t y0, int64_t y1,
                                                   float*) {
            const RowRing& src = s->ring(in_ring);
            const Rows dst = s->ring(out_ring).all_rows(y0, y1);
            for (int64_t c = 0; c < dst.c; ++c)
                for (int64_t y = y0; y < y1; ++y) {
                    const int64_t sy = ops::mirror_index(y, in_h);
                    const float* row = src.all_rows(sy, sy + 1).row(c, sy);
                    float* out = dst.row(c, y);
                    std::copy(row, row + in_w, out);
                    for (int64_t x = in_w; x < dst.w; ++x) out[x] = row[ops::mirror_index(x, in_w)];
                }
            return Status();
        };
        return s_.add_node(std::move(n));
    }

    // A node running an op's row form (input_rows() and run_rows(ctx, in, out, scratch), as
    // ops::SpatialAttention and ops::ConvTranspose2d have) from all channels of in_ring into
    // all channels of out_ring, in chunks of whole `step`s; traced as `op_name`.
    template <typename Op>
    int row_op(const std::string& name, const std::string& op_name, const Op* op, int in_ring,
               int producer, int out_ring, std::function<int64_t(int64_t, int)> scratch,
               int64_t step = 1) {
        StreamNode n = node_into(name, out_ring);
        n.step = step;
        n.traces.push_back({name, op_name});
        const int64_t in_h = s_.ring(in_ring).height();
        n.inputs.push_back({producer,
                            [op, in_h](int64_t y0, int64_t y1, int64_t* lo, int64_t* hi) {
                                op->input_rows(y0, y1, in_h, lo, hi);
                            },
                            -1});
        n.scratch = std::move(scratch);
        Stream* st = &s_;
        n.run = [st, op, in_ring, out_ring, in_h](const ops::Context& ctx, int64_t y0, int64_t y1,
                                                  float* scr) {
            int64_t lo = 0, hi = 0;
            op->input_rows(y0, y1, in_h, &lo, &hi);
            return op->run_rows(ctx, st->ring(in_ring).all_rows(lo, hi),
                                st->ring(out_ring).all_rows(y0, y1), scr);
        };
        return s_.add_node(std::move(n));
    }
};

}  // namespace

Result<std::unique_ptr<StreamRun>> Red::build_stream(const Shape& in, int64_t stripe_rows,
                                                     int threads, StreamMode mode) const {
    const RedConfig& c = cfg_;
    Shape os;
    LUCENT_RETURN_IF_ERROR(output_shape(in, &os));
    std::unique_ptr<StreamRun> sr(new StreamRun());
    RedStreamBuilder b(sr.get());
    Stream& s = b.stream();
    const int64_t h = in.h + in.h % 2, w = in.w + in.w % 2, h2 = h / 2, w2 = w / 2;
    const int64_t k = static_cast<int64_t>(c.bins.size()), q = c.c2 / 4;

    const int in_ring = s.add_ring(c.in_ch, in.h, in.w);
    int x_ring = in_ring, x_node = b.source(in_ring);
    if (h != in.h || w != in.w) {
        const int r = s.add_ring(c.in_ch, h, w);
        x_node = b.pad(in_ring, x_node, r);
        x_ring = r;
    }
    const int e0_ring = s.add_ring(c.c0, h, w);
    const int e0 = b.conv("enc0", enc0_, x_ring, 0, c.in_ch, {x_node}, e0_ring, 0);
    const int e1_ring = s.add_ring(c.c1, h2, w2);
    const int e1 = b.conv("down", down_, e0_ring, 0, c.c0, {e0}, e1_ring, 0);
    const int p_ring = s.add_ring(c.c2, h2, w2);
    // e2 is the first c2 channels of the pyramid's concatenation (or p itself without bins).
    // e2 alone when the fuse conv is split (split_fuse_): the stages are then added as ramps.
    const int cat_ring = k > 0 ? s.add_ring(split_fuse_ ? c.c2 : c.c2 + k * q, h2, w2) : p_ring;
    const int e2 = b.conv("enc2", enc2_, e1_ring, 0, c.c1, {e1}, cat_ring, 0);
    if (mode == StreamMode::kKeep) {
        s.ring(cat_ring).pin();
        s.ring(p_ring).pin();
    }
    std::vector<int> sinks;
    int p = e2;
    if (k > 0) {
        // Pass A: every bin's sums, then means and stage convs into persistent blocks.
        // Split fuse: parts[i] holds fuse_parts_[i] applied to stage i (c2 x bn x bn).
        std::vector<int> sums(static_cast<size_t>(k)), staged(static_cast<size_t>(k)),
            parts(static_cast<size_t>(k), -1);
        for (int64_t i = 0; i < k; ++i) {
            const int64_t bn = c.bins[static_cast<size_t>(i)];
            sums[static_cast<size_t>(i)] = s.add_block(c.c2 * bn * bn);
            staged[static_cast<size_t>(i)] = s.add_block(q * bn * bn);
            if (split_fuse_) parts[static_cast<size_t>(i)] = s.add_block(c.c2 * bn * bn);
        }
        Stream* st = &s;
        const RedConfig* cfg = &cfg_;
        const std::vector<ops::Conv2d>* stages = &stages_;
        const std::vector<ops::Conv2d>* fparts = &fuse_parts_;
        auto add = [st, cfg, sums](const ops::Context& ctx, ConstRows rows) {
            for (size_t i = 0; i < sums.size(); ++i) {
                const int64_t bn = cfg->bins[i];
                float* acc = st->block(sums[i]);
                if (rows.row0 == 0) std::fill(acc, acc + cfg->c2 * bn * bn, 0.0f);
                ops::adaptive_sum_rows(ctx, rows, bn, bn, acc);
            }
        };
        auto finish = [st, cfg, stages, fparts, sums, staged, parts, h2, w2, q](
                          const ops::Context& ctx, float* scratch) {
            for (size_t i = 0; i < sums.size(); ++i) {
                const int64_t bn = cfg->bins[i];
                float* mean = st->block(sums[i]);
                ops::adaptive_mean_finish(cfg->c2, h2, w2, bn, bn, mean);
                const ConstRows src{mean, cfg->c2, bn, bn, 0, bn, bn * bn};
                const Rows dst{st->block(staged[i]), q, bn, bn, 0, bn, bn * bn};
                LUCENT_RETURN_IF_ERROR((*stages)[i].run_rows(ctx, src, dst, scratch));
                if (ctx.trace != nullptr)
                    (*ctx.trace)("ppm.stages." + std::to_string(i),
                                 "adaptive_avg_pool+conv1x1+lrelu",
                                 ConstTensorView{dst.data, Shape{1, q, bn, bn}});
                if (parts[i] >= 0) {
                    const Rows part{st->block(parts[i]), cfg->c2, bn, bn, 0, bn, bn * bn};
                    LUCENT_RETURN_IF_ERROR((*fparts)[i].run_rows(ctx, dst, part, scratch));
                }
            }
            return Status();
        };
        auto scratch = [stages, fparts, cfg](int t) {
            int64_t most = 0;
            for (size_t i = 0; i < stages->size(); ++i) {
                const int64_t bn = cfg->bins[i];
                most = std::max(most, (*stages)[i].scratch_floats(bn, bn, t));
                if (i < fparts->size())
                    most = std::max(most, (*fparts)[i].scratch_floats(bn, bn, t));
            }
            return most;
        };
        const int pool = b.reduce("ppm.pool", cat_ring, e2, c.c2, add, finish, scratch);
        sinks.push_back(pool);
        if (split_fuse_) {
            // p = lrelu(fuse_e2_(e2) + sum_i resize(parts[i])): the ramps run on each chunk of
            // rows the conv wrote, while they are in cache.
            std::vector<ops::BilinearSum::MapSize> sizes;
            for (int64_t bn : c.bins) sizes.push_back({bn, bn});
            LUCENT_ASSIGN_OR_RETURN(ops::BilinearSum sum, ops::BilinearSum::create(sizes, h2, w2));
            auto plan = std::make_shared<const ops::BilinearSum>(std::move(sum));
            // The blocks' addresses are known only once the arena exists; at most 16 bins
            // (read_red_config), so they go on the stack and a run allocates nothing here.
            StreamBuilder::Epilogue add_stages = [st, plan, parts](const ops::Context& ctx,
                                                                   Rows dst) {
                std::array<const float*, ops::BilinearSum::kMaxMaps> maps{};
                for (size_t i = 0; i < parts.size(); ++i) maps[i] = st->block(parts[i]);
                return plan->add_rows(ctx, maps.data(), static_cast<int64_t>(parts.size()), dst,
                                      ops::Activation::kLeakyRelu, kSlope);
            };
            p = b.conv_then("ppm.fuse", "conv1x1+lrelu", fuse_e2_, cat_ring, 0, c.c2, {e2}, p_ring,
                            0, std::move(add_stages), {pool});
        } else {
            // The upsampled stages, written beside e2; then the fuse conv over the concatenation.
            std::vector<int> writers{e2};
            for (int64_t i = 0; i < k; ++i) {
                const int64_t bn = c.bins[static_cast<size_t>(i)];
                StreamNode n;
                n.name = "ppm.stages." + std::to_string(i);
                n.out_h = h2;
                n.ring = cat_ring;
                n.inputs.push_back({pool, all_rows_of(h2), -1});
                auto cols =
                    std::make_shared<const ops::BilinearColumns>(ops::bilinear_columns(bn, w2));
                const int blk = staged[static_cast<size_t>(i)];
                const int64_t ch0 = c.c2 + i * q;
                n.run = [st, blk, bn, q, cat_ring, ch0, cols](const ops::Context& ctx, int64_t y0,
                                                              int64_t y1, float*) {
                    const ConstTensorView stage{st->block(blk), Shape{1, q, bn, bn}};
                    ops::upsample_bilinear_rows(ctx, stage, *cols,
                                                st->ring(cat_ring).rows(ch0, q, y0, y1));
                    return Status();
                };
                writers.push_back(s.add_node(std::move(n)));
            }
            p = b.conv("ppm.fuse", fuse_, cat_ring, 0, c.c2 + k * q, writers, p_ring, 0);
        }
    }
    // Pass B: the channel gate's statistics of p, then its factors; pass C gates p.
    const StreamBuilder::Gate gate = b.channel_gate_stats("att.pool", p_ring, p, channel_att_);
    sinks.push_back(gate.node);
    const int g_ring = s.add_ring(c.c2, h2, w2);
    const int g = b.channel_gate("att.channel", p_ring, p, gate, g_ring);
    const int a_ring = s.add_ring(c.c2, h2, w2);
    const ops::SpatialAttention* sa = &spatial_att_;
    const int a =
        b.row_op("att", "dual_attention", sa, g_ring, g, a_ring,
                 [sa, w2](int64_t rows, int t) { return sa->scratch_floats(w2, rows, t); });
    const int d1_ring = s.add_ring(c.c1, h, w);
    const ops::ConvTranspose2d* up = &up_;
    const int d1 = b.row_op(
        "up", "deconv4x4s2+lrelu", up, a_ring, a, d1_ring,
        [up, w2](int64_t rows, int t) { return up->scratch_floats(w2, rows, t); }, up->row_step());
    const int d0_ring = s.add_ring(c.c0, h, w);
    const int d0 = b.conv("dec1", dec1_, d1_ring, 0, c.c1, {d1}, d0_ring, 0);
    const int sum_ring = s.add_ring(c.c0, h, w);
    const int skip = b.axpby("skip", d0_ring, {d0}, 1.0f, e0_ring, {e0}, 1.0f, sum_ring, c.c0);
    const int o_ring = s.add_ring(c.out_ch, h, w);
    const int o =
        b.conv("out", out_, sum_ring, 0, c.c0, {skip}, o_ring, 0, ops::Activation::kSigmoid);
    sinks.push_back(b.sink(o_ring, o, os.h, os.w));
    LUCENT_RETURN_IF_ERROR(s.plan(sinks, stripe_rows, threads, mode == StreamMode::kWhole));
    return sr;
}

}  // namespace lucent::models
