// ConvTranspose2d driver, by output phases. For output row y = s*q + ry, tap ky contributes
// iff (ry + pad - ky*d) is divisible by s, reading input row q + (ry + pad - ky*d) / s. Each
// phase is therefore a stride-1 correlation with a subset of the taps, run by the same
// conv2d_row kernel as Conv2d, into a phase buffer that is then interleaved into the output.
// No multiply is wasted on the zeros a naive "dilate the input" method would insert.
// The common kernel 4 / stride 2 / padding 1 layer (fp32, >= 16 channels) instead runs its four
// phases as one Winograd 3x3 convolution to 4 * out_ch channels (as3x3_, conv_transpose2d.h).
#include "ops/conv_transpose2d.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "engine/threading.h"
#include "ops/conv2d.h"
#include "ops/validate.h"

namespace lucent::ops {

namespace {

// Floor division for possibly negative numerators (exact when divisible).
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Phase count along one axis: outputs y < out with y % s == r.
int64_t phase_len(int64_t out, int64_t s, int64_t r) { return out > r ? (out - r + s - 1) / s : 0; }

}  // namespace

Status conv_transpose2d_validate(const ConvTranspose2dParams& p) {
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "in_ch", p.in_ch, 1, int64_t{1} << 24));
    LUCENT_RETURN_IF_ERROR(
        check_param("conv_transpose2d", "out_ch", p.out_ch, 1, int64_t{1} << 24));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "kernel_h", p.kernel_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "kernel_w", p.kernel_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "stride_h", p.stride_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "stride_w", p.stride_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "dilation_h", p.dilation_h, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "dilation_w", p.dilation_w, 1, 1024));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "pad_h", p.pad_h, 0, 1 << 20));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "pad_w", p.pad_w, 0, 1 << 20));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "output_padding_h", p.output_padding_h,
                                       0, std::max(p.stride_h, p.dilation_h) - 1));
    LUCENT_RETURN_IF_ERROR(check_param("conv_transpose2d", "output_padding_w", p.output_padding_w,
                                       0, std::max(p.stride_w, p.dilation_w) - 1));
    int32_t code;
    float slope;
    return epilogue_code(p.act, p.slope, &code, &slope);
}

Status conv_transpose2d_output_shape(const ConvTranspose2dParams& p, const Shape& in, Shape* out) {
    LUCENT_RETURN_IF_ERROR(conv_transpose2d_validate(p));
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "conv_transpose2d input", &numel));
    if (in.c != p.in_ch) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv_transpose2d input %s has %lld channels but the layer expects "
                           "in_ch = %lld",
                           in.str().c_str(), static_cast<long long>(in.c),
                           static_cast<long long>(p.in_ch));
    }
    if (in.h > (int64_t{1} << 24) || in.w > (int64_t{1} << 24)) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv_transpose2d input %s is larger than 2^24 pixels on a side",
                           in.str().c_str());
    }
    const int64_t oh = (in.h - 1) * p.stride_h - 2 * p.pad_h + p.dilation_h * (p.kernel_h - 1) +
                       p.output_padding_h + 1;
    const int64_t ow = (in.w - 1) * p.stride_w - 2 * p.pad_w + p.dilation_w * (p.kernel_w - 1) +
                       p.output_padding_w + 1;
    if (oh < 1 || ow < 1) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv_transpose2d output would be %lldx%lld for input %s; padding is "
                           "too large for this input",
                           static_cast<long long>(oh), static_cast<long long>(ow),
                           in.str().c_str());
    }
    *out = Shape{in.n, p.out_ch, oh, ow};
    return checked_numel(*out, "conv_transpose2d output", &numel);
}

ConvTranspose2dParams ConvTranspose2dParams::up2x(int64_t in_ch, int64_t out_ch, Activation act,
                                                  float slope) {
    ConvTranspose2dParams p;
    p.in_ch = in_ch;
    p.out_ch = out_ch;
    p.kernel_h = p.kernel_w = 4;
    p.stride_h = p.stride_w = 2;
    p.pad_h = p.pad_w = 1;
    p.act = act;
    p.slope = slope;
    return p;
}

