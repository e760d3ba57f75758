#include "models/stream.h"

#include <algorithm>
#include <cstring>

#include "engine/threading.h"

namespace lucent::models {

int RowRing::add_reader() {
    need_.push_back(0);
    return static_cast<int>(need_.size()) - 1;
}

void RowRing::make_room(int64_t y0, int64_t y1, bool planning, int threads) {
    int64_t lo = y0;
    for (int64_t n : need_) lo = std::min(lo, n);
    if (planning) {
        capacity_ = std::max(capacity_, y1 - lo);
    } else if (y1 > base_ + capacity_) {
        // Move rows [lo, written_) of every channel to the front; they are the live ones.
        const int64_t live = std::max<int64_t>(written_ - lo, 0);
        if (live > 0 && lo != base_) {
            // Both threads: at 16-row chunks a 500-column x4 run moves 2.6 GB this way
            // (one thread: 450 ms, 3 % of the run).
            parallel_for(c_, threads, [&](int64_t ch) {
                float* plane = mem_ + ch * capacity_ * w_;
                std::memmove(plane, plane + (lo - base_) * w_,
                             static_cast<size_t>(live * w_) * sizeof(float));
            });
        }
        base_ = lo;
    }
    written_ = std::max(written_, y1);
}

void RowRing::reset(float* mem) {
    mem_ = mem;
    base_ = 0;
    written_ = 0;
    std::fill(need_.begin(), need_.end(), 0);
}

void RowRing::rewind() {
    std::fill(need_.begin(), need_.end(), 0);
    if (pinned_) return;
    base_ = 0;
    written_ = 0;
}

Rows RowRing::rows(int64_t c0, int64_t nc, int64_t y0, int64_t y1) const {
    Rows r;
    r.data = mem_ + c0 * capacity_ * w_ + (y0 - base_) * w_;
    r.c = nc;
    r.h = h_;
    r.w = w_;
    r.row0 = y0;
    r.rows = y1 - y0;
    r.cs = capacity_ * w_;
    return r;
}

int64_t chunk_limit(int64_t width, int64_t step, int threads) {
    // Even row counts whatever the node's step, so that the nodes of one resolution chunk
    // alike (a ring between unlike chunkings holds more rows).
    const int64_t by_pixels = (kChunkPixels + width - 1) / std::max<int64_t>(width, 1);
    const int64_t busy = 4 * static_cast<int64_t>(std::max(threads, 1));
    const int64_t rows = (std::max(by_pixels, busy) + 1) / 2 * 2;
    return std::max<int64_t>((rows + step - 1) / step * step, step);
}

int64_t scaled_rows(int64_t stripe, int64_t out_h, int64_t sink_h, int64_t step) {
    const int64_t rows = (stripe * out_h + sink_h - 1) / std::max<int64_t>(sink_h, 1);
    return std::max<int64_t>((rows + step - 1) / step * step, step);
}

int64_t Stream::node_width(const StreamNode& n) const {
    if (n.ring >= 0) return ring(n.ring).width();
    if (!n.inputs.empty()) return node_width(nodes_[static_cast<size_t>(n.inputs[0].node)].n);
    return 1;
}

int Stream::add_ring(int64_t c, int64_t h, int64_t w) {
    rings_.emplace_back(c, h, w);
    return static_cast<int>(rings_.size()) - 1;
}

int Stream::add_block(int64_t floats) {
    block_floats_.push_back(std::max<int64_t>(floats, 1));
    block_ptr_.push_back(nullptr);
    return static_cast<int>(block_floats_.size()) - 1;
}

int Stream::add_node(StreamNode node) {
    for (StreamNode::Input& in : node.inputs) {
        const int ring = nodes_[static_cast<size_t>(in.node)].n.ring;
        if (ring >= 0) in.reader = rings_[static_cast<size_t>(ring)].add_reader();
    }
    State s;
    s.n = std::move(node);
    nodes_.push_back(std::move(s));
    return static_cast<int>(nodes_.size()) - 1;
}

int64_t Stream::target_row(const State& s, int64_t y_end) const {
    // A whole plan computes every row, as a plain forward pass does (padded rows past what the
    // output crops included), so that each layer runs once and traces whole.
    if (whole_) return s.n.out_h;
    return std::min(s.n.out_h, (y_end + s.n.step - 1) / s.n.step * s.n.step);
}

// Makes rows [0, y_end) of node id available (rounded up to its step), computing them in
// chunks of its grid, each after its inputs' rows are available.
Status Stream::ensure(const ops::Context* ctx, int id, int64_t y_end) {
    State& s = nodes_[static_cast<size_t>(id)];
    const int64_t target = target_row(s, y_end);
    while (s.done < target) {
        // Up to the next point of the node's chunk grid (set_phases), even past the target: the
        // rows beyond are what its consumers ask for next.
        const int64_t y0 = s.done;
        int64_t y1 = target;
        if (!whole_) {
            const int64_t k = y0 < s.phase ? 0 : (y0 - s.phase) / s.cap + 1;
            y1 = std::min(s.n.out_h, s.phase + k * s.cap);
        }
        // Inputs last to first: in a dense block conv5 reads x, conv1 .. conv4, and conv4's own
        // chunk asks conv1 for more rows than conv5 does (each conv adds a row of halo). Asking
        // conv1 first would make it compute a sliver now and another when conv4 asks; asking
        // conv4 first lets the furthest request come first. Front to back, 15277 of 17633 conv
        // chunks of a 500x375 x4 run were 2 rows (one thread idle in each); back to front the
        // run is ~1.5x faster at 2 threads.
        for (auto in = s.n.inputs.rbegin(); in != s.n.inputs.rend(); ++in) {
            int64_t a = 0, b = 0;
            in->rows(y0, y1, &a, &b);
            LUCENT_RETURN_IF_ERROR(ensure(ctx, in->node, b));
        }
        if (s.n.ring >= 0)
            ring(s.n.ring).make_room(y0, y1, ctx == nullptr, ctx ? ctx->num_threads : 1);
        s.max_chunk = std::max(s.max_chunk, y1 - y0);
        if (ctx == nullptr && whole_) {
            // Lifetimes: the node's ring is in use from its first write, every input's ring
            // until its last reader runs.
            auto use = [this](int r) {
                if (r < 0) return;
                const size_t i = static_cast<size_t>(r);
                first_use_[i] = std::min(first_use_[i], steps_);
                last_use_[i] = std::max(last_use_[i], steps_);
            };
            use(s.n.ring);
            for (const StreamNode::Input& in : s.n.inputs)
                use(nodes_[static_cast<size_t>(in.node)].n.ring);
            ++steps_;
        }
        if (ctx != nullptr) {
            LUCENT_RETURN_IF_ERROR(s.n.run(*ctx, y0, y1, scratch_));
            if (ctx->trace != nullptr && whole_ && y1 == s.n.out_h && s.n.ring >= 0) {
                const RowRing& r = ring(s.n.ring);
                const int64_t nc = s.n.out_nc < 0 ? r.channels() : s.n.out_nc;
                const Rows v = r.rows(s.n.out_c0, nc, 0, r.height());
                for (const StreamNode::Trace& t : s.n.traces)
                    (*ctx->trace)(t.name, t.op.c_str(),
                                  ConstTensorView{v.data, Shape{1, nc, r.height(), r.width()}});
            }
        }
        s.done = y1;
        // The next chunk starts at y1: inputs below what it reads are dead for this reader.
        for (const StreamNode::Input& in : s.n.inputs) {
            int64_t a = 0, b = 0;
            if (y1 < s.n.out_h) {
                // The whole next chunk, not just its first row: a reflection pad's last rows
                // read rows above the first row's (RED's odd heights).
                in.rows(y1, std::min(s.n.out_h, y1 + s.cap), &a, &b);
            } else {
                a = nodes_[static_cast<size_t>(in.node)].n.out_h;
            }
            const int r = nodes_[static_cast<size_t>(in.node)].n.ring;
            if (r >= 0) ring(r).set_need(in.reader, a);
        }
    }
    return Status();
}

Status Stream::plan(int sink, int64_t stripe_rows, int threads) {
    return plan(std::vector<int>{sink}, stripe_rows, threads);
}

Status Stream::plan(const std::vector<int>& sinks, int64_t stripe_rows, int threads, bool whole) {
    sinks_ = sinks;
    sink_ = sinks.back();
    whole_ = whole;
    const int64_t sink_h = nodes_[static_cast<size_t>(sink_)].n.out_h;
    stripe_ = whole ? sink_h : std::max<int64_t>(stripe_rows, 1);
    threads_ = std::max(threads, 1);
    for (State& s : nodes_) {
        s.cap = whole ? (s.n.out_h + s.n.step - 1) / s.n.step * s.n.step
                      : std::min(scaled_rows(stripe_, s.n.out_h, sink_h, s.n.step),
                                 chunk_limit(node_width(s.n), s.n.step, threads_));
        s.done = 0;
        s.max_chunk = 0;
    }
    for (RowRing& r : rings_) {
        if (whole) r.pin();
        r.reset(nullptr);
    }
    steps_ = 0;
    first_use_.assign(rings_.size(), INT64_MAX);
    last_use_.assign(rings_.size(), -1);
    LUCENT_RETURN_IF_ERROR(schedule(nullptr));
    // Sizes: rings, persistent blocks, then one scratch block shared by every node (nodes run
    // one at a time).
    int64_t total = 0;
    auto add = [&total](int64_t floats, const char* what) -> Status {
        int64_t n = 0;
        LUCENT_RETURN_IF_ERROR(checked_numel(Shape{1, 1, 1, floats}, what, &n));
        if (total > INT64_MAX / 2 - n)
            return make_status(StatusCode::kOutOfMemory, "the streaming arena overflows");
        total += n;
        return Status();
    };
    offset_.assign(rings_.size(), 0);
    if (whole) {
        for (const RowRing& r : rings_)
            LUCENT_RETURN_IF_ERROR(add(r.floats(), "whole-image layer"));
        total = place_rings();
    } else {
        for (size_t i = 0; i < rings_.size(); ++i) {
            offset_[i] = total;
            LUCENT_RETURN_IF_ERROR(add(rings_[i].floats(), "streaming buffer"));
        }
    }
    rings_floats_ = total;
    for (int64_t f : block_floats_) LUCENT_RETURN_IF_ERROR(add(f, "streaming statistics"));
    scratch_floats_ = 0;
    scratch_stride_ = 0;
    for (const State& s : nodes_) {
        if (s.n.scratch && s.max_chunk > 0) {
            const int64_t f = s.n.scratch(s.max_chunk, threads_);
            scratch_floats_ = std::max(scratch_floats_, f);
            scratch_stride_ = std::max(scratch_stride_, (f + threads_ - 1) / threads_);
        }
    }
    // Whole cache lines per thread; the block stays the largest layer's (a layer whose threads
    // share one buffer asks for less than threads times its slice).
    scratch_stride_ = (scratch_stride_ + 15) / 16 * 16;
    scratch_floats_ = std::max(scratch_floats_, scratch_stride_ * threads_);
    if (scratch_floats_ > 0) LUCENT_RETURN_IF_ERROR(add(scratch_floats_, "streaming scratch"));
    int64_t n = 0;
    LUCENT_RETURN_IF_ERROR(
        checked_numel(Shape{1, 1, 1, std::max<int64_t>(total, 1)}, "streaming arena", &n));
    arena_floats_ = total;
    return Status();
}

int64_t Stream::place_rings() {
    // Largest first, each at the lowest offset that overlaps no placed ring alive at the same
    // time (a greedy interval packing; the graphs' rings are few hundred at most).
    std::vector<size_t> order(rings_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
        return rings_[a].floats() > rings_[b].floats();
    });
    std::vector<size_t> placed;
    int64_t top = 0;
    for (size_t i : order) {
        const int64_t size = rings_[i].floats();
        if (last_use_[i] < 0) {  // never used: no memory
            offset_[i] = 0;
            continue;
        }
        std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of overlapping lifetimes
        for (size_t j : placed)
            if (first_use_[j] <= last_use_[i] && first_use_[i] <= last_use_[j])
                busy.emplace_back(offset_[j], offset_[j] + rings_[j].floats());
        std::sort(busy.begin(), busy.end());
        int64_t at = 0;
        for (const auto& b : busy) {
            if (at + size <= b.first) break;
            at = std::max(at, b.second);
        }
        offset_[i] = at;
        top = std::max(top, at + size);
        placed.push_back(i);
    }
    return top;
}

