// The bf16 tier's 3x3 and 1x1 convolutions (ops/conv_bf16.h) on the kernel bf16_kernel() picks
// (AMX tiles, or VDPBF16PS where only AVX512-BF16 exists; CTest runs these tests a second time
// with LUCENT_BF16_KERNEL=avx512bf16, so an AMX machine checks both) against its plain-loop oracle
// with the same roundings and order, on random, edge-biased shapes; row windows and thread counts
// give the same bits; and the bf16 result stays within bf16's error of the fp32 convolution.
// Skipped by name where the CPU has neither.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/amx.h"
#include "ops/conv2d.h"
#include "ops/conv_bf16.h"
#include "ops/conv_transpose2d.h"
#include "ops/ref.h"
#include "tests/util/guarded.h"
#include "tests/util/rng.h"

namespace lucent {
namespace {

#define REQUIRE_BF16_KERNEL()                                               \
    if (bf16_kernel() == Bf16Kernel::kNone)                                 \
        GTEST_SKIP() << "bf16: neither AMX nor AVX512-BF16 on this CPU/OS"; \
    RecordProperty("bf16_kernel", bf16_kernel_name(bf16_kernel()))

struct Bf16Case {
    int64_t cin, cout, h, w;
    ops::Activation act;
    int64_t k = 3, stride = 1;
    int64_t oh() const { return (h - 1) / stride + 1; }
    int64_t ow() const { return (w - 1) / stride + 1; }
};

std::vector<float> run_bf16(const ops::ConvBf16& conv, const std::vector<float>& in,
                            const Bf16Case& c, int threads, int64_t chunk) {
    const int64_t oh = c.oh(), ow = c.ow();
    std::vector<float> out(static_cast<size_t>(c.cout * oh * ow), std::nanf(""));
    ops::Context ctx;
    ctx.k = &ops::kernels();
    ctx.num_threads = threads;
    const ConstRows src{in.data(), c.cin, c.h, c.w, 0, c.h, c.h * c.w};
    for (int64_t y0 = 0; y0 < oh; y0 += chunk) {
        const int64_t y1 = std::min(oh, y0 + chunk);
        Rows dst{out.data() + y0 * ow, c.cout, oh, ow, y0, y1 - y0, oh * ow};
        const Status st = conv.run_rows(ctx, src, dst, nullptr);
        EXPECT_TRUE(st.ok()) << st.message();
    }
    return out;
}

void check(const Bf16Case& c, test::Rng& rng) {
    SCOPED_TRACE("cin " + std::to_string(c.cin) + " cout " + std::to_string(c.cout) + " " +
                 std::to_string(c.h) + "x" + std::to_string(c.w) + " k " + std::to_string(c.k) +
                 " stride " + std::to_string(c.stride));
    std::vector<float> w(static_cast<size_t>(c.cout * c.cin * c.k * c.k)),
        b(static_cast<size_t>(c.cout));
    std::vector<float> in(static_cast<size_t>(c.cin * c.h * c.w));
    rng.fill(w.data(), static_cast<int64_t>(w.size()), -0.2f, 0.2f);
    rng.fill(b.data(), c.cout);
    rng.fill_edgy(in.data(), static_cast<int64_t>(in.size()));
    Result<ops::ConvBf16> conv =
        ops::ConvBf16::create(c.cin, c.cout, c.k, w.data(), b.data(), c.act, 0.2f, c.stride);
    ASSERT_TRUE(conv.ok()) << conv.status().message();
    const std::vector<float> got = run_bf16(conv.value(), in, c, 1, c.oh());
    const Shape is{1, c.cin, c.h, c.w}, os{1, c.cout, c.oh(), c.ow()};
    std::vector<float> want(got.size()), fp32(got.size());
    ops::ref::conv_bf16(ConstTensorView{in.data(), is}, w.data(), b.data(), c.k, c.stride, c.act,
                        0.2f, TensorView{want.data(), os});
    ops::ref::conv2d(ops::Conv2dParams::square(c.cin, c.cout, c.k, c.stride),
                     ConstTensorView{in.data(), is}, w.data(), b.data(),
                     TensorView{fp32.data(), os});
    double max_in = 0.0;
    for (float v : in) max_in = std::max(max_in, static_cast<double>(std::fabs(v)));
    // Against the oracle: the same sums up to the hardware's handling of the pair products
    // (a relative 2^-22 or so of the summed magnitudes); against fp32: bf16's 2^-8 rounding
    // of the inputs and weights.
    const double terms = static_cast<double>(c.cin * c.k * c.k);
    const double oracle_tol = 1e-6 * terms * 0.2 * max_in + 1e-6;
    const double fp32_tol = 2.0 * 0.0079 * std::sqrt(terms) * 0.2 * max_in + 1e-3;
    for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], oracle_tol) << "at " << i;
        double f = fp32[i];
        if (c.act != ops::Activation::kNone && f < 0.0)
            f *= c.act == ops::Activation::kRelu ? 0.0 : 0.2;
        ASSERT_NEAR(got[i], f, fp32_tol) << "fp32 at " << i;
    }
    // Row windows of any height and any thread count: the same bits.
    for (int threads : {2, 3})
        for (int64_t chunk : {1, 2, 5})
            EXPECT_EQ(run_bf16(conv.value(), in, c, threads, chunk), got)
                << threads << " threads, chunks of " << chunk;
}