Result<ConvTranspose2d> ConvTranspose2d::create(const ConvTranspose2dParams& p, const float* weight,
                                                const float* bias, const KernelTable& k) {
    LUCENT_RETURN_IF_ERROR(conv_transpose2d_validate(p));
    if (weight == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "conv_transpose2d weight pointer is null");
    }
    ConvTranspose2d c;
    c.p_ = p;
    c.k_ = &k;
    const int64_t ocb = k.conv2d_oc_block;
    const int64_t blocks = (p.out_ch + ocb - 1) / ocb;
    c.bias_.assign(static_cast<size_t>(blocks * ocb), 0.0f);
    if (bias != nullptr) std::copy(bias, bias + p.out_ch, c.bias_.begin());
    const bool up2x = p.kernel_h == 4 && p.kernel_w == 4 && p.stride_h == 2 && p.stride_w == 2 &&
                      p.pad_h == 1 && p.pad_w == 1 && p.dilation_h == 1 && p.dilation_w == 1 &&
                      p.output_padding_h == 0 && p.output_padding_w == 0;
    // The per-phase direct weights are only packed when the layer runs on them.
    const bool as3x3 =
        !p.bf16 && up2x && p.in_ch >= kWinogradMinChannels && 4 * p.out_ch >= kWinogradMinChannels;
    // Tap (ky, kx) feeds phase (ry, rx) with input offset ((ry + pad - ky*d) / s, ...).
    int64_t min_dy = 0, min_dx = 0;
    for (int64_t ry = 0; ry < p.stride_h; ++ry) {
        for (int64_t rx = 0; rx < p.stride_w; ++rx) {
            Phase ph;
            ph.ry = ry;
            ph.rx = rx;
            std::vector<int64_t> tap_index;
            for (int64_t ky = 0; ky < p.kernel_h; ++ky) {
                const int64_t ny = ry + p.pad_h - ky * p.dilation_h;
                if (ny % p.stride_h != 0) continue;
                for (int64_t kx = 0; kx < p.kernel_w; ++kx) {
                    const int64_t nx = rx + p.pad_w - kx * p.dilation_w;
                    if (nx % p.stride_w != 0) continue;
                    ph.tap_dy.push_back(floor_div(ny, p.stride_h));
                    ph.tap_dx.push_back(floor_div(nx, p.stride_w));
                    min_dy = std::min(min_dy, ph.tap_dy.back());
                    min_dx = std::min(min_dx, ph.tap_dx.back());
                    tap_index.push_back(ky * p.kernel_w + kx);
                }
            }
            // weight[i, o, t]: out-channel stride kh*kw, in-channel stride out_ch*kh*kw.
            if (!as3x3 && !p.bf16)
                conv_pack_weights(weight, p.out_ch, p.in_ch, p.kernel_h * p.kernel_w,
                                  p.out_ch * p.kernel_h * p.kernel_w, tap_index, k.conv2d_oc_block,
                                  &ph.packed);
            c.phases_.push_back(std::move(ph));
        }
    }
    if (as3x3) {
        // Phase (ry, rx), 3x3 tap (a, b) (input offset a - 1, b - 1) is the deconvolution's tap
        // ky = ry + 3 - 2a, kx = rx + 3 - 2b when that lies in [0, 4).
        const int64_t co = 4 * p.out_ch;
        std::vector<float> w3(static_cast<size_t>(co * p.in_ch * 9), 0.0f), b3(co, 0.0f);
        for (int64_t ph = 0; ph < 4; ++ph) {
            const int64_t ry = ph / 2, rx = ph % 2;
            for (int64_t o = 0; o < p.out_ch; ++o) {
                if (bias != nullptr) b3[static_cast<size_t>(ph * p.out_ch + o)] = bias[o];
                for (int64_t i = 0; i < p.in_ch; ++i) {
                    for (int64_t a = 0; a < 3; ++a) {
                        for (int64_t b = 0; b < 3; ++b) {
                            const int64_t ky = ry + 3 - 2 * a, kx = rx + 3 - 2 * b;
                            if (ky < 0 || ky >= 4 || kx < 0 || kx >= 4) continue;
                            w3[static_cast<size_t>(((ph * p.out_ch + o) * p.in_ch + i) * 9 + a * 3 +
                                                   b)] =
                                weight[((i * p.out_ch + o) * 4 + ky) * 4 + kx];
                        }
                    }
                }
            }
        }
        Conv2dParams cp = Conv2dParams::square(p.in_ch, co, 3);
        cp.act = p.act;
        cp.slope = p.slope;
        cp.algo = Conv2dAlgo::kWinograd;
        LUCENT_ASSIGN_OR_RETURN(Conv2d conv, Conv2d::create(cp, w3.data(), b3.data(), k));
        c.as3x3_ = std::make_shared<const Conv2d>(std::move(conv));
    }
    if (p.bf16) {
        if (!up2x)
            return make_status(StatusCode::kUnsupported,
                               "conv_transpose2d in bf16 supports kernel 4, stride 2, padding 1 "
                               "layers only");
        for (const Phase& ph : c.phases_) {
            // The phase's taps in the fp32 order, weights [out][in][tap].
            std::vector<int> dy, dx;
            std::vector<float> w(static_cast<size_t>(p.out_ch * p.in_ch * 4));
            int64_t t = 0;
            for (int64_t ky = 0; ky < 4; ++ky) {
                if ((ph.ry + 1 - ky) % 2 != 0) continue;
                for (int64_t kx = 0; kx < 4; ++kx) {
                    if ((ph.rx + 1 - kx) % 2 != 0) continue;
                    dy.push_back(static_cast<int>(floor_div(ph.ry + 1 - ky, 2)));
                    dx.push_back(static_cast<int>(floor_div(ph.rx + 1 - kx, 2)));
                    for (int64_t o = 0; o < p.out_ch; ++o)
                        for (int64_t i = 0; i < p.in_ch; ++i)
                            w[static_cast<size_t>((o * p.in_ch + i) * 4 + t)] =
                                weight[((i * p.out_ch + o) * 4 + ky) * 4 + kx];
                    ++t;
                }
            }
            LUCENT_ASSIGN_OR_RETURN(
                ConvBf16 b,
                ConvBf16::create_taps(p.in_ch, p.out_ch, dy, dx, w.data(), bias, p.act, p.slope));
            c.bf16_phases_.push_back(std::make_shared<const ConvBf16>(std::move(b)));
        }
    }
    c.lead_w_ = -min_dx;
    c.min_dy_ = min_dy;
    for (const Phase& ph : c.phases_) {
        for (int64_t d : ph.tap_dy) c.max_dy_ = std::max(c.max_dy_, d);
        for (int64_t d : ph.tap_dx) c.max_dx_ = std::max(c.max_dx_, d);
    }
    return c;
}

