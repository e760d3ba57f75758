// The only translation unit with the stb implementations.
#include "image_io.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "atomic_file.h"
#include "npy.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
// Internal linkage: nothing of stb is visible outside this file (or liblucent_io.a).
#define STB_IMAGE_STATIC
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace lucent::cli {
namespace {

bool ends_with(const std::string& s, const char* suffix) {
    const size_t n = std::strlen(suffix);
    if (s.size() < n) return false;
    for (size_t i = 0; i < n; ++i) {
        char ch = s[s.size() - n + i];
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        if (ch != suffix[i]) return false;
    }
    return true;
}

bool is_npy(const std::string& path) { return ends_with(path, ".npy"); }

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};

Status check_npy_shape(const std::string& path, const std::vector<int64_t>& shape) {
    if (shape.size() == 2 || (shape.size() == 3 && shape[2] >= 1 && shape[2] <= 64)) {
        if (shape[0] >= 1 && shape[1] >= 1) return Status();
    }
    std::string s;
    for (int64_t d : shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
    return make_status(StatusCode::kInvalidArgument,
                       "%s: .npy input must be H x W x C (C <= 64) or H x W with H, W >= 1; "
                       "it has shape (%s)",
                       path.c_str(), s.c_str());
}

void write_callback(void* context, void* data, int size) {
    // A short write leaves the FILE's error flag set; AtomicFile::commit() reports it.
    std::fwrite(data, 1, static_cast<size_t>(size), static_cast<FILE*>(context));
}

Status not_an_image(const std::string& path) {
    return make_status(StatusCode::kInvalidArgument,
                       "%s is not a readable PNG, JPEG, BMP, TGA or PNM image (%s)", path.c_str(),
                       stbi_failure_reason());
}

}  // namespace

ConstImageView Image::view() const {
    return ConstImageView{bytes.data(), bytes.size(), w, h, c, type, 0};
}
ImageView Image::view() { return ImageView{bytes.data(), bytes.size(), w, h, c, type, 0}; }

Result<ImageInfo> read_image_info(const std::string& path) {
    if (is_npy(path)) {
        LUCENT_ASSIGN_OR_RETURN(const std::vector<int64_t> s, read_npy_shape(path));
        LUCENT_RETURN_IF_ERROR(check_npy_shape(path, s));
        return ImageInfo{s[0], s[1], s.size() == 3 ? static_cast<int32_t>(s[2]) : 1,
                         PixelType::kF32};
    }
    std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f)
        return make_status(StatusCode::kIo, "cannot open %s: %s", path.c_str(),
                           std::strerror(errno));
    int w = 0, h = 0, c = 0;
    if (!stbi_info_from_file(f.get(), &w, &h, &c)) return not_an_image(path);
    const bool sixteen = stbi_is_16_bit_from_file(f.get()) != 0;
    return ImageInfo{h, w, c, sixteen ? PixelType::kU16 : PixelType::kU8};
}

Result<Image> read_image(const std::string& path) {
    Image img;
    if (is_npy(path)) {
        LUCENT_ASSIGN_OR_RETURN(NpyArray a, read_npy(path));
        LUCENT_RETURN_IF_ERROR(check_npy_shape(path, a.shape));
        img.h = a.shape[0];
        img.w = a.shape[1];
        img.c = a.shape.size() == 3 ? static_cast<int32_t>(a.shape[2]) : 1;
        img.type = PixelType::kF32;
        img.bytes.resize(a.data.size() * sizeof(float));
        if (!a.data.empty()) std::memcpy(img.bytes.data(), a.data.data(), img.bytes.size());
        img.from_npy = true;
        return img;
    }
    std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f)
        return make_status(StatusCode::kIo, "cannot open %s: %s", path.c_str(),
                           std::strerror(errno));
    int w = 0, h = 0, c = 0;
    const bool sixteen = stbi_is_16_bit_from_file(f.get()) != 0;
    void* pixels = sixteen ? static_cast<void*>(stbi_load_from_file_16(f.get(), &w, &h, &c, 0))
                           : static_cast<void*>(stbi_load_from_file(f.get(), &w, &h, &c, 0));
    if (pixels == nullptr) return not_an_image(path);
    std::unique_ptr<void, void (*)(void*)> hold(pixels, [](void* p) { stbi_image_free(p); });
    img.h = h;
    img.w = w;
    img.c = c;
    img.type = sixteen ? PixelType::kU16 : PixelType::kU8;
    const size_t bytes = static_cast<size_t>(h) * static_cast<size_t>(w) * static_cast<size_t>(c) *
                         (sixteen ? 2u : 1u);
    img.bytes.resize(bytes);
    std::memcpy(img.bytes.data(), pixels, bytes);
    return img;
}

