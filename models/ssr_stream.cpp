// Ssr::plan_stream: the SSR graph of docs/GRAPHS.md as streaming nodes (models/stream.h).
//
// Rings (each holds only the rows still needed): the input rows, the unshuffled rows (when
// the model unshuffles), the trunk feature F (its rows wait for the whole body: the longest
// ring), each RRDB's input (held for its fifteen convs), one dense ring per RDB (nf + 4*gc
// channels: conv k reads a channel prefix and writes the next gc channels, as in the
// whole-image path; held only a few rows), the conv5 outputs and RDB results, then one ring
// per upsampling layer at its resolution. Every node computes each element with
// the operations run_image() uses, so the output is bit-identical for every stripe height.
// Channel attention needs a whole-plane mean inside the body, so those models do not stream.
#include <algorithm>

#include "engine/threading.h"
#include "models/ssr.h"
#include "ops/elementwise.h"
#include "ops/pixel_shuffle.h"
#include "ops/reflect_pad.h"
#include "ops/upsample.h"

namespace lucent::models {
namespace {

constexpr float kResidualScale = 0.2f;

using RowsFn = std::function<void(int64_t, int64_t, int64_t*, int64_t*)>;

RowsFn same_rows() {
    return [](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
        *a = y0;
        *b = y1;
    };
}

// Rows [y0 / r, (y1 - 1) / r + 1): nearest upsampling and pixel shuffle by r.
RowsFn divided_rows(int64_t r) {
    return [r](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
        *a = y0 / r;
        *b = (y1 - 1) / r + 1;
    };
}

// Builds the nodes; `sr` (the StreamRun being planned) outlives them.
class SsrStreamBuilder {
  public:
    explicit SsrStreamBuilder(StreamRun* sr) : sr_(sr), s_(sr->stream()) {}

    // A conv node reading channels [c0, c0 + nc) of producer ring `in_ring` (whose rows come
    // from the nodes `producers`) and writing channels [oc0, oc0 + conv.out_ch) of `out_ring`.
    int conv(const std::string& name, const ops::Conv2d& cv, int in_ring, int64_t c0, int64_t nc,
             const std::vector<int>& producers, int out_ring, int64_t oc0) {
        StreamNode n;
        n.name = name;
        const RowRing& out = s_.ring(out_ring);
        const int64_t in_h = s_.ring(in_ring).height(), in_w = s_.ring(in_ring).width();
        n.out_h = out.height();
        n.step = cv.uses_winograd() ? 2 : 1;
        n.ring = out_ring;
        const ops::Conv2d* c = &cv;
        for (int p : producers) {
            StreamNode::Input in;
            in.node = p;
            in.rows = [c, in_h](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
                c->input_rows(y0, y1, in_h, a, b);
            };
            n.inputs.push_back(std::move(in));
        }
        n.scratch = [c, in_w](int64_t rows, int threads) {
            return c->scratch_floats(in_w, rows, threads);
        };
        Stream* s = &s_;
        const int64_t oc = cv.params().out_ch;
        n.run = [s, c, in_ring, c0, nc, in_h, out_ring, oc0, oc](
                    const ops::Context& ctx, int64_t y0, int64_t y1, float* scratch) {
            int64_t a = 0, b = 0;
            c->input_rows(y0, y1, in_h, &a, &b);
            return c->run_rows(ctx, s->ring(in_ring).rows(c0, nc, a, b),
                               s->ring(out_ring).rows(oc0, oc, y0, y1), scratch);
        };
        return s_.add_node(std::move(n));
    }

