// Conv2d driver. Work is split into bands of output rows. Each thread copies the input rows
// its band needs into its own zero-padded, phase-split, row-interleaved buffer (small enough
// to stay in L2), then runs every output-channel block over it: phase (py, px) holds padded
// rows py, py + s_h, ... and columns px, px + s_w, ...
// Output (y, x) with tap (ky, kx) then reads phase ((ky*d_h) % s_h, (kx*d_w) % s_w) at
// (y + (ky*d_h) / s_h, x + (kx*d_w) / s_w): a stride-1 read, so conv2d_row serves every
// stride and dilation with contiguous vector loads. Rows of all channels sit together
// ([qy][py][ic][px][qx]) so one output row reads a few contiguous pages; with NCHW planes a
// 192-channel 3x3 tile touched ~600 pages and ran at a third of the FMA peak (TLB misses).
#include "ops/conv2d.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "engine/threading.h"
#include "ops/validate.h"

namespace lucent::ops {

const char* activation_name(Activation act) {
    switch (act) {
        case Activation::kNone:
            return "none";
        case Activation::kRelu:
            return "relu";
        case Activation::kLeakyRelu:
            return "leaky_relu";
        case Activation::kSigmoid:
            return "sigmoid";
    }
    return "unknown";
}

Conv2dParams Conv2dParams::square(int64_t in_ch, int64_t out_ch, int64_t k, int64_t stride,
                                  int64_t pad, int64_t dilation) {
    Conv2dParams p;
    p.in_ch = in_ch;
    p.out_ch = out_ch;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    const int64_t pd = pad >= 0 ? pad : k / 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pd;
    p.dilation_h = p.dilation_w = dilation;
    return p;
}

Status epilogue_code(Activation act, float slope, int32_t* code, float* kernel_slope) {
    switch (act) {
        case Activation::kNone:
            *code = kActNone;
            *kernel_slope = 0.0f;
            return Status();
        case Activation::kRelu:
            *code = kActLeaky;
            *kernel_slope = 0.0f;
            return Status();
        case Activation::kLeakyRelu:
            *code = kActLeaky;
            *kernel_slope = slope;
            return Status();
        case Activation::kSigmoid:
            break;
    }
    return make_status(StatusCode::kInvalidArgument,
                       "activation '%s' cannot be fused into a convolution epilogue; "
                       "only none, relu and leaky_relu can",
                       activation_name(act));
}

namespace {
constexpr int64_t kMaxDim = int64_t{1} << 24;
// Output rows per band: input rows are re-copied (kernel_h - 1) / stride times per band, and
// a band's buffer (band + kernel_h - 1 rows of all channels) should stay in L2.
constexpr int64_t kBandRows = 8;
}  // namespace

Status conv2d_validate(const Conv2dParams& p) {
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "in_ch", p.in_ch, 1, kMaxDim));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "out_ch", p.out_ch, 1, kMaxDim));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "kernel_h", p.kernel_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "kernel_w", p.kernel_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "stride_h", p.stride_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "stride_w", p.stride_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "dilation_h", p.dilation_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "dilation_w", p.dilation_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "pad_top", p.pad_top, 0, 1 << 20));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "pad_bottom", p.pad_bottom, 0, 1 << 20));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "pad_left", p.pad_left, 0, 1 << 20));
    LUCENT_RETURN_IF_ERROR(check_param("conv2d", "pad_right", p.pad_right, 0, 1 << 20));
    if (p.in_ch * p.kernel_h * p.kernel_w > (int64_t{1} << 30)) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv2d reduction length in_ch*kernel_h*kernel_w = %lld exceeds 2^30",
                           static_cast<long long>(p.in_ch * p.kernel_h * p.kernel_w));
    }
    if (p.algo == Conv2dAlgo::kWinograd &&
        (p.kernel_h != 3 || p.kernel_w != 3 || p.stride_h != 1 || p.stride_w != 1 ||
         p.dilation_h != 1 || p.dilation_w != 1)) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv2d algo winograd needs a 3x3 kernel with stride 1 and dilation 1, "
                           "not %lldx%lld stride %lld,%lld dilation %lld,%lld",
                           static_cast<long long>(p.kernel_h), static_cast<long long>(p.kernel_w),
                           static_cast<long long>(p.stride_h), static_cast<long long>(p.stride_w),
                           static_cast<long long>(p.dilation_h),
                           static_cast<long long>(p.dilation_w));
    }
    if (p.algo != Conv2dAlgo::kAuto && p.algo != Conv2dAlgo::kDirect &&
        p.algo != Conv2dAlgo::kWinograd) {
        return make_status(StatusCode::kInvalidArgument, "conv2d algo %d is unknown",
                           static_cast<int>(p.algo));
    }
    int32_t code;
    float slope;
    return epilogue_code(p.act, p.slope, &code, &slope);
}

