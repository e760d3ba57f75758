#include "models/stream_builder.h"

#include <algorithm>
#include <limits>

#include "engine/threading.h"
#include "ops/conv_bf16.h"
#include "ops/elementwise.h"
#include "ops/pixel_shuffle.h"
#include "ops/upsample.h"

namespace lucent::models {

namespace {

// A conv node's inputs: from each producer, the rows the conv reads (its window, clipped).
void add_conv_inputs(StreamNode* n, const ops::Conv2d* c, int64_t in_h,
                     const std::vector<int>& producers) {
    for (int p : producers) {
        StreamNode::Input in;
        in.node = p;
        in.rows = [c, in_h](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
            c->input_rows(y0, y1, in_h, a, b);
        };
        n->inputs.push_back(std::move(in));
    }
}

}  // namespace

RowsFn same_rows() {
    return [](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
        *a = y0;
        *b = y1;
    };
}

RowsFn divided_rows(int64_t r) {
    return [r](int64_t y0, int64_t y1, int64_t* a, int64_t* b) {
        *a = y0 / r;
        *b = (y1 - 1) / r + 1;
    };
}

RowsFn all_rows_of(int64_t h) {
    return [h](int64_t, int64_t, int64_t* a, int64_t* b) {
        *a = 0;
        *b = h;
    };
}

int StreamBuilder::reduce(const std::string& name, int ring, int producer, int64_t c,
                          std::function<void(const ops::Context&, ConstRows)> add,
                          std::function<Status(const ops::Context&, float*)> finish,
                          std::function<int64_t(int)> scratch) {
    StreamNode n;
    n.name = name;
    n.out_h = s_.ring(ring).height();
    n.keep = true;
    n.inputs.push_back({producer, same_rows(), -1});
    if (scratch) n.scratch = [scratch](int64_t, int threads) { return scratch(threads); };
    Stream* s = &s_;
    const int64_t h = n.out_h;
    n.run = [s, ring, c, h, add, finish](const ops::Context& ctx, int64_t y0, int64_t y1,
                                         float* scr) {
        add(ctx, s->ring(ring).rows(0, c, y0, y1));
        return y1 == h ? finish(ctx, scr) : Status();
    };
    return s_.add_node(std::move(n));
}

StreamBuilder::Gate StreamBuilder::channel_gate_stats(const std::string& name, int ring,
                                                      int producer,
                                                      const ops::ChannelAttention& ca) {
    const int64_t c = ca.channels(), plane = s_.ring(ring).height() * s_.ring(ring).width();
    Gate g;
    const int sum_blk = s_.add_block(c), max_blk = s_.add_block(c);
    g.factors = s_.add_block(c);
    Stream* s = &s_;
    const ops::ChannelAttention* a = &ca;
    const int factors = g.factors;
    auto add = [s, a, sum_blk, max_blk, c](const ops::Context& ctx, ConstRows rows) {
        float* sum = s->block(sum_blk);
        float* mx = s->block(max_blk);
        if (rows.row0 == 0) {
            std::fill(sum, sum + c, 0.0f);
            std::fill(mx, mx + c, -std::numeric_limits<float>::infinity());
        }
        a->accumulate(ctx, rows, sum, mx);
    };
    auto finish = [s, a, sum_blk, max_blk, factors, plane](const ops::Context&, float*) {
        a->gate(s->block(sum_blk), s->block(max_blk), plane, s->block(factors));
        return Status();
    };
    g.node = reduce(name, ring, producer, c, add, finish, {});
    return g;
}

int StreamBuilder::channel_gate(const std::string& name, int in_ring, int producer,
                                const Gate& gate, int out_ring) {
    StreamNode n = node_into(name, out_ring);
    n.inputs.push_back({producer, same_rows(), -1});
    n.inputs.push_back({gate.node, all_rows_of(s_.node(gate.node).out_h), -1});
    Stream* s = &s_;
    const int factors = gate.factors;
    n.run = [s, in_ring, out_ring, factors](const ops::Context& ctx, int64_t y0, int64_t y1,
                                            float*) {
        const Rows dst = s->ring(out_ring).all_rows(y0, y1);
        const ConstRows src = s->ring(in_ring).rows(0, dst.c, y0, y1);
        const float* f = s->block(factors);
        const ops::KernelTable& k = *ctx.k;
        parallel_for(dst.c, ctx.num_threads, [&](int64_t ch) {
            k.scale(src.row(ch, y0), f[ch], dst.row(ch, y0), dst.rows * dst.w);
        });
        return Status();
    };
    return s_.add_node(std::move(n));
}

std::string conv_op(const ops::Conv2dParams& p) {
    std::string op = "conv" + std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w);
    if (p.stride_h > 1) op += "s" + std::to_string(p.stride_h);
    if (p.act == ops::Activation::kLeakyRelu) op += "+lrelu";
    if (p.act == ops::Activation::kRelu) op += "+relu";
    return op;
}

