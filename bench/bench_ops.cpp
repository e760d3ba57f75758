// Op benchmarks on the real layer shapes, per ISA tier and thread count.
//   Conv2d 3x3 on SSR's dense-block shapes at 128x128 (64->32 ... 192->64, and 64->64),
//   the same 3x3 shapes in the bf16 tier (AMX; an error row where AMX is missing),
//   Conv2d 1x1 (RED's pyramid fuse, 512->256 at 320x180),
//   ConvTranspose2d 4x4 stride 2 (RED's 256->128 at 64x64).
// Counters: GFLOP/s (2 * MACs of the direct algorithm). An ISA the machine lacks is reported
// as an error row, not silently measured on another tier. bench/compare_torch.py runs this
// with --benchmark_format=json beside PyTorch on the same shapes.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "engine/amx.h"
#include "ops/conv2d.h"
#include "ops/conv_transpose2d.h"
#include "ops/dispatch.h"

namespace lucent {
namespace {

std::vector<float> random_vec(int64_t n, uint32_t seed) {
    std::mt19937 g(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = u(g);
    return v;
}

void fill_tensor(Tensor& t, uint32_t seed) {
    const auto v = random_vec(t.numel(), seed);
    std::copy(v.begin(), v.end(), t.data());
}

bool isa_available(benchmark::State& state, Isa isa) {
    if (static_cast<int>(effective_isa(isa)) < static_cast<int>(isa)) {
        state.SkipWithError((std::string(isa_name(isa)) + " not available on this CPU").c_str());
        return false;
    }
    return true;
}

// One Conv2d layer with LeakyReLU on a random 1 x cin x h x w input, `threads` threads, with
// GFLOP/s of the direct algorithm.
void run_conv(benchmark::State& state, const ops::Conv2dParams& params, int64_t h, int64_t w,
              Isa isa, int threads) {
    if (!isa_available(state, isa)) return;
    ops::Conv2dParams p = params;
    p.act = ops::Activation::kLeakyRelu;
    const int64_t cin = p.in_ch, cout = p.out_ch, taps = p.kernel_h * p.kernel_w;
    const auto wt = random_vec(cout * cin * taps, 1), b = random_vec(cout, 2);
    auto conv = ops::Conv2d::create(p, wt.data(), b.data(), ops::kernels_for(isa)).value();
    auto in = Tensor::create({1, cin, h, w}).value();
    auto out = Tensor::create({1, cout, h, w}).value();
    fill_tensor(in, 3);
    ops::Context ctx{&ops::kernels_for(isa), threads};
    for (auto _ : state) {
        if (!conv.run(ctx, in, out).ok()) state.SkipWithError("conv2d failed");
        benchmark::DoNotOptimize(out.data());
    }
    const double flops = 2.0 * cin * cout * taps * h * w;
    state.counters["GFLOPS"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(isa_name(isa));
}

// Args: in_ch, out_ch, size, isa, threads.
void BM_Conv2d3x3(benchmark::State& state) {
    const int64_t hw = state.range(2);
    run_conv(state, ops::Conv2dParams::square(state.range(0), state.range(1), 3), hw, hw,
             static_cast<Isa>(state.range(3)), static_cast<int>(state.range(4)));
}

// 1x1 convolutions (RED's pyramid fuse, 512->256 at the quarter-size 1280x720 frame's
// 320x180). Args: in_ch, out_ch, width, height, isa, threads.
void BM_Conv2d1x1(benchmark::State& state) {
    run_conv(state, ops::Conv2dParams::square(state.range(0), state.range(1), 1), state.range(3),
             state.range(2), static_cast<Isa>(state.range(4)), static_cast<int>(state.range(5)));
}

// Args: in_ch, out_ch, size, isa, threads.
void BM_ConvTranspose2d4x4s2(benchmark::State& state) {
    const int64_t cin = state.range(0), cout = state.range(1), hw = state.range(2);
    const Isa isa = static_cast<Isa>(state.range(3));
    const int threads = static_cast<int>(state.range(4));
    if (!isa_available(state, isa)) return;
    const ops::ConvTranspose2dParams p =
        ops::ConvTranspose2dParams::up2x(cin, cout, ops::Activation::kLeakyRelu);
    const auto w = random_vec(cin * cout * 16, 4), b = random_vec(cout, 5);
    auto op = ops::ConvTranspose2d::create(p, w.data(), b.data(), ops::kernels_for(isa)).value();
    auto in = Tensor::create({1, cin, hw, hw}).value();
    auto out = Tensor::create({1, cout, 2 * hw, 2 * hw}).value();
    fill_tensor(in, 6);
    ops::Context ctx{&ops::kernels_for(isa), threads};
    for (auto _ : state) {
        if (!op.run(ctx, in, out).ok()) state.SkipWithError("conv_transpose2d failed");
        benchmark::DoNotOptimize(out.data());
    }
    // Useful MACs: each input pixel meets all 16 taps once.
    const double flops = 2.0 * cin * cout * 16 * hw * hw;
    state.counters["GFLOPS"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(isa_name(isa));
}

// The bf16 tier (AMX) on the same shapes. Args: in_ch, out_ch, size, threads.
void BM_Conv3x3Bf16(benchmark::State& state) {
    const int64_t cin = state.range(0), cout = state.range(1), hw = state.range(2);
    const int threads = static_cast<int>(state.range(3));
    auto p = ops::Conv2dParams::square(cin, cout, 3);
    p.act = ops::Activation::kLeakyRelu;
    p.bf16 = true;
    const auto w = random_vec(cout * cin * 9, 1), b = random_vec(cout, 2);
    Result<ops::Conv2d> conv = ops::Conv2d::create(p, w.data(), b.data(), ops::kernels());
    if (!conv.ok()) {
        state.SkipWithError(conv.status().message().c_str());
        return;
    }
    auto in = Tensor::create({1, cin, hw, hw}).value();
    auto out = Tensor::create({1, cout, hw, hw}).value();
    fill_tensor(in, 3);
    auto scratch = AlignedBuffer::create(conv.value().scratch_floats(hw, hw, threads)).value();
    ops::Context ctx{&ops::kernels(), threads};
    for (auto _ : state) {
        if (!conv.value()
                 .run_rows(ctx, rows_of(in.cview()), rows_of(out.view()), scratch.data())
                 .ok())
            state.SkipWithError("bf16 conv failed");
        benchmark::DoNotOptimize(out.data());
    }
    const double flops = 2.0 * cin * cout * 9 * hw * hw;
    state.counters["GFLOPS"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(std::string(bf16_kernel_name(bf16_kernel())) + "-bf16");
}

void bf16_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"cin", "cout", "hw", "threads"});
    const int64_t shapes[][2] = {{64, 32}, {96, 32}, {128, 32}, {160, 32}, {192, 64}, {64, 64}};
    for (const auto& s : shapes)
        for (int threads : {1, 2}) b->Args({s[0], s[1], 128, threads});
}

void conv_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"cin", "cout", "hw", "isa", "threads"});
    const int64_t shapes[][2] = {{64, 32}, {96, 32}, {128, 32}, {160, 32}, {192, 64}, {64, 64}};
    for (const auto& s : shapes)
        for (int isa = 0; isa <= 2; ++isa)
            for (int threads : {1, 2}) b->Args({s[0], s[1], 128, isa, threads});
}

void conv1x1_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"cin", "cout", "w", "h", "isa", "threads"});
    for (int isa = 1; isa <= 2; ++isa)
        for (int threads : {1, 2}) b->Args({512, 256, 320, 180, isa, threads});
}

void deconv_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"cin", "cout", "hw", "isa", "threads"});
    for (int isa = 0; isa <= 2; ++isa)
        for (int threads : {1, 2}) b->Args({256, 128, 64, isa, threads});
}

BENCHMARK(BM_Conv2d3x3)->Apply(conv_args)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv2d1x1)->Apply(conv1x1_args)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv3x3Bf16)->Apply(bf16_args)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ConvTranspose2d4x4s2)
    ->Apply(deconv_args)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace lucent

int main(int argc, char** argv) {
    benchmark::AddCustomContext("lucent_hardware_isa", lucent::isa_name(lucent::hardware_isa()));
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