Status conv2d_output_shape(const Conv2dParams& p, const Shape& in, Shape* out) {
    LUCENT_RETURN_IF_ERROR(conv2d_validate(p));
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "conv2d input", &numel));
    if (in.c != p.in_ch) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv2d input %s has %lld channels but the layer expects in_ch = %lld",
                           in.str().c_str(), static_cast<long long>(in.c),
                           static_cast<long long>(p.in_ch));
    }
    const int64_t span_h = p.dilation_h * (p.kernel_h - 1) + 1;
    const int64_t span_w = p.dilation_w * (p.kernel_w - 1) + 1;
    const int64_t ph = in.h + p.pad_top + p.pad_bottom, pw = in.w + p.pad_left + p.pad_right;
    if (ph < span_h || pw < span_w) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv2d padded input %lldx%lld is smaller than the dilated kernel "
                           "%lldx%lld, so the output would be empty",
                           static_cast<long long>(ph), static_cast<long long>(pw),
                           static_cast<long long>(span_h), static_cast<long long>(span_w));
    }
    *out = Shape{in.n, p.out_ch, (ph - span_h) / p.stride_h + 1, (pw - span_w) / p.stride_w + 1};
    return checked_numel(*out, "conv2d output", &numel);
}

void conv_pack_weights(const float* weight, int64_t out_ch, int64_t in_ch, int64_t w_o_stride,
                       int64_t w_i_stride, const std::vector<int64_t>& tap_index, int32_t ocb,
                       std::vector<float>* packed) {
    const int64_t ntaps = static_cast<int64_t>(tap_index.size());
    const int64_t blocks = (out_ch + ocb - 1) / ocb;
    packed->assign(static_cast<size_t>(blocks * in_ch * ntaps * ocb), 0.0f);
    for (int64_t o = 0; o < out_ch; ++o) {
        const int64_t b = o / ocb, lane = o % ocb;
        for (int64_t i = 0; i < in_ch; ++i) {
            for (int64_t t = 0; t < ntaps; ++t) {
                (*packed)[static_cast<size_t>(((b * in_ch + i) * ntaps + t) * ocb + lane)] =
                    weight[o * w_o_stride + i * w_i_stride + tap_index[static_cast<size_t>(t)]];
            }
        }
    }
}

namespace {
// A GEMM pass reads about kGemmPassRows (channel, tap) rows of a strip of kGemmStripColumns
// columns (24 KiB) while every output-channel block in turn multiplies it, so the slice stays in
// L1 and each block streams only its own weights; the blocks' partial sums (a strip of the
// output) wait in L2 for the next pass. Block-outer over all channels re-read the whole input
// from L2 or memory once per block: RED's 512-channel fuse, its 256 -> 512 deconvolution
// products and its stride-2 convolution ran at half the speed of a 64-channel layer.
constexpr int64_t kGemmPassRows = 64;
constexpr int64_t kGemmStripColumns = 96;
// Winograd layers with more transformed weights than this share each band between the threads
// (Conv2d::winograd_shares_bands): RED's deconvolution (19 MB) and enc2 (4.7 MB) do, the SSR
// layers (at most 1.8 MB) keep a band per thread.
constexpr int64_t kWinogradSharedWeightBytes = int64_t{4} << 20;

// The input rows of the next channel's Winograd tiles, asked for while this channel is
// transformed. Each channel's six rows are a fresh run of lines in another plane, which the
// hardware prefetchers only pick up after a few misses: winograd_input stalled on its first loads
// (a 192 -> 64 layer at 128x128: its share fell from 25 % to 20 %, the layer 7 % faster).
void prefetch_tile_rows(const float* const (&rows)[6], int64_t plane_offset, int64_t width) {
    for (const float* row : rows) {
        if (row == nullptr) continue;
        const char* p = reinterpret_cast<const char*>(row + plane_offset);
        for (int64_t b = 0; b < width * int64_t{sizeof(float)}; b += 64) __builtin_prefetch(p + b);
    }
}

// Input channels per pass for ntaps taps (at least one).
int64_t gemm_pass_channels(int64_t ntaps) {
    return std::max<int64_t>(1, kGemmPassRows / std::max<int64_t>(1, ntaps));
}
}  // namespace

