// lucent::Model: loading (file, memory, embedded default), shapes and the float NCHW run.
// The interleaved-image path is image_run.cpp.
#include "lucent/model.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "api/default_models.h"
#include "api/model_impl.h"
#include "api/no_throw.h"
#include "engine/amx.h"
#include "engine/format_bytes.h"
#include "engine/memory_info.h"
#include "engine/threading.h"
#include "ops/dispatch.h"
#include "weights/weight_file.h"

namespace lucent {
namespace {

// The first non-finite value of a float NCHW input, as a status naming its position.
Status check_finite(const float* in, const Dims& d) {
    const int64_t count = d.count();
    for (int64_t i = 0; i < count; ++i) {
        if (std::isfinite(in[i])) continue;
        const int64_t x = i % d.w, y = i / d.w % d.h, c = i / (d.w * d.h) % d.c,
                      n = i / (d.w * d.h * d.c);
        return make_status(StatusCode::kInvalidArgument,
                           "the input holds %s at [%lld, %lld, %lld, %lld] (image %lld, channel "
                           "%lld, row %lld, column %lld); inputs must be finite",
                           std::isnan(in[i]) ? "NaN" : "infinity", static_cast<long long>(n),
                           static_cast<long long>(c), static_cast<long long>(y),
                           static_cast<long long>(x), static_cast<long long>(n),
                           static_cast<long long>(c), static_cast<long long>(y),
                           static_cast<long long>(x));
    }
    return Status();
}

Shape to_shape(const Dims& d) { return Shape{d.n, d.c, d.h, d.w}; }

// The stripe when Options::stripe_rows is 0 and memory allows it: kDefaultStripeRows output
// rows, or more on narrow outputs, up to kDefaultStripePixels output pixels. The stripe sets the
// chunk height of every layer (scaled to its resolution, chunks capped by pixels anyway), so it
// trades memory for per-chunk overheads: for a 6-block x4 RRDBNet on 500x375, 64 rows (body
// chunks of 16 rows) plan 0.39 GB, 256 rows plan 0.95 GB (bench/stream_memory.py). Wider inputs
// halve it while the plan exceeds what the run may spend (2000x1500 at 64 rows plans 1.4 GB).
// SSR outputs narrower than 4096 columns take more rows, up to kDefaultStripePixels: chunked by
// rows alone, a 128x128 x4 input ran its body in chunks of 16 x 128 pixels, where each parallel
// region's fixed costs and any late thread weigh most (interleaved against 64 rows on the 2-core
// Zen 4 VM: 4 % faster at one thread, 13 % at two, whose times also swung less from process to
// process), for 1.7x the peak memory (298 -> 513 MB), no more than a 4096-column output's plan
// at 64 rows. RED at 576x576 gained nothing measurable (1 %) for 1.7x the memory, so it keeps 64.
constexpr int64_t kDefaultStripeRows = 64;
constexpr int64_t kDefaultStripePixels = int64_t{1} << 18;
// Without Options::max_memory_bytes, the stripe halves until the plan fits this too: taller
// stripes buy no measurable speed past it, and a 2000x1500 x4 run at 64 rows (1.4 GB) then
// takes 32 (about 1 GB).
constexpr uint64_t kStripeCap = uint64_t{1} << 30;
// Without Options::max_memory_bytes, the most memory a run spends to go faster (taller stripes,
// the whole-image plan of channel-attention SSR, RED's kept statistics inputs): a 1080p RED frame
// at the default widths keeps them (about 2 GB), 4K streams in passes in well under 1.5 GiB.
constexpr uint64_t kKeepCap = uint64_t{4} << 30;

// What a run may spend to go faster (include/lucent/model.hpp): Options::max_memory_bytes when
// set (`budget` is then that limit, or what is left of it), else a quarter of `budget` (usable
// memory) and at most kKeepCap. Idle plans kept between runs stay within it too.
uint64_t spend_allowance(const Options& options, uint64_t budget) {
    if (options.max_memory_bytes != 0) return budget;
    return budget == 0 ? kKeepCap : std::min(budget / 4, kKeepCap);
}

Status check_options(const Options& o) {
    if (o.num_threads < 0 || o.num_threads > 1024)
        return make_status(StatusCode::kInvalidArgument,
                           "Options::num_threads is %d; it must be 0 (all cores) to 1024",
                           o.num_threads);
    const int isa = static_cast<int>(o.max_isa);
    if (isa < static_cast<int>(Isa::kScalar) || isa > static_cast<int>(Isa::kAvx512))
        return make_status(StatusCode::kInvalidArgument,
                           "Options::max_isa is %d; it must be scalar (0), avx2 (1) or avx512 (2)",
                           isa);
    if (o.stripe_rows < 0)
        return make_status(StatusCode::kInvalidArgument,
                           "Options::stripe_rows is %lld; it must be 0 (automatic) or more",
                           static_cast<long long>(o.stripe_rows));
    if (o.precision != Precision::kFp32 && o.precision != Precision::kBf16)
        return make_status(StatusCode::kInvalidArgument,
                           "Options::precision is %d; it must be fp32 (0) or bf16 (1)",
                           static_cast<int>(o.precision));
    return Status();
}

Result<std::unique_ptr<Model::Impl>> build(const weights::WeightFile& wf, const std::string& name,
                                           const Options& options) {
    LUCENT_RETURN_IF_ERROR(check_options(options));
    std::unique_ptr<Model::Impl> impl(new Model::Impl());
    impl->options = options;
    impl->name = name;
    if (options.keep_working_memory)
        impl->plans.set_cap(options.keep_memory_limit != 0
                                ? options.keep_memory_limit
                                : spend_allowance(options, usable_memory()));
    impl->isa = options.reference ? Isa::kScalar : effective_isa(options.max_isa);
    models::GraphOptions gopts;
    if (options.reference) gopts.conv_algo = ops::Conv2dAlgo::kDirect;
    if (options.precision == Precision::kBf16) {
        // bf16 runs on AMX tiles, else with AVX512-BF16's VDPBF16PS (bf16_kernel()); the
        // reference path and tier caps below AVX-512 exclude it.
        if (options.reference || impl->isa != Isa::kAvx512 || bf16_kernel() == Bf16Kernel::kNone)
            return make_status(
                StatusCode::kUnsupported,
                "precision bf16 needs AMX (amx_bf16 and amx_tile, with the OS's tile "
                "permission) or AVX512-BF16, and the avx512 tier; %s",
                options.reference           ? "--reference is fp32 only"
                : impl->isa != Isa::kAvx512 ? "the kernel tier is capped below avx512"
                                            : "this CPU offers neither AMX nor AVX512-BF16");
        gopts.bf16 = true;
    }
    LUCENT_ASSIGN_OR_RETURN(impl->graph,
                            models::load_graph(wf, ops::kernels_for(impl->isa), gopts));
    // The compact SR graph upscales: for the API it is an SSR-kind (upscaling) model.
    impl->kind = wf.kind() == weights::GraphKind::kRed ? ModelKind::kRed : ModelKind::kSsr;
    impl->scale = impl->graph->scale();
    impl->graph_name = wf.kind() == weights::GraphKind::kCompact ? "compact"
                       : wf.kind() == weights::GraphKind::kSsr   ? "SSR"
                                                                 : "RED";
    return impl;
}

}  // namespace

Result<std::unique_ptr<models::StreamRun>> Model::Impl::plan_stream(const Shape& one,
                                                                    uint64_t budget,
                                                                    bool whole) const {
    Shape os;
    LUCENT_RETURN_IF_ERROR(graph->output_shape(one, &os));
    const int threads = resolve_threads(options.num_threads);
    if (whole) return graph->plan_stream(one, os.h, threads, models::StreamMode::kWhole);
    const int64_t by_pixels = kind == ModelKind::kSsr
                                  ? (kDefaultStripePixels + os.w - 1) / std::max<int64_t>(os.w, 1)
                                  : 0;
    int64_t stripe = std::min(
        options.stripe_rows > 0 ? options.stripe_rows : std::max(kDefaultStripeRows, by_pixels),
        os.h);
    const uint64_t prefer = spend_allowance(options, budget);
    // Graphs whose streams cost much extra work (channel-attention SSR) run their whole-image
    // plan when it fits (unless a stripe height was asked for).
    if (graph->prefers_whole_image() && options.stripe_rows == 0) {
        LUCENT_ASSIGN_OR_RETURN(std::unique_ptr<models::StreamRun> all,
                                graph->plan_stream(one, os.h, threads, models::StreamMode::kWhole));
        if (all->bytes() <= prefer) return all;
    }
    if (kind == ModelKind::kRed) {
        // Keeping the statistics' inputs saves RED's second and third encoder passes.
        LUCENT_ASSIGN_OR_RETURN(
            std::unique_ptr<models::StreamRun> kept,
            graph->plan_stream(one, stripe, threads, models::StreamMode::kKeep));
        if (kept->bytes() <= prefer) return kept;
    }
    // A stripe set by the caller is kept (and refused below if over the budget); else it halves
    // until the plan fits what the run may spend to go faster, the budget being the hard limit.
    const uint64_t fit =
        options.max_memory_bytes != 0 ? prefer : std::min<uint64_t>(prefer, kStripeCap);
    Result<std::unique_ptr<models::StreamRun>> plan = graph->plan_stream(one, stripe, threads);
    LUCENT_RETURN_IF_ERROR(plan.status());
    while (options.stripe_rows == 0 && stripe > 1 && plan.value()->bytes() > fit) {
        stripe = (stripe + 1) / 2;
        plan = graph->plan_stream(one, stripe, threads);
        LUCENT_RETURN_IF_ERROR(plan.status());
    }
    if (budget != 0 && plan.value()->bytes() > budget)
        return make_status(StatusCode::kOutOfMemory,
                           "a %lldx%lld input streamed in stripes of %lld output rows needs %s of "
                           "working memory, more than the %s limit%s",
                           static_cast<long long>(one.w), static_cast<long long>(one.h),
                           static_cast<long long>(stripe),
                           format_bytes(plan.value()->bytes()).c_str(),
                           format_bytes(budget).c_str(),
                           options.stripe_rows == 0 ? " (one-row stripes do not fit either)" : "");
    return plan;
}

Result<PlanLease> Model::Impl::lease_plan(const Shape& one, uint64_t budget, bool whole) const {
    const PlanKey key{one.c, one.h, one.w, budget, resolve_threads(options.num_threads), whole};
    std::unique_ptr<models::StreamRun> plan = plans.take(key);
    if (plan == nullptr) {
        LUCENT_ASSIGN_OR_RETURN(plan, plan_stream(one, budget, whole));
    }
    return PlanLease(&plans, key, std::move(plan));
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Result<Model> Model::load_memory(const uint8_t* data, size_t size, const std::string& name,
                                 const Options& options) {
    return no_throw("loading a model", [&]() -> Result<Model> {
        if (data == nullptr && size != 0)
            return make_status(StatusCode::kInvalidArgument, "load_memory: data is null");
        LUCENT_ASSIGN_OR_RETURN(
            weights::WeightFile wf,
            weights::WeightFile::parse(std::vector<uint8_t>(data, data + size), name));
        LUCENT_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, build(wf, name, options));
        return Model(std::move(impl));
    });
}

Result<Model> Model::load(const std::string& path, const Options& options) {
    return no_throw("loading a model", [&]() -> Result<Model> {
        LUCENT_ASSIGN_OR_RETURN(weights::WeightFile wf, weights::WeightFile::open(path));
        LUCENT_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, build(wf, path, options));
        return Model(std::move(impl));
    });
}

