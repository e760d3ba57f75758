// Ssr::build_stream: the SSR graph of docs/GRAPHS.md as streaming nodes (models/stream.h).
//
// Rings (each holds only the rows still needed): the input rows, the unshuffled rows (when
// the model unshuffles), the trunk feature F (its rows wait for the whole body: the longest
// ring), each RRDB's input (held for its fifteen convs), one dense ring per RDB (nf + 4*gc
// channels: conv k reads a channel prefix and writes the next gc channels, as in the
// whole-image path; held only a few rows), the conv5 outputs and RDB results, then one ring
// per upsampling layer at its resolution. Every node computes each element with the same
// operations whatever rows it is asked for, so the output is bit-identical for every stripe
// height, the whole-image plan (one stripe, Stream::plan's whole) included.
// Channel attention needs a whole-plane mean inside the body: such a model runs one pass per
// gate (3 per RRDB), each computing the body up to its gate again, then the output pass. That
// is several times the work (about (3*nb + 1) / 2 bodies more), so the model streams these only
// when the whole image does not fit its memory (Graph::prefers_whole_image()).
#include <algorithm>

#include "engine/threading.h"
#include "models/ssr.h"
#include "models/stream_builder.h"
#include "ops/elementwise.h"
#include "ops/pixel_shuffle.h"
#include "ops/reflect_pad.h"
#include "ops/upsample.h"

namespace lucent::models {
namespace {

constexpr float kResidualScale = 0.2f;

// SSR's own nodes beside the shared ones (models/stream_builder.h).
class SsrStreamBuilder : public StreamBuilder {
  public:
    using StreamBuilder::StreamBuilder;