int64_t ConvTranspose2d::out_width(int64_t in_w) const {
    return (in_w - 1) * p_.stride_w - 2 * p_.pad_w + p_.dilation_w * (p_.kernel_w - 1) +
           p_.output_padding_w + 1;
}

// Output row y = s*q + ry reads input rows q + tap_dy. For rows [y0, y1) the phase rows q run
// from ceil((y0 - ry) / s) to ceil((y1 - ry) / s) for each ry; the band spans every input row
// any of them reads, zero outside the image.
ConvTranspose2d::Band ConvTranspose2d::band(int64_t y0, int64_t y1, int64_t in_w,
                                            int64_t out_w) const {
    const int64_t s = p_.stride_h;
    const int64_t q_lo = floor_div(y0, s), q_hi = floor_div(y1 - 1, s) + 1;
    Band b;
    b.row0 = q_lo + min_dy_;
    b.rows = q_hi + max_dy_ - b.row0;
    b.qw = phase_len(out_w, p_.stride_w, 0);
    b.cols = std::max(in_w, b.qw + max_dx_) + lead_w_;
    b.qrows = q_hi - q_lo;
    return b;
}

int64_t ConvTranspose2d::row_step() const { return as3x3_ != nullptr ? 2 * as3x3_->row_step() : 1; }

