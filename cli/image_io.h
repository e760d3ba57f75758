// Image files for the CLI. In: PNG, JPEG, BMP, TGA and binary PNM (stb_image; 8- or 16-bit,
// gray, gray+alpha, RGB, RGBA) and .npy float32 H x W x C (or H x W). Out: PNG and JPEG
// (stb_image_write, 8-bit), binary PGM/PPM (8-bit) and .npy float32. Pixels stay in the
// file's own sample type (uint8, uint16 or float32), interleaved. Every writer goes through an
// AtomicFile (atomic_file.h): a failure never leaves a partial or temporary file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lucent/image.hpp"
#include "lucent/status.hpp"

namespace lucent::cli {

struct Image {
    int64_t h = 0, w = 0;
    int32_t c = 0;                    // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (up to 64 for .npy)
    PixelType type = PixelType::kU8;  // kF32 exactly for .npy
    std::vector<uint8_t> bytes;       // h * w * c samples, packed rows
    bool from_npy = false;            // .npy values are taken as they are (no [0, 1] clamp)

    ConstImageView view() const;
    ImageView view();
};

struct ImageInfo {
    int64_t h = 0, w = 0;
    int32_t c = 0;
    PixelType type = PixelType::kU8;
};

// Dimensions without decoding the pixels (for memory checks before a large decode).
Result<ImageInfo> read_image_info(const std::string& path);
// Decodes a file (by content for images, by the .npy extension for arrays).
Result<Image> read_image(const std::string& path);

enum class ImageFormat { kPng, kJpeg, kPnm, kNpy };
// From the extension (.png, .jpg/.jpeg, .ppm/.pgm, .npy; case-insensitive), or
// kInvalidArgument.
Result<ImageFormat> output_format(const std::string& path);
// The extension written for a format, e.g. ".png".
const char* format_extension(ImageFormat format, int32_t channels);
// The sample type a format stores (8-bit for images, float for .npy).
PixelType format_pixel_type(ImageFormat format);
// Whether the format keeps an alpha channel (PNG and .npy do; JPEG and PNM do not).
bool format_has_alpha(ImageFormat format);
// The image without its last channel (for formats without alpha).
Image drop_alpha(const Image& img);
// The image's type must be format_pixel_type(); JPEG and PNM take 1 or 3 channels, PNG 1-4.
Status write_image(const std::string& path, const Image& img, int jpeg_quality = 95);

}  // namespace lucent::cli