Result<ImageFormat> output_format(const std::string& path) {
    if (ends_with(path, ".png")) return ImageFormat::kPng;
    if (ends_with(path, ".jpg") || ends_with(path, ".jpeg")) return ImageFormat::kJpeg;
    if (ends_with(path, ".ppm") || ends_with(path, ".pgm")) return ImageFormat::kPnm;
    if (ends_with(path, ".npy")) return ImageFormat::kNpy;
    return make_status(StatusCode::kInvalidArgument,
                       "cannot tell the output format of %s: use .png, .jpg, .jpeg, .ppm, .pgm "
                       "or .npy",
                       path.c_str());
}

const char* format_extension(ImageFormat format, int32_t channels) {
    switch (format) {
        case ImageFormat::kPng:
            return ".png";
        case ImageFormat::kJpeg:
            return ".jpg";
        case ImageFormat::kPnm:
            return channels == 1 ? ".pgm" : ".ppm";
        case ImageFormat::kNpy:
            return ".npy";
    }
    return "";
}

PixelType format_pixel_type(ImageFormat format) {
    return format == ImageFormat::kNpy ? PixelType::kF32 : PixelType::kU8;
}

bool format_has_alpha(ImageFormat format) {
    return format == ImageFormat::kPng || format == ImageFormat::kNpy;
}

Image drop_alpha(const Image& img) {
    Image out;
    out.h = img.h;
    out.w = img.w;
    out.c = img.c - 1;
    out.type = img.type;
    out.from_npy = img.from_npy;
    const size_t sample = pixel_type_size(img.type);
    const size_t px_in = static_cast<size_t>(img.c) * sample;
    const size_t px_out = static_cast<size_t>(out.c) * sample;
    const size_t count = static_cast<size_t>(img.h * img.w);
    out.bytes.resize(count * px_out);
    for (size_t i = 0; i < count; ++i)
        std::memcpy(&out.bytes[i * px_out], &img.bytes[i * px_in], px_out);
    return out;
}

Status write_image(const std::string& path, const Image& img, int jpeg_quality) {
    LUCENT_ASSIGN_OR_RETURN(const ImageFormat fmt, output_format(path));
    const size_t count = static_cast<size_t>(img.h * img.w * img.c);
    if (img.h < 1 || img.w < 1 || img.c < 1 || img.type != format_pixel_type(fmt) ||
        img.bytes.size() != count * pixel_type_size(img.type))
        return make_status(StatusCode::kInternal, "write_image: inconsistent image for %s",
                           path.c_str());
    if (fmt == ImageFormat::kNpy)
        return write_npy(path, {img.h, img.w, img.c},
                         reinterpret_cast<const float*>(img.bytes.data()));
    if (img.h > INT32_MAX / 8 || img.w > INT32_MAX / 8 / img.c)
        return make_status(StatusCode::kInvalidArgument,
                           "%s: %lldx%lld is too large for the image writer; write .npy",
                           path.c_str(), static_cast<long long>(img.w),
                           static_cast<long long>(img.h));
    if (fmt != ImageFormat::kPng && img.c != 1 && img.c != 3)
        return make_status(StatusCode::kInvalidArgument,
                           "%s: JPEG and PNM store gray or RGB, not %d channels", path.c_str(),
                           img.c);
    if (img.c > 4)
        return make_status(StatusCode::kInvalidArgument, "%s: PNG stores 1 to 4 channels, not %d",
                           path.c_str(), img.c);
    LUCENT_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::create(path));
    const int w = static_cast<int>(img.w), h = static_cast<int>(img.h), c = img.c;
    int ok = 1;
    switch (fmt) {
        case ImageFormat::kPng:
            ok = stbi_write_png_to_func(write_callback, out.file(), w, h, c, img.bytes.data(),
                                        w * c);
            break;
        case ImageFormat::kJpeg:
            ok = stbi_write_jpg_to_func(write_callback, out.file(), w, h, c, img.bytes.data(),
                                        jpeg_quality);
            break;
        case ImageFormat::kPnm:
            std::fprintf(out.file(), "P%c\n%d %d\n255\n", c == 1 ? '5' : '6', w, h);
            std::fwrite(img.bytes.data(), 1, img.bytes.size(), out.file());
            break;
        case ImageFormat::kNpy:
            break;
    }
    if (!ok) return make_status(StatusCode::kIo, "cannot encode %s", path.c_str());
    return out.commit();
}

}  // namespace lucent::cli