    // Reflection pad to a multiple of u, then pixel unshuffle, row by row (docs/GRAPHS.md).
    int unshuffle(int in_ring, int producer, int out_ring, int64_t u) {
        StreamNode n = node_into("unshuffle", out_ring);
        const int64_t in_h = s_.ring(in_ring).height(), in_w = s_.ring(in_ring).width();
        const int64_t wp = s_.ring(out_ring).width() * u;
        n.inputs.push_back({producer,
                            [u, in_h](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
                                *a = in_h;
                                *b = 0;
                                for (int64_t y = y0 * u; y < y1 * u; ++y) {
                                    const int64_t m = ops::mirror_index(y, in_h);
                                    *a = std::min(*a, m);
                                    *b = std::max(*b, m + 1);
                                }
                            },
                            -1});
        n.scratch = [wp](int64_t, int threads) { return wp * threads; };
        Stream* s = &s_;
        n.run = [s, in_ring, out_ring, u, in_h, in_w, wp](const ops::Context& ctx, int64_t y0,
                                                          int64_t y1, float* scratch) {
            const RowRing& src = s->ring(in_ring);
            const Rows dst = s->ring(out_ring).all_rows(y0, y1);
            const int64_t cin = src.channels();
            const ops::KernelTable& k = *ctx.k;
            parallel_for_with_thread(
                (y1 - y0) * cin * u, ctx.num_threads, [&](int64_t item, int thread) {
                    const int64_t y = y0 + item / (cin * u), c = (item / u) % cin, i = item % u;
                    const int64_t sy = ops::mirror_index(y * u + i, in_h);
                    float* padded = scratch + thread * wp;
                    const float* row = src.all_rows(sy, sy + 1).row(c, sy);
                    std::copy(row, row + in_w, padded);
                    for (int64_t x = in_w; x < wp; ++x) padded[x] = row[ops::mirror_index(x, in_w)];
                    for (int64_t j = 0; j < u; ++j)
                        k.pixel_unshuffle_row(padded + j, static_cast<int32_t>(u),
                                              dst.row(c * u * u + i * u + j, y),
                                              static_cast<int32_t>(dst.w));
                });
            return Status();
        };
        return s_.add_node(std::move(n));
    }
};

}  // namespace

Result<std::unique_ptr<StreamRun>> Ssr::build_stream(const Shape& in, int64_t stripe_rows,
                                                     int threads, StreamMode mode) const {
    const SsrConfig& c = cfg_;
    std::vector<int> sinks;  // one pass per channel-attention gate, then the output
    Shape os;
    LUCENT_RETURN_IF_ERROR(output_shape(in, &os));
    std::unique_ptr<StreamRun> sr(new StreamRun());
    SsrStreamBuilder b(sr.get());
    Stream& s = b.stream();
    const int64_t u = c.unshuffle;
    const int64_t hp = (in.h + u - 1) / u * u, wp = (in.w + u - 1) / u * u;
    const int64_t h = hp / u, w = wp / u, nf = c.nf, gc = c.gc;

    const int in_ring = s.add_ring(c.in_ch, in.h, in.w);
    int first_ring = in_ring, first_node = b.source(in_ring);
    if (u > 1) {
        const int r = s.add_ring(c.in_ch * u * u, h, w);
        first_node = b.unshuffle(in_ring, first_node, r, u);
        first_ring = r;
    }
    const int f_ring = s.add_ring(nf, h, w);
    const int f_node =
        b.conv("conv_first", conv_first_, first_ring, 0, c.in_ch * u * u, {first_node}, f_ring, 0);
    int body_ring = f_ring, body_node = f_node;
    // The bf16 tier keeps each RDB's dense activation packed (bf16, channels-last) between its
    // convs, so no conv packs its input again (ops/conv_bf16.h): the RDB input is packed once,
    // convs 1-4 write their bf16 outputs into the packed ring, conv5 writes fp32 for the
    // residual. Every conv's input must be whole 32-channel K blocks (nf and gc multiples of
    // 32): a partial block would read channels that a later conv of the RDB may be writing.
    // Other widths pack per conv (ops::Conv2d::run_rows).
    bool packed = nf % 32 == 0 && gc % 32 == 0;
    for (const Rdb& rdb : rdbs_)
        for (const ops::Conv2d& cv : rdb.conv) packed = packed && cv.bf16_op() != nullptr;
    const int64_t dense_c = nf + 4 * gc;
    for (int64_t i = 0; i < c.nb; ++i) {
        // RRDB i reads x (nf channels, its own ring: the RRDB residual needs x fifteen convs
        // later, and a short-lived dense ring should not be held that long). Each RDB has a
        // dense ring of nf + 4*gc channels whose first nf are its input.
        const std::string bn = "body." + std::to_string(i);
        const int x_ring = body_ring, x_node = body_node;
        int xin_ring = x_ring, xin_node = x_node;  // the RDB's input, fp32 (packed rings)
        int d_ring = packed ? b.add_packed_ring(dense_c, h, w) : s.add_ring(dense_c, h, w);
        int x_writer = packed ? b.pack_bf16(bn + ".input", x_ring, x_node, d_ring, nf, dense_c)
                              : b.copy(bn + ".input", x_ring, x_node, d_ring, nf);
        int t_ring = -1, t_node = -1;
        for (int64_t j = 0; j < 3; ++j) {
            const Rdb& rdb = rdbs_[static_cast<size_t>(i * 3 + j)];
            const std::string rn = bn + ".rdb" + std::to_string(j + 1);
            std::vector<int> writers = {x_writer};
            for (int64_t k = 0; k < 4; ++k) {
                const std::string cn = rn + ".conv" + std::to_string(k + 1);
                const int id = packed ? b.conv_packed(cn, rdb.conv[k], d_ring, w, dense_c, writers,
                                                      d_ring, nf + k * gc, dense_c)
                                      : b.conv(cn, rdb.conv[k], d_ring, 0, nf + k * gc, writers,
                                               d_ring, nf + k * gc);
                writers.push_back(id);
            }
            int c5_ring = s.add_ring(nf, h, w);
            int c5 = packed ? b.conv_packed(rn + ".conv5", rdb.conv[4], d_ring, w, dense_c, writers,
                                            c5_ring, 0, 0)
                            : b.conv(rn + ".conv5", rdb.conv[4], d_ring, 0, dense_c, writers,
                                     c5_ring, 0);
            if (c.channel_attention) {
                // The gate's mean spans the whole image: one more pass (which computes
                // everything before it again) ends here.
                const StreamBuilder::Gate gate =
                    b.channel_gate_stats(rn + ".ca.pool", c5_ring, c5, rdb.ca);
                sinks.push_back(gate.node);
                const int ca_ring = s.add_ring(nf, h, w);
                c5 = b.channel_gate(rn + ".ca", c5_ring, c5, gate, ca_ring);
                s.add_trace(c5, rn + ".ca", "channel_attention");
                c5_ring = ca_ring;
            }
            // rdb = 0.2 * conv5 + x, into the next dense ring's x (or a temporary for rdb3).
            // Packed: into an fp32 ring of its own, packed into the next dense ring after.
            const int next_ring =
                j < 2 && !packed ? s.add_ring(dense_c, h, w) : s.add_ring(nf, h, w);
            const int res = packed ? b.axpby(rn, c5_ring, {c5}, kResidualScale, xin_ring,
                                             {xin_node}, 1.0f, next_ring, nf)
                                   : b.axpby(rn, c5_ring, {c5}, kResidualScale, d_ring, {x_writer},
                                             1.0f, next_ring, nf);
            s.add_trace(res, rn, "rdb (0.2 * conv5 + x)");
            if (j < 2 && packed) {
                xin_ring = next_ring;
                xin_node = res;
                d_ring = b.add_packed_ring(dense_c, h, w);
                x_writer = b.pack_bf16(rn + ".pack", next_ring, res, d_ring, nf, dense_c);
            } else if (j < 2) {
                d_ring = next_ring;
                x_writer = res;
            } else {
                t_ring = next_ring;
                t_node = res;
            }
        }
        // rrdb = 0.2 * rdb3 + x.
        body_ring = s.add_ring(nf, h, w);
        body_node =
            b.axpby(bn, t_ring, {t_node}, kResidualScale, x_ring, {x_node}, 1.0f, body_ring, nf);
        s.add_trace(body_node, bn, "rrdb (0.2 * rdb3 + x)");
        if (i + 1 == c.nb) s.add_trace(body_node, "body", "rrdb sequence");
    }
    const int cb_ring = s.add_ring(nf, h, w);
    const int cb = b.conv("conv_body", conv_body_, body_ring, 0, nf, {body_node}, cb_ring, 0);
    int cur_ring = s.add_ring(nf, h, w);
    int cur = b.axpby("trunk", f_ring, {f_node}, 1.0f, cb_ring, {cb}, 1.0f, cur_ring, nf);
    int64_t ch = h, cw = w;
    // bf16 with nearest upsampling: the chain from the trunk to conv_hr stays packed (packed
    // once at the trunk's resolution; upsampling copies packed pixels; conv_hr writes fp32 for
    // the fp32 conv_last), where nf is whole K blocks.
    bool packed_up = !c.pixelshuffle && nf % 32 == 0 && conv_hr_.bf16_op() != nullptr;
    for (const ops::Conv2d& cv : conv_up_) packed_up = packed_up && cv.bf16_op() != nullptr;
    int hr_ring = -1, hr = -1;
    if (packed_up) {
        int p_ring = b.add_packed_ring(nf, ch, cw);
        int p = b.pack_bf16("conv_up.pack", cur_ring, cur, p_ring, nf, nf);
        for (size_t q = 0; q < c.up_factors.size(); ++q) {
            const int64_t r = c.up_factors[q];
            const std::string name = "conv_up" + std::to_string(q + 1);
            const int up_ring = b.add_packed_ring(nf, ch * r, cw * r);
            const int up = b.nearest_packed(name + ".nearest", p_ring, p, up_ring, r, cw, nf);
            ch *= r;
            cw *= r;
            p_ring = b.add_packed_ring(nf, ch, cw);
            p = b.conv_packed(name, conv_up_[q], up_ring, cw, nf, {up}, p_ring, 0, nf);
        }
        hr_ring = s.add_ring(nf, ch, cw);
        hr = b.conv_packed("conv_hr", conv_hr_, p_ring, cw, nf, {p}, hr_ring, 0, 0);
    } else {
        for (size_t q = 0; q < c.up_factors.size(); ++q) {
            const int64_t r = c.up_factors[q];
            const std::string name = "conv_up" + std::to_string(q + 1);
            if (c.pixelshuffle) {
                const int a_ring = s.add_ring(nf * r * r, ch, cw);
                const int a = b.conv(name, conv_up_[q], cur_ring, 0, nf, {cur}, a_ring, 0);
                cur_ring = s.add_ring(nf, ch * r, cw * r);
                cur = b.resample(name + ".shuffle", false, r, a_ring, a, cur_ring);
            } else {
                const int up_ring = s.add_ring(nf, ch * r, cw * r);
                const int up = b.resample(name + ".nearest", true, r, cur_ring, cur, up_ring);
                cur_ring = s.add_ring(nf, ch * r, cw * r);
                cur = b.conv(name, conv_up_[q], up_ring, 0, nf, {up}, cur_ring, 0);
            }
            ch *= r;
            cw *= r;
        }
        hr_ring = s.add_ring(nf, ch, cw);
        hr = b.conv("conv_hr", conv_hr_, cur_ring, 0, nf, {cur}, hr_ring, 0);
    }
    const int last_ring = s.add_ring(c.out_ch, ch, cw);
    const int last = b.conv("conv_last", conv_last_, hr_ring, 0, nf, {hr}, last_ring, 0);
    sinks.push_back(b.sink(last_ring, last, os.h, os.w));
    LUCENT_RETURN_IF_ERROR(s.plan(sinks, stripe_rows, threads, mode == StreamMode::kWhole));
    return sr;
}

}  // namespace lucent::models