Status Stream::run(const ops::Context& ctx, float* arena) {
    for (size_t i = 0; i < rings_.size(); ++i) rings_[i].reset(arena + offset_[i]);
    float* p = arena + rings_floats_;
    for (size_t i = 0; i < block_floats_.size(); ++i) {
        block_ptr_[i] = p;
        p += block_floats_[i];
    }
    scratch_ = scratch_floats_ > 0 ? p : nullptr;
    for (State& s : nodes_) s.done = 0;
    const Status st = schedule(&ctx);
    std::fill(block_ptr_.begin(), block_ptr_.end(), nullptr);
    return st;
}

void Stream::start_pass(int sink) {
    for (RowRing& r : rings_) r.rewind();
    for (State& s : nodes_)
        if (!s.n.keep && (s.n.ring < 0 || !ring(s.n.ring).pinned())) s.done = 0;
    // Readers of nodes that will run in this pass: reachable from the sink through nodes not yet
    // done (a pinned, finished node asks nothing of its inputs). The others are ignored.
    std::vector<char> active(nodes_.size(), 0);
    std::vector<int> todo{sink};
    active[static_cast<size_t>(sink)] = 1;
    while (!todo.empty()) {
        const State& s = nodes_[static_cast<size_t>(todo.back())];
        todo.pop_back();
        if (s.done >= s.n.out_h) continue;
        for (const StreamNode::Input& in : s.n.inputs) {
            if (active[static_cast<size_t>(in.node)]) continue;
            active[static_cast<size_t>(in.node)] = 1;
            todo.push_back(in.node);
        }
    }
    set_phases(sink, active);
    for (size_t id = 0; id < nodes_.size(); ++id) {
        const State& s = nodes_[id];
        if (active[id] && s.done < s.n.out_h) continue;
        for (const StreamNode::Input& in : s.n.inputs) {
            const int r = nodes_[static_cast<size_t>(in.node)].n.ring;
            if (r >= 0) ring(r).ignore(in.reader);
        }
    }
}