Result<Model> Model::load_default(ModelKind kind, const Options& options) {
    return no_throw("loading a model", [&]() -> Result<Model> {
        if (kind != ModelKind::kSsr && kind != ModelKind::kRed)
            return make_status(StatusCode::kInvalidArgument,
                               "load_default: model kind %d is neither SSR (1) nor RED (2)",
                               static_cast<int>(kind));
        EmbeddedModel em;
        if (!default_model(kind == ModelKind::kSsr ? "ssr" : "red", &em))
            return make_status(StatusCode::kUnsupported, "this build embeds no default %s model",
                               kind == ModelKind::kSsr ? "SSR" : "RED");
        return load_memory(em.data, em.size, em.description, options);
    });
}

ModelKind Model::kind() const { return impl_->kind; }
int64_t Model::scale() const { return impl_->scale; }
int64_t Model::in_channels() const { return impl_->graph->in_channels(); }
int64_t Model::out_channels() const { return impl_->graph->out_channels(); }
Isa Model::isa() const { return impl_->isa; }
int32_t Model::num_threads() const { return resolve_threads(impl_->options.num_threads); }
const std::string& Model::name() const { return impl_->name; }
const char* Model::graph() const { return impl_->graph_name; }
const Options& Model::options() const { return impl_->options; }

