#include "models/ssr.h"

#include <cstring>
#include <string>

#include "ops/elementwise.h"
#include "ops/pixel_shuffle.h"
#include "ops/reflect_pad.h"
#include "ops/upsample.h"

namespace lucent::models {
namespace {

using weights::WeightFile;

constexpr float kResidualScale = 0.2f;
constexpr float kSlope = 0.2f;

ops::Conv2dParams conv3(int64_t cin, int64_t cout, bool lrelu, ops::Conv2dAlgo algo) {
    ops::Conv2dParams p = ops::Conv2dParams::square(cin, cout, 3);
    p.act = lrelu ? ops::Activation::kLeakyRelu : ops::Activation::kNone;
    p.slope = kSlope;
    p.algo = algo;
    return p;
}

std::vector<WeightFile::Expected> expected_tensors(const SsrConfig& c) {
    std::vector<WeightFile::Expected> e;
    auto conv = [&e](const std::string& name, int64_t cin, int64_t cout, int64_t k) {
        expect_conv(&e, name, cin, cout, k);
    };
    conv("conv_first", c.in_ch * c.unshuffle * c.unshuffle, c.nf, 3);
    for (int64_t i = 0; i < c.nb; ++i) {
        for (int j = 1; j <= 3; ++j) {
            const std::string p = "body." + std::to_string(i) + ".rdb" + std::to_string(j);
            for (int k = 1; k <= 4; ++k)
                conv(p + ".conv" + std::to_string(k), c.nf + (k - 1) * c.gc, c.gc, 3);
            conv(p + ".conv5", c.nf + 4 * c.gc, c.nf, 3);
            if (c.channel_attention) {
                conv(p + ".ca.fc1", c.nf, c.nf / c.reduction, 1);
                conv(p + ".ca.fc2", c.nf / c.reduction, c.nf, 1);
            }
        }
    }
    conv("conv_body", c.nf, c.nf, 3);
    for (size_t k = 0; k < c.up_factors.size(); ++k) {
        const int64_t r = c.up_factors[k];
        conv("conv_up" + std::to_string(k + 1), c.nf, c.pixelshuffle ? c.nf * r * r : c.nf, 3);
    }
    conv("conv_hr", c.nf, c.nf, 3);
    conv("conv_last", c.nf, c.out_ch, 3);
    return e;
}

}  // namespace

Status read_ssr_config(const WeightFile& wf, SsrConfig* cfg) {
    if (wf.kind() != weights::GraphKind::kSsr)
        return wf.error("holds a RED graph, not SSR (use `lucent enhance`)");
    SsrConfig c;
    LUCENT_RETURN_IF_ERROR(wf.get_int("in_ch", 1, 64, &c.in_ch));
    LUCENT_RETURN_IF_ERROR(wf.get_int("out_ch", 1, 64, &c.out_ch));
    LUCENT_RETURN_IF_ERROR(wf.get_int("nf", 1, 4096, &c.nf));
    LUCENT_RETURN_IF_ERROR(wf.get_int("nb", 0, 4096, &c.nb));
    LUCENT_RETURN_IF_ERROR(wf.get_int("gc", c.nb ? 1 : 0, 4096, &c.gc));
    LUCENT_RETURN_IF_ERROR(wf.get_int("unshuffle", 1, 4, &c.unshuffle));
    if (c.unshuffle == 3) return wf.error("metadata unshuffle = 3; it must be 1, 2 or 4");
    std::string upsampler, attention;
    LUCENT_RETURN_IF_ERROR(wf.get_string("upsampler", &upsampler));
    LUCENT_RETURN_IF_ERROR(wf.get_string("attention", &attention));
    LUCENT_RETURN_IF_ERROR(wf.get_ints("up_factors", &c.up_factors));
    if (upsampler != "nearest" && upsampler != "pixelshuffle")
        return wf.error("metadata upsampler = \"" + upsampler +
                        "\"; it must be nearest or pixelshuffle");
    c.pixelshuffle = upsampler == "pixelshuffle";
    const auto& f = c.up_factors;
    int64_t total = 1;
    for (int64_t r : f) total *= (r >= 2 && r <= 3) ? r : 0;
    const bool ok_nearest =
        !c.pixelshuffle && !f.empty() && f.size() <= 3 && total == (1 << f.size());
    const bool ok_ps =
        c.pixelshuffle && (f == std::vector<int64_t>{2} || f == std::vector<int64_t>{3} ||
                           f == std::vector<int64_t>{2, 2} || f == std::vector<int64_t>{2, 2, 2});
    if (!ok_nearest && !ok_ps)
        return wf.error(
            "metadata up_factors do not describe 1-3 nearest x2 stages or a "
            "pixel-shuffle scale of 2, 3, 4 or 8");
    if (attention != "none" && attention != "channel")
        return wf.error("metadata attention = \"" + attention + "\"; it must be none or channel");
    c.channel_attention = attention == "channel";
    LUCENT_RETURN_IF_ERROR(wf.get_int("reduction", 0, c.nf, &c.reduction));
    if (c.channel_attention && (c.reduction < 1 || c.nf % c.reduction != 0))
        return wf.error("metadata reduction = " + std::to_string(c.reduction) +
                        " does not divide nf = " + std::to_string(c.nf));
    if (total % c.unshuffle != 0)
        return wf.error("upsampling x" + std::to_string(total) + " with unshuffle " +
                        std::to_string(c.unshuffle) + " gives no integer scale");
    LUCENT_RETURN_IF_ERROR(wf.get_int("scale", 1, 8, &c.scale));
    if (c.scale != total / c.unshuffle)
        return wf.error("metadata scale = " + std::to_string(c.scale) + " but the stages give " +
                        std::to_string(total / c.unshuffle));
    *cfg = c;
    return Status();
}

Result<std::unique_ptr<Ssr>> Ssr::create(const WeightFile& wf, const ops::KernelTable& k,
                                         const GraphOptions& opts) {
    std::unique_ptr<Ssr> m(new Ssr());
    SsrConfig& c = m->cfg_;
    LUCENT_RETURN_IF_ERROR(read_ssr_config(wf, &c));
    LUCENT_RETURN_IF_ERROR(wf.check_tensors(expected_tensors(c)));
    const ops::Conv2dAlgo algo = opts.conv_algo;
    auto load = [&](const std::string& name, ops::Conv2dParams p, ops::Conv2d* out) {
        p.bf16 = opts.bf16 && name != "conv_first" && name != "conv_last";
        return load_conv(wf, name, p, k, out);
    };
    LUCENT_RETURN_IF_ERROR(load("conv_first",
                                conv3(c.in_ch * c.unshuffle * c.unshuffle, c.nf, false, algo),
                                &m->conv_first_));
    m->rdbs_.resize(static_cast<size_t>(c.nb * 3));
    for (int64_t i = 0; i < c.nb; ++i) {
        for (int64_t j = 0; j < 3; ++j) {
            Rdb& rdb = m->rdbs_[static_cast<size_t>(i * 3 + j)];
            const std::string p = "body." + std::to_string(i) + ".rdb" + std::to_string(j + 1);
            for (int64_t q = 0; q < 5; ++q)
                LUCENT_RETURN_IF_ERROR(
                    load(p + ".conv" + std::to_string(q + 1),
                         conv3(c.nf + q * c.gc, q < 4 ? c.gc : c.nf, q < 4, algo), &rdb.conv[q]));
            if (c.channel_attention) {
                const int64_t hidden = c.nf / c.reduction;
                LUCENT_RETURN_IF_ERROR(load_channel_attention(wf, p + ".ca", c.nf, hidden,
                                                              ops::ChannelPooling::kAvg, &rdb.ca));
            }
        }
    }
    LUCENT_RETURN_IF_ERROR(load("conv_body", conv3(c.nf, c.nf, false, algo), &m->conv_body_));
    m->conv_up_.resize(c.up_factors.size());
    for (size_t q = 0; q < c.up_factors.size(); ++q) {
        const int64_t r = c.up_factors[q];
        LUCENT_RETURN_IF_ERROR(load("conv_up" + std::to_string(q + 1),
                                    conv3(c.nf, c.pixelshuffle ? c.nf * r * r : c.nf, true, algo),
                                    &m->conv_up_[q]));
    }
    LUCENT_RETURN_IF_ERROR(load("conv_hr", conv3(c.nf, c.nf, true, algo), &m->conv_hr_));
    LUCENT_RETURN_IF_ERROR(load("conv_last", conv3(c.nf, c.out_ch, false, algo), &m->conv_last_));
    return m;
}

Status Ssr::output_shape(const Shape& in, Shape* out) const {
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "SSR input", &numel));
    if (in.c != cfg_.in_ch)
        return make_status(StatusCode::kInvalidArgument,
                           "SSR input has %lld channels; this model takes %lld",
                           static_cast<long long>(in.c), static_cast<long long>(cfg_.in_ch));
    constexpr int64_t kMaxSide = int64_t{1} << 24;
    if (in.h > kMaxSide || in.w > kMaxSide)
        return make_status(StatusCode::kInvalidArgument, "SSR input %s has a side over %lld",
                           in.str().c_str(), static_cast<long long>(kMaxSide));
    *out = Shape{in.n, cfg_.out_ch, in.h * cfg_.scale, in.w * cfg_.scale};
    return checked_numel(*out, "SSR output", &numel);
}

