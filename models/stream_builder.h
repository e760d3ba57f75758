// Building blocks of the graphs' streaming nodes (models/stream.h): conv layers reading a
// channel range of one ring and writing a channel range of another, residual sums, copies, the
// input source and the output sink. models/ssr_stream.cpp and models/red_stream.cpp add their
// graph-specific nodes on top.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/graph.h"
#include "ops/activation_codes.h"
#include "ops/attention.h"
#include "ops/conv2d.h"

namespace lucent::models {

using RowsFn = std::function<void(int64_t, int64_t, int64_t*, int64_t*)>;
// Rows [y0, y1) read rows [y0, y1).
RowsFn same_rows();
// Rows [y0 / r, (y1 - 1) / r + 1): nearest upsampling and pixel shuffle by r.
RowsFn divided_rows(int64_t r);
// Every row of a node h rows high: what follows a reduction waits for the whole image.
RowsFn all_rows_of(int64_t h);

// The op a conv layer reports when traced: "conv3x3+lrelu", "conv3x3s2+lrelu", "conv1x1", ...
std::string conv_op(const ops::Conv2dParams& p);

// Adds nodes to the stream of `sr` (the StreamRun being planned, which outlives them).
class StreamBuilder {
  public:
    explicit StreamBuilder(StreamRun* sr) : sr_(sr), s_(sr->stream()) {}
    Stream& stream() { return s_; }

    // A conv node reading channels [c0, c0 + nc) of ring `in_ring` (whose rows come from the
    // nodes `producers`) and writing channels [oc0, oc0 + out_ch) of `out_ring`; `post`
    // (kNone or kSigmoid) then runs on the rows written. Traced under `name` (conv_op()).
    int conv(const std::string& name, const ops::Conv2d& cv, int in_ring, int64_t c0, int64_t nc,
             const std::vector<int>& producers, int out_ring, int64_t oc0,
             ops::Activation post = ops::Activation::kNone);
    // What runs on a conv node's rows right after the conv wrote them (dst: those rows).
    using Epilogue = std::function<Status(const ops::Context&, Rows dst)>;
    // As conv(), then `epilogue` (if any) on the rows written; the stream traces them after it,
    // as `op` (nothing when op is empty). The node also waits for every row of the nodes
    // `waits` (reductions the epilogue reads).
    int conv_then(const std::string& name, const std::string& op, const ops::Conv2d& cv,
                  int in_ring, int64_t c0, int64_t nc, const std::vector<int>& producers,
                  int out_ring, int64_t oc0, Epilogue epilogue, const std::vector<int>& waits);
    // The bf16 tier's packed rings (ops::PackedRows, ops/conv_bf16.h): a ring of one "channel"
    // whose rows are packed rows of `w` pixels and `cp` bf16 channels (floats as storage).
    int add_packed_ring(int64_t cp, int64_t h, int64_t w);
    // Packs channels [0, nc) of fp32 ring `in_ring` into channels [0, nc) of packed ring
    // `out_ring` (cp channels).
    int pack_bf16(const std::string& name, int in_ring, int producer, int out_ring, int64_t nc,
                  int64_t cp);
    // Nearest upsampling by r of packed ring `in_ring` (in_w pixels, cp channels) into packed
    // ring `out_ring` (in_w * r pixels).
    int nearest_packed(const std::string& name, int in_ring, int producer, int out_ring, int64_t r,
                       int64_t in_w, int64_t cp);
    // A bf16 conv node (cv.bf16_op()) reading channels [0, cv's in_ch) of packed ring
    // `in_ring` (px pixels wide, in_cp channels), written by `producers`; it writes fp32 channels
    // [oc0, oc0 + out_ch) of out_ring when out_cp is 0, else bf16 channels [oc0, ...) of packed
    // ring out_ring (out_cp channels). Traced under `name` like conv() (packed outputs converted
    // for the report).
    int conv_packed(const std::string& name, const ops::Conv2d& cv, int in_ring, int64_t px,
                    int64_t in_cp, const std::vector<int>& producers, int out_ring, int64_t oc0,
                    int64_t out_cp);
    // out = a * x + b * y over nc channels (x, y: channel 0.. of their rings, same rows).
    int axpby(const std::string& name, int x_ring, const std::vector<int>& x_nodes, float a,
              int y_ring, const std::vector<int>& y_nodes, float b, int out_ring, int64_t nc);
    // Nearest upsampling (nearest = true) or pixel shuffle by r of in_ring into out_ring.
    int resample(const std::string& name, bool nearest, int64_t r, int in_ring, int producer,
                 int out_ring);
    // Channels [0, nc) of in_ring copied to channels [0, nc) of out_ring.
    int copy(const std::string& name, int in_ring, int producer, int out_ring, int64_t nc);
    // The input rows, pulled from the run's source.
    int source(int ring);
    // Delivers rows of in_ring (columns [0, out_w), rows [0, out_h)) to the run's sink; crops
    // through a small ring when the graph computed a larger, padded image.
    int sink(int in_ring, int producer, int64_t out_h, int64_t out_w);

    // A reduction over every row of channels [0, c) of `ring` (written by `producer`): `add`
    // takes each chunk in order, `finish` runs once after the last row (with scratch(threads)
    // floats of scratch). Done once per run, in the first pass that needs it: make it a sink
    // of Stream::plan() before the nodes that read its result.
    int reduce(const std::string& name, int ring, int producer, int64_t c,
               std::function<void(const ops::Context&, ConstRows)> add,
               std::function<Status(const ops::Context&, float*)> finish,
               std::function<int64_t(int)> scratch);
    // A channel gate (ops::ChannelAttention) over the rows of `ring`: `node` reduces them and
    // leaves the gate's factors in block `factors`.
    struct Gate {
        int node = -1, factors = -1;
    };
    Gate channel_gate_stats(const std::string& name, int ring, int producer,
                            const ops::ChannelAttention& ca);
    // out_ring = in_ring's rows times the gate's factors, channel by channel (as mul_channels).
    int channel_gate(const std::string& name, int in_ring, int producer, const Gate& gate,
                     int out_ring);

  protected:
    // A node named `name` producing every row of ring `out_ring` (fill in inputs and run).
    StreamNode node_into(const std::string& name, int out_ring) const;
    StreamRun* sr_;
    Stream& s_;
};

}  // namespace lucent::models