void Stream::set_phases(int sink, const std::vector<char>& active) {
    // The rows each node must reach before the sink's first row can be made (its cone), from
    // the sink down: a node's producers have lower ids than the node.
    std::vector<int64_t> cone(nodes_.size(), 0);
    cone[static_cast<size_t>(sink)] = 1;
    for (int id = sink; id >= 0; --id) {
        State& s = nodes_[static_cast<size_t>(id)];
        const int64_t rows = cone[static_cast<size_t>(id)];
        if (rows == 0 || !active[static_cast<size_t>(id)] || s.done >= s.n.out_h) continue;
        const int64_t t = target_row(s, rows);
        // On the node's step (Winograd's 4-row tiles) like its cap, even where t is its last row.
        s.phase = (rows + s.n.step - 1) / s.n.step * s.n.step % s.cap;
        for (const StreamNode::Input& in : s.n.inputs) {
            int64_t a = 0, b = 0;
            in.rows(0, t, &a, &b);
            int64_t& c = cone[static_cast<size_t>(in.node)];
            c = std::max(c, b);
        }
    }
}

Status Stream::schedule(const ops::Context* ctx) {
    const int64_t last_h = nodes_[static_cast<size_t>(sink_)].n.out_h;
    for (int sink : sinks_) {
        start_pass(sink);
        const int64_t sink_h = nodes_[static_cast<size_t>(sink)].n.out_h;
        const int64_t stripe = scaled_rows(stripe_, sink_h, last_h, 1);
        for (int64_t y = 0; y < sink_h; y += stripe)
            LUCENT_RETURN_IF_ERROR(ensure(ctx, sink, std::min(sink_h, y + stripe)));
    }
    return Status();
}

}  // namespace lucent::models
