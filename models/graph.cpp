#include "models/graph.h"

#include "models/red.h"
#include "models/ssr.h"

namespace lucent::models {

Result<ops::Conv2d> load_conv(const weights::WeightFile& wf, const std::string& name,
                              const ops::Conv2dParams& p, const ops::KernelTable& k) {
    Result<std::vector<float>> w = wf.tensor_f32(name + ".weight");
    if (!w.ok()) return w.status();
    Result<std::vector<float>> b = wf.tensor_f32(name + ".bias");
    if (!b.ok()) return b.status();
    return ops::Conv2d::create(p, w.value().data(), b.value().data(), k);
}

Result<std::unique_ptr<Graph>> load_graph(const weights::WeightFile& wf, const ops::KernelTable& k,
                                          const GraphOptions& opts) {
    if (wf.kind() == weights::GraphKind::kSsr) {
        Result<std::unique_ptr<Ssr>> m = Ssr::create(wf, k, opts);
        if (!m.ok()) return m.status();
        return std::unique_ptr<Graph>(std::move(m).value());
    }
    Result<std::unique_ptr<Red>> m = Red::create(wf, k, opts);
    if (!m.ok()) return m.status();
    return std::unique_ptr<Graph>(std::move(m).value());
}

}  // namespace lucent::models