uint64_t Ssr::working_bytes(const Shape& in, int threads) const {
    const SsrConfig& c = cfg_;
    const int64_t u = c.unshuffle;
    const int64_t hp = (in.h + u - 1) / u * u, wp = (in.w + u - 1) / u * u;
    const int64_t h = hp / u, w = wp / u;
    // Body phase: padded + unshuffled input, trunk feature, three dense buffers, conv5 output.
    uint64_t body = u > 1 ? sat_mul(plane_bytes(c.in_ch, hp, wp), 2) : 0;
    body = sat_add(body, sat_mul(plane_bytes(c.nf, h, w), 2));
    if (c.nb > 0) body = sat_add(body, sat_mul(plane_bytes(c.nf + 4 * c.gc, h, w), 3));
    const Shape lr{1, c.nf + 4 * c.gc, h, w};
    uint64_t scratch = conv_first_.scratch_bytes(Shape{1, c.in_ch * u * u, h, w}, threads);
    if (c.nb > 0) scratch = std::max(scratch, rdbs_[0].conv[4].scratch_bytes(lr, threads));
    body = sat_add(body, scratch);
    // Upsampling phase: the trunk feature plus the two largest live buffers of any stage.
    uint64_t peak = 0;
    int64_t ch = h, cw = w;
    for (size_t q = 0; q < c.up_factors.size(); ++q) {
        const int64_t r = c.up_factors[q];
        const Shape conv_in{1, c.nf, c.pixelshuffle ? ch : ch * r, c.pixelshuffle ? cw : cw * r};
        const uint64_t stage =
            c.pixelshuffle ? sat_add(plane_bytes(c.nf, ch, cw), plane_bytes(c.nf * r * r, ch, cw))
                           : sat_mul(plane_bytes(c.nf, ch * r, cw * r), 2);
        ch *= r;
        cw *= r;
        peak = std::max(peak, sat_add(stage, conv_up_[q].scratch_bytes(conv_in, threads)));
    }
    const Shape hr{1, c.nf, ch, cw};
    peak = std::max(
        peak, sat_add(sat_mul(plane_bytes(c.nf, ch, cw), 2), conv_hr_.scratch_bytes(hr, threads)));
    const uint64_t crop = (hp != in.h || wp != in.w) ? plane_bytes(c.out_ch, ch, cw) : 0;
    const uint64_t up = sat_add(sat_add(peak, crop), plane_bytes(c.nf, h, w));
    return std::max(body, up);
}

