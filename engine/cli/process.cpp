#include "engine/cli/process.h"

#include <algorithm>
#include <string>

#include "engine/format_bytes.h"
#include "engine/tensor.h"
#include "ops/dispatch.h"
#include "ops/upsample.h"

namespace lucent::cli {
namespace {

struct Layout {
    int64_t color = 0;  // colour channels in the file
    bool alpha = false;
    bool gray_to_rgb = false;
};

Result<Layout> layout_for(const Model& model, int64_t c, bool npy) {
    const int64_t want = model.in_channels();
    Layout l;
    if (npy) {
        l.alpha = c == want + 1 || (want == 3 && c == 2);
    } else {
        l.alpha = c == 2 || c == 4;
    }
    l.color = c - (l.alpha ? 1 : 0);
    if (l.color == want) return l;
    if (l.color == 1 && want == 3) {
        l.gray_to_rgb = true;
        return l;
    }
    return make_status(StatusCode::kInvalidArgument,
                       "the image has %lld colour channel(s)%s; this model takes %lld",
                       static_cast<long long>(l.color), l.alpha ? " plus alpha" : "",
                       static_cast<long long>(want));
}

}  // namespace

Status check_memory(const Model& model, const ImageInfo& info, uint64_t limit) {
    const Dims in{1, model.in_channels(), info.h, info.w};
    Dims out;
    LUCENT_RETURN_IF_ERROR(model.output_dims(in, &out));
    Result<uint64_t> work = model.working_bytes(in);
    if (!work.ok()) return work.status();
    // Decoded file, float input, float output, 8-bit output and the alpha plane, roughly.
    const double images = 4.0 * double(info.h * info.w) * double(info.c + in.c) +
                          5.0 * double(out.h * out.w) * double(out.c + 1);
    const double total = double(work.value()) + images;
    if (limit != 0 && total > double(limit))
        return make_status(
            StatusCode::kOutOfMemory,
            "%lldx%lld -> %lldx%lld needs about %s of memory (%s working, %s of "
            "image buffers), more than the %s available; use a smaller image "
            "(tiled processing of large images is not available yet)",
            static_cast<long long>(info.w), static_cast<long long>(info.h),
            static_cast<long long>(out.w), static_cast<long long>(out.h),
            format_bytes(static_cast<uint64_t>(total)).c_str(), format_bytes(work.value()).c_str(),
            format_bytes(static_cast<uint64_t>(images)).c_str(), format_bytes(limit).c_str());
    return Status();
}

Result<Image> process(const Model& model, const Image& in) {
    Result<Layout> lr = layout_for(model, in.c, in.from_npy);
    if (!lr.ok()) return lr.status();
    const Layout l = lr.value();
    const int64_t h = in.h, w = in.w, plane = h * w, mc = model.in_channels();
    std::vector<float> src(static_cast<size_t>(mc * plane));
    for (int64_t ch = 0; ch < mc; ++ch) {
        const int64_t from = l.gray_to_rgb ? 0 : ch;
        for (int64_t i = 0; i < plane; ++i)
            src[static_cast<size_t>(ch * plane + i)] =
                in.data[static_cast<size_t>(i * in.c + from)];
    }
    const Dims in_dims{1, mc, h, w};
    Dims od;
    LUCENT_RETURN_IF_ERROR(model.output_dims(in_dims, &od));
    std::vector<float> dst(static_cast<size_t>(od.count()));
    LUCENT_RETURN_IF_ERROR(model.run(src.data(), in_dims, dst.data()));
    src = std::vector<float>();

    std::vector<float> alpha;
    if (l.alpha) {
        std::vector<float> a(static_cast<size_t>(plane));
        for (int64_t i = 0; i < plane; ++i)
            a[static_cast<size_t>(i)] = in.data[static_cast<size_t>(i * in.c + in.c - 1)];
        if (od.h == h && od.w == w) {
            alpha = std::move(a);
        } else {
            alpha.resize(static_cast<size_t>(od.h * od.w));
            const ops::Context ctx = ops::make_context(1);
            LUCENT_RETURN_IF_ERROR(
                ops::upsample_bilinear(ctx, ConstTensorView{a.data(), Shape{1, 1, h, w}},
                                       TensorView{alpha.data(), Shape{1, 1, od.h, od.w}}));
        }
    }
    const bool back_to_gray = l.gray_to_rgb && od.c == 3;
    const int64_t color = back_to_gray ? 1 : od.c;
    Image out;
    out.h = od.h;
    out.w = od.w;
    out.c = color + (l.alpha ? 1 : 0);
    out.from_npy = in.from_npy;
    const int64_t oplane = od.h * od.w;
    out.data.resize(static_cast<size_t>(oplane * out.c));
    for (int64_t i = 0; i < oplane; ++i) {
        float* px = &out.data[static_cast<size_t>(i * out.c)];
        if (back_to_gray) {
            px[0] = (dst[static_cast<size_t>(i)] + dst[static_cast<size_t>(oplane + i)] +
                     dst[static_cast<size_t>(2 * oplane + i)]) /
                    3.0f;
        } else {
            for (int64_t ch = 0; ch < od.c; ++ch)
                px[ch] = dst[static_cast<size_t>(ch * oplane + i)];
        }
        if (l.alpha) px[color] = alpha[static_cast<size_t>(i)];
    }
    return out;
}

}  // namespace lucent::cli
