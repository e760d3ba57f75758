// What a lucent::Model holds, shared by the facade's source files (model.cpp, image_run.cpp,
// c_api.cpp). Not installed.
#pragma once

#include <memory>
#include <string>

#include "lucent/model.hpp"
#include "models/graph.h"

namespace lucent {

struct Model::Impl {
    std::unique_ptr<models::Graph> graph;
    ModelKind kind = ModelKind::kSsr;
    int64_t scale = 1;
    Isa isa = Isa::kScalar;
    Options options;
    std::string name;
};

}  // namespace lucent