Status Ssr::run_image(const ops::Context& ctx, ConstTensorView in, TensorView out) const {
    const SsrConfig& c = cfg_;
    const int64_t u = c.unshuffle;
    const int64_t hp = (in.shape.h + u - 1) / u * u, wp = (in.shape.w + u - 1) / u * u;
    LUCENT_ASSIGN_OR_RETURN(Tensor feat, Tensor::create(Shape{1, c.nf, hp / u, wp / u}));
    {
        ConstTensorView x = in;
        Tensor padded, unshuffled;
        if (u > 1) {
            // Reflection-pad right/bottom to a multiple of the factor, then unshuffle.
            LUCENT_ASSIGN_OR_RETURN(Tensor p, Tensor::create(Shape{1, c.in_ch, hp, wp}));
            padded = std::move(p);
            const ops::Padding pad{0, hp - in.shape.h, 0, wp - in.shape.w};
            LUCENT_RETURN_IF_ERROR(ops::reflect_pad(ctx, in, pad, padded));
            LUCENT_ASSIGN_OR_RETURN(Tensor s,
                                    Tensor::create(Shape{1, c.in_ch * u * u, hp / u, wp / u}));
            unshuffled = std::move(s);
            LUCENT_RETURN_IF_ERROR(ops::pixel_unshuffle(ctx, padded, u, unshuffled));
            x = unshuffled;
        }
        LUCENT_RETURN_IF_ERROR(conv_first_.run(ctx, x, feat));
        trace(ctx, "conv_first", "conv3x3", feat);
    }
    LUCENT_RETURN_IF_ERROR(run_body(ctx, feat));
    if (hp == in.shape.h && wp == in.shape.w) return run_upsampling(ctx, feat, out);
    LUCENT_ASSIGN_OR_RETURN(Tensor full,
                            Tensor::create(Shape{1, c.out_ch, hp * c.scale, wp * c.scale}));
    LUCENT_RETURN_IF_ERROR(run_upsampling(ctx, feat, full));
    return ops::crop(ctx, full, 0, 0, out);
}