void run_conv_gemm(const KernelTable& k, const ConvGemm& g) {
    static const int64_t kZeroTap = 0;
    const int64_t* taps = g.taps != nullptr ? g.taps : &kZeroTap;
    const int64_t ntaps = g.taps != nullptr ? g.ntaps : 1;
    const int32_t ocb = k.conv2d_oc_block;
    const int64_t blocks = (g.cout + ocb - 1) / ocb;
    const int64_t pass = gemm_pass_channels(ntaps);
    // Strips of whole register tiles (3 x 16 columns with AVX-512), the rest in the last one;
    // one pass has nothing to keep in L1 between blocks, so it runs the whole row (long stores).
    const int64_t strip =
        pass >= g.cin || g.width < 2 * kGemmStripColumns ? g.width : kGemmStripColumns;
    for (int64_t x0 = 0; x0 < g.width; x0 += strip) {
        for (int64_t ic0 = 0; ic0 < g.cin; ic0 += pass) {
            const int64_t nc = std::min(pass, g.cin - ic0);
            const bool first = ic0 == 0, last = ic0 + nc == g.cin;
            for (int64_t b = g.block_begin; b < std::min(blocks, g.block_end); ++b) {
                ConvRowArgs a{};
                a.in = g.in + ic0 * g.in_cs + x0;
                a.in_cs = g.in_cs;
                a.taps = taps;
                a.ntaps = static_cast<int32_t>(ntaps);
                a.cin = static_cast<int32_t>(nc);
                a.w = g.packed + (ic0 * blocks + b * nc) * ntaps * ocb;
                a.bias = first && g.bias != nullptr ? g.bias + b * ocb : nullptr;
                a.out = g.out + b * ocb * g.out_cs + x0;
                a.out_cs = g.out_cs;
                a.noc = static_cast<int32_t>(std::min<int64_t>(ocb, g.cout - b * ocb));
                a.width = static_cast<int32_t>(std::min(strip, g.width - x0));
                a.act = last ? g.act : kActNone;
                a.slope = g.slope;
                a.prefetch_step = g.prefetch_step;
                a.accumulate = first ? 0 : 1;
                k.conv2d_row(a);
            }
        }
    }
}

void pack_conv_gemm(const float* w, int64_t o_stride, int64_t i_stride, int64_t cout, int64_t cin,
                    int64_t ntaps, int32_t ocb, float* dst) {
    const int64_t blocks = (cout + ocb - 1) / ocb;
    const int64_t pass = gemm_pass_channels(ntaps);
    std::fill(dst, dst + blocks * ocb * cin * ntaps, 0.0f);
    for (int64_t ic0 = 0; ic0 < cin; ic0 += pass) {
        const int64_t nc = std::min(pass, cin - ic0);
        float* part = dst + ic0 * blocks * ocb * ntaps;
        for (int64_t o = 0; o < cout; ++o)
            for (int64_t i = 0; i < nc; ++i)
                for (int64_t t = 0; t < ntaps; ++t)
                    part[((o / ocb * nc + i) * ntaps + t) * ocb + o % ocb] =
                        w[o * o_stride + (ic0 + i) * i_stride + t];
    }
}

void run_conv_rows(const Context& ctx, const KernelTable& k, const ConvRowsJob& j) {
    const int32_t ocb = k.conv2d_oc_block;
    const int64_t blocks = (j.cout + ocb - 1) / ocb;
    const int64_t ntaps = static_cast<int64_t>(j.taps->size());
    // Items run row-major with the channel block innermost: every block of a row reads the same
    // few input rows (all channels), which then stay in L2 instead of being streamed from
    // memory once per block. The weights of all blocks are smaller than a row band's input.
    parallel_for(j.batch * blocks * j.out_h, ctx.num_threads, [&](int64_t item) {
        const int64_t b = item % blocks;
        const int64_t y = (item / blocks) % j.out_h;
        const int64_t n = item / (j.out_h * blocks);
        ConvRowArgs a;
        a.in = j.in + n * j.in_ns + y * j.in_rs;
        a.in_cs = j.in_cs;
        a.taps = j.taps->data();
        a.ntaps = static_cast<int32_t>(ntaps);
        a.cin = static_cast<int32_t>(j.cin);
        a.w = j.packed + b * j.cin * ntaps * ocb;
        a.bias = j.bias + b * ocb;
        a.out = j.out + n * j.out_ns + b * ocb * j.out_cs + y * j.out_rs;
        a.out_cs = j.out_cs;
        a.noc = static_cast<int32_t>(std::min<int64_t>(ocb, j.cout - b * ocb));
        a.width = static_cast<int32_t>(j.out_w);
        a.act = j.act;
        a.slope = j.slope;
        a.prefetch_step = j.prefetch_step;
        k.conv2d_row(a);
    });
}

