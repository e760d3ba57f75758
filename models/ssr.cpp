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
    return scaled_output_shape("SSR", in, cfg_.in_ch, cfg_.out_ch, cfg_.scale, out);
}

}  // namespace lucent::models
