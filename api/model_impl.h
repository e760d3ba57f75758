// What a lucent::Model holds, shared by the facade's source files (model.cpp, image_run.cpp,
// c_api.cpp). Not installed.
#pragma once

#include <memory>
#include <string>

#include "api/plan_cache.h"
#include "lucent/model.hpp"
#include "models/graph.h"

namespace lucent {

struct Model::Impl {
    std::unique_ptr<models::Graph> graph;
    ModelKind kind = ModelKind::kSsr;
    int64_t scale = 1;
    const char* graph_name = "SSR";  // "SSR", "RED" or "compact"
    Isa isa = Isa::kScalar;
    Options options;
    std::string name;

    // The plan for one image of `one` (batch 1) within `budget` bytes of working memory:
    // Options::stripe_rows when set, else the default stripe, halved until the plan fits
    // (kOutOfMemory, naming the sizes, when not even one-row stripes fit); the whole-image plan
    // where the graph prefers it and it fits (or, with `whole`, always and unchecked: traced
    // runs). Never null.
    Result<std::unique_ptr<models::StreamRun>> plan_stream(const Shape& one, uint64_t budget,
                                                           bool whole = false) const;
    // plan_stream()'s plan, lent from the idle plans of the same key when there is one; it goes
    // back to them when the lease ends (Options::keep_working_memory; api/plan_cache.h).
    Result<PlanLease> lease_plan(const Shape& one, uint64_t budget, bool whole = false) const;
    mutable PlanCache plans;
};

}  // namespace lucent