namespace {

// U = G g G^T for each (out, in) pair (G of ops/winograd_f43.h), computed in double, packed
// per position xi = 6 * r + c for run_conv_gemm().
void winograd_transform_weights(const Conv2dParams& p, const float* weight, int32_t ocb,
                                std::vector<float>* packed) {
    static const double kG[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    const int64_t pairs = p.out_ch * p.in_ch;
    std::vector<float> u(static_cast<size_t>(kWinogradPoints * pairs));  // [36][out][in]
    for (int64_t pair = 0; pair < pairs; ++pair) {
        const float* g = weight + pair * 9;
        double gg[6][3];  // G g
        for (int r = 0; r < 6; ++r)
            for (int c = 0; c < 3; ++c)
                gg[r][c] = kG[r][0] * g[c] + kG[r][1] * g[3 + c] + kG[r][2] * g[6 + c];
        for (int r = 0; r < 6; ++r)
            for (int c = 0; c < 6; ++c)
                u[static_cast<size_t>((r * 6 + c) * pairs + pair)] = static_cast<float>(
                    gg[r][0] * kG[c][0] + gg[r][1] * kG[c][1] + gg[r][2] * kG[c][2]);
    }
    const int64_t per_xi = (p.out_ch + ocb - 1) / ocb * ocb * p.in_ch;
    packed->resize(static_cast<size_t>(kWinogradPoints * per_xi));
    for (int64_t xi = 0; xi < kWinogradPoints; ++xi)
        pack_conv_gemm(u.data() + xi * pairs, p.in_ch, 1, p.out_ch, p.in_ch, 1, ocb,
                       packed->data() + xi * per_xi);
}

}  // namespace

Result<Conv2d> Conv2d::create(const Conv2dParams& p, const float* weight, const float* bias,
                              const KernelTable& k) {
    LUCENT_RETURN_IF_ERROR(conv2d_validate(p));
    if (weight == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "conv2d weight pointer is null");
    }
    Conv2d c;
    c.p_ = p;
    c.k_ = &k;
    if (p.bf16) {
        const int64_t ks = p.kernel_h, st = p.stride_h;
        const bool shape_ok = (ks == 1 || ks == 3) && p.kernel_w == ks && p.stride_w == st &&
                              (st == 1 || (st == 2 && ks == 3)) && p.dilation_h == 1 &&
                              p.dilation_w == 1 && p.pad_top == ks / 2 && p.pad_bottom == ks / 2 &&
                              p.pad_left == ks / 2 && p.pad_right == ks / 2;
        if (!shape_ok)
            return make_status(StatusCode::kUnsupported,
                               "conv2d in bf16 supports 3x3 padding-1 layers of stride 1 or 2 "
                               "and 1x1 stride-1 layers only");
        LUCENT_ASSIGN_OR_RETURN(
            ConvBf16 b, ConvBf16::create(p.in_ch, p.out_ch, ks, weight, bias, p.act, p.slope, st));
        c.bf16_ = std::make_shared<const ConvBf16>(std::move(b));
        return c;
    }
    const int64_t blocks = (p.out_ch + k.conv2d_oc_block - 1) / k.conv2d_oc_block;
    c.bias_.assign(static_cast<size_t>(blocks * k.conv2d_oc_block), 0.0f);
    if (bias != nullptr) std::copy(bias, bias + p.out_ch, c.bias_.begin());
    const bool eligible = p.kernel_h == 3 && p.kernel_w == 3 && p.stride_h == 1 &&
                          p.stride_w == 1 && p.dilation_h == 1 && p.dilation_w == 1;
    c.winograd_ = p.algo == Conv2dAlgo::kWinograd ||
                  (p.algo == Conv2dAlgo::kAuto && eligible && p.in_ch >= kWinogradMinChannels &&
                   p.out_ch >= kWinogradMinChannels);
    c.pointwise_ = !c.winograd_ && p.kernel_h == 1 && p.kernel_w == 1 && p.stride_h == 1 &&
                   p.stride_w == 1 && p.pad_top == 0 && p.pad_bottom == 0 && p.pad_left == 0 &&
                   p.pad_right == 0;
    if (c.winograd_) {
        winograd_transform_weights(p, weight, k.conv2d_oc_block, &c.wino_packed_);
    } else {
        const int64_t ntaps = p.kernel_h * p.kernel_w;
        c.packed_.resize(static_cast<size_t>(blocks * k.conv2d_oc_block * p.in_ch * ntaps));
        pack_conv_gemm(weight, p.in_ch * ntaps, ntaps, p.out_ch, p.in_ch, ntaps, k.conv2d_oc_block,
                       c.packed_.data());
    }
    return c;
}

