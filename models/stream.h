// Streaming execution: a graph as nodes that each produce the rows of one activation in order,
// top to bottom, into a RowRing that holds only the rows its readers still need. A pull
// scheduler asks the last node for its output stripe by stripe; every node computes, in chunks
// of about one stripe (scaled to its resolution, capped by pixels), the rows its consumers ask
// for next, up to the end of its current chunk.
//
// Chunk grid: each node's chunks end on fixed rows, phase + k * cap, where phase is the rows it
// needs for the sink's first row (its cone) modulo its cap. A consumer's chunk then asks, halo
// included, exactly for a grid row of its producer, so every node computes whole chunks of its
// own cap wherever its demand comes from. Without the grid, chunks followed the consumers' steps:
// a 2000-column x4 output asked the 500-column body for 8-10 rows at a time (an x4 run 5-10 %
// slower than the whole-image plan, at 1/10 of the body's cap); rounding every node up to whole
// chunks counted from row 0 instead snowballed down the body (each halo row cost one more chunk
// per layer, and the rings grew to the whole image).
//
// Plan once: plan() runs the same schedule dry (no data touched) and records the largest span
// of rows each ring must hold and the largest chunk each node computes; that sizes one arena
// (every ring plus the shared per-thread scratch). run() then replays the identical schedule
// on that memory and allocates nothing. The plan's byte count is what the model reports as its
// working memory: there is no second formula.
//
// Bit-identity: a node computes each output element with the same operations whatever chunk it
// is in (ops run_rows contracts); nodes whose tiles span rows (Winograd, 4 rows) declare a step
// and chunks start on it. So the output is the same bits for every stripe height.
//
// Passes (RED): a graph with whole-image statistics runs as several passes, each pulling a
// different sink through the same nodes (a reduction node as the sink of the early passes; it
// accumulates rows in order into a persistent block of the arena). Every node and ring starts
// over at each pass, except the rows of pinned rings: a pinned ring holds its whole height, and
// the nodes writing it are done once, in the first pass that needs them (the plan pins what its
// memory budget allows, so that a roomy run recomputes nothing).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "ops/dispatch.h"

namespace lucent::models {

// Rows of one activation (c channels, h rows, w columns) for streaming. Rows [base, base +
// capacity) have slots; rows below the smallest reader's need are dead. When a write would pass
// the last slot, the live rows move to the front (they are few: a stripe plus halos).
class RowRing {
  public:
    RowRing(int64_t c, int64_t h, int64_t w) : c_(c), h_(h), w_(w) {}
    int64_t channels() const { return c_; }
    int64_t height() const { return h_; }
    int64_t width() const { return w_; }
    int64_t capacity() const { return capacity_; }
    // Holds every row for the whole run (capacity = height; nothing moves or restarts).
    void pin() {
        pinned_ = true;
        capacity_ = h_;
    }
    bool pinned() const { return pinned_; }
    // The reader's rows no longer count (it takes no part in the current pass).
    void ignore(int reader) { need_[static_cast<size_t>(reader)] = INT64_MAX; }
    // Starts the ring over for a new pass (unless pinned): no row written, every reader at 0.
    void rewind();
    // Floats of its arena share: capacity() rows (at least one) of every channel.
    int64_t floats() const { return c_ * std::max<int64_t>(capacity_, 1) * w_; }
    int add_reader();
    // The reader reads no row below y from now on.
    void set_need(int reader, int64_t y) { need_[static_cast<size_t>(reader)] = y; }
    // Makes slots for rows [y0, y1) before they are written. Planning grows the capacity;
    // running moves the live rows down when needed (the plan guarantees that suffices).
    void make_room(int64_t y0, int64_t y1, bool planning, int threads);
    // Channels [c0, c0 + nc), rows [y0, y1) (every row must have a slot).
    Rows rows(int64_t c0, int64_t nc, int64_t y0, int64_t y1) const;
    Rows all_rows(int64_t y0, int64_t y1) const { return rows(0, c_, y0, y1); }
    // Before a run: memory for capacity() * c * w floats from the plan's arena, no row written.
    void reset(float* mem);

  private:
    int64_t c_, h_, w_;
    int64_t capacity_ = 0;
    int64_t base_ = 0;     // row in slot 0
    int64_t written_ = 0;  // end of the highest row written so far
    float* mem_ = nullptr;
    bool pinned_ = false;
    std::vector<int64_t> need_;
};

// One node: out_h rows produced in order into ring `ring` (or delivered elsewhere when -1).
struct StreamNode {
    std::string name;
    int64_t out_h = 0;
    int64_t step = 1;  // chunks start on multiples of step (and end on one or at out_h)
    int ring = -1;
    // Done once for the whole run, not once per pass (a reduction that feeds later passes).
    bool keep = false;
    // The producers of what this node reads, and for each the input rows [*a, *b) that output
    // rows [y0, y1) read (clipped to the producer's rows).
    struct Input {
        int node = -1;
        std::function<void(int64_t y0, int64_t y1, int64_t* a, int64_t* b)> rows;
        int reader = -1;  // set by Stream::add_node
    };
    std::vector<Input> inputs;
    // Scratch floats for a chunk of `rows` output rows with `threads` threads (0: none).
    std::function<int64_t(int64_t rows, int threads)> scratch;
    // Computes output rows [y0, y1); the input rows are present, the output rows have slots.
    std::function<Status(const ops::Context& ctx, int64_t y0, int64_t y1, float* scratch)> run;
    // Layer tracing (whole plans, where a node runs once over all its rows): after that run,
    // each entry is reported with the channels [out_c0, out_c0 + out_nc) of the node's ring
    // (out_nc < 0: all of them). Nodes that trace themselves (RED's out, before its sigmoid; the
    // pyramid stages) leave this empty and report through ctx.trace.
    struct Trace {
        std::string name, op;
    };
    std::vector<Trace> traces;
    int64_t out_c0 = 0, out_nc = -1;
};

class Stream {
  public:
    int add_ring(int64_t c, int64_t h, int64_t w);
    RowRing& ring(int id) { return rings_[static_cast<size_t>(id)]; }
    const RowRing& ring(int id) const { return rings_[static_cast<size_t>(id)]; }
    int add_node(StreamNode node);
    const StreamNode& node(int id) const { return nodes_[static_cast<size_t>(id)].n; }
    // Reports the node's output under `name` as `op` when a whole plan traces (StreamNode).
    void add_trace(int id, const std::string& name, const std::string& op) {
        nodes_[static_cast<size_t>(id)].n.traces.push_back({name, op});
    }
    // A block of `floats` floats in the arena that keeps its contents across passes (reduction
    // results). block() is valid during run().
    int add_block(int64_t floats);
    float* block(int id) const { return block_ptr_[static_cast<size_t>(id)]; }

