#include "models/red.h"

#include <algorithm>
#include <string>

#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/pool2d.h"
#include "ops/reflect_pad.h"
#include "ops/upsample.h"

namespace lucent::models {
namespace {

using weights::WeightFile;

constexpr float kSlope = 0.2f;

ops::Conv2dParams conv(int64_t cin, int64_t cout, int64_t k, int64_t stride, bool lrelu,
                       ops::Conv2dAlgo algo) {
    ops::Conv2dParams p = ops::Conv2dParams::square(cin, cout, k, stride, k / 2);
    p.act = lrelu ? ops::Activation::kLeakyRelu : ops::Activation::kNone;
    p.slope = kSlope;
    p.algo = algo;
    return p;
}

std::vector<WeightFile::Expected> expected_tensors(const RedConfig& c) {
    std::vector<WeightFile::Expected> e;
    auto add = [&e](const std::string& name, int64_t cin, int64_t cout, int64_t k) {
        expect_conv(&e, name, cin, cout, k);
    };
    add("enc0", c.in_ch, c.c0, 3);
    add("down", c.c0, c.c1, 3);
    add("enc2", c.c1, c.c2, 3);
    const int64_t k = static_cast<int64_t>(c.bins.size());
    if (k > 0) {
        for (int64_t i = 0; i < k; ++i) add("ppm.stages." + std::to_string(i), c.c2, c.c2 / 4, 1);
        add("ppm.fuse", c.c2 + k * (c.c2 / 4), c.c2, 1);
    }
    add("att.fc1", c.c2, c.c2 / c.reduction, 1);
    add("att.fc2", c.c2 / c.reduction, c.c2, 1);
    add("att.sa", 2, 1, c.sa_kernel);
    e.push_back({"up.weight", {c.c2, c.c1, 4, 4}});
    e.push_back({"up.bias", {c.c1}});
    add("dec1", c.c1, c.c0, 3);
    add("out", c.c0, c.out_ch, 3);
    return e;
}

Result<Tensor> make(const Shape& s) { return Tensor::create(s); }

}  // namespace

Status read_red_config(const WeightFile& wf, RedConfig* cfg) {
    if (wf.kind() != weights::GraphKind::kRed)
        return wf.error("holds an SSR graph, not RED (use `lucent upscale`)");
    RedConfig c;
    LUCENT_RETURN_IF_ERROR(wf.get_int("in_ch", 1, 64, &c.in_ch));
    LUCENT_RETURN_IF_ERROR(wf.get_int("out_ch", 1, 64, &c.out_ch));
    LUCENT_RETURN_IF_ERROR(wf.get_int("c0", 1, 4096, &c.c0));
    LUCENT_RETURN_IF_ERROR(wf.get_int("c1", 1, 4096, &c.c1));
    LUCENT_RETURN_IF_ERROR(wf.get_int("c2", 4, 4096, &c.c2));
    LUCENT_RETURN_IF_ERROR(wf.get_ints("ppm_bins", &c.bins));
    LUCENT_RETURN_IF_ERROR(wf.get_int("reduction", 1, c.c2, &c.reduction));
    LUCENT_RETURN_IF_ERROR(wf.get_int("sa_kernel", 1, 31, &c.sa_kernel));
    if (c.c2 % 4 != 0)
        return wf.error("metadata c2 = " + std::to_string(c.c2) + " is not a multiple of 4");
    if (c.c2 % c.reduction != 0)
        return wf.error("metadata reduction = " + std::to_string(c.reduction) +
                        " does not divide c2 = " + std::to_string(c.c2));
    if (c.sa_kernel % 2 == 0)
        return wf.error("metadata sa_kernel = " + std::to_string(c.sa_kernel) + " is even");
    if (c.bins.size() > 16) return wf.error("metadata ppm_bins has more than 16 bins");
    for (int64_t b : c.bins)
        if (b < 1 || b > 1024) return wf.error("metadata ppm_bins holds " + std::to_string(b));
    *cfg = c;
    return Status();
}

Result<std::unique_ptr<Red>> Red::create(const WeightFile& wf, const ops::KernelTable& k,
                                         const GraphOptions& opts) {
    std::unique_ptr<Red> m(new Red());
    RedConfig& c = m->cfg_;
    LUCENT_RETURN_IF_ERROR(read_red_config(wf, &c));
    LUCENT_RETURN_IF_ERROR(wf.check_tensors(expected_tensors(c)));
    const ops::Conv2dAlgo algo = opts.conv_algo;
    auto load = [&](const std::string& name, ops::Conv2dParams p, ops::Conv2d* out) {
        // enc2 and dec1 are RED's 3x3 stride-1 layers between the first and the last.
        p.bf16 = opts.bf16 && (name == "enc2" || name == "dec1");
        return load_conv(wf, name, p, k, out);
    };
    LUCENT_RETURN_IF_ERROR(load("enc0", conv(c.in_ch, c.c0, 3, 1, true, algo), &m->enc0_));
    LUCENT_RETURN_IF_ERROR(load("down", conv(c.c0, c.c1, 3, 2, true, algo), &m->down_));
    LUCENT_RETURN_IF_ERROR(load("enc2", conv(c.c1, c.c2, 3, 1, true, algo), &m->enc2_));
    const int64_t nb = static_cast<int64_t>(c.bins.size());
    m->stages_.resize(c.bins.size());
    for (int64_t i = 0; i < nb; ++i)
        LUCENT_RETURN_IF_ERROR(load("ppm.stages." + std::to_string(i),
                                    conv(c.c2, c.c2 / 4, 1, 1, true, algo),
                                    &m->stages_[static_cast<size_t>(i)]));
    if (nb > 0)
        LUCENT_RETURN_IF_ERROR(
            load("ppm.fuse", conv(c.c2 + nb * (c.c2 / 4), c.c2, 1, 1, true, algo), &m->fuse_));
    LUCENT_RETURN_IF_ERROR(load_channel_attention(
        wf, "att", c.c2, c.c2 / c.reduction, ops::ChannelPooling::kAvgPlusMax, &m->channel_att_));
    Result<std::vector<float>> ws = wf.tensor_f32("att.sa.weight");
    Result<std::vector<float>> bs = wf.tensor_f32("att.sa.bias");
    if (!ws.ok()) return ws.status();
    if (!bs.ok()) return bs.status();
    LUCENT_ASSIGN_OR_RETURN(
        ops::SpatialAttention sa,
        ops::SpatialAttention::create(c.sa_kernel, ws.value().data(), bs.value().data(), k));
    m->spatial_att_ = std::move(sa);
    ops::ConvTranspose2dParams up;
    up.in_ch = c.c2;
    up.out_ch = c.c1;
    up.kernel_h = up.kernel_w = 4;
    up.stride_h = up.stride_w = 2;
    up.pad_h = up.pad_w = 1;
    up.act = ops::Activation::kLeakyRelu;
    up.slope = kSlope;
    Result<std::vector<float>> uw = wf.tensor_f32("up.weight");
    Result<std::vector<float>> ub = wf.tensor_f32("up.bias");
    if (!uw.ok()) return uw.status();
    if (!ub.ok()) return ub.status();
    LUCENT_ASSIGN_OR_RETURN(
        ops::ConvTranspose2d upc,
        ops::ConvTranspose2d::create(up, uw.value().data(), ub.value().data(), k));
    m->up_ = std::move(upc);
    LUCENT_RETURN_IF_ERROR(load("dec1", conv(c.c1, c.c0, 3, 1, true, algo), &m->dec1_));
    LUCENT_RETURN_IF_ERROR(load("out", conv(c.c0, c.out_ch, 3, 1, false, algo), &m->out_));
    return m;
}

Status Red::output_shape(const Shape& in, Shape* out) const {
    int64_t numel;
    LUCENT_RETURN_IF_ERROR(checked_numel(in, "RED input", &numel));
    if (in.c != cfg_.in_ch)
        return make_status(StatusCode::kInvalidArgument,
                           "RED input has %lld channels; this model takes %lld",
                           static_cast<long long>(in.c), static_cast<long long>(cfg_.in_ch));
    if (in.h < 2 || in.w < 2)
        return make_status(StatusCode::kInvalidArgument,
                           "RED input %s is smaller than 2x2, the graph's minimum",
                           in.str().c_str());
    constexpr int64_t kMaxSide = int64_t{1} << 24;
    if (in.h > kMaxSide || in.w > kMaxSide)
        return make_status(StatusCode::kInvalidArgument, "RED input %s has a side over %lld",
                           in.str().c_str(), static_cast<long long>(kMaxSide));
    *out = Shape{in.n, cfg_.out_ch, in.h, in.w};
    return checked_numel(*out, "RED output", &numel);
}

uint64_t Red::working_bytes(const Shape& in, int threads) const {
    const RedConfig& c = cfg_;
    const int64_t h = in.h + in.h % 2, w = in.w + in.w % 2, hh = h / 2, hw = w / 2;
    const int64_t k = static_cast<int64_t>(c.bins.size());
    const uint64_t pad = (h != in.h || w != in.w) ? sat_mul(plane_bytes(c.in_ch, h, w), 2) : 0;
    const uint64_t e0 = plane_bytes(c.c0, h, w);
    // Peak candidates: encoder (e0 + e1 + cat), pyramid (e0 + cat + p), decoder (e0 + p + d1,
    // then e0 + d1 + d0), each plus the largest convolution scratch.
    const uint64_t cat = plane_bytes(c.c2 + k * (c.c2 / 4), hh, hw), p = plane_bytes(c.c2, hh, hw);
    const uint64_t d1 = plane_bytes(c.c1, h, w), d0 = plane_bytes(c.c0, h, w);
    uint64_t peak = std::max({sat_add(plane_bytes(c.c1, hh, hw), cat), sat_add(cat, p),
                              sat_add(p, d1), sat_add(d1, d0)});
    uint64_t scratch = std::max({enc0_.scratch_bytes(Shape{1, c.in_ch, h, w}, threads),
                                 down_.scratch_bytes(Shape{1, c.c0, h, w}, threads),
                                 enc2_.scratch_bytes(Shape{1, c.c1, hh, hw}, threads),
                                 dec1_.scratch_bytes(Shape{1, c.c1, h, w}, threads),
                                 out_.scratch_bytes(Shape{1, c.c0, h, w}, threads)});
    scratch = std::max(scratch, sat_mul(static_cast<uint64_t>(up_.scratch_floats(hw, h)), 4));
    return sat_add(sat_add(sat_add(pad, e0), peak), sat_add(scratch, plane_bytes(c.out_ch, h, w)));
}

Status Red::run_image(const ops::Context& ctx, ConstTensorView in, TensorView out) const {
    const RedConfig& c = cfg_;
    const int64_t h = in.shape.h + in.shape.h % 2, w = in.shape.w + in.shape.w % 2;
    const int64_t k = static_cast<int64_t>(c.bins.size());
    const bool padded = h != in.shape.h || w != in.shape.w;
    Result<Tensor> e0 = make(Shape{1, c.c0, h, w});
    if (!e0.ok()) return e0.status();
    {
        Tensor xp;
        ConstTensorView x = in;
        if (padded) {
            LUCENT_ASSIGN_OR_RETURN(Tensor r, make(Shape{1, c.in_ch, h, w}));
            xp = std::move(r);
            const ops::Padding pad{0, h - in.shape.h, 0, w - in.shape.w};
            LUCENT_RETURN_IF_ERROR(ops::reflect_pad(ctx, in, pad, xp));
            x = xp;
        }
        LUCENT_RETURN_IF_ERROR(enc0_.run(ctx, x, e0.value()));
        trace(ctx, "enc0", "conv3x3+lrelu", e0.value());
    }
    Result<Tensor> p = make(Shape{1, c.c2, h / 2, w / 2});
    if (!p.ok()) return p.status();
    {
        LUCENT_ASSIGN_OR_RETURN(Tensor cat, make(Shape{1, c.c2 + k * (c.c2 / 4), h / 2, w / 2}));
        {
            LUCENT_ASSIGN_OR_RETURN(Tensor e1, make(Shape{1, c.c1, h / 2, w / 2}));
            LUCENT_RETURN_IF_ERROR(down_.run(ctx, e0.value(), e1));
            trace(ctx, "down", "conv3x3s2+lrelu", e1);
            TensorView e2 = k > 0 ? channel_slice(cat, 0, c.c2) : p.value().view();
            LUCENT_RETURN_IF_ERROR(enc2_.run(ctx, e1, e2));
            trace(ctx, "enc2", "conv3x3+lrelu", e2);
        }
        if (k > 0) LUCENT_RETURN_IF_ERROR(run_pyramid(ctx, cat, p.value()));
    }
    LUCENT_RETURN_IF_ERROR(channel_att_.run(ctx, p.value(), p.value()));
    LUCENT_RETURN_IF_ERROR(spatial_att_.run(ctx, p.value(), p.value()));
    trace(ctx, "att", "dual_attention", p.value());
    Result<Tensor> d1 = make(Shape{1, c.c1, h, w});
    if (!d1.ok()) return d1.status();
    LUCENT_RETURN_IF_ERROR(up_.run(ctx, p.value(), d1.value()));
    trace(ctx, "up", "deconv4x4s2+lrelu", d1.value());
    p = Tensor();
    LUCENT_ASSIGN_OR_RETURN(Tensor d0, make(Shape{1, c.c0, h, w}));
    LUCENT_RETURN_IF_ERROR(dec1_.run(ctx, d1.value(), d0));
    trace(ctx, "dec1", "conv3x3+lrelu", d0);
    d1 = Tensor();
    LUCENT_RETURN_IF_ERROR(ops::add(ctx, d0, e0.value(), d0));
    e0 = Tensor();
    if (!padded) {
        LUCENT_RETURN_IF_ERROR(out_.run(ctx, d0, out));
        trace(ctx, "out", "conv3x3", out);
        return ops::activation(ctx, out, out, ops::Activation::kSigmoid);
    }
    LUCENT_ASSIGN_OR_RETURN(Tensor full, make(Shape{1, c.out_ch, h, w}));
    LUCENT_RETURN_IF_ERROR(out_.run(ctx, d0, full));
    trace(ctx, "out", "conv3x3", full);
    LUCENT_RETURN_IF_ERROR(ops::activation(ctx, full, full, ops::Activation::kSigmoid));
    return ops::crop(ctx, full, 0, 0, out);
}

Status Red::run_pyramid(const ops::Context& ctx, TensorView cat, TensorView p) const {
    const RedConfig& c = cfg_;
    const int64_t q = c.c2 / 4;
    const ConstTensorView e2 = channel_slice(cat, 0, c.c2);
    for (size_t i = 0; i < c.bins.size(); ++i) {
        const int64_t b = c.bins[i];
        Result<Tensor> pooled = make(Shape{1, c.c2, b, b});
        Result<Tensor> stage = make(Shape{1, q, b, b});
        if (!pooled.ok()) return pooled.status();
        if (!stage.ok()) return stage.status();
        // Row-ordered sums, as the streaming pass computes them (models/red_stream.cpp).
        ops::adaptive_sum_rows(ctx, rows_of(e2), b, pooled.value().data());
        ops::adaptive_mean_finish(c.c2, e2.shape.h, e2.shape.w, b, pooled.value().data());
        LUCENT_RETURN_IF_ERROR(stages_[i].run(ctx, pooled.value(), stage.value()));
        if (tracing(ctx))
            trace(ctx, "ppm.stages." + std::to_string(i), "adaptive_avg_pool+conv1x1+lrelu",
                  stage.value());
        const int64_t c0 = c.c2 + static_cast<int64_t>(i) * q;
        LUCENT_RETURN_IF_ERROR(
            ops::upsample_bilinear(ctx, stage.value(), channel_slice(cat, c0, q)));
    }
    LUCENT_RETURN_IF_ERROR(fuse_.run(ctx, cat, p));
    trace(ctx, "ppm.fuse", "conv1x1+lrelu", p);
    return Status();
}

}  // namespace lucent::models
