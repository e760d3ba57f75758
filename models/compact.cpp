#include "models/compact.h"

#include <string>

#include "models/stream_builder.h"
#include "ops/prelu.h"

namespace lucent::models {
namespace {

using weights::WeightFile;

constexpr float kLeakySlope = 0.1f;  // SRVGGNetCompact's LeakyReLU(negative_slope=0.1)

std::string conv_name(int64_t i) { return "body." + std::to_string(2 * i); }
std::string act_name(int64_t i) { return "body." + std::to_string(2 * i + 1); }

std::vector<WeightFile::Expected> expected_tensors(const CompactConfig& c) {
    std::vector<WeightFile::Expected> e;
    const int64_t convs = c.num_conv + 2;
    for (int64_t i = 0; i < convs; ++i) {
        const bool last = i + 1 == convs;
        expect_conv(&e, conv_name(i), i == 0 ? c.in_ch : c.nf,
                    last ? c.out_ch * c.scale * c.scale : c.nf, 3);
        if (!last && c.act == CompactAct::kPrelu) e.push_back({act_name(i) + ".weight", {c.nf}});
    }
    return e;
}

}  // namespace

Status read_compact_config(const WeightFile& wf, CompactConfig* cfg) {
    if (wf.kind() != weights::GraphKind::kCompact)
        return wf.error("does not hold the compact SR graph");
    CompactConfig c;
    LUCENT_RETURN_IF_ERROR(wf.get_int("in_ch", 1, 64, &c.in_ch));
    LUCENT_RETURN_IF_ERROR(wf.get_int("out_ch", 1, 64, &c.out_ch));
    LUCENT_RETURN_IF_ERROR(wf.get_int("nf", 1, 4096, &c.nf));
    LUCENT_RETURN_IF_ERROR(wf.get_int("num_conv", 0, 1024, &c.num_conv));
    LUCENT_RETURN_IF_ERROR(wf.get_int("scale", 1, 4, &c.scale));
    if (c.in_ch != c.out_ch)
        return wf.error("metadata in_ch = " + std::to_string(c.in_ch) +
                        " and out_ch = " + std::to_string(c.out_ch) +
                        " differ; the compact graph adds its upsampled input to the output");
    std::string act;
    LUCENT_RETURN_IF_ERROR(wf.get_string("act", &act));
    if (act == "prelu") {
        c.act = CompactAct::kPrelu;
    } else if (act == "lrelu") {
        c.act = CompactAct::kLeakyRelu;
    } else if (act == "relu") {
        c.act = CompactAct::kRelu;
    } else {
        return wf.error("metadata act = \"" + act + "\"; it must be prelu, lrelu or relu");
    }
    *cfg = c;
    return Status();
}

Result<std::unique_ptr<Compact>> Compact::create(const WeightFile& wf, const ops::KernelTable& k,
                                                 const GraphOptions& opts) {
    std::unique_ptr<Compact> m(new Compact());
    CompactConfig& c = m->cfg_;
    LUCENT_RETURN_IF_ERROR(read_compact_config(wf, &c));
    LUCENT_RETURN_IF_ERROR(wf.check_tensors(expected_tensors(c)));
    const int64_t convs = c.num_conv + 2;
    m->convs_.resize(static_cast<size_t>(convs));
    for (int64_t i = 0; i < convs; ++i) {
        const bool last = i + 1 == convs;
        ops::Conv2dParams p = ops::Conv2dParams::square(
            i == 0 ? c.in_ch : c.nf, last ? c.out_ch * c.scale * c.scale : c.nf, 3);
        if (!last && c.act == CompactAct::kLeakyRelu) {
            p.act = ops::Activation::kLeakyRelu;
            p.slope = kLeakySlope;
        } else if (!last && c.act == CompactAct::kRelu) {
            p.act = ops::Activation::kRelu;
        }
        p.algo = opts.conv_algo;
        p.bf16 = opts.bf16 && i != 0 && !last;  // first and last stay fp32, as in SSR
        LUCENT_RETURN_IF_ERROR(
            load_conv(wf, conv_name(i), p, k, &m->convs_[static_cast<size_t>(i)]));
        if (!last && c.act == CompactAct::kPrelu) {
            LUCENT_ASSIGN_OR_RETURN(std::vector<float> a, wf.tensor_f32(act_name(i) + ".weight"));
            m->slopes_.push_back(std::move(a));
        }
    }
    return m;
}

Status Compact::output_shape(const Shape& in, Shape* out) const {
    return scaled_output_shape("compact", in, cfg_.in_ch, cfg_.out_ch, cfg_.scale, out);
}

// Rings: the input (held until the final sum reads its nearest-upsampled rows), one per conv,
// the shuffled and the upsampled input at the output resolution, and their sum.
Result<std::unique_ptr<StreamRun>> Compact::build_stream(const Shape& in, int64_t stripe_rows,
                                                         int threads, StreamMode mode) const {
    const CompactConfig& c = cfg_;
    Shape os;
    LUCENT_RETURN_IF_ERROR(output_shape(in, &os));
    std::unique_ptr<StreamRun> sr(new StreamRun());
    StreamBuilder b(sr.get());
    Stream& s = b.stream();
    const int in_ring = s.add_ring(c.in_ch, in.h, in.w);
    const int src = b.source(in_ring);
    int cur_ring = in_ring, cur = src;
    for (size_t i = 0; i < convs_.size(); ++i) {
        // Layers are named after the PyTorch module whose output they give: the activation's
        // (body.{2i+1}) for the convs followed by one, the conv's own for the last.
        const ops::Conv2d& cv = convs_[i];
        const int64_t idx = static_cast<int64_t>(i);
        const bool last = i + 1 == convs_.size();
        const std::string name = last ? conv_name(idx) : act_name(idx);
        const int out_ring = s.add_ring(cv.params().out_ch, in.h, in.w);
        const int64_t cin = cv.params().in_ch;
        if (i < slopes_.size()) {
            const float* a = slopes_[i].data();
            StreamBuilder::Epilogue prelu = [a](const ops::Context& ctx, Rows dst) {
                ops::prelu_rows(ctx, dst, a);
                return Status();
            };
            cur = b.conv_then(name, conv_op(cv.params()) + "+prelu", cv, cur_ring, 0, cin, {cur},
                              out_ring, 0, std::move(prelu), {});
        } else {
            cur = b.conv(name, cv, cur_ring, 0, cin, {cur}, out_ring, 0);
        }
        cur_ring = out_ring;
    }
    const int64_t r = c.scale;
    const int shuffled_ring = s.add_ring(c.out_ch, os.h, os.w);
    const int shuffled = b.resample("upsampler", false, r, cur_ring, cur, shuffled_ring);
    const int base_ring = s.add_ring(c.in_ch, os.h, os.w);
    const int base = b.resample("base", true, r, in_ring, src, base_ring);
    const int out_ring = s.add_ring(c.out_ch, os.h, os.w);
    const int sum = b.axpby("output", shuffled_ring, {shuffled}, 1.0f, base_ring, {base}, 1.0f,
                            out_ring, c.out_ch);
    s.add_trace(sum, "output", "pixel_shuffle + nearest(input)");
    const int sink = b.sink(out_ring, sum, os.h, os.w);
    LUCENT_RETURN_IF_ERROR(s.plan({sink}, stripe_rows, threads, mode == StreamMode::kWhole));
    return sr;
}

}  // namespace lucent::models