void Conv2d::fill_band(ConstRows src, int64_t y0, int64_t qrows, float* band, int64_t pw,
                       int64_t row_stride, int64_t phase_row, int64_t ch_stride) const {
    const int64_t sh = p_.stride_h, sw = p_.stride_w;
    for (int64_t q = 0; q < qrows; ++q) {
        for (int64_t py = 0; py < sh; ++py) {
            float* prow = band + q * row_stride + py * phase_row;
            const int64_t iy = (y0 + q) * sh + py - p_.pad_top;
            // Rows outside the image are padding (run_rows() checked that the window holds
            // every other row the band reads; the test keeps a stray read harmless).
            if (iy < 0 || iy >= src.h || iy < src.row0 || iy >= src.end()) {
                std::memset(prow, 0, static_cast<size_t>(phase_row) * sizeof(float));
                continue;
            }
            for (int64_t ic = 0; ic < src.c; ++ic) {
                const float* srow = src.row(ic, iy);
                float* drow = prow + ic * ch_stride;
                if (sw == 1) {
                    std::memset(drow, 0, static_cast<size_t>(p_.pad_left) * sizeof(float));
                    std::memcpy(drow + p_.pad_left, srow,
                                static_cast<size_t>(src.w) * sizeof(float));
                    std::memset(drow + p_.pad_left + src.w, 0,
                                static_cast<size_t>(pw - p_.pad_left - src.w) * sizeof(float));
                    continue;
                }
                for (int64_t px = 0; px < sw; ++px) {
                    for (int64_t qx = 0; qx < pw; ++qx) {
                        const int64_t ix = qx * sw + px - p_.pad_left;
                        drow[px * pw + qx] = (ix >= 0 && ix < src.w) ? srow[ix] : 0.0f;
                    }
                }
            }
        }
    }
}

Status Conv2d::run(const Context& ctx, ConstTensorView in, TensorView out) const {
    if (k_ == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "conv2d layer was not created");
    }
    Shape os;
    LUCENT_RETURN_IF_ERROR(conv2d_output_shape(p_, in.shape, &os));
    LUCENT_RETURN_IF_ERROR(check_tensor("conv2d", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("conv2d", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(check_shape("conv2d", "output", out.shape, os));
    const int threads = resolve_threads(ctx.num_threads);
    const int64_t floats = scratch_floats(in.shape.w, os.h, threads);
    int64_t count = 0;  // none for 1x1 layers, which read their input in place
    if (floats > 0)
        LUCENT_RETURN_IF_ERROR(
            checked_numel(Shape{1, 1, 1, floats}, "conv2d band buffers", &count));
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer buf, AlignedBuffer::create(count));
    for (int64_t n = 0; n < os.n; ++n) {
        const ConstRows src =
            rows_of(ConstTensorView{in.data + n * in.shape.c * in.shape.plane(),
                                    Shape{1, in.shape.c, in.shape.h, in.shape.w}});
        const Rows dst =
            rows_of(TensorView{out.data + n * os.c * os.plane(), Shape{1, os.c, os.h, os.w}});
        LUCENT_RETURN_IF_ERROR(run_rows(ctx, src, dst, buf.data()));
    }
    return Status();
}

void Conv2d::input_rows(int64_t y0, int64_t y1, int64_t in_h, int64_t* first, int64_t* end) const {
    const int64_t lo = y0 * p_.stride_h - p_.pad_top;
    const int64_t hi = (y1 - 1) * p_.stride_h - p_.pad_top + p_.dilation_h * (p_.kernel_h - 1) + 1;
    *first = std::min(std::max<int64_t>(lo, 0), in_h);
    *end = std::max(std::min(hi, in_h), *first);
}

Status Conv2d::run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch,
                        int64_t thread_stride) const {
    if (k_ == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "conv2d layer was not created");
    }
    Shape os;
    LUCENT_RETURN_IF_ERROR(conv2d_output_shape(p_, Shape{1, in.c, in.h, in.w}, &os));
    if (out.c != os.c || out.h != os.h || out.w != os.w || out.row0 < 0 || out.rows < 1 ||
        out.end() > os.h) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv2d output rows [%lld, %lld) of a %lldx%lldx%lld window do not fit "
                           "the output %s",
                           static_cast<long long>(out.row0), static_cast<long long>(out.end()),
                           static_cast<long long>(out.c), static_cast<long long>(out.h),
                           static_cast<long long>(out.w), os.str().c_str());
    }
    int64_t first = 0, end = 0;
    input_rows(out.row0, out.end(), in.h, &first, &end);
    const int64_t step = row_step();
    if (out.row0 % step != 0 || (out.rows % step != 0 && out.end() != os.h)) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv2d (winograd) output rows [%lld, %lld) do not start and end on "
                           "its %lld-row tiles",
                           static_cast<long long>(out.row0), static_cast<long long>(out.end()),
                           static_cast<long long>(step));
    }
    LUCENT_RETURN_IF_ERROR(check_row_window("conv2d", out.row0, out.end(), first, end, in));
    if (bf16_ != nullptr) return bf16_->run_rows(ctx, in, out, scratch);
    AlignedBuffer own;
    if (scratch == nullptr) {
        const int threads = resolve_threads(ctx.num_threads);
        LUCENT_ASSIGN_OR_RETURN(own,
                                AlignedBuffer::create(scratch_floats(in.w, out.rows, threads)));
        scratch = own.data();
        thread_stride = 0;
    }
    if (winograd_) {
        run_winograd(ctx, in, out, scratch, thread_stride);
    } else if (pointwise_) {
        run_pointwise(ctx, in, out);
    } else {
        run_direct(ctx, in, out, scratch, thread_stride);
    }
    return Status();
}