// feat = feat + conv_body(body(feat)). RRDB i reads dense buffer a; its RDBs write into the
// other two in turn, and its output lands in the first nf channels of the next input buffer.
Status Ssr::run_body(const ops::Context& ctx, TensorView feat) const {
    const SsrConfig& c = cfg_;
    const Shape fs = feat.shape;
    LUCENT_ASSIGN_OR_RETURN(Tensor tmp_r, Tensor::create(fs));
    const Tensor tmp = std::move(tmp_r);
    ConstTensorView body_out = feat;
    Tensor dense[3];
    if (c.nb > 0) {
        for (Tensor& d : dense) {
            LUCENT_ASSIGN_OR_RETURN(Tensor r,
                                    Tensor::create(Shape{1, c.nf + 4 * c.gc, fs.h, fs.w}));
            d = std::move(r);
        }
        std::memcpy(dense[0].data(), feat.data, static_cast<size_t>(fs.numel()) * sizeof(float));
        int a = 0;
        for (int64_t i = 0; i < c.nb; ++i) {
            const int b = (a + 1) % 3, q = (a + 2) % 3;
            const Rdb* rdb = &rdbs_[static_cast<size_t>(i * 3)];
            const std::string name = tracing(ctx) ? "body." + std::to_string(i) : std::string();
            LUCENT_RETURN_IF_ERROR(run_rdb(ctx, rdb[0], dense[a], tmp,
                                           channel_slice(dense[b], 0, c.nf), name + ".rdb1"));
            LUCENT_RETURN_IF_ERROR(run_rdb(ctx, rdb[1], dense[b], tmp,
                                           channel_slice(dense[q], 0, c.nf), name + ".rdb2"));
            LUCENT_RETURN_IF_ERROR(run_rdb(ctx, rdb[2], dense[q], tmp, tmp, name + ".rdb3"));
            LUCENT_RETURN_IF_ERROR(ops::add_scaled(ctx, tmp, kResidualScale,
                                                   channel_slice(dense[a], 0, c.nf), 1.0f,
                                                   channel_slice(dense[b], 0, c.nf)));
            trace(ctx, name, "rrdb (0.2 * rdb3 + x)", channel_slice(dense[b], 0, c.nf));
            a = b;
        }
        body_out = channel_slice(dense[a], 0, c.nf);
        trace(ctx, "body", "rrdb sequence", body_out);
    }
    LUCENT_RETURN_IF_ERROR(conv_body_.run(ctx, body_out, tmp));
    trace(ctx, "conv_body", "conv3x3", tmp);
    return ops::add(ctx, feat, tmp, feat);
}