TEST(ConvBf16, MatchesItsOracleOnRandomShapes) {
    REQUIRE_BF16_KERNEL();
    test::Rng rng(test::test_seed());
    LUCENT_SCOPED_SEED(test::test_seed());
    const std::vector<Bf16Case> fixed = {{3, 3, 1, 1, ops::Activation::kNone},
                                         {64, 32, 5, 33, ops::Activation::kLeakyRelu},
                                         {192, 64, 4, 37, ops::Activation::kNone},
                                         {17, 33, 7, 16, ops::Activation::kLeakyRelu},
                                         {96, 16, 3, 64, ops::Activation::kRelu},
                                         {33, 48, 9, 1, ops::Activation::kLeakyRelu},
                                         {512, 256, 3, 45, ops::Activation::kLeakyRelu, 1},
                                         {5, 7, 4, 33, ops::Activation::kNone, 1},
                                         {64, 128, 9, 37, ops::Activation::kLeakyRelu, 3, 2},
                                         {16, 8, 1, 1, ops::Activation::kNone, 3, 2},
                                         {33, 17, 2, 2, ops::Activation::kLeakyRelu, 3, 2},
                                         {40, 32, 8, 70, ops::Activation::kNone, 3, 2}};
    for (const Bf16Case& c : fixed) check(c, rng);
    static const int64_t kCh[] = {1, 2, 5, 16, 31, 32, 33, 64, 65, 100};
    for (int i = 0; i < 8; ++i) {
        Bf16Case c{kCh[rng.uniform_int(0, 9)], kCh[rng.uniform_int(0, 9)], rng.uniform_int(1, 9),
                   rng.uniform_int(1, 70),
                   rng.uniform_int(0, 1) ? ops::Activation::kLeakyRelu : ops::Activation::kNone};
        const int64_t kind = rng.uniform_int(0, 2);  // 3x3, 1x1 or 3x3 stride 2
        c.k = kind == 1 ? 1 : 3;
        c.stride = kind == 2 ? 2 : 1;
        check(c, rng);
    }
}