void Model::release_working_memory() const { impl_->plans.clear(); }

uint64_t Model::memory_limit() const {
    return impl_->options.max_memory_bytes ? impl_->options.max_memory_bytes : usable_memory();
}

Status Model::output_dims(const Dims& in, Dims* out) const {
    return no_throw("output_dims", [&]() -> Status {
        if (out == nullptr)
            return make_status(StatusCode::kInvalidArgument, "output_dims: out is null");
        Shape os;
        LUCENT_RETURN_IF_ERROR(impl_->graph->output_shape(to_shape(in), &os));
        *out = Dims{os.n, os.c, os.h, os.w};
        return Status();
    });
}

Result<uint64_t> Model::working_bytes(const Dims& in) const {
    return no_throw("working_bytes", [&]() -> Result<uint64_t> {
        Shape os;
        LUCENT_RETURN_IF_ERROR(impl_->graph->output_shape(to_shape(in), &os));
        LUCENT_ASSIGN_OR_RETURN(PlanLease plan,
                                impl_->lease_plan(Shape{1, in.c, in.h, in.w}, memory_limit()));
        return plan->bytes();
    });
}

Status Model::run(const float* in, const Dims& in_dims, float* out) const {
    return run_traced(in, in_dims, out, nullptr);
}

Status Model::run(const float* in, const Dims& in_dims, float* out,
                  const LayerObserver& observe) const {
    return run_traced(in, in_dims, out, &observe);
}