    // out = a * x + b * y over nf channels (x, y: channel 0.. of their rings, same rows).
    int axpby(const std::string& name, int x_ring, const std::vector<int>& x_nodes, float a,
              int y_ring, const std::vector<int>& y_nodes, float b, int out_ring, int64_t nc) {
        StreamNode n;
        n.name = name;
        n.out_h = s_.ring(out_ring).height();
        n.ring = out_ring;
        for (const std::vector<int>* list : {&x_nodes, &y_nodes}) {
            for (int p : *list) {
                StreamNode::Input in;
                in.node = p;
                in.rows = same_rows();
                n.inputs.push_back(std::move(in));
            }
        }
        Stream* s = &s_;
        n.run = [s, x_ring, a, y_ring, b, out_ring, nc](const ops::Context& ctx, int64_t y0,
                                                        int64_t y1, float*) {
            ops::add_scaled_rows(ctx, s->ring(x_ring).rows(0, nc, y0, y1), a,
                                 s->ring(y_ring).rows(0, nc, y0, y1), b,
                                 s->ring(out_ring).rows(0, nc, y0, y1));
            return Status();
        };
        return s_.add_node(std::move(n));
    }

    // Channels [0, nc) of in_ring copied to channels [0, nc) of out_ring.
    int copy(const std::string& name, int in_ring, int producer, int out_ring, int64_t nc) {
        StreamNode n;
        n.name = name;
        n.out_h = s_.ring(out_ring).height();
        n.ring = out_ring;
        n.inputs.push_back({producer, same_rows(), -1});
        Stream* s = &s_;
        n.run = [s, in_ring, out_ring, nc](const ops::Context& ctx, int64_t y0, int64_t y1,
                                           float*) {
            ops::copy_rows(ctx, s->ring(in_ring).rows(0, nc, y0, y1),
                           s->ring(out_ring).rows(0, nc, y0, y1));
            return Status();
        };
        return s_.add_node(std::move(n));
    }

    int source(int ring) {
        StreamNode n;
        n.name = "input";
        n.out_h = s_.ring(ring).height();
        n.ring = ring;
        Stream* s = &s_;
        const StreamRun* sr = sr_;
        n.run = [s, sr, ring](const ops::Context&, int64_t y0, int64_t y1, float*) {
            return sr->pull(s->ring(ring).all_rows(y0, y1));
        };
        return s_.add_node(std::move(n));
    }