void ConvTranspose2d::as3x3_rows(int64_t y0, int64_t y1, int64_t in_h, int64_t* c0,
                                 int64_t* c1) const {
    const int64_t step = as3x3_->row_step();
    const int64_t q0 = floor_div(y0, 2), q1 = floor_div(y1 - 1, 2) + 1;
    *c0 = q0 / step * step;
    *c1 = std::min(in_h, (q1 + step - 1) / step * step);
}

void ConvTranspose2d::input_rows(int64_t y0, int64_t y1, int64_t in_h, int64_t* first,
                                 int64_t* end) const {
    if (as3x3_ != nullptr) {
        int64_t c0 = 0, c1 = 0;
        as3x3_rows(y0, y1, in_h, &c0, &c1);
        as3x3_->input_rows(c0, c1, in_h, first, end);
        return;
    }
    const Band b = band(y0, y1, 1, 1);
    *first = std::min(std::max<int64_t>(b.row0, 0), in_h);
    *end = std::max(std::min(b.row0 + b.rows, in_h), *first);
}

int64_t ConvTranspose2d::scratch_floats(int64_t in_w, int64_t out_rows, int threads) const {
    int64_t most = 0;
    if (as3x3_ != nullptr) {
        // The convolution's rows and its scratch; their count depends on where the rows start
        // only through y0 mod 2 * row_step() (2 output rows per phase row).
        for (int64_t y0 = 0; y0 < 2 * as3x3_->row_step(); ++y0) {
            int64_t c0 = 0, c1 = 0;
            as3x3_rows(y0, y0 + out_rows, INT64_MAX / 4, &c0, &c1);
            most = std::max(most, 4 * p_.out_ch * (c1 - c0) * in_w +
                                      as3x3_->scratch_floats(in_w, c1 - c0, threads));
        }
        return most;
    }
    // The band's size depends on where the rows start only through y0 mod stride.
    const int64_t out_w = out_width(in_w);
    for (int64_t y0 = 0; y0 < p_.stride_h; ++y0) {
        const Band b = band(y0, y0 + out_rows, in_w, out_w);
        // bf16: the band packed, the phase buffer, a zero row.
        const int64_t cp = bf16_phases_.empty() ? 0 : bf16_phases_[0]->packed_channels();
        most = std::max(
            most, bf16_phases_.empty()
                      ? b.rows * p_.in_ch * b.cols + p_.out_ch * b.qrows * b.qw
                      : (b.rows + 1) * bf16_row_floats(in_w, cp) + p_.out_ch * b.qrows * b.qw);
    }
    return most;
}

void ConvTranspose2d::phase_rows(const Phase& ph, const Rows& out, int64_t* q0, int64_t* q1) const {
    const int64_t s = p_.stride_h;
    *q0 = floor_div(out.row0 - ph.ry + s - 1, s);
    *q1 = floor_div(out.end() - 1 - ph.ry, s) + 1;
}

void ConvTranspose2d::interleave_phase(const Context& ctx, const Phase& ph, const float* tmp,
                                       int64_t q0, int64_t q1, int64_t ph_w, Rows out) const {
    parallel_for(out.c, ctx.num_threads, [&](int64_t c) {
        const float* src = tmp + c * (q1 - q0) * ph_w;
        for (int64_t q = q0; q < q1; ++q) {
            float* drow = out.row(c, q * p_.stride_h + ph.ry) + ph.rx;
            const float* srow = src + (q - q0) * ph_w;
            for (int64_t x = 0; x < ph_w; ++x) drow[x * p_.stride_w] = srow[x];
        }
    });
}