Conv2d::WinogradBands Conv2d::winograd_bands(int64_t out_w, int64_t out_rows) const {
    WinogradBands g;
    g.tiles_h = (out_rows + kWinogradTile - 1) / kWinogradTile;
    g.tiles_w = (out_w + kWinogradTile - 1) / kWinogradTile;
    // About kWinogradBandTiles tiles per band: V and M stay in L2 and the GEMM rows stay long.
    // Layers with large transformed weights take wider bands: each band streams all their
    // weights once, so more tiles per band stream them less often (RED's deconvolution and
    // enc2: 5-9 % faster at 288 tiles than at 64, same bits).
    const int64_t target = winograd_weights_large() ? kWinogradWideBandTiles : kWinogradBandTiles;
    // A tile row well wider than the target splits into bands_w column segments of equal
    // width, rounded up to the transforms' 16-tile vectors: a 4000-pixel row would otherwise
    // make one band of 1000 tiles, whose V alone (27 MB for 192 channels) spills every cache.
    g.bands_w = std::max<int64_t>(1, (g.tiles_w + target / 2) / target);
    g.band_tw = (g.tiles_w + g.bands_w - 1) / g.bands_w;
    if (g.bands_w > 1) g.band_tw = std::min(g.tiles_w, (g.band_tw + 15) / 16 * 16);
    g.bands_w = (g.tiles_w + g.band_tw - 1) / g.band_tw;
    g.band_th = std::max<int64_t>(1, std::min<int64_t>(g.tiles_h, target / g.band_tw));
    g.band_tiles = g.band_th * g.band_tw;
    const int32_t ocb = k_->conv2d_oc_block;
    g.c_pad = (p_.out_ch + ocb - 1) / ocb * ocb;
    // One cache line between positions: otherwise the 36 planes are often a multiple of 4 KiB
    // apart, and the transforms' 36 store (input) or load (output) streams fall into one L1
    // set and alias in the store buffer.
    g.v_xs = p_.in_ch * g.band_tiles + 16;
    g.m_xs = g.c_pad * g.band_tiles + 16;
    g.per_thread = kWinogradPoints * (g.v_xs + g.m_xs);
    return g;
}

Conv2d::Bands Conv2d::bands(int64_t in_w, int64_t out_rows) const {
    const int64_t out_w =
        (in_w + p_.pad_left + p_.pad_right - p_.dilation_w * (p_.kernel_w - 1) - 1) / p_.stride_w +
        1;
    if (winograd_) {
        const WinogradBands g = winograd_bands(out_w, out_rows);
        return {g.band_th, g.per_thread};
    }
    if (pointwise_) return {std::min<int64_t>(kBandRows, out_rows), 0};  // reads in place
    const int64_t sw = p_.stride_w;
    const int64_t pw = (in_w + p_.pad_left + p_.pad_right + sw - 1) / sw;
    const int64_t extra_rows = ((p_.kernel_h - 1) * p_.dilation_h) / p_.stride_h;
    const int64_t band_rows = std::min<int64_t>(kBandRows, out_rows);
    return {band_rows, (band_rows + extra_rows) * p_.stride_h * p_.in_ch * sw * pw};
}

int64_t Conv2d::scratch_floats(int64_t in_w, int64_t out_rows, int threads) const {
    if (bf16_ != nullptr) return bf16_->scratch_floats(in_w, out_rows, threads);
    const int64_t shares = winograd_shares_bands(threads) ? 1 : std::max(threads, 1);
    return bands(in_w, out_rows).per_thread * shares;
}

bool Conv2d::winograd_weights_large() const {
    return static_cast<int64_t>(wino_packed_.size() * sizeof(float)) > kWinogradSharedWeightBytes;
}

bool Conv2d::winograd_shares_bands(int threads) const {
    return winograd_ && threads > 1 && winograd_weights_large();
}