int StreamBuilder::conv(const std::string& name, const ops::Conv2d& cv, int in_ring, int64_t c0,
                        int64_t nc, const std::vector<int>& producers, int out_ring, int64_t oc0,
                        ops::Activation post) {
    const std::string op = conv_op(cv.params());
    if (post != ops::Activation::kSigmoid)
        return conv_then(name, op, cv, in_ring, c0, nc, producers, out_ring, oc0, nullptr, {});
    // With a sigmoid after it, the conv reports its own output before the sigmoid (as the
    // layer is traced); the node reports nothing.
    const int64_t out_h = s_.ring(out_ring).height();
    Epilogue sigmoid = [name, op, out_h](const ops::Context& ctx, Rows dst) {
        if (ctx.trace != nullptr && dst.row0 == 0 && dst.rows == out_h)
            (*ctx.trace)(name, op.c_str(),
                         ConstTensorView{dst.data, Shape{1, dst.c, out_h, dst.w}});
        const ops::KernelTable& k = *ctx.k;
        parallel_for(dst.c * dst.rows, ctx.num_threads, [&](int64_t i) {
            float* row = dst.row(i / dst.rows, dst.row0 + i % dst.rows);
            k.activation(row, row, dst.w, ops::kActSigmoid, 0.0f);
        });
        return Status();
    };
    return conv_then(name, "", cv, in_ring, c0, nc, producers, out_ring, oc0, std::move(sigmoid),
                     {});
}

int StreamBuilder::conv_then(const std::string& name, const std::string& op, const ops::Conv2d& cv,
                             int in_ring, int64_t c0, int64_t nc, const std::vector<int>& producers,
                             int out_ring, int64_t oc0, Epilogue epilogue,
                             const std::vector<int>& waits) {
    StreamNode n;
    n.name = name;
    const RowRing& out = s_.ring(out_ring);
    const int64_t in_h = s_.ring(in_ring).height(), in_w = s_.ring(in_ring).width();
    n.out_h = out.height();
    n.step = cv.row_step();
    n.ring = out_ring;
    const ops::Conv2d* c = &cv;
    add_conv_inputs(&n, c, in_h, producers);
    for (int wn : waits) n.inputs.push_back({wn, all_rows_of(s_.node(wn).out_h), -1});
    n.scratch = [c, in_w](int64_t rows, int threads) {
        return c->scratch_floats(in_w, rows, threads);
    };
    Stream* s = &s_;
    const int64_t oc = cv.params().out_ch;
    n.out_c0 = oc0;
    n.out_nc = oc;
    if (!op.empty()) n.traces.push_back({name, op});
    n.run = [s, c, in_ring, c0, nc, in_h, out_ring, oc0, oc, epilogue](
                const ops::Context& ctx, int64_t y0, int64_t y1, float* scratch) {
        int64_t a = 0, b = 0;
        c->input_rows(y0, y1, in_h, &a, &b);
        const Rows dst = s->ring(out_ring).rows(oc0, oc, y0, y1);
        LUCENT_RETURN_IF_ERROR(c->run_rows(ctx, s->ring(in_ring).rows(c0, nc, a, b), dst, scratch,
                                           s->scratch_stride()));
        return epilogue ? epilogue(ctx, dst) : Status();
    };
    return s_.add_node(std::move(n));
}

namespace {

ops::PackedRows packed_rows(const RowRing& ring, int64_t w, int64_t cp, int64_t y0, int64_t y1) {
    const Rows r = ring.rows(0, 1, y0, y1);
    return ops::PackedRows{reinterpret_cast<uint16_t*>(r.data), ring.height(), w, cp, y0, y1 - y0};
}

}  // namespace

