// Model::run_image and its helpers: interleaved 8/16-bit or float images through a model, with
// gray images replicated into RGB models and alpha carried beside the model (resized for SSR,
// kept for RED). One plan (ImagePlan) sizes every buffer this file allocates, and the same
// plan answers image_working_bytes(), so the memory check and the allocations cannot disagree.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "api/model_impl.h"
#include "api/no_throw.h"
#include "engine/format_bytes.h"
#include "engine/tensor.h"
#include "lucent/image.hpp"
#include "lucent/model.hpp"
#include "ops/dispatch.h"
#include "ops/upsample.h"

namespace lucent {

size_t pixel_type_size(PixelType type) {
    switch (type) {
        case PixelType::kU8:
            return 1;
        case PixelType::kU16:
            return 2;
        case PixelType::kF32:
            return 4;
    }
    return 0;
}

const char* pixel_type_name(PixelType type) {
    switch (type) {
        case PixelType::kU8:
            return "u8";
        case PixelType::kU16:
            return "u16";
        case PixelType::kF32:
            return "f32";
    }
    return "?";
}

size_t image_buffer_bytes(const ImageSize& size, PixelType type, size_t stride_bytes) {
    const size_t sample = pixel_type_size(type);
    if (sample == 0 || size.width < 1 || size.height < 1 || size.channels < 1) return 0;
    const uint64_t w = static_cast<uint64_t>(size.width), h = static_cast<uint64_t>(size.height);
    const uint64_t px = static_cast<uint64_t>(size.channels) * sample;
    if (w > SIZE_MAX / px) return 0;
    const uint64_t row = w * px;
    const uint64_t stride = stride_bytes == 0 ? row : stride_bytes;
    if (stride < row || (h - 1) > (SIZE_MAX - row) / stride) return 0;
    return static_cast<size_t>(stride * (h - 1) + row);
}

namespace {

// How an image's channels map onto the model's.
struct Layout {
    int32_t color = 0;  // colour channels of the image
    bool alpha = false;
    bool gray_to_rgb = false;
};

Result<Layout> layout_for(int64_t model_channels, int32_t channels) {
    if (channels < 1 || channels > 4)
        return make_status(StatusCode::kInvalidArgument,
                           "the image has %d channels; images have 1 to 4 (gray, gray+alpha, "
                           "RGB, RGBA)",
                           channels);
    Layout l;
    if (channels == model_channels) {
        l.color = channels;
    } else if (channels == model_channels + 1) {
        l.color = channels - 1;
        l.alpha = true;
    } else if (model_channels == 3 && (channels == 1 || channels == 2)) {
        l.color = 1;
        l.alpha = channels == 2;
        l.gray_to_rgb = true;
    } else {
        return make_status(StatusCode::kInvalidArgument,
                           "the image has %d channels; this model takes %lld colour channels "
                           "(plus an optional alpha channel%s)",
                           channels, static_cast<long long>(model_channels),
                           model_channels == 3 ? ", or gray" : "");
    }
    return l;
}

// Output rows the whole-image path quantises (and hands to a row sink) at once.
constexpr int64_t kBlockRows = 64;

// Every size run_image() needs, computed once. Streaming models (stream != null) convert pixel
// rows to float rows as the graph pulls them and quantise output rows as they come, so neither
// float image exists; otherwise the whole float input and output are allocated.
struct ImagePlan {
    Layout layout;
    Dims in_dims, out_dims;    // the model's tensors (batch 1)
    ImageSize out_size;        // the output image
    PlanLease stream;          // empty on the traced path
    uint64_t model_bytes = 0;  // the stream's arena, or the graph's whole-image working memory
    int64_t src_floats = 0;    // the float NCHW input (whole-image path)
    int64_t dst_floats = 0;    // the float NCHW output (whole-image path)
    int64_t alpha_in_floats = 0, alpha_out_floats = 0;
    // Output rows quantised at once: the stream's stripe, or kBlockRows on the whole path.
    int64_t block_rows = 0;