// dst = RDB(dense[:, :nf]); conv k reads channels [0, nf + (k-1)*gc) of `dense` and writes the
// next gc channels, which is the concatenation of docs/GRAPHS.md without a copy.
Status Ssr::run_rdb(const ops::Context& ctx, const Rdb& rdb, TensorView dense, TensorView tmp,
                    TensorView dst, const std::string& name) const {
    const int64_t nf = cfg_.nf, gc = cfg_.gc;
    for (int64_t k = 0; k < 4; ++k) {
        LUCENT_RETURN_IF_ERROR(rdb.conv[k].run(ctx, channel_slice(dense, 0, nf + k * gc),
                                               channel_slice(dense, nf + k * gc, gc)));
        if (tracing(ctx))
            trace(ctx, name + ".conv" + std::to_string(k + 1), "conv3x3+lrelu",
                  channel_slice(dense, nf + k * gc, gc));
    }
    LUCENT_RETURN_IF_ERROR(rdb.conv[4].run(ctx, channel_slice(dense, 0, nf + 4 * gc), tmp));
    if (tracing(ctx)) trace(ctx, name + ".conv5", "conv3x3", tmp);
    if (cfg_.channel_attention) {
        LUCENT_RETURN_IF_ERROR(rdb.ca.run(ctx, tmp, tmp));
        if (tracing(ctx)) trace(ctx, name + ".ca", "channel_attention", tmp);
    }
    LUCENT_RETURN_IF_ERROR(
        ops::add_scaled(ctx, tmp, kResidualScale, channel_slice(dense, 0, nf), 1.0f, dst));
    if (tracing(ctx)) trace(ctx, name, "rdb (0.2 * conv5 + x)", dst);
    return Status();
}

Status Ssr::run_upsampling(const ops::Context& ctx, ConstTensorView feat, TensorView out) const {
    const SsrConfig& c = cfg_;
    Tensor cur;
    ConstTensorView x = feat;
    for (size_t q = 0; q < c.up_factors.size(); ++q) {
        const int64_t r = c.up_factors[q], h = x.shape.h, w = x.shape.w;
        LUCENT_ASSIGN_OR_RETURN(
            Tensor a,
            Tensor::create(Shape{1, c.pixelshuffle ? c.nf * r * r : c.nf,
                                 c.pixelshuffle ? h : h * r, c.pixelshuffle ? w : w * r}));
        if (c.pixelshuffle) {
            // lrelu(pixel_shuffle(conv(x))) == pixel_shuffle(lrelu(conv(x))): fused epilogue.
            LUCENT_RETURN_IF_ERROR(conv_up_[q].run(ctx, x, a));
            if (tracing(ctx)) trace(ctx, "conv_up" + std::to_string(q + 1), "conv3x3+lrelu", a);
            cur = Tensor();
            LUCENT_ASSIGN_OR_RETURN(Tensor s, Tensor::create(Shape{1, c.nf, h * r, w * r}));
            LUCENT_RETURN_IF_ERROR(ops::pixel_shuffle(ctx, a, r, s));
            cur = std::move(s);
        } else {
            LUCENT_RETURN_IF_ERROR(ops::upsample_nearest(ctx, x, r, a));
            cur = Tensor();
            LUCENT_ASSIGN_OR_RETURN(Tensor v, Tensor::create(a.shape()));
            LUCENT_RETURN_IF_ERROR(conv_up_[q].run(ctx, a, v));
            if (tracing(ctx)) trace(ctx, "conv_up" + std::to_string(q + 1), "conv3x3+lrelu", v);
            cur = std::move(v);
        }
        x = cur;
    }
    LUCENT_ASSIGN_OR_RETURN(Tensor hr, Tensor::create(x.shape));
    LUCENT_RETURN_IF_ERROR(conv_hr_.run(ctx, x, hr));
    trace(ctx, "conv_hr", "conv3x3+lrelu", hr);
    cur = Tensor();
    LUCENT_RETURN_IF_ERROR(conv_last_.run(ctx, hr, out));
    trace(ctx, "conv_last", "conv3x3", out);
    return Status();
}

}  // namespace lucent::models