int StreamBuilder::resample(const std::string& name, bool nearest, int64_t r, int in_ring,
                            int producer, int out_ring) {
    StreamNode n = node_into(name, out_ring);
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

StreamNode StreamBuilder::node_into(const std::string& name, int out_ring) const {
    StreamNode n;
    n.name = name;
    n.out_h = s_.ring(out_ring).height();
    n.ring = out_ring;
    return n;
}

int StreamBuilder::add_packed_ring(int64_t cp, int64_t h, int64_t w) {
    return s_.add_ring(1, h, ops::bf16_row_floats(w, cp));
}

int StreamBuilder::pack_bf16(const std::string& name, int in_ring, int producer, int out_ring,
                             int64_t nc, int64_t cp) {
    StreamNode n = node_into(name, out_ring);
    n.inputs.push_back({producer, same_rows(), -1});
    Stream* s = &s_;
    const int64_t w = s_.ring(in_ring).width();
    n.run = [s, in_ring, out_ring, nc, cp, w](const ops::Context& ctx, int64_t y0, int64_t y1,
                                              float*) {
        ops::pack_rows_bf16(ctx, s->ring(in_ring).rows(0, nc, y0, y1),
                            packed_rows(s->ring(out_ring), w, cp, y0, y1));
        return Status();
    };
    return s_.add_node(std::move(n));
}

int StreamBuilder::nearest_packed(const std::string& name, int in_ring, int producer, int out_ring,
                                  int64_t r, int64_t in_w, int64_t cp) {
    StreamNode n = node_into(name, out_ring);
    n.inputs.push_back({producer, divided_rows(r), -1});
    Stream* s = &s_;
    n.run = [s, in_ring, out_ring, r, in_w, cp](const ops::Context& ctx, int64_t y0, int64_t y1,
                                                float*) {
        const ops::PackedRows src =
            packed_rows(s->ring(in_ring), in_w, cp, y0 / r, (y1 - 1) / r + 1);
        ops::upsample_nearest_packed(ctx, src, r,
                                     packed_rows(s->ring(out_ring), in_w * r, cp, y0, y1));
        return Status();
    };
    return s_.add_node(std::move(n));
}

int StreamBuilder::conv_packed(const std::string& name, const ops::Conv2d& cv, int in_ring,
                               int64_t px, int64_t in_cp, const std::vector<int>& producers,
                               int out_ring, int64_t oc0, int64_t out_cp) {
    StreamNode n;
    n.name = name;
    const int64_t h = s_.ring(in_ring).height();
    n.out_h = h;
    n.ring = out_ring;
    const ops::Conv2d* c = &cv;
    add_conv_inputs(&n, c, h, producers);
    Stream* s = &s_;
    const int64_t oc = cv.params().out_ch;
    // Packed rings hold no fp32 rows to trace: a packed output is reported by the node itself.
    const std::string op = conv_op(cv.params());
    if (out_cp == 0) {
        n.out_c0 = oc0;
        n.out_nc = oc;
        n.traces.push_back({name, op});
    }
    n.scratch = [px, in_cp](int64_t, int) {
        return ops::ConvBf16::packed_scratch_floats(px, in_cp);
    };
    n.run = [s, c, in_ring, in_cp, out_ring, oc0, out_cp, oc, px, h, name, op](
                const ops::Context& ctx, int64_t y0, int64_t y1, float* scratch) {
        int64_t a = 0, b = 0;
        c->input_rows(y0, y1, h, &a, &b);
        const ops::PackedRows in = packed_rows(s->ring(in_ring), px, in_cp, a, b);
        if (out_cp == 0) {
            const Rows dst = s->ring(out_ring).rows(oc0, oc, y0, y1);
            return c->bf16_op()->run_packed(ctx, in, y0, y1, &dst, nullptr, 0, scratch);
        }
        const ops::PackedRows dst = packed_rows(s->ring(out_ring), px, out_cp, y0, y1);
        LUCENT_RETURN_IF_ERROR(
            c->bf16_op()->run_packed(ctx, in, y0, y1, nullptr, &dst, oc0, scratch));
        if (ctx.trace != nullptr && y0 == 0 && y1 == h) {
            // Whole plans trace layer by layer: unpack this layer's channels for the report.
            std::vector<float> t(static_cast<size_t>(oc * h * px));
            for (int64_t ch = 0; ch < oc; ++ch)
                for (int64_t y = 0; y < h; ++y)
                    for (int64_t x = 0; x < px; ++x)
                        t[static_cast<size_t>((ch * h + y) * px + x)] =
                            ops::from_bf16(dst.row(y)[(x + 1) * out_cp + oc0 + ch]);
            (*ctx.trace)(name, op.c_str(), ConstTensorView{t.data(), Shape{1, oc, h, px}});
        }
        return Status();
    };
    return s_.add_node(std::move(n));
}

int StreamBuilder::axpby(const std::string& name, int x_ring, const std::vector<int>& x_nodes,
                         float a, int y_ring, const std::vector<int>& y_nodes, float b,
                         int out_ring, int64_t nc) {
    StreamNode n = node_into(name, out_ring);
    for (const std::vector<int>* list : {&x_nodes, &y_nodes}) {
        for (int p : *list) {
            StreamNode::Input in;
            in.node = p;
            in.rows = same_rows();
            n.inputs.push_back(std::move(in));
        }
    }
    n.out_nc = nc;
    Stream* s = &s_;
    n.run = [s, x_ring, a, y_ring, b, out_ring, nc](const ops::Context& ctx, int64_t y0, int64_t y1,
                                                    float*) {
        ops::add_scaled_rows(ctx, s->ring(x_ring).rows(0, nc, y0, y1), a,
                             s->ring(y_ring).rows(0, nc, y0, y1), b,
                             s->ring(out_ring).rows(0, nc, y0, y1));
        return Status();
    };
    return s_.add_node(std::move(n));
}

int StreamBuilder::copy(const std::string& name, int in_ring, int producer, int out_ring,
                        int64_t nc) {
    StreamNode n = node_into(name, out_ring);
    n.inputs.push_back({producer, same_rows(), -1});
    Stream* s = &s_;
    n.run = [s, in_ring, out_ring, nc](const ops::Context& ctx, int64_t y0, int64_t y1, float*) {
        ops::copy_rows(ctx, s->ring(in_ring).rows(0, nc, y0, y1),
                       s->ring(out_ring).rows(0, nc, y0, y1));
        return Status();
    };
    return s_.add_node(std::move(n));
}

int StreamBuilder::source(int ring) {
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

int StreamBuilder::sink(int in_ring, int producer, int64_t out_h, int64_t out_w) {
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

}  // namespace lucent::models