    // One block of output rows as float samples (run_image_rows' block; the widest type).
    int64_t block_floats() const { return block_rows * out_size.width * out_size.channels; }
    uint64_t total_bytes() const {
        const uint64_t floats =
            static_cast<uint64_t>(src_floats) + static_cast<uint64_t>(dst_floats) +
            static_cast<uint64_t>(alpha_in_floats) + static_cast<uint64_t>(alpha_out_floats) +
            static_cast<uint64_t>(block_floats());
        const uint64_t bytes = floats * sizeof(float);
        return bytes > UINT64_MAX - model_bytes ? UINT64_MAX : bytes + model_bytes;
    }
};

Result<ImagePlan> plan_image(const Model& m, const Model::Impl& impl, int64_t width, int64_t height,
                             int32_t channels, bool traced) {
    ImagePlan p;
    LUCENT_ASSIGN_OR_RETURN(p.layout, layout_for(m.in_channels(), channels));
    p.in_dims = Dims{1, m.in_channels(), height, width};
    LUCENT_RETURN_IF_ERROR(m.output_dims(p.in_dims, &p.out_dims));
    const bool back_to_gray = p.layout.gray_to_rgb && p.out_dims.c == 3;
    const int64_t color = back_to_gray ? 1 : p.out_dims.c;
    const int64_t out_channels = color + (p.layout.alpha ? 1 : 0);
    if (out_channels > 4)
        return make_status(StatusCode::kInvalidArgument,
                           "this model gives %lld colour channels; with alpha that is more than "
                           "an image holds (use the float NCHW Model::run)",
                           static_cast<long long>(p.out_dims.c));
    p.out_size = ImageSize{p.out_dims.w, p.out_dims.h, static_cast<int32_t>(out_channels)};
    if (p.layout.alpha) p.alpha_in_floats = height * width;
    const uint64_t limit = m.memory_limit();
    const uint64_t alpha_bytes = static_cast<uint64_t>(p.alpha_in_floats) * sizeof(float);
    // The stream gets what the limit leaves after the alpha plane.
    const uint64_t budget = limit == 0 ? 0 : (limit > alpha_bytes ? limit - alpha_bytes : 1);
    LUCENT_ASSIGN_OR_RETURN(PlanLease plan,
                            impl.lease_plan(Shape{1, p.in_dims.c, height, width}, budget, traced));
    p.model_bytes = plan->bytes();
    if (!traced) {
        p.stream = std::move(plan);
        p.block_rows = std::min(p.stream->stripe_rows(), p.out_dims.h);
        return p;
    }
    // Traced runs go through Model::run with its observer: whole float images.
    p.block_rows = std::min(kBlockRows, p.out_dims.h);
    p.src_floats = p.in_dims.count();
    p.dst_floats = p.out_dims.count();
    // RED keeps alpha as it is (no second plane); SSR resizes it.
    if (p.layout.alpha && (p.out_dims.h != height || p.out_dims.w != width))
        p.alpha_out_floats = p.out_dims.h * p.out_dims.w;
    return p;
}

// Checks one image argument against the size it must have.
Status check_view(const char* arg, const void* data, size_t size_bytes, int64_t width,
                  int64_t height, int32_t channels, PixelType type, size_t stride_bytes) {
    if (data == nullptr) return make_status(StatusCode::kInvalidArgument, "%s.data is null", arg);
    if (pixel_type_size(type) == 0)
        return make_status(StatusCode::kInvalidArgument,
                           "%s.type is %d; it must be u8 (1), u16 (2) or f32 (3)", arg,
                           static_cast<int>(type));
    if (width < 1 || height < 1)
        return make_status(StatusCode::kInvalidArgument, "%s is %lldx%lld; both must be >= 1", arg,
                           static_cast<long long>(width), static_cast<long long>(height));
    if (channels < 1 || channels > 4)
        return make_status(StatusCode::kInvalidArgument,
                           "%s.channels is %d; images have 1 to 4 channels", arg, channels);
    const uint64_t row =
        static_cast<uint64_t>(width) * static_cast<uint64_t>(channels) * pixel_type_size(type);
    if (stride_bytes != 0 && stride_bytes < row)
        return make_status(StatusCode::kInvalidArgument,
                           "%s.stride_bytes is %zu, less than one row of %llu bytes", arg,
                           stride_bytes, static_cast<unsigned long long>(row));
    const size_t need = image_buffer_bytes(ImageSize{width, height, channels}, type, stride_bytes);
    if (need == 0)
        return make_status(StatusCode::kInvalidArgument, "%s: %lldx%lld is too large to address",
                           arg, static_cast<long long>(width), static_cast<long long>(height));
    if (size_bytes < need)
        return make_status(StatusCode::kInvalidArgument,
                           "%s.size_bytes is %zu; a %lldx%lld %s image of %d channels needs %zu",
                           arg, size_bytes, static_cast<long long>(width),
                           static_cast<long long>(height), pixel_type_name(type), channels, need);
    return Status();
}

float load_sample(const uint8_t* row, int64_t index, PixelType type) {
    switch (type) {
        case PixelType::kU8:
            return static_cast<float>(row[index]) / 255.0f;
        case PixelType::kU16: {
            uint16_t v;
            std::memcpy(&v, row + index * 2, sizeof v);
            return static_cast<float>(v) / 65535.0f;
        }
        case PixelType::kF32: {
            float v;
            std::memcpy(&v, row + index * 4, sizeof v);
            return v;
        }
    }
    return 0.0f;
}

// round_half_to_even(clamp(v, 0, 1) * max); NaN becomes 0.
template <typename T>
T quantize(float v, float max) {
    if (!(v > 0.0f)) return 0;
    if (v >= 1.0f) return static_cast<T>(max);
    return static_cast<T>(std::nearbyint(v * max));  // ties to even (the default rounding)
}

void store_sample(uint8_t* row, int64_t index, PixelType type, float v) {
    switch (type) {
        case PixelType::kU8:
            row[index] = quantize<uint8_t>(v, 255.0f);
            return;
        case PixelType::kU16: {
            const uint16_t q = quantize<uint16_t>(v, 65535.0f);
            std::memcpy(row + index * 2, &q, sizeof q);
            return;
        }
        case PixelType::kF32:
            std::memcpy(row + index * 4, &v, sizeof v);
            return;
    }
}

size_t stride_of(int64_t width, int32_t channels, PixelType type, size_t stride_bytes) {
    return stride_bytes != 0
               ? stride_bytes
               : static_cast<size_t>(width) * static_cast<size_t>(channels) * pixel_type_size(type);
}

}  // namespace

Status Model::output_image_size(int64_t width, int64_t height, int32_t channels,
                                ImageSize* out) const {
    return no_throw("output_image_size", [&]() -> Status {
        if (out == nullptr)
            return make_status(StatusCode::kInvalidArgument, "output_image_size: out is null");
        LUCENT_ASSIGN_OR_RETURN(const ImagePlan plan,
                                plan_image(*this, *impl_, width, height, channels, false));
        *out = plan.out_size;
        return Status();
    });
}

Result<uint64_t> Model::image_working_bytes(int64_t width, int64_t height, int32_t channels) const {
    return no_throw("image_working_bytes", [&]() -> Result<uint64_t> {
        LUCENT_ASSIGN_OR_RETURN(const ImagePlan plan,
                                plan_image(*this, *impl_, width, height, channels, false));
        return plan.total_bytes();
    });
}

// Where quantised output rows go: straight into the caller's image (run_image), or through a
// block of rows to the caller's sink (run_image_rows).
struct Model::OutputRows {
    int64_t width = 0, height = 0;
    int32_t channels = 0;
    PixelType type = PixelType::kU8;
    uint8_t* image = nullptr;  // run_image: the caller's rows, `stride` bytes apart
    size_t stride = 0;
    const ImageRowSink* sink = nullptr;  // run_image_rows: rows go through `block`
    std::vector<uint8_t> block;

