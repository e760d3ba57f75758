#include "lucent/model.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/default_models.h"
#include "engine/format_bytes.h"
#include "engine/threading.h"
#include "models/graph.h"
#include "models/ssr.h"
#include "ops/dispatch.h"
#include "weights/weight_file.h"

namespace lucent {

struct Model::Impl {
    std::unique_ptr<models::Graph> graph;
    ModelKind kind = ModelKind::kSsr;
    int64_t scale = 1;
    Isa isa = Isa::kScalar;
    Options options;
    std::string name;
};

namespace {

uint64_t physical_memory() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
}

Shape to_shape(const Dims& d) { return Shape{d.n, d.c, d.h, d.w}; }

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

namespace {

Result<std::unique_ptr<Model::Impl>> build(const weights::WeightFile& wf, const std::string& name,
                                           const Options& options) {
    std::unique_ptr<Model::Impl> impl(new Model::Impl());
    impl->options = options;
    impl->name = name;
    impl->isa = options.reference ? Isa::kScalar : effective_isa(options.max_isa);
    models::GraphOptions gopts;
    if (options.reference) gopts.conv_algo = ops::Conv2dAlgo::kDirect;
    Result<std::unique_ptr<models::Graph>> g =
        models::load_graph(wf, ops::kernels_for(impl->isa), gopts);
    if (!g.ok()) return g.status();
    impl->graph = std::move(g).value();
    impl->kind = wf.kind() == weights::GraphKind::kSsr ? ModelKind::kSsr : ModelKind::kRed;
    if (impl->kind == ModelKind::kSsr)
        impl->scale = static_cast<const models::Ssr&>(*impl->graph).config().scale;
    return impl;
}

}  // namespace

Result<Model> Model::load_memory(const uint8_t* data, size_t size, const std::string& name,
                                 const Options& options) {
    if (data == nullptr && size != 0)
        return make_status(StatusCode::kInvalidArgument, "load_memory: data is null");
    Result<weights::WeightFile> wf =
        weights::WeightFile::parse(std::vector<uint8_t>(data, data + size), name);
    if (!wf.ok()) return wf.status();
    Result<std::unique_ptr<Impl>> impl = build(wf.value(), name, options);
    if (!impl.ok()) return impl.status();
    return Model(std::move(impl).value());
}

Result<Model> Model::load(const std::string& path, const Options& options) {
    Result<weights::WeightFile> wf = weights::WeightFile::open(path);
    if (!wf.ok()) return wf.status();
    Result<std::unique_ptr<Impl>> impl = build(wf.value(), path, options);
    if (!impl.ok()) return impl.status();
    return Model(std::move(impl).value());
}

Result<Model> Model::load_default(ModelKind kind, const Options& options) {
    EmbeddedModel em;
    if (!default_model(kind == ModelKind::kSsr ? "ssr" : "red", &em))
        return make_status(StatusCode::kUnsupported, "this build embeds no default %s model",
                           kind == ModelKind::kSsr ? "SSR" : "RED");
    return load_memory(em.data, em.size, em.description, options);
}

ModelKind Model::kind() const { return impl_->kind; }
int64_t Model::scale() const { return impl_->scale; }
int64_t Model::in_channels() const { return impl_->graph->in_channels(); }
int64_t Model::out_channels() const { return impl_->graph->out_channels(); }
Isa Model::isa() const { return impl_->isa; }
const std::string& Model::name() const { return impl_->name; }

uint64_t Model::memory_limit() const {
    return impl_->options.max_memory_bytes ? impl_->options.max_memory_bytes : physical_memory();
}

Status Model::output_dims(const Dims& in, Dims* out) const {
    Shape os;
    LUCENT_RETURN_IF_ERROR(impl_->graph->output_shape(to_shape(in), &os));
    *out = Dims{os.n, os.c, os.h, os.w};
    return Status();
}

Result<uint64_t> Model::working_bytes(const Dims& in) const {
    Shape os;
    LUCENT_RETURN_IF_ERROR(impl_->graph->output_shape(to_shape(in), &os));
    return impl_->graph->working_bytes(to_shape(in), resolve_threads(impl_->options.num_threads));
}

Status Model::run(const float* in, const Dims& in_dims, float* out) const {
    if (in == nullptr || out == nullptr)
        return make_status(StatusCode::kInvalidArgument, "Model::run: null input or output");
    Result<uint64_t> need = working_bytes(in_dims);
    if (!need.ok()) return need.status();
    const uint64_t limit = memory_limit();
    if (limit != 0 && need.value() > limit)
        return make_status(StatusCode::kOutOfMemory,
                           "a %lldx%lld input (batch %lld) needs about %s of working memory, more "
                           "than the %s %s; use a smaller image (tiled processing of large images "
                           "is not available yet)",
                           static_cast<long long>(in_dims.w), static_cast<long long>(in_dims.h),
                           static_cast<long long>(in_dims.n), format_bytes(need.value()).c_str(),
                           format_bytes(limit).c_str(),
                           impl_->options.max_memory_bytes ? "limit set" : "of physical memory");
    Shape os;
    LUCENT_RETURN_IF_ERROR(impl_->graph->output_shape(to_shape(in_dims), &os));
    ops::Context ctx;
    ctx.k = &ops::kernels_for(impl_->isa);
    ctx.num_threads = impl_->options.num_threads;
    return impl_->graph->run(ctx, ConstTensorView{in, to_shape(in_dims)}, TensorView{out, os});
}

}  // namespace lucent