void Conv2d::run_direct(const Context& ctx, ConstRows in, Rows out, float* scratch,
                        int64_t thread_stride) const {
    const int64_t sh = p_.stride_h, sw = p_.stride_w;
    const int64_t wp = in.w + p_.pad_left + p_.pad_right;
    const int64_t pw = (wp + sw - 1) / sw;
    // Band buffer layout [qy][py][ic][px][qx]: padded row (y0 + qy)*sh + py, column qx*sw + px.
    const int64_t ch_stride = sw * pw, phase_row = in.c * ch_stride, row_stride = sh * phase_row;
    const int64_t extra_rows = ((p_.kernel_h - 1) * p_.dilation_h) / sh;
    const Bands plan = bands(in.w, out.rows);
    const int64_t band_rows = plan.band_rows;

    std::vector<int64_t> taps(static_cast<size_t>(p_.kernel_h * p_.kernel_w));
    for (int64_t ky = 0; ky < p_.kernel_h; ++ky) {
        for (int64_t kx = 0; kx < p_.kernel_w; ++kx) {
            const int64_t dy = ky * p_.dilation_h, dx = kx * p_.dilation_w;
            taps[static_cast<size_t>(ky * p_.kernel_w + kx)] =
                (dy / sh) * row_stride + (dy % sh) * phase_row + (dx % sw) * pw + dx / sw;
        }
    }
    ConvGemm base;
    base.in_cs = ch_stride;
    base.cin = in.c;
    base.taps = taps.data();
    base.ntaps = static_cast<int32_t>(taps.size());
    base.prefetch_step = static_cast<int32_t>(p_.kernel_w);
    base.packed = packed_.data();
    base.bias = bias_.data();
    base.out_cs = out.cs;
    base.cout = out.c;
    base.width = out.w;
    (void)epilogue_code(p_.act, p_.slope, &base.act, &base.slope);  // validated
    const int64_t nbands = (out.rows + band_rows - 1) / band_rows;

    parallel_for_with_thread(nbands, ctx.num_threads, [&](int64_t item, int thread) {
        const int64_t y0 = out.row0 + item * band_rows;
        const int64_t rows = std::min(band_rows, out.end() - y0);
        float* band = scratch + thread * std::max(plan.per_thread, thread_stride);
        fill_band(in, y0, rows + extra_rows, band, pw, row_stride, phase_row, ch_stride);
        for (int64_t y = 0; y < rows; ++y) {
            ConvGemm g = base;
            g.in = band + y * row_stride;
            g.out = out.row(0, y0 + y);
            run_conv_gemm(*k_, g);
        }
    });
}

// Bands of kBandRows rows per thread; a band's rows lie back to back in each channel plane of
// the window, so the band is one GEMM row of rows * width columns.
void Conv2d::run_pointwise(const Context& ctx, ConstRows in, Rows out) const {
    const int64_t band_rows = bands(in.w, out.rows).band_rows;
    const int64_t nbands = (out.rows + band_rows - 1) / band_rows;
    ConvGemm base;
    base.in_cs = in.cs;
    base.cin = in.c;
    base.packed = packed_.data();
    base.bias = bias_.data();
    base.out_cs = out.cs;
    base.cout = out.c;
    (void)epilogue_code(p_.act, p_.slope, &base.act, &base.slope);  // validated at create()
    parallel_for(nbands, ctx.num_threads, [&](int64_t item) {
        const int64_t y0 = out.row0 + item * band_rows;
        ConvGemm g = base;
        g.in = in.row(0, y0);
        g.out = out.row(0, y0);
        g.width = std::min(band_rows, out.end() - y0) * out.w;
        run_conv_gemm(*k_, g);
    });
}

