// The bf16 precision tier through the public API: its 8-bit output against the fp32 path stays
// within the error contract (PSNR >= 50 dB, no value off by more than 8 levels) on the fixture
// models and the embedded defaults; it is the same bits for every thread count and stripe
// height; and it is refused with a clear status where its kernels are missing or excluded. Runs on
// the kernel bf16_kernel() picks (and again under LUCENT_BF16_KERNEL=avx512bf16, tests/CMakeLists).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/amx.h"
#include "lucent/lucent.hpp"
#include "tests/util/rng.h"

namespace lucent {
namespace {

// bf16 needs AMX or AVX512-BF16 and the avx512 tier (a LUCENT_MAX_ISA cap below it refuses bf16
// at load).
#define REQUIRE_BF16()                                                                            \
    if (bf16_kernel() == Bf16Kernel::kNone || effective_isa() != Isa::kAvx512)                    \
        GTEST_SKIP() << "bf16: neither AMX nor AVX512-BF16 (or the tier is capped below avx512)"; \
    RecordProperty("bf16_kernel", bf16_kernel_name(bf16_kernel()))

Result<Model> load(const std::string& name, Precision precision, int threads, int64_t stripe) {
    Options o;
    o.precision = precision;
    o.num_threads = threads;
    o.stripe_rows = stripe;
    if (name == "default-ssr") return Model::load_default(ModelKind::kSsr, o);
    if (name == "default-red") return Model::load_default(ModelKind::kRed, o);
    return Model::load(std::string(LUCENT_GOLDEN_MODELS_DIR) + "/" + name + ".lcw", o);
}

// A smooth synthetic photo (gradients and a few edges) plus mild noise: closer to what the
// models see than uniform noise, whose outputs saturate.
std::vector<uint8_t> photo(int64_t w, int64_t h) {
    std::vector<uint8_t> px(static_cast<size_t>(w * h * 3));
    test::Rng rng(9);
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                double v = 0.5 + 0.35 * std::sin(0.11 * x + 0.7 * c) * std::cos(0.07 * y) +
                           ((x / 9 + y / 7) % 2 ? 0.1 : -0.1) + rng.uniform(-0.03f, 0.03f);
                v = std::min(1.0, std::max(0.0, v));
                px[static_cast<size_t>((y * w + x) * 3 + c)] =
                    static_cast<uint8_t>(v * 255.0 + 0.5);
            }
    return px;
}

std::vector<uint8_t> run(const Model& m, const std::vector<uint8_t>& in, int64_t w, int64_t h) {
    ImageSize os;
    EXPECT_TRUE(m.output_image_size(w, h, 3, &os).ok());
    std::vector<uint8_t> out(image_buffer_bytes(os, PixelType::kU8));
    const Status st =
        m.run_image(ConstImageView{in.data(), in.size(), w, h, 3, PixelType::kU8, 0},
                    ImageView{out.data(), out.size(), os.width, os.height, 3, PixelType::kU8, 0});
    EXPECT_TRUE(st.ok()) << st.message();
    return out;
}

TEST(Bf16, ErrorContractAgainstFp32) {
    REQUIRE_BF16();
    for (const char* name : {"ssr_nearest_x4", "ssr_pixelshuffle_x3", "ssr_unshuffle2_ca",
                             "red_bins1236", "default-ssr", "default-red"}) {
        SCOPED_TRACE(name);
        Result<Model> f = load(name, Precision::kFp32, 2, 0);
        Result<Model> b = load(name, Precision::kBf16, 2, 0);
        ASSERT_TRUE(f.ok() && b.ok()) << (f.ok() ? b.status().message() : f.status().message());
        const int64_t w = 48, h = 40;
        const std::vector<uint8_t> in = photo(w, h);
        const std::vector<uint8_t> a = run(f.value(), in, w, h), c = run(b.value(), in, w, h);
        double se = 0.0;
        int worst = 0;
        for (size_t i = 0; i < a.size(); ++i) {
            const int d = std::abs(int(a[i]) - int(c[i]));
            worst = std::max(worst, d);
            se += double(d) * d;
        }
        const double psnr = se == 0.0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 * a.size() / se);
        EXPECT_LE(worst, 8);
        EXPECT_GE(psnr, 50.0);
        RecordProperty(std::string(name) + "_psnr", std::to_string(psnr));
    }
}

TEST(Bf16, SameBitsForEveryThreadCountAndStripe) {
    REQUIRE_BF16();
    const int64_t w = 23, h = 19;
    const std::vector<uint8_t> in = photo(w, h);
    for (const char* name : {"ssr_nearest_x4", "red_nobins"}) {
        SCOPED_TRACE(name);
        Result<Model> ref = load(name, Precision::kBf16, 1, 0);
        ASSERT_TRUE(ref.ok()) << ref.status().message();
        const std::vector<uint8_t> want = run(ref.value(), in, w, h);
        for (int threads : {2, 3})
            for (int64_t stripe : {1, 5, 0}) {
                Result<Model> m = load(name, Precision::kBf16, threads, stripe);
                ASSERT_TRUE(m.ok());
                EXPECT_EQ(run(m.value(), in, w, h), want)
                    << threads << " threads, stripe " << stripe;
            }
    }
}

TEST(Bf16, RefusedWhereItCannotRun) {
    Options o;
    o.precision = Precision::kBf16;
    o.max_isa = Isa::kAvx2;
    Result<Model> capped = Model::load_default(ModelKind::kSsr, o);
    ASSERT_FALSE(capped.ok());
    EXPECT_EQ(capped.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(capped.status().message().find("AMX"), std::string::npos);
    o.max_isa = Isa::kAvx512;
    o.reference = true;
    EXPECT_EQ(Model::load_default(ModelKind::kSsr, o).status().code(), StatusCode::kUnsupported);
    o.reference = false;
    o.precision = static_cast<Precision>(7);
    EXPECT_EQ(Model::load_default(ModelKind::kSsr, o).status().code(),
              StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lucent