Status Model::run_traced(const float* in, const Dims& in_dims, float* out,
                         const LayerObserver* observe) const {
    return no_throw("Model::run", [&]() -> Status {
        if (in == nullptr || out == nullptr)
            return make_status(StatusCode::kInvalidArgument, "Model::run: null input or output");
        Shape os;
        LUCENT_RETURN_IF_ERROR(impl_->graph->output_shape(to_shape(in_dims), &os));
        const uint64_t limit = memory_limit();
        const bool traced = observe != nullptr && *observe;
        LUCENT_ASSIGN_OR_RETURN(
            PlanLease plan,
            impl_->lease_plan(Shape{1, in_dims.c, in_dims.h, in_dims.w}, limit, traced));
        const uint64_t need = plan->bytes();
        if (limit != 0 && need > limit)
            return make_status(
                StatusCode::kOutOfMemory,
                "a %lldx%lld input (batch %lld) needs about %s of working memory, more "
                "than the %s %s; use a smaller image%s",
                static_cast<long long>(in_dims.w), static_cast<long long>(in_dims.h),
                static_cast<long long>(in_dims.n), format_bytes(need).c_str(),
                format_bytes(limit).c_str(),
                impl_->options.max_memory_bytes ? "limit set" : "of usable memory",
                traced ? " (a traced run keeps every layer of the whole image)" : "");
        LUCENT_RETURN_IF_ERROR(check_finite(in, in_dims));
        ops::Context ctx;
        ctx.k = &ops::kernels_for(impl_->isa);
        ctx.num_threads = impl_->options.num_threads;
        ops::LayerTrace trace;
        if (observe != nullptr && *observe) {
            trace = [observe](const std::string& name, const char* op, ConstTensorView t) {
                (*observe)(name, op, t.data, Dims{t.shape.n, t.shape.c, t.shape.h, t.shape.w});
            };
            ctx.trace = &trace;
            (*observe)("input", "input", in, in_dims);
        }
        LUCENT_RETURN_IF_ERROR(impl_->graph->run_planned(
            ctx, ConstTensorView{in, to_shape(in_dims)}, TensorView{out, os}, plan.get()));
        if (ctx.trace != nullptr) (*observe)("output", "output", out, Dims{os.n, os.c, os.h, os.w});
        return Status();
    });
}

}  // namespace lucent
