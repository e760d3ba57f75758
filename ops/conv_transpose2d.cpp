// ConvTranspose2d driver, by output phases. For output row y = s*q + ry, tap ky contributes
// iff (ry + pad - ky*d) is divisible by s, reading input row q + (ry + pad - ky*d) / s. Each
// phase is therefore a stride-1 correlation with a subset of the taps, run by the same
// conv2d_row kernel as Conv2d, into a phase buffer that is then interleaved into the output.
// No multiply is wasted on the zeros a naive "dilate the input" method would insert.
#include "ops/conv_transpose2d.h"

#include <algorithm>
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
            conv_pack_weights(weight, p.out_ch, p.in_ch, p.kernel_h * p.kernel_w,
                              p.out_ch * p.kernel_h * p.kernel_w, tap_index, k.conv2d_oc_block,
                              &ph.packed);
            c.phases_.push_back(std::move(ph));
        }
    }
    c.lead_h_ = -min_dy;
    c.lead_w_ = -min_dx;
    return c;
}

// Padded input, row-interleaved [n][row][ic][col] as in Conv2d: rows -lead_h .. and columns
// -lead_w .. read as zero, enough for every phase's largest offset.
void ConvTranspose2d::padded_extent(const Shape& is, const Shape& os, int64_t* rows,
                                    int64_t* cols) const {
    const int64_t qh = phase_len(os.h, p_.stride_h, 0), qw = phase_len(os.w, p_.stride_w, 0);
    int64_t max_dy = 0, max_dx = 0;
    for (const Phase& ph : phases_) {
        for (int64_t d : ph.tap_dy) max_dy = std::max(max_dy, d);
        for (int64_t d : ph.tap_dx) max_dx = std::max(max_dx, d);
    }
    *rows = std::max(is.h, qh + max_dy) + lead_h_;
    *cols = std::max(is.w, qw + max_dx) + lead_w_;
}

uint64_t ConvTranspose2d::scratch_bytes(const Shape& in) const {
    Shape os;
    if (!conv_transpose2d_output_shape(p_, in, &os).ok()) return 0;
    int64_t rows = 0, cols = 0;
    padded_extent(in, os, &rows, &cols);
    const int64_t qh = phase_len(os.h, p_.stride_h, 0), qw = phase_len(os.w, p_.stride_w, 0);
    const double count =
        double(in.n) * double(rows) * double(in.c) * double(cols) +  // padded input
        double(os.n) * double(os.c) * double(qh) * double(qw);       // phase buffer
    const double bytes = count * 4.0;
    return bytes >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(bytes);
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
    const Shape& is = in.shape;
    const int64_t qh = phase_len(os.h, p_.stride_h, 0), qw = phase_len(os.w, p_.stride_w, 0);
    int64_t rows = 0, cols = 0;
    padded_extent(is, os, &rows, &cols);
    const int64_t row_stride = is.c * cols;
    int64_t count = 0;
    LUCENT_RETURN_IF_ERROR(
        checked_numel(Shape{is.n, rows, is.c, cols}, "conv_transpose2d padded input", &count));
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer pad_buf, AlignedBuffer::create(count));
    float* padded = pad_buf.data();
    parallel_for(is.n * is.h, ctx.num_threads, [&](int64_t item) {
        const int64_t n = item / is.h, iy = item % is.h;
        for (int64_t ic = 0; ic < is.c; ++ic) {
            std::memcpy(padded + (n * rows + iy + lead_h_) * row_stride + ic * cols + lead_w_,
                        in.data + ((n * is.c + ic) * is.h + iy) * is.w,
                        static_cast<size_t>(is.w) * sizeof(float));
        }
    });
    int64_t phase_count = 0;
    LUCENT_RETURN_IF_ERROR(
        checked_numel(Shape{os.n, os.c, qh, qw}, "conv_transpose2d phase buffer", &phase_count));
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer phase_buf, AlignedBuffer::create(phase_count));
    float* tmp = phase_buf.data();

    ConvRowsJob j;
    j.in_ns = rows * row_stride;
    j.in_cs = cols;
    j.in_rs = row_stride;
    j.cin = is.c;
    j.cout = os.c;
    j.bias = bias_.data();
    j.out = tmp;
    j.batch = os.n;
    j.prefetch_step = 1;
    LUCENT_RETURN_IF_ERROR(epilogue_code(p_.act, p_.slope, &j.act, &j.slope));
    for (const Phase& ph : phases_) {
        const int64_t ph_h = phase_len(os.h, p_.stride_h, ph.ry);
        const int64_t ph_w = phase_len(os.w, p_.stride_w, ph.rx);
        if (ph_h == 0 || ph_w == 0) continue;
        std::vector<int64_t> taps(ph.tap_dy.size());
        for (size_t t = 0; t < taps.size(); ++t) {
            taps[t] = (ph.tap_dy[t] + lead_h_) * row_stride + ph.tap_dx[t] + lead_w_;
        }
        j.in = padded;
        j.taps = &taps;
        j.packed = ph.packed.data();
        j.out_cs = ph_h * ph_w;
        j.out_ns = os.c * ph_h * ph_w;
        j.out_rs = ph_w;
        j.out_h = ph_h;
        j.out_w = ph_w;
        run_conv_rows(ctx, *k_, j);
        // Interleave the phase into the output.
        parallel_for(os.n * os.c, ctx.num_threads, [&](int64_t nc) {
            const float* src = tmp + nc * ph_h * ph_w;
            float* dst = out.data + nc * os.plane();
            for (int64_t q = 0; q < ph_h; ++q) {
                float* drow = dst + (q * p_.stride_h + ph.ry) * os.w + ph.rx;
                const float* srow = src + q * ph_w;
                for (int64_t x = 0; x < ph_w; ++x) drow[x * p_.stride_w] = srow[x];
            }
        });
    }
    return Status();
}

}  // namespace lucent::ops
