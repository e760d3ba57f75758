// Graphs through the public Model API against PyTorch golden outputs (tests/golden/models, from
// converters/export_model_golden.py): batch N >= 1, every ISA tier, the reference path, and
// bit-identical output for every thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "cli/npy.h"
#include "lucent/lucent.hpp"
#include "tests/util/isa_param.h"

#ifndef LUCENT_GOLDEN_MODELS_DIR
#error "LUCENT_GOLDEN_MODELS_DIR must name the committed fixture folder"
#endif

namespace lucent {
namespace {

std::vector<std::string> cases() {
    std::vector<std::string> out;
    std::ifstream f(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/manifest.txt");
    for (std::string line; std::getline(f, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

struct Golden {
    Model model;
    NpyArray in, out;
};

Golden load_case(const std::string& name, const Options& opt) {
    const std::string base = std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + name;
    Result<Model> m = Model::load(base + ".lcw", opt);
    EXPECT_TRUE(m.ok()) << m.status().message();
    Result<NpyArray> in = read_npy(base + ".in.npy"), out = read_npy(base + ".out.npy");
    EXPECT_TRUE(in.ok() && out.ok());
    return Golden{std::move(m).value(), std::move(in).value(), std::move(out).value()};
}

Dims dims_of(const NpyArray& a) { return Dims{a.shape[0], a.shape[1], a.shape[2], a.shape[3]}; }

std::vector<float> run(const Golden& g) {
    Dims od;
    EXPECT_TRUE(g.model.output_dims(dims_of(g.in), &od).ok());
    EXPECT_EQ(od.count(), static_cast<int64_t>(g.out.data.size()));
    std::vector<float> out(static_cast<size_t>(od.count()));
    const Status st = g.model.run(g.in.data.data(), dims_of(g.in), out.data());
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
    return d;
}

TEST(Models, ReferencePathMatchesPyTorch) {
    const auto names = cases();
    ASSERT_FALSE(names.empty());
    for (const std::string& name : names) {
        SCOPED_TRACE(name);
        Options opt;
        opt.reference = true;
        const Golden g = load_case(name, opt);
        EXPECT_EQ(g.model.isa(), Isa::kScalar);
        EXPECT_LE(max_diff(run(g), g.out.data), 1e-4);
    }
}

class ModelsPerIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(ModelsPerIsa, FastPathMatchesPyTorchAndThreadsAgree) {
    LUCENT_REQUIRE_ISA(GetParam());
    for (const std::string& name : cases()) {
        SCOPED_TRACE(name);
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
            Options opt;
            opt.max_isa = GetParam();
            opt.num_threads = threads;
            const Golden g = load_case(name, opt);
            EXPECT_EQ(g.model.isa(), GetParam());
            const std::vector<float> got = run(g);
            EXPECT_LE(max_diff(got, g.out.data), 2e-3);
            if (first.empty()) {
                first = got;
            } else {
                EXPECT_EQ(got, first) << threads << " threads differ bitwise from 1 thread";
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, ModelsPerIsa, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(Models, BatchEqualsImagesOneByOne) {
    const Golden g = load_case(cases().front(), Options{});
    const std::vector<float> all = run(g);
    const Dims d = dims_of(g.in);
    Dims one = d, od;
    one.n = 1;
    ASSERT_TRUE(g.model.output_dims(one, &od).ok());
    for (int64_t n = 0; n < d.n; ++n) {
        std::vector<float> out(static_cast<size_t>(od.count()));
        ASSERT_TRUE(g.model.run(g.in.data.data() + n * one.count(), one, out.data()).ok());
        for (int64_t i = 0; i < od.count(); ++i)
            ASSERT_EQ(out[static_cast<size_t>(i)], all[static_cast<size_t>(n * od.count() + i)]);
    }
}

TEST(Models, BadInputsAreStatuses) {
    const Golden g = load_case(cases().front(), Options{});
    Dims od;
    EXPECT_EQ(g.model.output_dims(Dims{1, 4, 8, 8}, &od).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(g.model.output_dims(Dims{1, 3, 0, 8}, &od).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(g.model.output_dims(Dims{1, 3, 1 << 30, 1 << 30}, &od).code(),
              StatusCode::kOutOfMemory);  // over the 2^40-element tensor limit
    std::vector<float> buf(64);
    EXPECT_EQ(g.model.run(nullptr, Dims{1, 3, 2, 2}, buf.data()).code(),
              StatusCode::kInvalidArgument);
    Options small;
    small.max_memory_bytes = 1024;
    const Golden tight = load_case(cases().front(), small);
    const Status st = tight.model.run(buf.data(), Dims{1, 3, 4, 4}, buf.data());
    EXPECT_EQ(st.code(), StatusCode::kOutOfMemory);
    EXPECT_NE(st.message().find("4x4"), std::string::npos) << st.message();
}

TEST(Models, DefaultSsrIsEmbedded) {
    Result<Model> m = Model::load_default(ModelKind::kSsr);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m.value().scale(), 4);
    EXPECT_EQ(m.value().in_channels(), 3);
    std::vector<float> in(3 * 5 * 7, 0.5f), out(3 * 20 * 28);
    ASSERT_TRUE(m.value().run(in.data(), Dims{1, 3, 5, 7}, out.data()).ok());
    for (float v : out) ASSERT_TRUE(std::isfinite(v));
}

TEST(Models, DefaultRedIsEmbedded) {
    Result<Model> m = Model::load_default(ModelKind::kRed);
    ASSERT_TRUE(m.ok()) << m.status().message();
    EXPECT_EQ(m.value().kind(), ModelKind::kRed);
    EXPECT_EQ(m.value().scale(), 1);
    std::vector<float> in(3 * 9 * 7, 0.1f), out(in.size());
    ASSERT_TRUE(m.value().run(in.data(), Dims{1, 3, 9, 7}, out.data()).ok());
    for (float v : out) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);  // sigmoid output
}

}  // namespace
}  // namespace lucent