// Winograd F(4x4, 3x3), in bands of tile rows per thread: the input rows are transformed per
// channel straight from the window (the kernel reads the zero padding as masked-off lanes)
// into V[36][in_ch][tiles], multiplied per position xi by the transformed weights with the
// conv2d_row kernel as a 1-tap GEMM into M[36][out_ch][tiles], and transformed back (bias and
// epilogue fused) into the output. Tiles start at output rows that are multiples of 4
// (run_rows() checks out.row0), so a stripe computes every element exactly as the whole image
// does.
void Conv2d::run_winograd(const Context& ctx, ConstRows in, Rows out, float* scratch,
                          int64_t thread_stride) const {
    const WinogradBands g = winograd_bands(out.w, out.rows);
    const int32_t ocb = k_->conv2d_oc_block;
    const int64_t blocks = g.c_pad / ocb;
    int32_t act = kActNone;
    float slope = 0.0f;
    (void)epilogue_code(p_.act, p_.slope, &act, &slope);  // validated at create()
    const int64_t nbands = (g.tiles_h + g.band_th - 1) / g.band_th * g.bands_w;
    const int64_t per_xi = static_cast<int64_t>(wino_packed_.size()) / kWinogradPoints;

    // Band `item` covers tile rows [ty0, ty0 + rows) and tile columns [tx0, tx0 + cols); its
    // tile (tr, tc) sits at index tr * cols + tc of V and M.
    struct Band {
        int64_t ty0, rows, tx0, cols;
    };
    auto band = [&g](int64_t item) {
        Band b;
        b.ty0 = item / g.bands_w * g.band_th;
        b.rows = std::min(g.band_th, g.tiles_h - b.ty0);
        b.tx0 = item % g.bands_w * g.band_tw;
        b.cols = std::min(g.band_tw, g.tiles_w - b.tx0);
        return b;
    };

    // The three steps of a band over a share of it: input channels [c0, c1) into V, output
    // blocks [b0, b1) through the products into M and out.
    auto transform_in = [&](const Band& b, int64_t c0, int64_t c1, float* v) {
        const int64_t x0 = kWinogradTile * b.tx0 - p_.pad_left;
        // The columns the band's tiles read (6 per tile, overlapping by 2), for the prefetch.
        const int64_t px0 = std::max<int64_t>(0, x0);
        const int64_t pw = std::min(in.w, x0 + kWinogradTile * b.cols + 2) - px0;
        for (int64_t tr = 0; tr < b.rows; ++tr) {
            const int64_t iy0 = out.row0 + kWinogradTile * (b.ty0 + tr) - p_.pad_top;
            for (int64_t c = c0; c < c1; ++c) {
                WinogradInputArgs a;
                // Rows outside the image are padding. Rows inside it but outside the window are
                // only ever the unused lower rows of a tile that ends the window; they read as
                // zeros too (run_rows() checked that every row that matters is present).
                for (int i = 0; i < 6; ++i) {
                    const int64_t y = iy0 + i;
                    a.rows[i] =
                        y >= 0 && y < in.h && y >= in.row0 && y < in.end() ? in.row(c, y) : nullptr;
                }
                a.x0 = x0;
                a.width = in.w;
                a.tiles = static_cast<int32_t>(b.cols);
                a.v = v + c * g.band_tiles + tr * b.cols;
                a.v_xs = g.v_xs;
                // The next channel's rows, from the band's first column.
                if (c + 1 < c1 && pw > 0) prefetch_tile_rows(a.rows, in.cs + px0, pw);
                k_->winograd_input(a);
            }
        }
    };
    auto multiply_out = [&](const Band& b, int64_t b0, int64_t b1, const float* v, float* m) {
        for (int64_t xi = 0; xi < kWinogradPoints; ++xi) {
            ConvGemm gemm;
            gemm.in = v + xi * g.v_xs;
            gemm.in_cs = g.band_tiles;
            gemm.cin = in.c;
            gemm.packed = wino_packed_.data() + xi * per_xi;
            gemm.out = m + xi * g.m_xs;
            gemm.out_cs = g.band_tiles;
            gemm.cout = out.c;
            gemm.width = b.rows * b.cols;
            gemm.block_begin = b0;
            gemm.block_end = b1;
            run_conv_gemm(*k_, gemm);
        }
        const int64_t ox = kWinogradTile * b.tx0;
        for (int64_t o = b0 * ocb; o < std::min(b1 * ocb, out.c); ++o) {
            for (int64_t tr = 0; tr < b.rows; ++tr) {
                const int64_t y = out.row0 + kWinogradTile * (b.ty0 + tr);
                WinogradOutputArgs a;
                a.m = m + o * g.band_tiles + tr * b.cols;
                a.m_xs = g.m_xs;
                a.tiles = static_cast<int32_t>(b.cols);
                a.bias = bias_[static_cast<size_t>(o)];
                a.act = act;
                a.slope = slope;
                for (int r = 0; r < kWinogradTile; ++r)
                    a.out[r] = y + r < out.end() ? out.row(o, y + r) + ox : nullptr;
                a.out_w = static_cast<int32_t>(out.w - ox);
                k_->winograd_output(a);
            }
        }
    };

    const int threads = resolve_threads(ctx.num_threads);
    if (winograd_shares_bands(threads)) {
        // One band at a time in one buffer: the threads split its input channels, then its
        // output blocks, so each streams half the weights per band instead of all of them.
        float* v = scratch;
        float* m = v + kWinogradPoints * g.v_xs;
        for (int64_t item = 0; item < nbands; ++item) {
            const Band b = band(item);
            parallel_for(threads, threads, [&](int64_t t) {
                transform_in(b, in.c * t / threads, in.c * (t + 1) / threads, v);
            });
            parallel_for(threads, threads, [&](int64_t t) {
                multiply_out(b, blocks * t / threads, blocks * (t + 1) / threads, v, m);
            });
        }
        return;
    }
    parallel_for_with_thread(nbands, ctx.num_threads, [&](int64_t item, int thread) {
        const Band b = band(item);
        float* v = scratch + thread * std::max(g.per_thread, thread_stride);
        transform_in(b, 0, in.c, v);
        multiply_out(b, 0, blocks, v, v + kWinogradPoints * g.v_xs);
    });
}

}  // namespace lucent::ops
