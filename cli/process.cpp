#include "process.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "dump.h"
#include "image_io.h"
#include "image_writer.h"
#include "progress.h"

namespace lucent::cli {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string bytes_text(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (b >= 1024.0 && u < 6) {
        b /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
    return buf;
}

// .npy arrays with more channels than an image holds go through the float NCHW call.
bool tensor_path(const ImageInfo& info) { return info.c > 4; }

struct OutGeometry {
    int64_t w = 0, h = 0;
    int32_t c = 0;
};

Result<OutGeometry> output_geometry(const Model& m, const ImageInfo& info) {
    if (tensor_path(info)) {
        if (info.c != m.in_channels())
            return make_status(StatusCode::kInvalidArgument,
                               "the image has %d colour channel(s); this model takes %lld", info.c,
                               static_cast<long long>(m.in_channels()));
        Dims od;
        LUCENT_RETURN_IF_ERROR(m.output_dims(Dims{1, info.c, info.h, info.w}, &od));
        return OutGeometry{od.w, od.h, static_cast<int32_t>(od.c)};
    }
    ImageSize os;
    LUCENT_RETURN_IF_ERROR(m.output_image_size(info.w, info.h, info.c, &os));
    return OutGeometry{os.width, os.height, os.channels};
}

// Model working memory plus the buffers this file allocates: the encoded file, the decoded
// input and, unless the output is written row by row, the output image and (for formats
// without alpha) its copy without alpha.
Status check_memory(const Model& m, const ImageInfo& info, const OutGeometry& og, ImageFormat fmt,
                    size_t file_bytes, bool rows_output) {
    LUCENT_ASSIGN_OR_RETURN(uint64_t work, tensor_path(info)
                                               ? m.working_bytes(Dims{1, info.c, info.h, info.w})
                                               : m.image_working_bytes(info.w, info.h, info.c));
    const double out_px = double(og.w) * double(og.h) * double(og.c);
    double images =
        double(file_bytes) +
        double(info.w) * double(info.h) * double(info.c) * double(pixel_type_size(info.type)) +
        (rows_output ? 0.0
                     : out_px * double(pixel_type_size(format_pixel_type(fmt, info.type))) * 2.0);
    if (tensor_path(info)) images += (double(info.w) * double(info.h) * info.c + out_px) * 4.0;
    const double total = double(work) + images;
    const uint64_t limit = m.memory_limit();
    if (limit != 0 && total > double(limit))
        return make_status(StatusCode::kOutOfMemory,
                           "%lldx%lld -> %lldx%lld needs about %s of memory (%s working, %s of "
                           "image buffers), more than the %s available; use a smaller image",
                           static_cast<long long>(info.w), static_cast<long long>(info.h),
                           static_cast<long long>(og.w), static_cast<long long>(og.h),
                           bytes_text(total).c_str(), bytes_text(double(work)).c_str(),
                           bytes_text(images).c_str(), bytes_text(double(limit)).c_str());
    return Status();
}

// HWC float -> NCHW float -> model -> HWC float.
Status run_tensor(const Model& m, const Image& in, Image* out, const LayerObserver* observe) {
    const int64_t plane = in.h * in.w;
    const float* src = reinterpret_cast<const float*>(in.bytes.data());
    std::vector<float> nchw(static_cast<size_t>(plane * in.c));
    for (int64_t i = 0; i < plane; ++i)
        for (int32_t ch = 0; ch < in.c; ++ch) nchw[ch * plane + i] = src[i * in.c + ch];
    const Dims id{1, in.c, in.h, in.w};
    Dims od;
    LUCENT_RETURN_IF_ERROR(m.output_dims(id, &od));
    std::vector<float> res(static_cast<size_t>(od.count()));
    LUCENT_RETURN_IF_ERROR(observe ? m.run(nchw.data(), id, res.data(), *observe)
                                   : m.run(nchw.data(), id, res.data()));
    const int64_t oplane = od.h * od.w;
    float* dst = reinterpret_cast<float*>(out->bytes.data());
    for (int64_t i = 0; i < oplane; ++i)
        for (int64_t ch = 0; ch < od.c; ++ch) dst[i * od.c + ch] = res[ch * oplane + i];
    return Status();
}

}  // namespace

// Every image format, .npy included, is written as the rows come; only arrays of more than
// four channels go through the float NCHW call, whole.
bool rows_output(const ImageInfo& info, ImageFormat) { return !tensor_path(info); }

Result<OutSize> check_input(const Model& m, const ImageInfo& info, ImageFormat fmt,
                            size_t encoded_bytes, bool by_rows) {
    LUCENT_ASSIGN_OR_RETURN(const OutGeometry og, output_geometry(m, info));
    if (tensor_path(info) && fmt != ImageFormat::kNpy)
        return make_status(StatusCode::kInvalidArgument,
                           "a %d-channel result can only be written as .npy", og.c);
    LUCENT_RETURN_IF_ERROR(
        check_memory(m, info, og, fmt, encoded_bytes, by_rows && rows_output(info, fmt)));
    return OutSize{og.w, og.h, og.c};
}

namespace {

// The model's output rows go straight to the encoder as the run produces them, with the
// progress line fed from the same rows. The file appears only when every row is written.
Status write_by_rows(const Model& m, const Image& img, ImageFormat fmt, const std::string& out_path,
                     FileResult* r, const ProcessOptions& opts, const OutSize& os) {
    const PixelType type = format_pixel_type(fmt, img.type);
    LUCENT_ASSIGN_OR_RETURN(std::unique_ptr<ImageFileWriter> writer,
                            ImageFileWriter::open(out_path, fmt, os.w, os.h, os.c, type));
    ProgressLine progress(opts.progress != Progress::kOff, opts.progress == Progress::kAlways,
                          opts.label, os.h);
    auto t = Clock::now();
    const Status st =
        m.run_image_rows(img.view(), type, [&](int64_t y0, const ConstImageView& rows) -> Status {
            LUCENT_RETURN_IF_ERROR(writer->write(rows));
            progress.update(y0 + rows.height);
            return Status();
        });
    progress.clear();
    LUCENT_RETURN_IF_ERROR(st);
    r->run_ms = ms_since(t);  // the encoding of the rows included: they interleave
    t = Clock::now();
    LUCENT_RETURN_IF_ERROR(writer->commit());
    r->encode_ms = ms_since(t);
    r->out_w = os.w;
    r->out_h = os.h;
    r->alpha_dropped = writer->alpha_dropped();
    return Status();
}

}  // namespace

Result<Image> apply_model(const Model& m, const Image& img, ImageFormat fmt, bool* alpha_dropped,
                          const LayerObserver* observe) {
    const ImageInfo info{img.h, img.w, img.c, img.type};
    LUCENT_ASSIGN_OR_RETURN(const OutGeometry og, output_geometry(m, info));
    Image out;
    out.w = og.w;
    out.h = og.h;
    out.c = og.c;
    out.type = format_pixel_type(fmt, img.type);
    out.from_npy = img.from_npy;
    out.bytes.resize(static_cast<size_t>(og.w * og.h * og.c) * pixel_type_size(out.type));
    if (tensor_path(info)) {
        LUCENT_RETURN_IF_ERROR(run_tensor(m, img, &out, observe));
    } else {
        LUCENT_RETURN_IF_ERROR(observe ? m.run_image(img.view(), out.view(), *observe)
                                       : m.run_image(img.view(), out.view()));
    }
    *alpha_dropped = !format_has_alpha(fmt) && (out.c == 2 || out.c == 4);
    if (*alpha_dropped) return drop_alpha(out);
    return out;
}

Status process_file(const Model& m, const std::string& in_path, const std::string& out_path,
                    FileResult* r, const ProcessOptions& opts) {
    const std::string& dump_dir = opts.dump_dir;
    const bool profile = opts.profile;
    LUCENT_ASSIGN_OR_RETURN(const ImageFormat fmt, output_format(out_path));
    // Images are read into memory once: the header from the bytes, then (after the memory
    // check) the pixels. .npy files are read by name.
    std::vector<uint8_t> file;
    ImageInfo info;
    if (is_npy_name(in_path)) {
        LUCENT_ASSIGN_OR_RETURN(info, npy_info(in_path));
    } else {
        LUCENT_ASSIGN_OR_RETURN(file, read_file(in_path, m.memory_limit()));
        LUCENT_ASSIGN_OR_RETURN(info, image_info(file.data(), file.size(), in_path));
    }
    // Plain runs write the output row by row as the model streams it (no output image in
    // memory), .npy as well; dumps and profiles trace the whole-image path.
    const bool by_rows = dump_dir.empty() && !profile && rows_output(info, fmt);
    Result<OutSize> size = check_input(m, info, fmt, file.size(), by_rows);
    if (!size.ok())
        return make_status(size.status().code(), "%s: %s", in_path.c_str(),
                           size.status().message().c_str());

    auto t = Clock::now();
    Image img;
    if (is_npy_name(in_path)) {
        LUCENT_ASSIGN_OR_RETURN(img, read_npy_image(in_path));
    } else {
        LUCENT_ASSIGN_OR_RETURN(img, decode_image(file.data(), file.size(), in_path));
        file = std::vector<uint8_t>();
    }
    r->decode_ms = ms_since(t);
    if (img.w != info.w || img.h != info.h || img.c != info.c)
        return make_status(StatusCode::kInvalidArgument,
                           "%s decoded to a different size than its header says", in_path.c_str());
    r->in_w = img.w;
    r->in_h = img.h;
    if (by_rows) return write_by_rows(m, img, fmt, out_path, r, opts, size.value());

    t = Clock::now();
    LayerDump dump(dump_dir);
    LayerObserver observe;
    if (!dump_dir.empty()) {
        LUCENT_RETURN_IF_ERROR(dump.prepare());
        observe = dump.observer();
    } else if (profile) {
        // The time since the previous report: the layer, plus any unnamed steps before it
        // (e.g. the trunk residual add is counted in conv_up1).
        auto last = std::make_shared<Clock::time_point>(Clock::now());
        observe = [last](const std::string& name, const std::string& op, const float*,
                         const Dims& d) {
            const auto now = Clock::now();
            std::fprintf(stderr, "profile: %s %s %lldx%lldx%lldx%lld %.3f\n", name.c_str(),
                         op.c_str(), static_cast<long long>(d.n), static_cast<long long>(d.c),
                         static_cast<long long>(d.h), static_cast<long long>(d.w),
                         std::chrono::duration<double, std::milli>(now - *last).count());
            *last = Clock::now();
        };
    }
    LUCENT_ASSIGN_OR_RETURN(
        const Image out, apply_model(m, img, fmt, &r->alpha_dropped, observe ? &observe : nullptr));
    if (!dump_dir.empty()) LUCENT_RETURN_IF_ERROR(dump.finish(m, in_path));
    r->run_ms = ms_since(t);
    r->out_w = out.w;
    r->out_h = out.h;

    t = Clock::now();
    LUCENT_RETURN_IF_ERROR(write_image(out_path, out));
    r->encode_ms = ms_since(t);
    return Status();
}

}  // namespace lucent::cli