// The packed path (rings that hold bf16 channels-last rows between layers): the input packed
// once into a wider packed activation, the layer run on row windows straight from it, into fp32
// rows and into a channel slice of packed rows. Same kernel, same order: the fp32 output is the
// same bits as run_rows, and the packed output is exactly those values rounded to bf16, with
// the channels around the slice untouched.
TEST(ConvBf16, PackedRowsGiveTheSameBits) {
    REQUIRE_BF16_KERNEL();
    test::Rng rng(test::test_seed());
    LUCENT_SCOPED_SEED(test::test_seed());
    struct PackedCase {
        int64_t cin, cout, h, w, cp, out_c0, k;
    };
    const std::vector<PackedCase> cases = {{64, 32, 7, 37, 192, 64, 3}, {32, 17, 1, 1, 64, 40, 3},
                                           {96, 64, 5, 70, 128, 32, 3}, {192, 64, 3, 16, 192, 0, 3},
                                           {32, 3, 9, 33, 32, 29, 3},   {64, 48, 6, 21, 96, 8, 1}};
    for (const PackedCase& c : cases) {
        SCOPED_TRACE("cin " + std::to_string(c.cin) + " cout " + std::to_string(c.cout) + " " +
                     std::to_string(c.h) + "x" + std::to_string(c.w));
        std::vector<float> w(static_cast<size_t>(c.cout * c.cin * c.k * c.k)),
            b(static_cast<size_t>(c.cout)), in(static_cast<size_t>(c.cin * c.h * c.w));
        rng.fill(w.data(), static_cast<int64_t>(w.size()), -0.2f, 0.2f);
        rng.fill(b.data(), c.cout);
        rng.fill_edgy(in.data(), static_cast<int64_t>(in.size()));
        Result<ops::ConvBf16> conv = ops::ConvBf16::create(c.cin, c.cout, c.k, w.data(), b.data(),
                                                           ops::Activation::kLeakyRelu, 0.2f);
        ASSERT_TRUE(conv.ok());
        const Bf16Case bc{c.cin, c.cout, c.h, c.w, ops::Activation::kLeakyRelu, c.k};
        const std::vector<float> want = run_bf16(conv.value(), in, bc, 1, c.h);

        ops::Context ctx;
        ctx.k = &ops::kernels();
        ctx.num_threads = 2;
        const int64_t row_floats = ops::bf16_row_floats(c.w, c.cp);
        std::vector<float> packed_in(static_cast<size_t>(row_floats * c.h), 7.0f);
        const ops::PackedRows pin{
            reinterpret_cast<uint16_t*>(packed_in.data()), c.h, c.w, c.cp, 0, c.h};
        ops::pack_rows_bf16(ctx, ConstRows{in.data(), c.cin, c.h, c.w, 0, c.h, c.h * c.w}, pin);
        std::vector<float> out(want.size(), std::nanf(""));
        const int64_t out_cp = 96;
        std::vector<float> packed_out(static_cast<size_t>(ops::bf16_row_floats(c.w, out_cp) * c.h),
                                      5.0f);
        const std::vector<float> packed_before = packed_out;
        const ops::PackedRows pout{
            reinterpret_cast<uint16_t*>(packed_out.data()), c.h, c.w, out_cp, 0, c.h};
        const int64_t out_c0 = std::min<int64_t>(c.out_c0, out_cp - c.cout);
        std::vector<float> scratch(
            static_cast<size_t>(ops::ConvBf16::packed_scratch_floats(c.w, c.cp)));
        for (int64_t chunk : {int64_t{1}, int64_t{2}, c.h}) {
            for (int64_t y0 = 0; y0 < c.h; y0 += chunk) {
                const int64_t y1 = std::min(c.h, y0 + chunk);
                // The input window holds just rows [y0 - 1, y1 + 1) of the image.
                const int64_t a = std::max<int64_t>(y0 - c.k / 2, 0);
                const int64_t e = std::min(y1 + c.k / 2, c.h);
                const ops::PackedRows window{pin.row(a), c.h, c.w, c.cp, a, e - a};
                const Rows dst{out.data() + y0 * c.w, c.cout, c.h, c.w, y0, y1 - y0, c.h * c.w};
                Status st =
                    conv.value().run_packed(ctx, window, y0, y1, &dst, nullptr, 0, scratch.data());
                ASSERT_TRUE(st.ok()) << st.message();
                st = conv.value().run_packed(ctx, window, y0, y1, nullptr, &pout, out_c0,
                                             scratch.data());
                ASSERT_TRUE(st.ok()) << st.message();
            }
            EXPECT_EQ(out, want) << "chunks of " << chunk;
        }
        const uint16_t* po = reinterpret_cast<const uint16_t*>(packed_out.data());
        const uint16_t* pb = reinterpret_cast<const uint16_t*>(packed_before.data());
        const int64_t wx = ops::bf16_packed_width(c.w);
        for (int64_t y = 0; y < c.h; ++y)
            for (int64_t x = 0; x < wx; ++x)
                for (int64_t ch = 0; ch < out_cp; ++ch) {
                    const size_t at = static_cast<size_t>((y * wx + x) * out_cp + ch);
                    const bool mine = x >= 1 && x <= c.w && ch >= out_c0 && ch < out_c0 + c.cout;
                    const uint16_t expect = mine ? ops::to_bf16(want[static_cast<size_t>(
                                                       ((ch - out_c0) * c.h + y) * c.w + x - 1)])
                                                 : pb[at];
                    ASSERT_EQ(po[at], expect)
                        << "row " << y << " column " << x << " channel " << ch;
                }
    }
}

