#include "image_io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "atomic_file.h"
#include "bmp_io.h"
#include "jpeg_io.h"
#include "npy.h"
#include "png_io.h"
#include "pnm_io.h"
#include "row_encoder.h"
#include "tga_io.h"

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

Status not_an_image(const std::string& what, const char* reason) {
    return make_status(StatusCode::kInvalidArgument,
                       "%s is not a readable PNG, JPEG, BMP, TGA or PNM image (%s)", what.c_str(),
                       reason);
}

// The sample type a decoder's header reports: PNG and PNM may be 16-bit, the others are 8-bit.
PixelType sample_type(const PngHeader& h) { return h.type; }
PixelType sample_type(const PnmHeader& h) { return h.type; }
template <typename Header>
PixelType sample_type(const Header&) {
    return PixelType::kU8;
}

// One format's decoder into an Image (every decoder has this signature).
template <typename Header>
Result<Image> decode_with(Status (*decode)(const uint8_t*, size_t, const std::string&, Header*,
                                           std::vector<uint8_t>*),
                          const uint8_t* data, size_t size, const std::string& what) {
    Image img;
    Header h;
    LUCENT_RETURN_IF_ERROR(decode(data, size, what, &h, &img.bytes));
    img.w = h.w;
    img.h = h.h;
    img.c = h.c;
    img.type = sample_type(h);
    return img;
}

// Encodes img (already in the format's type and channels) to f.
Status encode_to(FILE* f, const std::string& what, ImageFormat fmt, const Image& img,
                 int jpeg_quality) {
    LUCENT_ASSIGN_OR_RETURN(
        std::unique_ptr<RowEncoder> enc,
        make_row_encoder(f, what, fmt, img.w, img.h, img.c, img.type, jpeg_quality));
    LUCENT_RETURN_IF_ERROR(enc->rows(img.bytes.data(), img.h));
    return enc->finish();
}

Status check_for_format(const std::string& what, ImageFormat fmt, const Image& img) {
    const size_t count = static_cast<size_t>(img.h * img.w * img.c);
    if (img.h < 1 || img.w < 1 || img.c < 1 ||
        img.bytes.size() != count * pixel_type_size(img.type) ||
        (fmt == ImageFormat::kNpy) != (img.type == PixelType::kF32) ||
        (fmt == ImageFormat::kJpeg && img.type != PixelType::kU8))
        return make_status(StatusCode::kInternal, "inconsistent image for %s", what.c_str());
    if (fmt != ImageFormat::kPng && fmt != ImageFormat::kNpy && img.c != 1 && img.c != 3)
        return make_status(StatusCode::kInvalidArgument,
                           "%s: JPEG and PNM store gray or RGB, not %d channels", what.c_str(),
                           img.c);
    if (fmt == ImageFormat::kPng && img.c > 4)
        return make_status(StatusCode::kInvalidArgument, "%s: PNG stores 1 to 4 channels, not %d",
                           what.c_str(), img.c);
    return Status();
}

}  // namespace

ConstImageView Image::view() const {
    return ConstImageView{bytes.data(), bytes.size(), w, h, c, type, 0};
}
ImageView Image::view() { return ImageView{bytes.data(), bytes.size(), w, h, c, type, 0}; }

bool is_npy_name(const std::string& path) { return ends_with(path, ".npy"); }

Result<std::unique_ptr<RowEncoder>> make_row_encoder(FILE* f, const std::string& what,
                                                     ImageFormat fmt, int64_t w, int64_t h,
                                                     int32_t c, PixelType type, int jpeg_quality) {
    switch (fmt) {
        case ImageFormat::kPng:
            return png_row_encoder(f, what, w, h, c, type);
        case ImageFormat::kJpeg:
            return jpeg_row_encoder(f, what, w, h, c, jpeg_quality);
        case ImageFormat::kPnm:
            return pnm_row_encoder(f, what, w, h, c, type);
        case ImageFormat::kNpy:
            if (type != PixelType::kF32)
                return make_status(StatusCode::kInternal, "%s: .npy rows are float32",
                                   what.c_str());
            return npy_row_encoder(f, what, w, h, c);
    }
    return make_status(StatusCode::kInternal, "make_row_encoder: unknown format");
}

Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes) {
    std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f)
        return make_status(StatusCode::kIo, "cannot open %s: %s", path.c_str(),
                           std::strerror(errno));
    struct stat st;
    if (fstat(fileno(f.get()), &st) != 0 || !S_ISREG(st.st_mode))
        return make_status(StatusCode::kIo, "%s is not a regular file", path.c_str());
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (max_bytes != 0 && size > max_bytes)
        return make_status(StatusCode::kOutOfMemory, "%s is %llu bytes, more than the %llu allowed",
                           path.c_str(), static_cast<unsigned long long>(size),
                           static_cast<unsigned long long>(max_bytes));
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    if (size != 0 && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
        return make_status(StatusCode::kIo, "cannot read %s", path.c_str());
    return bytes;
}