Status ConvTranspose2d::run_rows_bf16(const Context& ctx, ConstRows in, Rows out,
                                      float* scratch) const {
    const Band b = band(out.row0, out.end(), in.w, out.w);
    const int64_t cp = bf16_phases_[0]->packed_channels();
    const int64_t r0 = std::max<int64_t>(b.row0, 0), r1 = std::min(b.row0 + b.rows, in.h);
    const int64_t row_floats = bf16_row_floats(in.w, cp);
    const PackedRows packed{reinterpret_cast<uint16_t*>(scratch), in.h, in.w, cp, r0, r1 - r0};
    float* zero = scratch + b.rows * row_floats;
    float* tmp = zero + row_floats;
    pack_rows_bf16(ctx, in, packed);
    for (size_t i = 0; i < phases_.size(); ++i) {
        const Phase& ph = phases_[i];
        int64_t q0 = 0, q1 = 0;
        phase_rows(ph, out, &q0, &q1);
        if (q1 <= q0) continue;
        // The phase grid is the input's (the output is twice the input on each axis).
        const Rows dst{tmp, out.c, in.h, in.w, q0, q1 - q0, (q1 - q0) * in.w};
        LUCENT_RETURN_IF_ERROR(
            bf16_phases_[i]->run_packed(ctx, packed, q0, q1, &dst, nullptr, 0, zero));
        interleave_phase(ctx, ph, tmp, q0, q1, in.w, out);
    }
    return Status();
}

Status ConvTranspose2d::run_rows_as3x3(const Context& ctx, ConstRows in, Rows out,
                                       float* scratch) const {
    int64_t c0 = 0, c1 = 0;
    as3x3_rows(out.row0, out.end(), in.h, &c0, &c1);
    const int64_t cs = (c1 - c0) * in.w;
    const Rows conv{scratch, 4 * out.c, in.h, in.w, c0, c1 - c0, cs};
    LUCENT_RETURN_IF_ERROR(as3x3_->run_rows(ctx, in, conv, scratch + 4 * out.c * cs));
    // Output row y = 2q + ry takes conv row q of phases (ry, 0) and (ry, 1), channel groups
    // 2ry and 2ry + 1, interleaved by column: both column phases in one pass (whole cache lines
    // written once) and one parallel region for all four phases.
    parallel_for(out.c, ctx.num_threads, [&](int64_t c) {
        for (int64_t y = out.row0; y < out.end(); ++y) {
            const int64_t ry = y % 2, q = y / 2;
            const float* s0 = scratch + (2 * ry * out.c + c) * cs + (q - c0) * in.w;
            const float* s1 = s0 + out.c * cs;
            float* d = out.row(c, y);
            for (int64_t x = 0; x < in.w; ++x) {
                d[2 * x] = s0[x];
                d[2 * x + 1] = s1[x];
            }
        }
    });
    return Status();
}

Status ConvTranspose2d::run(const Context& ctx, ConstTensorView in, TensorView out) const {
    if (k_ == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "conv_transpose2d layer was not created");
    }
    Shape os;
    LUCENT_RETURN_IF_ERROR(conv_transpose2d_output_shape(p_, in.shape, &os));
    LUCENT_RETURN_IF_ERROR(check_tensor("conv_transpose2d", "input", in.data, in.shape));
    LUCENT_RETURN_IF_ERROR(check_tensor("conv_transpose2d", "output", out.data, out.shape));
    LUCENT_RETURN_IF_ERROR(check_shape("conv_transpose2d", "output", out.shape, os));
    int64_t count = 0;
    LUCENT_RETURN_IF_ERROR(checked_numel(
        Shape{1, 1, 1, scratch_floats(in.shape.w, os.h, resolve_threads(ctx.num_threads))},
        "conv_transpose2d scratch", &count));
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer buf, AlignedBuffer::create(count));
    const Shape one_in{1, in.shape.c, in.shape.h, in.shape.w}, one_out{1, os.c, os.h, os.w};
    for (int64_t n = 0; n < os.n; ++n) {
        LUCENT_RETURN_IF_ERROR(
            run_rows(ctx, rows_of(ConstTensorView{in.data + n * one_in.numel(), one_in}),
                     rows_of(TensorView{out.data + n * one_out.numel(), one_out}), buf.data()));
    }
    return Status();
}