    // Reflection pad to a multiple of u, then pixel unshuffle, row by row (docs/GRAPHS.md).
    int unshuffle(int in_ring, int producer, int out_ring, int64_t u) {
        StreamNode n;
        n.name = "unshuffle";
        n.out_h = s_.ring(out_ring).height();
        n.ring = out_ring;
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

    // Nearest x r (up = true) or pixel shuffle by r of in_ring into out_ring.
    int resample(const std::string& name, bool nearest, int64_t r, int in_ring, int producer,
                 int out_ring) {
        StreamNode n;
        n.name = name;
        n.out_h = s_.ring(out_ring).height();
        n.ring = out_ring;
        n.inputs.push_back({producer, divided_rows(r), -1});
        Stream* s = &s_;
        n.run = [s, nearest, r, in_ring, out_ring](const ops::Context& ctx, int64_t y0, int64_t y1,
                                                   float*) {
            const RowRing& in = s->ring(in_ring);
            const ConstRows src = in.all_rows(y0 / r, (y1 - 1) / r + 1);
            const Rows dst = s->ring(out_ring).all_rows(y0, y1);
            if (nearest) {
                ops::upsample_nearest_rows(ctx, src, r, dst);
            } else {
                ops::pixel_shuffle_rows(ctx, src, r, dst);
            }
            return Status();
        };
        return s_.add_node(std::move(n));
    }

    // Delivers rows of in_ring (columns [0, out_w)) to the sink; crops through a small ring when
    // the model computed a wider, reflection-padded image.
    int sink(int in_ring, int producer, int64_t out_h, int64_t out_w) {
        int ring = in_ring, node = producer;
        if (out_w != s_.ring(in_ring).width() || out_h != s_.ring(in_ring).height()) {
            const int64_t c = s_.ring(in_ring).channels();
            ring = s_.add_ring(c, out_h, out_w);
            StreamNode n;
            n.name = "crop";
            n.out_h = out_h;
            n.ring = ring;
            n.inputs.push_back({producer, same_rows(), -1});
            Stream* s = &s_;
            n.run = [s, in_ring, ring, out_w](const ops::Context&, int64_t y0, int64_t y1, float*) {
                const RowRing& src = s->ring(in_ring);
                const Rows dst = s->ring(ring).all_rows(y0, y1);
                for (int64_t ch = 0; ch < dst.c; ++ch)
                    for (int64_t y = y0; y < y1; ++y) {
                        const float* row = src.all_rows(y, y + 1).row(ch, y);
                        std::copy(row, row + out_w, dst.row(ch, y));
                    }
                return Status();
            };
            node = s_.add_node(std::move(n));
        }
        StreamNode n;
        n.name = "output";
        n.out_h = out_h;
        n.inputs.push_back({node, same_rows(), -1});
        Stream* s = &s_;
        const StreamRun* sr = sr_;
        n.run = [s, sr, ring](const ops::Context&, int64_t y0, int64_t y1, float*) {
            return sr->push(s->ring(ring).all_rows(y0, y1));
        };
        return s_.add_node(std::move(n));
    }

    Stream& stream() { return s_; }

  private:
    StreamRun* sr_;
    Stream& s_;
};

}  // namespace

Result<std::unique_ptr<StreamRun>> Ssr::plan_stream(const Shape& in, int64_t stripe_rows,
                                                    int threads) const {
    const SsrConfig& c = cfg_;
    if (c.channel_attention)
        return make_status(StatusCode::kUnsupported,
                           "SSR with channel attention does not stream (its gates need whole-plane "
                           "means inside the body)");
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
    for (int64_t i = 0; i < c.nb; ++i) {
        // RRDB i reads x (nf channels, its own ring: the RRDB residual needs x fifteen convs
        // later, and a short-lived dense ring should not be held that long). Each RDB has a
        // dense ring of nf + 4*gc channels whose first nf are its input.
        const std::string bn = "body." + std::to_string(i);
        const int x_ring = body_ring, x_node = body_node;
        int d_ring = s.add_ring(nf + 4 * gc, h, w);
        int x_writer = b.copy(bn + ".input", x_ring, x_node, d_ring, nf);
        int t_ring = -1, t_node = -1;
        for (int64_t j = 0; j < 3; ++j) {
            const Rdb& rdb = rdbs_[static_cast<size_t>(i * 3 + j)];
            const std::string rn = bn + ".rdb" + std::to_string(j + 1);
            std::vector<int> writers = {x_writer};
            for (int64_t k = 0; k < 4; ++k) {
                const int id = b.conv(rn + ".conv" + std::to_string(k + 1), rdb.conv[k], d_ring, 0,
                                      nf + k * gc, writers, d_ring, nf + k * gc);
                writers.push_back(id);
            }
            const int c5_ring = s.add_ring(nf, h, w);
            const int c5 =
                b.conv(rn + ".conv5", rdb.conv[4], d_ring, 0, nf + 4 * gc, writers, c5_ring, 0);
            // rdb = 0.2 * conv5 + x, into the next dense ring's x (or a temporary for rdb3).
            const int next_ring = j < 2 ? s.add_ring(nf + 4 * gc, h, w) : s.add_ring(nf, h, w);
            const int res =
                b.axpby(rn, c5_ring, {c5}, kResidualScale, d_ring, {x_writer}, 1.0f, next_ring, nf);
            if (j < 2) {
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
    }
    const int cb_ring = s.add_ring(nf, h, w);
    const int cb = b.conv("conv_body", conv_body_, body_ring, 0, nf, {body_node}, cb_ring, 0);
    int cur_ring = s.add_ring(nf, h, w);
    int cur = b.axpby("trunk", f_ring, {f_node}, 1.0f, cb_ring, {cb}, 1.0f, cur_ring, nf);
    int64_t ch = h, cw = w;
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
    const int hr_ring = s.add_ring(nf, ch, cw);
    const int hr = b.conv("conv_hr", conv_hr_, cur_ring, 0, nf, {cur}, hr_ring, 0);
    const int last_ring = s.add_ring(c.out_ch, ch, cw);
    const int last = b.conv("conv_last", conv_last_, hr_ring, 0, nf, {hr}, last_ring, 0);
    const int sink = b.sink(last_ring, last, os.h, os.w);
    LUCENT_RETURN_IF_ERROR(s.plan(sink, stripe_rows, threads));
    return sr;
}

}  // namespace lucent::models
