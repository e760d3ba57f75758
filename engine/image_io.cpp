// The only translation unit with the stb implementations.
#include "engine/image_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "engine/npy.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace lucent {
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
    FILE* f = static_cast<FILE*>(context);
    if (std::fwrite(data, 1, static_cast<size_t>(size), f) != static_cast<size_t>(size)) {
        // The error flag stays set; write_image() checks ferror() before renaming.
    }
}

}  // namespace

Result<ImageInfo> read_image_info(const std::string& path) {
    if (is_npy(path)) {
        Result<std::vector<int64_t>> shape = read_npy_shape(path);
        if (!shape.ok()) return shape.status();
        const auto& s = shape.value();
        LUCENT_RETURN_IF_ERROR(check_npy_shape(path, s));
        return ImageInfo{s[0], s[1], s.size() == 3 ? s[2] : 1};
    }
    std::unique_ptr<FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f)
        return make_status(StatusCode::kIo, "cannot open %s: %s", path.c_str(),
                           std::strerror(errno));
    int w = 0, h = 0, c = 0;
    if (!stbi_info_from_file(f.get(), &w, &h, &c))
        return make_status(StatusCode::kInvalidArgument,
                           "%s is not a readable PNG, JPEG, BMP or TGA image (%s)", path.c_str(),
                           stbi_failure_reason());
    return ImageInfo{h, w, c};
}

Result<Image> read_image(const std::string& path) {
    Image img;
    if (is_npy(path)) {
        Result<NpyArray> a = read_npy(path);
        if (!a.ok()) return a.status();
        LUCENT_RETURN_IF_ERROR(check_npy_shape(path, a.value().shape));
        const auto& s = a.value().shape;
        img.h = s[0];
        img.w = s[1];
        img.c = s.size() == 3 ? s[2] : 1;
        img.data = std::move(a.value().data);
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
    if (pixels == nullptr)
        return make_status(StatusCode::kInvalidArgument,
                           "%s is not a readable PNG, JPEG, BMP or TGA image (%s)", path.c_str(),
                           stbi_failure_reason());
    std::unique_ptr<void, void (*)(void*)> hold(pixels, [](void* p) { stbi_image_free(p); });
    img.h = h;
    img.w = w;
    img.c = c;
    const size_t count = static_cast<size_t>(h) * static_cast<size_t>(w) * static_cast<size_t>(c);
    img.data.resize(count);
    if (sixteen) {
        const uint16_t* p = static_cast<const uint16_t*>(pixels);
        for (size_t i = 0; i < count; ++i) img.data[i] = static_cast<float>(p[i]) / 65535.0f;
    } else {
        const uint8_t* p = static_cast<const uint8_t*>(pixels);
        for (size_t i = 0; i < count; ++i) img.data[i] = static_cast<float>(p[i]) / 255.0f;
    }
    return img;
}

Result<ImageFormat> output_format(const std::string& path) {
    if (ends_with(path, ".png")) return ImageFormat::kPng;
    if (ends_with(path, ".jpg") || ends_with(path, ".jpeg")) return ImageFormat::kJpeg;
    if (ends_with(path, ".npy")) return ImageFormat::kNpy;
    return make_status(StatusCode::kInvalidArgument,
                       "cannot tell the output format of %s: use .png, .jpg, .jpeg or .npy",
                       path.c_str());
}

uint8_t to_u8(float v) {
    if (!(v > 0.0f)) return 0;  // also NaN
    if (v >= 1.0f) return 255;
    return static_cast<uint8_t>(std::nearbyint(v * 255.0f));  // ties to even (default mode)
}

Status write_image(const std::string& path, const Image& img, int jpeg_quality) {
    Result<ImageFormat> fmt = output_format(path);
    if (!fmt.ok()) return fmt.status();
    const size_t count = static_cast<size_t>(img.h * img.w * img.c);
    if (img.h < 1 || img.w < 1 || img.c < 1 || img.data.size() != count)
        return make_status(StatusCode::kInternal, "write_image: inconsistent image");
    if (fmt.value() == ImageFormat::kNpy)
        return write_npy(path, {img.h, img.w, img.c}, img.data.data());
    if (img.h > INT32_MAX / 8 || img.w > INT32_MAX / 8 / img.c)
        return make_status(StatusCode::kInvalidArgument,
                           "%s: %lldx%lld is too large for the PNG/JPEG writer; write .npy",
                           path.c_str(), static_cast<long long>(img.w),
                           static_cast<long long>(img.h));
    if (fmt.value() == ImageFormat::kJpeg && img.c != 1 && img.c != 3)
        return make_status(StatusCode::kInvalidArgument,
                           "%s: JPEG stores gray or RGB, not %lld channels", path.c_str(),
                           static_cast<long long>(img.c));
    if (img.c > 4)
        return make_status(StatusCode::kInvalidArgument, "%s: PNG stores 1 to 4 channels, not %lld",
                           path.c_str(), static_cast<long long>(img.c));
    std::vector<uint8_t> bytes(count);
    for (size_t i = 0; i < count; ++i) bytes[i] = to_u8(img.data[i]);

    std::string tmp = path + ".tmp-XXXXXX";
    const int fd = mkstemp(&tmp[0]);
    if (fd < 0)
        return make_status(StatusCode::kIo, "cannot create a temporary file beside %s: %s",
                           path.c_str(), std::strerror(errno));
    fchmod(fd, 0644);  // mkstemp's 0600 would make the result private
    FILE* f = fdopen(fd, "wb");
    if (f == nullptr) {
        close(fd);
        std::remove(tmp.c_str());
        return make_status(StatusCode::kIo, "cannot write %s", tmp.c_str());
    }
    const int w = static_cast<int>(img.w), h = static_cast<int>(img.h), c = static_cast<int>(img.c);
    const int ok =
        fmt.value() == ImageFormat::kPng
            ? stbi_write_png_to_func(write_callback, f, w, h, c, bytes.data(), w * c)
            : stbi_write_jpg_to_func(write_callback, f, w, h, c, bytes.data(), jpeg_quality);
    const bool write_error = std::ferror(f) != 0;
    const bool close_error = std::fclose(f) != 0;
    if (!ok || write_error || close_error) {
        std::remove(tmp.c_str());
        return make_status(StatusCode::kIo, "cannot write %s (disk full or not writable?)",
                           path.c_str());
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        return make_status(StatusCode::kIo, "cannot rename the finished file to %s: %s",
                           path.c_str(), std::strerror(err));
    }
    return Status();
}

}  // namespace lucent