    size_t row_bytes() const {
        return static_cast<size_t>(width) * static_cast<size_t>(channels) * pixel_type_size(type);
    }
    // Before the first row: the block for `rows` rows (row sinks only).
    void prepare(int64_t rows) {
        if (sink != nullptr) block.resize(static_cast<size_t>(rows) * row_bytes());
    }
    // Row y of the block of rows [y0, ...) being filled.
    uint8_t* row(int64_t y0, int64_t y) {
        if (sink == nullptr) return image + static_cast<size_t>(y) * stride;
        return block.data() + static_cast<size_t>(y - y0) * row_bytes();
    }
    // Rows [y0, y1) are filled.
    Status done(int64_t y0, int64_t y1) const {
        if (sink == nullptr) return Status();
        const ConstImageView rows{block.data(), static_cast<size_t>(y1 - y0) * row_bytes(),
                                  width,        y1 - y0,
                                  channels,     type,
                                  row_bytes()};
        return (*sink)(y0, rows);
    }
};

Status Model::run_image(const ConstImageView& in, const ImageView& out) const {
    return run_image(in, out, LayerObserver());
}

Status Model::run_image(const ConstImageView& in, const ImageView& out,
                        const LayerObserver& observe) const {
    return no_throw("run_image", [&]() -> Status {
        LUCENT_RETURN_IF_ERROR(check_view("in", in.data, in.size_bytes, in.width, in.height,
                                          in.channels, in.type, in.stride_bytes));
        LUCENT_RETURN_IF_ERROR(check_view("out", out.data, out.size_bytes, out.width, out.height,
                                          out.channels, out.type, out.stride_bytes));
        OutputRows rows;
        rows.width = out.width;
        rows.height = out.height;
        rows.channels = out.channels;
        rows.type = out.type;
        rows.image = static_cast<uint8_t*>(out.data);
        rows.stride = stride_of(out.width, out.channels, out.type, out.stride_bytes);
        return run_image_impl(in, &rows, observe ? &observe : nullptr);
    });
}

Status Model::run_image_rows(const ConstImageView& in, PixelType out_type,
                             const ImageRowSink& sink) const {
    return no_throw("run_image_rows", [&]() -> Status {
        if (!sink) return make_status(StatusCode::kInvalidArgument, "run_image_rows: no sink");
        if (pixel_type_size(out_type) == 0)
            return make_status(StatusCode::kInvalidArgument,
                               "run_image_rows: out_type is %d; it must be u8 (1), u16 (2) or "
                               "f32 (3)",
                               static_cast<int>(out_type));
        ImageSize os;
        LUCENT_RETURN_IF_ERROR(output_image_size(in.width, in.height, in.channels, &os));
        OutputRows rows;
        rows.width = os.width;
        rows.height = os.height;
        rows.channels = os.channels;
        rows.type = out_type;
        rows.sink = &sink;
        return run_image_impl(in, &rows, nullptr);
    });
}

Status Model::run_image_impl(const ConstImageView& in, OutputRows* out,
                             const LayerObserver* observe) const {
    LUCENT_RETURN_IF_ERROR(check_view("in", in.data, in.size_bytes, in.width, in.height,
                                      in.channels, in.type, in.stride_bytes));
    const bool traced = observe != nullptr && *observe;
    LUCENT_ASSIGN_OR_RETURN(ImagePlan plan,
                            plan_image(*this, *impl_, in.width, in.height, in.channels, traced));
    if (out->width != plan.out_size.width || out->height != plan.out_size.height ||
        out->channels != plan.out_size.channels)
        return make_status(StatusCode::kInvalidArgument,
                           "out is %lldx%lld with %d channels; this model makes %lldx%lld "
                           "with %d channels from the input",
                           static_cast<long long>(out->width), static_cast<long long>(out->height),
                           out->channels, static_cast<long long>(plan.out_size.width),
                           static_cast<long long>(plan.out_size.height), plan.out_size.channels);
    const uint64_t limit = memory_limit();
    if (limit != 0 && plan.total_bytes() > limit)
        return make_status(StatusCode::kOutOfMemory,
                           "%lldx%lld -> %lldx%lld needs about %s of working memory, more "
                           "than the %s %s; use a smaller image",
                           static_cast<long long>(in.width), static_cast<long long>(in.height),
                           static_cast<long long>(plan.out_size.width),
                           static_cast<long long>(plan.out_size.height),
                           format_bytes(plan.total_bytes()).c_str(), format_bytes(limit).c_str(),
                           impl_->options.max_memory_bytes ? "limit set" : "of usable memory");

    const Layout& l = plan.layout;
    const int64_t h = in.height, w = in.width, plane = h * w;
    const size_t in_stride = stride_of(in.width, in.channels, in.type, in.stride_bytes);
    const uint8_t* in_bytes = static_cast<const uint8_t*>(in.data);

    AlignedBuffer alpha_in, alpha_out;
    if (l.alpha) {
        LUCENT_ASSIGN_OR_RETURN(alpha_in, AlignedBuffer::create(plan.alpha_in_floats));
        for (int64_t y = 0; y < h; ++y) {
            const uint8_t* row = in_bytes + static_cast<size_t>(y) * in_stride;
            for (int64_t x = 0; x < w; ++x)
                alpha_in.data()[y * w + x] =
                    load_sample(row, x * in.channels + in.channels - 1, in.type);
        }
        for (int64_t i = 0; i < plane; ++i)
            if (!std::isfinite(alpha_in.data()[i]))
                return make_status(StatusCode::kInvalidArgument,
                                   "the input's alpha channel holds %s at row %lld, column "
                                   "%lld; inputs must be finite",
                                   std::isnan(alpha_in.data()[i]) ? "NaN" : "infinity",
                                   static_cast<long long>(i / w), static_cast<long long>(i % w));
    }
    const Dims& od = plan.out_dims;
    const bool back_to_gray = l.gray_to_rgb && od.c == 3;
    const int32_t color = back_to_gray ? 1 : static_cast<int32_t>(od.c);
    const int32_t out_channels = out->channels;
    const PixelType out_type = out->type;
    out->prepare(plan.block_rows);
    // One output pixel from the float planes (sample(ch) gives channel ch's value).
    const auto store_pixel = [&](uint8_t* row, int64_t x, auto sample, float alpha) {
        const int64_t base = x * out_channels;
        if (back_to_gray) {
            store_sample(row, base, out_type, (sample(0) + sample(1) + sample(2)) / 3.0f);
        } else {
            for (int32_t ch = 0; ch < color; ++ch)
                store_sample(row, base + ch, out_type, sample(ch));
        }
        if (l.alpha) store_sample(row, base + color, out_type, alpha);
    };
    ops::Context ctx;
    ctx.k = &ops::kernels_for(impl_->isa);
    ctx.num_threads = impl_->options.num_threads;
    if (plan.stream) {
        // Pixel rows in, pixel rows out: the source converts (and checks) the rows the graph
        // pulls; the sink quantises each output stripe, with alpha resized per row.
        const models::RowSource source = [&](Rows d) -> Status {
            for (int64_t ch = 0; ch < d.c; ++ch) {
                const int64_t from = l.gray_to_rgb ? 0 : ch;
                for (int64_t y = d.row0; y < d.end(); ++y) {
                    const uint8_t* row = in_bytes + static_cast<size_t>(y) * in_stride;
                    float* dst_row = d.row(ch, y);
                    for (int64_t x = 0; x < w; ++x) {
                        dst_row[x] = load_sample(row, x * in.channels + from, in.type);
                        if (!std::isfinite(dst_row[x]))
                            return make_status(
                                StatusCode::kInvalidArgument,
                                "the input holds %s at row %lld, column %lld, channel %lld; "
                                "inputs must be finite",
                                std::isnan(dst_row[x]) ? "NaN" : "infinity",
                                static_cast<long long>(y), static_cast<long long>(x),
                                static_cast<long long>(from));
                    }
                }
            }
            return Status();
        };
        std::vector<float> alpha_rows;
        const models::RowSink sink = [&](ConstRows r) -> Status {
            const float* alpha = nullptr;
            if (l.alpha && (od.h != h || od.w != w)) {
                alpha_rows.resize(static_cast<size_t>(r.rows * od.w));
                ops::upsample_bilinear_rows(
                    ctx, ConstTensorView{alpha_in.data(), Shape{1, 1, h, w}},
                    Rows{alpha_rows.data(), 1, od.h, od.w, r.row0, r.rows, r.rows * od.w});
                alpha = alpha_rows.data() - r.row0 * od.w;
            } else if (l.alpha) {
                alpha = alpha_in.data();
            }
            for (int64_t y = r.row0; y < r.end(); ++y) {
                uint8_t* row = out->row(r.row0, y);
                for (int64_t x = 0; x < od.w; ++x)
                    store_pixel(
                        row, x, [&](int32_t ch) { return r.row(ch, y)[x]; },
                        alpha != nullptr ? alpha[y * od.w + x] : 0.0f);
            }
            return out->done(r.row0, r.end());
        };
        return plan.stream->run(ctx, source, sink);
    }

    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer src, AlignedBuffer::create(plan.src_floats));
    for (int64_t ch = 0; ch < plan.in_dims.c; ++ch) {
        const int64_t from = l.gray_to_rgb ? 0 : ch;
        float* dst_plane = src.data() + ch * plane;
        for (int64_t y = 0; y < h; ++y) {
            const uint8_t* row = in_bytes + static_cast<size_t>(y) * in_stride;
            for (int64_t x = 0; x < w; ++x)
                dst_plane[y * w + x] = load_sample(row, x * in.channels + from, in.type);
        }
    }
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer dst, AlignedBuffer::create(plan.dst_floats));
    LUCENT_RETURN_IF_ERROR(run_traced(src.data(), plan.in_dims, dst.data(), observe));
    src = AlignedBuffer();

    const float* alpha = alpha_in.data();
    if (l.alpha && plan.alpha_out_floats != 0) {
        LUCENT_ASSIGN_OR_RETURN(alpha_out, AlignedBuffer::create(plan.alpha_out_floats));
        LUCENT_RETURN_IF_ERROR(
            ops::upsample_bilinear(ctx, ConstTensorView{alpha_in.data(), Shape{1, 1, h, w}},
                                   TensorView{alpha_out.data(), Shape{1, 1, od.h, od.w}}));
        alpha = alpha_out.data();
    }

    const int64_t oplane = od.h * od.w;
    const float* d = dst.data();
    for (int64_t y0 = 0; y0 < od.h; y0 += plan.block_rows) {
        const int64_t y1 = std::min(od.h, y0 + plan.block_rows);
        for (int64_t y = y0; y < y1; ++y) {
            uint8_t* row = out->row(y0, y);
            for (int64_t x = 0; x < od.w; ++x) {
                const int64_t i = y * od.w + x;
                store_pixel(
                    row, x, [&](int32_t ch) { return d[ch * oplane + i]; },
                    l.alpha ? alpha[i] : 0.0f);
            }
        }
        LUCENT_RETURN_IF_ERROR(out->done(y0, y1));
    }
    return Status();
}

}  // namespace lucent