    // Dry run of the schedule that delivers `sink`'s rows `stripe_rows` at a time with
    // `threads` threads: sizes every ring and the scratch. Call once, before run().
    Status plan(int sink, int64_t stripe_rows, int threads);
    // As plan(), for passes: sinks[0] is pulled to its end, then sinks[1], ... The stripe
    // counts rows of the last sink; earlier sinks get the same share of their height.
    // whole: the whole-image plan. Every node runs once over all its rows (the layer by layer
    // order of a plain forward pass, which layer tracing reports), every ring holds its whole
    // activation, and rings not alive at the same time share memory.
    Status plan(const std::vector<int>& sinks, int64_t stripe_rows, int threads,
                bool whole = false);
    // Floats of the arena the plan needs (saturating), and its bytes.
    int64_t arena_floats() const { return arena_floats_; }
    // Floats from one thread's slice of the scratch block to the next (plan()): the largest
    // node's slice, so that a thread's slice starts at the same place in every layer. With
    // each layer's own slice size, thread 1's slice moved onto lines thread 0 had written in
    // the layer before, and every layer pulled them across cores.
    int64_t scratch_stride() const { return scratch_stride_; }
    uint64_t bytes() const { return static_cast<uint64_t>(arena_floats_) * sizeof(float); }
    // The sink's rows per stripe (no chunk the sink receives is taller).
    int64_t stripe_rows() const { return stripe_; }
    // Runs the planned schedule on `arena` (arena_floats() floats).
    Status run(const ops::Context& ctx, float* arena);

  private:
    // Columns of a node's output (its ring's, or for the sink its input's).
    int64_t node_width(const StreamNode& n) const;
    struct State {
        StreamNode n;
        int64_t cap = 1;    // rows per chunk
        int64_t phase = 0;  // chunks end at phase + k * cap or at out_h (set_phases)
        int64_t done = 0;
        int64_t max_chunk = 0;
    };
    Status ensure(const ops::Context* ctx, int id, int64_t y_end);
    // The row a node computes up to when asked for rows below y_end (its step; whole plans: all).
    int64_t target_row(const State& s, int64_t y_end) const;
    // The chunk grid of every node taking part in a pass (see the header comment).
    void set_phases(int sink, const std::vector<char>& active);
    // Whole plans: places the rings in the arena by their lifetimes (first write to last read,
    // in node runs); returns the floats the rings take.
    int64_t place_rings();
    bool whole_ = false;
    int64_t steps_ = 0;                          // node runs so far (planning a whole plan)
    std::vector<int64_t> first_use_, last_use_;  // per ring, in node runs
    std::vector<int64_t> offset_;                // per ring, in floats from the arena start
    int64_t rings_floats_ = 0;                   // where the rings end in the arena
    // Every pass's sink, stripe by stripe: dry when ctx is null (planning), else computed.
    Status schedule(const ops::Context* ctx);
    // Before a pass: restarts the nodes and rings (pinned ones keep their rows) and sets which
    // readers take part (those reachable from the sink through nodes still to run).
    void start_pass(int sink);
    std::vector<RowRing> rings_;
    std::vector<State> nodes_;
    std::vector<int64_t> block_floats_;
    std::vector<float*> block_ptr_;
    std::vector<int> sinks_;
    int sink_ = -1;
    int64_t stripe_ = 0;
    int threads_ = 1;
    int64_t arena_floats_ = 0;
    int64_t scratch_floats_ = 0;
    int64_t scratch_stride_ = 0;
    float* scratch_ = nullptr;
};

// Chunk-size helper: rows of a node at `out_h` rows per stripe of `stripe` rows of a sink
// `sink_h` rows high (at least one step).
int64_t scaled_rows(int64_t stripe, int64_t out_h, int64_t sink_h, int64_t step);

// The most rows a node `width` columns wide computes at once: about kChunkPixels pixels (16k
// made 2-thread runs 25 % slower than 64k on a 500x375 x4 run), but
// at least 4 rows per thread (convolutions split rows between threads; Winograd tiles are 4
// rows high), in whole steps. Wide images thus get short chunks and their rings hold few rows:
// memory follows the width, not the stripe, once a stripe holds more than a chunk.
constexpr int64_t kChunkPixels = 65536;
int64_t chunk_limit(int64_t width, int64_t step, int threads);

}  // namespace lucent::models
