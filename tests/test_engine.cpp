// Engine basics: CPU detection and the ISA cap, status formatting, tensor size checks.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/tensor.h"
#include "lucent/lucent.hpp"
#include "ops/dispatch.h"

namespace lucent {
namespace {

TEST(CpuFeatures, DetectionIsStableAndNamed) {
    const Isa hw = hardware_isa();
    EXPECT_EQ(hw, hardware_isa());
    Isa parsed;
    ASSERT_TRUE(parse_isa(isa_name(hw), &parsed));
    EXPECT_EQ(parsed, hw);
    EXPECT_FALSE(parse_isa("avx1024", &parsed));
    EXPECT_FALSE(parse_isa(nullptr, &parsed));
}

TEST(CpuFeatures, CapsOnlyLower) {
    const Isa hw = hardware_isa();
    EXPECT_EQ(effective_isa(Isa::kScalar), Isa::kScalar);
    // An explicit cap above the hardware never raises the tier.
    EXPECT_LE(static_cast<int>(effective_isa(Isa::kAvx512)), static_cast<int>(hw));
    const char* old = std::getenv("LUCENT_MAX_ISA");
    const std::string saved = old ? old : "";
    setenv("LUCENT_MAX_ISA", "scalar", 1);
    EXPECT_EQ(effective_isa(), Isa::kScalar);
    EXPECT_EQ(ops::kernels().isa, Isa::kScalar);
    setenv("LUCENT_MAX_ISA", "bogus", 1);  // ignored, never raises above the hardware
    EXPECT_EQ(effective_isa(), hw);
    if (old) {
        setenv("LUCENT_MAX_ISA", saved.c_str(), 1);
    } else {
        unsetenv("LUCENT_MAX_ISA");
    }
    // kernels_for clamps to the hardware.
    EXPECT_LE(static_cast<int>(ops::kernels_for(Isa::kAvx512).isa), static_cast<int>(hw));
}

TEST(Status, FormatsCodeAndMessage) {
    EXPECT_EQ(Status().to_string(), "ok");
    const Status st =
        make_status(StatusCode::kBadWeights, "tensor '%s' is missing", "conv_first.weight");
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.to_string(), "bad weights: tensor 'conv_first.weight' is missing");
    Result<int> r = st;
    EXPECT_FALSE(r.ok());
    Result<int> v = 7;
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v.value(), 7);
    EXPECT_STREQ(version(), LUCENT_VERSION_STRING);
}

TEST(Tensor, ChecksSizesAndAligns) {
    auto t = Tensor::create({2, 3, 5, 7});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value().numel(), 210);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.value().data()) % kTensorAlign, 0u);
    for (int64_t i = 0; i < 210; ++i) ASSERT_EQ(t.value().data()[i], 0.0f);
    EXPECT_EQ(Tensor::create({1, 0, 4, 4}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Tensor::create({1, -3, 4, 4}).status().code(), StatusCode::kInvalidArgument);
    // A hostile header: each dimension is fine, the product overflows.
    const Status st = Tensor::create({1 << 20, 1 << 20, 1 << 20, 1 << 20}).status();
    EXPECT_EQ(st.code(), StatusCode::kOutOfMemory);
    EXPECT_NE(st.message().find("2^40"), std::string::npos);
}

}  // namespace
}  // namespace lucent
