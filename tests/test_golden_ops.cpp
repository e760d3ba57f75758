// Every op against PyTorch: replays the fixtures written by converters/export_op_golden.py
// (committed ones in tests/golden/ops, or a fresh export named by LUCENT_GOLDEN_DIR) through
// each ISA tier and through the double-precision oracle.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/npy.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/concat.h"
#include "ops/conv2d.h"
#include "ops/conv_transpose2d.h"
#include "ops/elementwise.h"
#include "ops/pixel_shuffle.h"
#include "ops/pool2d.h"
#include "ops/ref.h"
#include "ops/reflect_pad.h"
#include "ops/upsample.h"
#include "tests/util/compare.h"
#include "tests/util/isa_param.h"

#ifndef LUCENT_GOLDEN_OPS_DIR
#error "LUCENT_GOLDEN_OPS_DIR must name the committed fixture folder"
#endif

namespace lucent {
namespace {

struct Case {
    std::string name, op;
    std::map<std::string, std::string> kv;
    int64_t i(const std::string& k) const { return std::stoll(kv.at(k)); }
    float f(const std::string& k) const { return std::stof(kv.at(k)); }
    const std::string& s(const std::string& k) const { return kv.at(k); }
};

std::string golden_dir() {
    const char* env = std::getenv("LUCENT_GOLDEN_DIR");
    return env != nullptr && *env != '\0' ? env : LUCENT_GOLDEN_OPS_DIR;
}

std::vector<Case> load_manifest() {
    std::vector<Case> cases;
    std::ifstream f(golden_dir() + "/manifest.txt");
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream ss(line);
        Case c;
        if (!(ss >> c.name >> c.op)) continue;
        std::string tok;
        while (ss >> tok) {
            const size_t eq = tok.find('=');
            if (eq != std::string::npos) c.kv[tok.substr(0, eq)] = tok.substr(eq + 1);
        }
        cases.push_back(c);
    }
    return cases;
}

struct Loaded {
    Tensor t;
    std::vector<float> flat;
};

// Loads <case>.<role>.npy as an NCHW tensor (arrays of rank < 4 get leading ones).
Loaded load(const Case& c, const std::string& role) {
    Result<NpyArray> arr = read_npy(golden_dir() + "/" + c.name + "." + role + ".npy");
    EXPECT_TRUE(arr.ok()) << arr.status().to_string();
    Loaded l;
    if (!arr.ok()) return l;
    std::vector<int64_t> dims = arr.value().shape;
    while (dims.size() < 4) dims.insert(dims.begin(), 1);
    l.flat = arr.value().data;
    if (dims.size() == 4) {
        l.t = Tensor::create(Shape{dims[0], dims[1], dims[2], dims[3]}).value();
        std::copy(l.flat.begin(), l.flat.end(), l.t.data());
    }
    return l;
}

ops::Activation act_of(const std::string& s) {
    if (s == "relu") return ops::Activation::kRelu;
    if (s == "leaky_relu") return ops::Activation::kLeakyRelu;
    if (s == "sigmoid") return ops::Activation::kSigmoid;
    return ops::Activation::kNone;
}

// Runs case c on one path (an ISA tier, or the oracle when use_ref) into *out; returns the
// tolerance the comparison with PyTorch gets.
double run_case(const Case& c, Isa isa, bool use_ref, const Tensor& expect, Tensor* out) {
    const ops::Context ctx = test::context_for(isa, 2);
    const ops::KernelTable& k = ops::kernels_for(isa);
    Loaded in = load(c, "in");
    *out = Tensor::create(expect.shape()).value();
    const double max_x = test::max_abs(in.t.data(), in.t.numel());
    Status st;
    double tol = 0.0;
    if (c.op == "conv2d") {
        Loaded w = load(c, "w"), b = load(c, "b");
        ops::Conv2dParams p;
        p.in_ch = in.t.shape().c;
        p.out_ch = c.i("cout");
        p.kernel_h = c.i("kh");
        p.kernel_w = c.i("kw");
        p.stride_h = p.stride_w = c.i("stride");
        p.dilation_h = p.dilation_w = c.i("dilation");
        p.pad_top = c.i("pt");
        p.pad_bottom = c.i("pb");
        p.pad_left = c.i("pl");
        p.pad_right = c.i("pr");
        p.act = act_of(c.s("act"));
        if (use_ref) {
            ops::ref::conv2d(p, in.t, w.flat.data(), b.flat.data(), *out);
        } else {
            auto conv = ops::Conv2d::create(p, w.flat.data(), b.flat.data(), k);
            st = conv.ok() ? conv.value().run(ctx, in.t, *out) : conv.status();
        }
        tol = 2 * test::sum_tolerance(p.in_ch * p.kernel_h * p.kernel_w + 1, max_x, 1.0);
    } else if (c.op == "conv_transpose2d") {
        Loaded w = load(c, "w"), b = load(c, "b");
        ops::ConvTranspose2dParams p;
        p.in_ch = in.t.shape().c;
        p.out_ch = c.i("cout");
        p.kernel_h = p.kernel_w = c.i("k");
        p.stride_h = p.stride_w = c.i("stride");
        p.pad_h = p.pad_w = c.i("pad");
        p.output_padding_h = p.output_padding_w = c.i("opad");
        p.dilation_h = p.dilation_w = c.i("dilation");
        p.act = act_of(c.s("act"));
        if (use_ref) {
            ops::ref::conv_transpose2d(p, in.t, w.flat.data(), b.flat.data(), *out);
        } else {
            auto op = ops::ConvTranspose2d::create(p, w.flat.data(), b.flat.data(), k);
            st = op.ok() ? op.value().run(ctx, in.t, *out) : op.status();
        }
        tol = 2 * test::sum_tolerance(p.in_ch * p.kernel_h * p.kernel_w + 1, max_x, 1.0);
    } else if (c.op == "activation") {
        const auto act = act_of(c.s("act"));
        if (use_ref) {
            ops::ref::activation(in.t, *out, act, 0.2f);
        } else {
            st = ops::activation(ctx, in.t, *out, act, 0.2f);
        }
        tol = act == ops::Activation::kSigmoid ? 4 * FLT_EPSILON : 0.0;
    } else if (c.op == "add_scaled") {
        Loaded y = load(c, "in2");
        if (use_ref) {
            ops::ref::add_scaled(in.t, c.f("a"), y.t, c.f("b"), *out);
        } else {
            st = ops::add_scaled(ctx, in.t, c.f("a"), y.t, c.f("b"), *out);
        }
        tol = 2 * FLT_EPSILON * (max_x + 1);
    } else if (c.op == "pixel_shuffle") {
        if (use_ref)
            ops::ref::pixel_shuffle(in.t, c.i("r"), *out);
        else
            st = ops::pixel_shuffle(ctx, in.t, c.i("r"), *out);
    } else if (c.op == "pixel_unshuffle") {
        if (use_ref)
            ops::ref::pixel_unshuffle(in.t, c.i("r"), *out);
        else
            st = ops::pixel_unshuffle(ctx, in.t, c.i("r"), *out);
    } else if (c.op == "pool2d") {
        ops::Pool2dParams p;
        p.kind = c.s("kind") == "max" ? ops::PoolKind::kMax : ops::PoolKind::kAvg;
        p.kernel_h = p.kernel_w = c.i("k");
        p.stride_h = p.stride_w = c.i("stride");
        p.pad_h = p.pad_w = c.i("pad");
        if (use_ref)
            ops::ref::pool2d(p, in.t, *out);
        else
            st = ops::pool2d(ctx, p, in.t, *out);
        tol = p.kind == ops::PoolKind::kMax
                  ? 0.0
                  : 2 * test::sum_tolerance(p.kernel_h * p.kernel_w, max_x, 1.0);
    } else if (c.op == "adaptive_pool2d") {
        const auto kind = c.s("kind") == "max" ? ops::PoolKind::kMax : ops::PoolKind::kAvg;
        if (use_ref)
            ops::ref::adaptive_pool2d(kind, in.t, *out);
        else
            st = ops::adaptive_pool2d(ctx, kind, in.t, *out);
        tol = kind == ops::PoolKind::kMax
                  ? 0.0
                  : 2 * test::sum_tolerance(in.t.shape().plane(), max_x, 1.0);
    } else if (c.op == "upsample_nearest") {
        if (use_ref)
            ops::ref::upsample_nearest(in.t, c.i("r"), *out);
        else
            st = ops::upsample_nearest(ctx, in.t, c.i("r"), *out);
    } else if (c.op == "upsample_bilinear") {
        if (use_ref)
            ops::ref::upsample_bilinear(in.t, *out);
        else
            st = ops::upsample_bilinear(ctx, in.t, *out);
        tol = 16 * FLT_EPSILON * max_x;
    } else if (c.op == "reflect_pad") {
        const ops::Padding pad{c.i("pt"), c.i("pb"), c.i("pl"), c.i("pr")};
        if (use_ref)
            ops::ref::reflect_pad(in.t, pad, *out);
        else
            st = ops::reflect_pad(ctx, in.t, pad, *out);
    } else if (c.op == "concat") {
        Loaded b = load(c, "in2");
        const ConstTensorView parts[] = {in.t, b.t};
        if (use_ref)
            ops::ref::concat_channels(parts, 2, *out);
        else
            st = ops::concat_channels(ctx, parts, 2, *out);
    } else if (c.op == "channel_attention") {
        Loaded w1 = load(c, "fc1w"), b1 = load(c, "fc1b"), w2 = load(c, "fc2w"),
               b2 = load(c, "fc2b");
        const auto pooling = c.s("pooling") == "avgmax" ? ops::ChannelPooling::kAvgPlusMax
                                                        : ops::ChannelPooling::kAvg;
        const int64_t hidden = c.i("hidden");
        if (use_ref) {
            ops::ref::channel_attention(in.t, hidden, w1.flat.data(), b1.flat.data(),
                                        w2.flat.data(), b2.flat.data(), pooling, *out);
        } else {
            auto ca = ops::ChannelAttention::create(in.t.shape().c, hidden, w1.flat.data(),
                                                    b1.flat.data(), w2.flat.data(), b2.flat.data(),
                                                    pooling);
            st = ca.ok() ? ca.value().run(ctx, in.t, *out) : ca.status();
        }
        tol = 2 * test::sum_tolerance(in.t.shape().plane() + 2 * in.t.shape().c, max_x, 1.0);
    } else if (c.op == "spatial_attention") {
        Loaded w = load(c, "w"), b = load(c, "b");
        if (use_ref) {
            ops::ref::spatial_attention(in.t, c.i("k"), w.flat.data(), b.flat.data(), *out);
        } else {
            auto sa = ops::SpatialAttention::create(c.i("k"), w.flat.data(), b.flat.data(), k);
            st = sa.ok() ? sa.value().run(ctx, in.t, *out) : sa.status();
        }
        tol = 2 * test::sum_tolerance(2 * c.i("k") * c.i("k") + in.t.shape().c, max_x, 1.0);
    } else {
        ADD_FAILURE() << "unknown op '" << c.op << "' in manifest";
    }
    EXPECT_TRUE(st.ok()) << st.to_string();
    return tol;
}

class GoldenOps : public ::testing::TestWithParam<Isa> {};

TEST_P(GoldenOps, EveryOpMatchesPyTorch) {
    LUCENT_REQUIRE_ISA(GetParam());
    const std::vector<Case> cases = load_manifest();
    ASSERT_GE(cases.size(), 30u) << "no fixtures found in " << golden_dir();
    std::map<std::string, int> ops_seen;
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name + " (" + c.op + ") from " + golden_dir());
        Loaded expect = load(c, "out");
        for (bool use_ref : {false, true}) {
            Tensor got;
            const double tol = run_case(c, GetParam(), use_ref, expect.t, &got);
            EXPECT_TRUE(test::all_close(got.data(), expect.t.data(), expect.t.shape(), tol,
                                        use_ref ? "oracle vs PyTorch" : "Lucent vs PyTorch"));
        }
        ++ops_seen[c.op];
    }
    EXPECT_EQ(ops_seen.size(), 14u) << "every op family must have a fixture";
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GoldenOps, ::testing::ValuesIn(test::all_isas()),
                         test::IsaName());

TEST(Npy, RefusesDamagedFiles) {
    const std::string path = ::testing::TempDir() + "/lucent_npy_test.npy";
    const float v[6] = {1, 2, 3, 4, 5, 6};
    ASSERT_TRUE(write_npy(path, {2, 3}, v).ok());
    Result<NpyArray> back = read_npy(path);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(back.value().shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(back.value().data[5], 6.0f);
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
    // Truncations at every length are refused, never crash.
    for (size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_FALSE(parse_npy(bytes.data(), n, "t").ok()) << "truncated to " << n;
    }
    std::vector<uint8_t> extra = bytes;
    extra.push_back(0);
    EXPECT_FALSE(parse_npy(extra.data(), extra.size(), "t").ok());
    std::string hdr(bytes.begin(), bytes.end());
    const size_t pos = hdr.find("<f4");
    std::vector<uint8_t> f8 = bytes;
    f8[pos + 1] = 'i';
    EXPECT_FALSE(parse_npy(f8.data(), f8.size(), "t").ok());
    EXPECT_FALSE(read_npy(path + ".missing").ok());
}

}  // namespace
}  // namespace lucent