// The bf16 transposed convolution (kernel 4, stride 2, padding 1: RED's decoder upsampling),
// four 4-tap phases on the input packed once, against the double-precision reference run on
// the bf16-rounded input and weights (so only the fp32 summation differs); row windows and
// thread counts give the same bits.
TEST(ConvBf16, TransposedMatchesTheRoundedReference) {
    REQUIRE_BF16_KERNEL();
    test::Rng rng(test::test_seed());
    LUCENT_SCOPED_SEED(test::test_seed());
    const int64_t shapes[][4] = {{40, 24, 5, 9}, {64, 32, 1, 1}, {16, 3, 7, 20}, {96, 48, 4, 33}};
    for (const auto& sh : shapes) {
        const int64_t cin = sh[0], cout = sh[1], h = sh[2], w = sh[3];
        SCOPED_TRACE("cin " + std::to_string(cin) + " cout " + std::to_string(cout) + " " +
                     std::to_string(h) + "x" + std::to_string(w));
        ops::ConvTranspose2dParams p =
            ops::ConvTranspose2dParams::up2x(cin, cout, ops::Activation::kLeakyRelu);
        p.bf16 = true;
        std::vector<float> wt(static_cast<size_t>(cin * cout * 16)), b(static_cast<size_t>(cout)),
            in(static_cast<size_t>(cin * h * w));
        rng.fill(wt.data(), static_cast<int64_t>(wt.size()), -0.2f, 0.2f);
        rng.fill(b.data(), cout);
        rng.fill_edgy(in.data(), static_cast<int64_t>(in.size()));
        Result<ops::ConvTranspose2d> op =
            ops::ConvTranspose2d::create(p, wt.data(), b.data(), ops::kernels());
        ASSERT_TRUE(op.ok()) << op.status().message();
        ops::ConvTranspose2dParams other = p;  // other shapes are refused, with the reason
        other.pad_h = other.pad_w = 0;
        const Status refused =
            ops::ConvTranspose2d::create(other, wt.data(), b.data(), ops::kernels()).status();
        EXPECT_EQ(refused.code(), StatusCode::kUnsupported);
        EXPECT_NE(refused.message().find("kernel 4, stride 2, padding 1"), std::string::npos);
        const Shape is{1, cin, h, w}, os{1, cout, 2 * h, 2 * w};
        std::vector<float> rin(in), rwt(wt), want(static_cast<size_t>(os.numel()));
        for (float& v : rin) v = ops::from_bf16(ops::to_bf16(v));
        for (float& v : rwt) v = ops::from_bf16(ops::to_bf16(v));
        ops::ref::conv_transpose2d(p, ConstTensorView{rin.data(), is}, rwt.data(), b.data(),
                                   TensorView{want.data(), os});
        double max_in = 0.0;
        for (float v : in) max_in = std::max(max_in, static_cast<double>(std::fabs(v)));
        const double tol = 1e-6 * static_cast<double>(cin * 4) * 0.2 * max_in + 1e-6;
        std::vector<float> first;
        for (int threads : {1, 2, 3})
            for (int64_t chunk : {int64_t{1}, int64_t{3}, 2 * h}) {
                std::vector<float> got(want.size(), std::nanf(""));
                ops::Context ctx;
                ctx.k = &ops::kernels();
                ctx.num_threads = threads;
                const ConstRows src{in.data(), cin, h, w, 0, h, h * w};
                for (int64_t y0 = 0; y0 < 2 * h; y0 += chunk) {
                    const int64_t y1 = std::min(2 * h, y0 + chunk);
                    Rows dst{got.data() + y0 * 2 * w, cout, 2 * h, 2 * w, y0, y1 - y0, 4 * h * w};
                    const Status st = op.value().run_rows(ctx, src, dst, nullptr);
                    ASSERT_TRUE(st.ok()) << st.message();
                }
                if (first.empty()) {
                    first = got;
                    for (size_t i = 0; i < got.size(); ++i)
                        ASSERT_NEAR(got[i], want[i], tol) << "at " << i;
                } else {
                    EXPECT_EQ(got, first) << threads << " threads, chunks of " << chunk;
                }
            }
    }
}

TEST(ConvBf16, RefusedWithoutBf16KernelsAndOnBadArguments) {
    std::vector<float> w(9, 0.1f);
    Result<ops::ConvBf16> conv =
        ops::ConvBf16::create(1, 1, 3, w.data(), nullptr, ops::Activation::kNone, 0.0f);
    if (bf16_kernel() == Bf16Kernel::kNone) {
        EXPECT_EQ(conv.status().code(), StatusCode::kUnsupported);
        EXPECT_NE(conv.status().message().find("AMX"), std::string::npos);
        return;
    }
    ASSERT_TRUE(conv.ok());
    EXPECT_EQ(ops::ConvBf16::create(1, 1, 5, w.data(), nullptr, ops::Activation::kNone, 0.0f)
                  .status()
                  .code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(ops::ConvBf16::create(0, 1, 3, w.data(), nullptr, ops::Activation::kNone, 0.0f)
                  .status()
                  .code(),
              StatusCode::kInvalidArgument);
    std::vector<float> in(4), out(8);
    ops::Context ctx;
    ctx.k = &ops::kernels();
    const Status st = conv.value().run_rows(ctx, ConstRows{in.data(), 1, 2, 2, 0, 2, 4},
                                            Rows{out.data(), 2, 2, 2, 0, 2, 4}, nullptr);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lucent