Result<ImageInfo> image_info(const uint8_t* data, size_t size, const std::string& what) {
    if (is_png(data, size)) {
        LUCENT_ASSIGN_OR_RETURN(const PngHeader h, png_header(data, size, what));
        return ImageInfo{h.h, h.w, h.c, h.type};
    }
    if (is_jpeg(data, size)) {
        LUCENT_ASSIGN_OR_RETURN(const JpegHeader h, jpeg_header(data, size, what));
        return ImageInfo{h.h, h.w, h.c, PixelType::kU8};
    }
    if (is_pnm(data, size)) {
        LUCENT_ASSIGN_OR_RETURN(const PnmHeader h, pnm_header(data, size, what));
        return ImageInfo{h.h, h.w, h.c, h.type};
    }
    if (is_bmp(data, size)) {
        LUCENT_ASSIGN_OR_RETURN(const BmpHeader h, bmp_header(data, size, what));
        return ImageInfo{h.h, h.w, h.c, PixelType::kU8};
    }
    if (is_tga(data, size)) {
        LUCENT_ASSIGN_OR_RETURN(const TgaHeader h, tga_header(data, size, what));
        return ImageInfo{h.h, h.w, h.c, PixelType::kU8};
    }
    return not_an_image(what, "no known signature or header");
}

Result<Image> decode_image(const uint8_t* data, size_t size, const std::string& what) {
    if (is_png(data, size)) return decode_with(png_decode, data, size, what);
    if (is_jpeg(data, size)) return decode_with(jpeg_decode, data, size, what);
    if (is_pnm(data, size)) return decode_with(pnm_decode, data, size, what);
    if (is_bmp(data, size)) return decode_with(bmp_decode, data, size, what);
    if (is_tga(data, size)) return decode_with(tga_decode, data, size, what);
    return not_an_image(what, "no known signature or header");
}

Result<ImageInfo> npy_info(const std::string& path) {
    LUCENT_ASSIGN_OR_RETURN(const std::vector<int64_t> s, read_npy_shape(path));
    LUCENT_RETURN_IF_ERROR(check_npy_shape(path, s));
    return ImageInfo{s[0], s[1], s.size() == 3 ? static_cast<int32_t>(s[2]) : 1, PixelType::kF32};
}

Result<Image> read_npy_image(const std::string& path) {
    LUCENT_ASSIGN_OR_RETURN(NpyArray a, read_npy(path));
    LUCENT_RETURN_IF_ERROR(check_npy_shape(path, a.shape));
    Image img;
    img.h = a.shape[0];
    img.w = a.shape[1];
    img.c = a.shape.size() == 3 ? static_cast<int32_t>(a.shape[2]) : 1;
    img.type = PixelType::kF32;
    img.bytes.resize(a.data.size() * sizeof(float));
    if (!a.data.empty()) std::memcpy(img.bytes.data(), a.data.data(), img.bytes.size());
    img.from_npy = true;
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

PixelType format_pixel_type(ImageFormat format, PixelType input) {
    switch (format) {
        case ImageFormat::kNpy:
            return PixelType::kF32;
        case ImageFormat::kJpeg:
            return PixelType::kU8;
        case ImageFormat::kPng:
        case ImageFormat::kPnm:
            return input == PixelType::kU16 ? PixelType::kU16 : PixelType::kU8;
    }
    return PixelType::kU8;
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
    out.bytes.resize(static_cast<size_t>(img.h * img.w) * px_out);
    pack_pixels(img.bytes.data(), static_cast<size_t>(img.w) * px_in, img.h, img.w, px_in, px_out,
                out.bytes.data());
    return out;
}

void pack_pixels(const uint8_t* src, size_t stride, int64_t rows, int64_t w, size_t px_in,
                 size_t px_out, uint8_t* dst) {
    for (int64_t y = 0; y < rows; ++y)
        for (int64_t x = 0; x < w; ++x)
            std::memcpy(dst + static_cast<size_t>(y * w + x) * px_out,
                        src + static_cast<size_t>(y) * stride + static_cast<size_t>(x) * px_in,
                        px_out);
}

Result<std::vector<uint8_t>> encode_image(ImageFormat format, const Image& img, int jpeg_quality) {
    LUCENT_RETURN_IF_ERROR(check_for_format("the answer", format, img));
    if (format == ImageFormat::kNpy)
        return make_status(StatusCode::kInvalidArgument, ".npy is not encoded in memory");
    char* buf = nullptr;
    size_t len = 0;
    FILE* f = open_memstream(&buf, &len);
    if (f == nullptr) return make_status(StatusCode::kOutOfMemory, "cannot open a memory stream");
    const Status st = encode_to(f, "the answer", format, img, jpeg_quality);
    const bool ok = std::fclose(f) == 0;
    std::unique_ptr<char, void (*)(void*)> hold(buf, std::free);
    LUCENT_RETURN_IF_ERROR(st);
    if (!ok) return make_status(StatusCode::kOutOfMemory, "cannot encode the answer");
    return std::vector<uint8_t>(buf, buf + len);
}

Status write_image(const std::string& path, const Image& img, int jpeg_quality) {
    LUCENT_ASSIGN_OR_RETURN(const ImageFormat fmt, output_format(path));
    LUCENT_RETURN_IF_ERROR(check_for_format(path, fmt, img));
    LUCENT_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::create(path));
    LUCENT_RETURN_IF_ERROR(encode_to(out.file(), path, fmt, img, jpeg_quality));
    return out.commit();
}

}  // namespace lucent::cli
