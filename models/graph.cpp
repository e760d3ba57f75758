#include "models/graph.h"

#include "engine/threading.h"
#include "models/compact.h"
#include "models/red.h"
#include "models/ssr.h"
#include "ops/elementwise.h"
#include "ops/validate.h"

namespace lucent::models {

void expect_conv(std::vector<weights::WeightFile::Expected>* e, const std::string& name,
                 int64_t cin, int64_t cout, int64_t k) {
    e->push_back({name + ".weight", {cout, cin, k, k}});
    e->push_back({name + ".bias", {cout}});
}

Status load_conv(const weights::WeightFile& wf, const std::string& name, const ops::Conv2dParams& p,
                 const ops::KernelTable& k, ops::Conv2d* out) {
    LUCENT_ASSIGN_OR_RETURN(std::vector<float> w, wf.tensor_f32(name + ".weight"));
    LUCENT_ASSIGN_OR_RETURN(std::vector<float> b, wf.tensor_f32(name + ".bias"));
    LUCENT_ASSIGN_OR_RETURN(ops::Conv2d conv, ops::Conv2d::create(p, w.data(), b.data(), k));
    *out = std::move(conv);
    return Status();
}

Status load_channel_attention(const weights::WeightFile& wf, const std::string& prefix,
                              int64_t channels, int64_t hidden, ops::ChannelPooling pooling,
                              ops::ChannelAttention* out) {
    Result<std::vector<float>> w1 = wf.tensor_f32(prefix + ".fc1.weight");
    Result<std::vector<float>> b1 = wf.tensor_f32(prefix + ".fc1.bias");
    Result<std::vector<float>> w2 = wf.tensor_f32(prefix + ".fc2.weight");
    Result<std::vector<float>> b2 = wf.tensor_f32(prefix + ".fc2.bias");
    for (const auto* r : {&w1, &b1, &w2, &b2})
        if (!r->ok()) return r->status();
    LUCENT_ASSIGN_OR_RETURN(
        ops::ChannelAttention ca,
        ops::ChannelAttention::create(channels, hidden, w1.value().data(), b1.value().data(),
                                      w2.value().data(), b2.value().data(), pooling));
    *out = std::move(ca);
    return Status();
}

Status scaled_output_shape(const char* graph, const Shape& in, int64_t in_ch, int64_t out_ch,
                           int64_t scale, Shape* out) {
    int64_t numel;
    const std::string g = graph;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, (g + " input").c_str(), &numel));
    if (in.c != in_ch)
        return make_status(StatusCode::kInvalidArgument,
                           "%s input has %lld channels; this model takes %lld", graph,
                           static_cast<long long>(in.c), static_cast<long long>(in_ch));
    constexpr int64_t kMaxSide = int64_t{1} << 24;
    if (in.h > kMaxSide || in.w > kMaxSide)
        return make_status(StatusCode::kInvalidArgument, "%s input %s has a side over %lld", graph,
                           in.str().c_str(), static_cast<long long>(kMaxSide));
    *out = Shape{in.n, out_ch, in.h * scale, in.w * scale};
    return checked_numel(*out, (g + " output").c_str(), &numel);
}

Status Graph::run(const ops::Context& ctx, ConstTensorView in, TensorView out,
                  int64_t stripe_rows) const {
    Shape os;
    LUCENT_RETURN_IF_ERROR(output_shape(in.shape, &os));
    const bool whole = tracing(ctx) || stripe_rows == kWholeImage;
    LUCENT_ASSIGN_OR_RETURN(
        std::unique_ptr<StreamRun> plan,
        plan_stream(Shape{1, in.shape.c, in.shape.h, in.shape.w},
                    stripe_rows > 0 ? stripe_rows : os.h, resolve_threads(ctx.num_threads),
                    whole ? StreamMode::kWhole : StreamMode::kStream));
    return run_planned(ctx, in, out, plan.get());
}

Status Graph::run_planned(const ops::Context& ctx, ConstTensorView in, TensorView out,
                          StreamRun* plan) const {
    Shape os;
    LUCENT_RETURN_IF_ERROR(ops::check_tensor(graph_name(), "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(ops::check_tensor(graph_name(), "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(output_shape(in.shape, &os));
    LUCENT_RETURN_IF_ERROR(ops::check_shape(graph_name(), "output", out.shape, os));
    if (plan == nullptr)
        return make_status(StatusCode::kInvalidArgument, "%s run without a plan", graph_name());
    for (int64_t n = 0; n < in.shape.n; ++n) {
        const ConstRows whole_in = rows_of(image_of(in, n));
        const Rows whole_out = rows_of(image_of(out, n));
        const RowSource source = [&](Rows d) {
            ops::copy_rows(ctx, whole_in, d);
            return Status();
        };
        const RowSink sink = [&](ConstRows r) {
            ops::copy_rows(ctx, r,
                           Rows{whole_out.row(0, r.row0), whole_out.c, whole_out.h, whole_out.w,
                                r.row0, r.rows, whole_out.cs});
            return Status();
        };
        LUCENT_RETURN_IF_ERROR(plan->run(ctx, source, sink));
    }
    return Status();
}

Status StreamRun::run(const ops::Context& ctx, const RowSource& source, const RowSink& sink) {
    if (!has_arena()) {
        LUCENT_ASSIGN_OR_RETURN(arena_,
                                AlignedBuffer::create(stream_.arena_floats(), ctx.num_threads));
    }
    source_ = &source;
    sink_ = &sink;
    const Status st = stream_.run(ctx, arena_.data());
    source_ = nullptr;
    sink_ = nullptr;
    return st;
}

Result<std::unique_ptr<Graph>> load_graph(const weights::WeightFile& wf, const ops::KernelTable& k,
                                          const GraphOptions& opts) {
    if (wf.kind() == weights::GraphKind::kCompact) {
        LUCENT_ASSIGN_OR_RETURN(std::unique_ptr<Compact> m, Compact::create(wf, k, opts));
        return std::unique_ptr<Graph>(std::move(m));
    }
    if (wf.kind() == weights::GraphKind::kSsr) {
        Result<std::unique_ptr<Ssr>> m = Ssr::create(wf, k, opts);
        if (!m.ok()) return m.status();
        return std::unique_ptr<Graph>(std::move(m).value());
    }
    LUCENT_ASSIGN_OR_RETURN(std::unique_ptr<Red> m, Red::create(wf, k, opts));
    return std::unique_ptr<Graph>(std::move(m));
}

}  // namespace lucent::models
