// The interface the graphs (models/ssr.h, models/red.h, models/compact.h) implement, and small
// helpers they share. A Graph is immutable after create(); run() is const and may be called from
// several threads at once (each call plans its own activations).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "models/stream.h"
#include "ops/attention.h"
#include "ops/conv2d.h"
#include "ops/dispatch.h"
#include "weights/weight_file.h"

namespace lucent::models {

// How the graph's convolutions are built.
struct GraphOptions {
    // kDirect everywhere gives the reference path of the numerics contract (with scalar kernels).
    ops::Conv2dAlgo conv_algo = ops::Conv2dAlgo::kAuto;
    // The bf16 tier: the 3x3 convolutions between the first and the last (RED's stride-2
    // `down` too), RED's pyramid fuse (1x1) and its transposed convolution run in bf16 on AMX
    // (ops/conv_bf16.h); the first and last
    // convolutions, residual sums, pooling, attention and resampling stay fp32 (they cost
    // little and carry the error budget).
    bool bf16 = false;
};

// Streaming I/O of one image. The source fills dst (its channels, rows [dst.row0, dst.end()),
// planes dst.cs apart) with those input rows; the sink receives output rows in order.
using RowSource = std::function<Status(Rows dst)>;
using RowSink = std::function<Status(ConstRows rows)>;

// One image shape planned for streaming (Graph::plan_stream): the node graph, its schedule and
// the size of its arena. The first run() allocates that arena and the plan keeps it, so later
// runs of the same plan (one image after another; api/plan_cache.h keeps plans between a
// Model's calls) allocate nothing and touch no fresh page. Runs never rely on what the arena
// holds: every row is written before it is read, whatever an earlier run left there.
class StreamRun {
  public:
    uint64_t bytes() const { return stream_.bytes(); }
    // Output rows per stripe: the tallest block the sink receives.
    int64_t stripe_rows() const { return stream_.stripe_rows(); }
    // One image at a time (a plan is not shared between concurrent runs).
    Status run(const ops::Context& ctx, const RowSource& source, const RowSink& sink);
    // Whether the arena is allocated (a run has started on this plan).
    bool has_arena() const { return arena_.data() != nullptr; }

    // For the graph builders: the nodes call the current source and sink through these.
    Stream& stream() { return stream_; }
    Status pull(Rows dst) const { return (*source_)(dst); }
    Status push(ConstRows rows) const { return (*sink_)(rows); }

  private:
    Stream stream_;
    AlignedBuffer arena_;
    const RowSource* source_ = nullptr;
    const RowSink* sink_ = nullptr;
};

// How a stream is planned (Graph::plan_stream).
enum class StreamMode : int32_t {
    kStream = 0,  // stripes; RED computes its encoder again in each pass
    kKeep = 1,    // stripes; RED keeps its statistics' inputs (e2, p) for the later passes
    kWhole = 2,   // the whole-image plan: every layer once over the whole image, in memory
                  // shared between layers not alive together (what layer tracing runs)
};

class Graph {
  public:
    virtual ~Graph() = default;
    virtual int64_t in_channels() const = 0;
    virtual int64_t out_channels() const = 0;
    // Output size / input size (1 for enhancement).
    virtual int64_t scale() const = 0;
    // Output shape for an input shape, or kInvalidArgument naming what is wrong with it.
    virtual Status output_shape(const Shape& in, Shape* out) const = 0;
    // out must have output_shape(in.shape). Checks both tensors, then runs the images of the
    // batch one after another: traced runs (ctx.trace) and stripe_rows == kWholeImage through
    // the whole-image plan, else streamed in stripes of stripe_rows output rows (0: the whole
    // height as one stripe).
    static constexpr int64_t kWholeImage = -1;
    Status run(const ops::Context& ctx, ConstTensorView in, TensorView out,
               int64_t stripe_rows = 0) const;
    // As run(), each image streamed through `plan` (planned for one image of in's shape).
    Status run_planned(const ops::Context& ctx, ConstTensorView in, TensorView out,
                       StreamRun* plan) const;
    // Plans one image of shape `in` (n = 1) in stripes of `stripe_rows` output rows with
    // `threads` threads (kWhole ignores the stripe). The plan's bytes are the run's working
    // memory: there is no other formula.
    Result<std::unique_ptr<StreamRun>> plan_stream(const Shape& in, int64_t stripe_rows,
                                                   int threads,
                                                   StreamMode mode = StreamMode::kStream) const {
        return build_stream(in, stripe_rows, threads, mode);
    }
    // True when streaming costs much more work than the whole-image plan (SSR with channel
    // attention recomputes its body once per gate): run whole images when they fit.
    virtual bool prefers_whole_image() const { return false; }

  protected:
    virtual const char* graph_name() const = 0;  // "SSR" / "RED", for messages
    virtual Result<std::unique_ptr<StreamRun>> build_stream(const Shape& in, int64_t stripe_rows,
                                                            int threads, StreamMode mode) const = 0;
};

// Builds the graph a weight file describes (SSR, RED or compact), with weights packed for `k`.
Result<std::unique_ptr<Graph>> load_graph(const weights::WeightFile& wf, const ops::KernelTable& k,
                                          const GraphOptions& opts);

// One image of a batch.
inline ConstTensorView image_of(ConstTensorView t, int64_t n) {
    return ConstTensorView{t.data + n * t.shape.c * t.shape.plane(),
                           Shape{1, t.shape.c, t.shape.h, t.shape.w}};
}
inline TensorView image_of(TensorView t, int64_t n) {
    return TensorView{t.data + n * t.shape.c * t.shape.plane(),
                      Shape{1, t.shape.c, t.shape.h, t.shape.w}};
}

// True when the context traces layers (traced runs take the whole-image plan).
inline bool tracing(const ops::Context& ctx) { return ctx.trace != nullptr; }

// Helpers the graph builders share.
// The output shape of an upscaling graph (`graph` names it in messages): in_ch channels in,
// out_ch out, `scale` times the input's sides, each side at most 2^24.
Status scaled_output_shape(const char* graph, const Shape& in, int64_t in_ch, int64_t out_ch,
                           int64_t scale, Shape* out);
// Appends "<name>.weight" [cout, cin, k, k] and "<name>.bias" [cout] to an expected-tensor list.
void expect_conv(std::vector<weights::WeightFile::Expected>* e, const std::string& name,
                 int64_t cin, int64_t cout, int64_t k);
// Builds a Conv2d from "<name>.weight" / "<name>.bias" of a checked weight file.
Status load_conv(const weights::WeightFile& wf, const std::string& name, const ops::Conv2dParams& p,
                 const ops::KernelTable& k, ops::Conv2d* out);
// Builds a ChannelAttention from "<prefix>.fc1" (channels -> hidden) and "<prefix>.fc2".
Status load_channel_attention(const weights::WeightFile& wf, const std::string& prefix,
                              int64_t channels, int64_t hidden, ops::ChannelPooling pooling,
                              ops::ChannelAttention* out);

}  // namespace lucent::models