Status ConvTranspose2d::run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch) const {
    if (k_ == nullptr) {
        return make_status(StatusCode::kInvalidArgument, "conv_transpose2d layer was not created");
    }
    Shape os;
    LUCENT_RETURN_IF_ERROR(conv_transpose2d_output_shape(p_, Shape{1, in.c, in.h, in.w}, &os));
    int64_t first = 0, end = 0;
    input_rows(out.row0, out.end(), in.h, &first, &end);
    if (out.c != os.c || out.h != os.h || out.w != os.w || out.row0 < 0 || out.rows < 1 ||
        out.end() > os.h) {
        return make_status(StatusCode::kInvalidArgument,
                           "conv_transpose2d output rows [%lld, %lld) of a %lldx%lldx%lld window "
                           "do not fit the output %s",
                           static_cast<long long>(out.row0), static_cast<long long>(out.end()),
                           static_cast<long long>(out.c), static_cast<long long>(out.h),
                           static_cast<long long>(out.w), os.str().c_str());
    }
    LUCENT_RETURN_IF_ERROR(
        check_row_window("conv_transpose2d", out.row0, out.end(), first, end, in));
    AlignedBuffer own;
    if (scratch == nullptr) {
        LUCENT_ASSIGN_OR_RETURN(own, AlignedBuffer::create(scratch_floats(
                                         in.w, out.rows, resolve_threads(ctx.num_threads))));
        scratch = own.data();
    }
    if (!bf16_phases_.empty()) return run_rows_bf16(ctx, in, out, scratch);
    if (as3x3_ != nullptr) return run_rows_as3x3(ctx, in, out, scratch);
    const Band b = band(out.row0, out.end(), in.w, out.w);
    // Band layout [row][ic][col], as Conv2d's bands: rows outside the image and the padding
    // columns are zero.
    float* band_buf = scratch;
    float* tmp = scratch + b.rows * in.c * b.cols;
    const int64_t row_stride = in.c * b.cols;
    parallel_for(b.rows, ctx.num_threads, [&](int64_t r) {
        const int64_t y = b.row0 + r;
        float* dst = band_buf + r * row_stride;
        if (y < 0 || y >= in.h) {
            std::memset(dst, 0, static_cast<size_t>(row_stride) * sizeof(float));
            return;
        }
        for (int64_t ic = 0; ic < in.c; ++ic) {
            float* d = dst + ic * b.cols;
            std::memset(d, 0, static_cast<size_t>(lead_w_) * sizeof(float));
            std::memcpy(d + lead_w_, in.row(ic, y), static_cast<size_t>(in.w) * sizeof(float));
            std::memset(d + lead_w_ + in.w, 0,
                        static_cast<size_t>(b.cols - lead_w_ - in.w) * sizeof(float));
        }
    });
    ConvRowsJob j;
    j.in_cs = b.cols;
    j.in_rs = row_stride;
    j.cin = in.c;
    j.cout = out.c;
    j.bias = bias_.data();
    j.out = tmp;
    j.batch = 1;
    j.prefetch_step = 1;
    LUCENT_RETURN_IF_ERROR(epilogue_code(p_.act, p_.slope, &j.act, &j.slope));
    for (const Phase& ph : phases_) {
        int64_t q0 = 0, q1 = 0;
        phase_rows(ph, out, &q0, &q1);
        const int64_t ph_w = phase_len(out.w, p_.stride_w, ph.rx);
        if (q1 <= q0 || ph_w == 0) continue;
        std::vector<int64_t> taps(ph.tap_dy.size());
        for (size_t t = 0; t < taps.size(); ++t)
            taps[t] = ph.tap_dy[t] * row_stride + ph.tap_dx[t] + lead_w_;
        j.in = band_buf + (q0 - b.row0) * row_stride;
        j.in_ns = 0;
        j.taps = &taps;
        j.packed = ph.packed.data();
        j.out_h = q1 - q0;
        j.out_w = ph_w;
        j.out_rs = ph_w;
        j.out_cs = j.out_h * ph_w;
        j.out_ns = out.c * j.out_cs;
        run_conv_rows(ctx, *k_, j);
        interleave_phase(ctx, ph, tmp, q0, q1, ph_w, out);
    }
    return Status();
}

}  // namespace lucent::ops
