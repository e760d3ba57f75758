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

constexpr float kSlope = Red::kSlope;

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
        // Every conv between the first and the last but the pyramid stages and the gates,
        // which run on pooled bins and single pixels.
        p.bf16 =
            opts.bf16 && (name == "down" || name == "enc2" || name == "dec1" || name == "ppm.fuse");
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
    m->split_fuse_ = nb > 0 && algo != ops::Conv2dAlgo::kDirect;
    if (nb > 0 && !m->split_fuse_)
        LUCENT_RETURN_IF_ERROR(
            load("ppm.fuse", conv(c.c2 + nb * (c.c2 / 4), c.c2, 1, 1, true, algo), &m->fuse_));
    if (m->split_fuse_) LUCENT_RETURN_IF_ERROR(m->load_split_fuse(wf, k, opts));
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
    ops::ConvTranspose2dParams up =
        ops::ConvTranspose2dParams::up2x(c.c2, c.c1, ops::Activation::kLeakyRelu, kSlope);
    up.bf16 = opts.bf16;  // the decoder's upsampling: RED's largest layer
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

Status Red::load_split_fuse(const WeightFile& wf, const ops::KernelTable& k,
                            const GraphOptions& opts) {
    const RedConfig& c = cfg_;
    const int64_t q = c.c2 / 4, nb = static_cast<int64_t>(c.bins.size());
    const int64_t cin = c.c2 + nb * q;
    LUCENT_ASSIGN_OR_RETURN(std::vector<float> w, wf.tensor_f32("ppm.fuse.weight"));  // [c2][cin]
    LUCENT_ASSIGN_OR_RETURN(std::vector<float> b, wf.tensor_f32("ppm.fuse.bias"));
    // Input columns [from, from + n) of the fuse weight, as a [c2][n] 1x1 weight.
    auto columns = [&](int64_t from, int64_t n) {
        std::vector<float> part(static_cast<size_t>(c.c2 * n));
        for (int64_t o = 0; o < c.c2; ++o)
            std::copy(w.begin() + o * cin + from, w.begin() + o * cin + from + n,
                      part.begin() + o * n);
        return part;
    };
    ops::Conv2dParams pe = conv(c.c2, c.c2, 1, 1, false, opts.conv_algo);
    pe.bf16 = opts.bf16;
    LUCENT_ASSIGN_OR_RETURN(fuse_e2_,
                            ops::Conv2d::create(pe, columns(0, c.c2).data(), b.data(), k));
    const std::vector<float> zero(static_cast<size_t>(c.c2), 0.0f);
    for (int64_t i = 0; i < nb; ++i) {
        LUCENT_ASSIGN_OR_RETURN(
            ops::Conv2d part, ops::Conv2d::create(conv(q, c.c2, 1, 1, false, opts.conv_algo),
                                                  columns(c.c2 + i * q, q).data(), zero.data(), k));
        fuse_parts_.push_back(std::move(part));
    }
    return Status();
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

}  // namespace lucent::models
