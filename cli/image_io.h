// Image files for the CLI and the server. Decoders run on bytes in memory:
//   PNG (libpng, 8/16-bit, palette and tRNS expanded), JPEG (libjpeg-turbo, gray/RGB),
//   binary PGM/PPM (pnm_io, 8/16-bit), BMP (bmp_io) and TGA (tga_io), each refusing a
//   truncated file,
// and .npy float32 H x W x C (or H x W) by file name. Encoders: PNG 8/16-bit (libpng), JPEG
// 8-bit (libjpeg-turbo), binary PGM/PPM 8/16-bit, .npy float32. Pixels stay in the file's own
// sample type (uint8, uint16 or float32), interleaved. write_image goes through an AtomicFile
// (atomic_file.h): a failure never leaves a partial or temporary file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "lucent/image.hpp"
#include "lucent/status.hpp"
#include "row_encoder.h"

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

// A whole input file in memory (not for .npy, which is read by name).
Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes);
bool is_npy_name(const std::string& path);

// Header only: size, channels and sample type, without decoding the pixels.
Result<ImageInfo> image_info(const uint8_t* data, size_t size, const std::string& what);
Result<Image> decode_image(const uint8_t* data, size_t size, const std::string& what);
// .npy by name.
Result<ImageInfo> npy_info(const std::string& path);
Result<Image> read_npy_image(const std::string& path);

enum class ImageFormat { kPng, kJpeg, kPnm, kNpy };
// From the extension (.png, .jpg/.jpeg, .ppm/.pgm, .npy; case-insensitive), or
// kInvalidArgument.
Result<ImageFormat> output_format(const std::string& path);
// The sample type written for a format, given the input's: 16-bit stays 16-bit in PNG and
// PNM, JPEG is 8-bit, .npy float.
PixelType format_pixel_type(ImageFormat format, PixelType input);
// Whether the format keeps an alpha channel (PNG and .npy do; JPEG and PNM do not).
bool format_has_alpha(ImageFormat format);
// The image without its last channel (for formats without alpha).
Image drop_alpha(const Image& img);
// Copies the first px_out bytes of each px_in-byte pixel of `rows` rows of w pixels (`stride`
// bytes apart) into packed rows at dst: dropping alpha, or removing a row stride.
void pack_pixels(const uint8_t* src, size_t stride, int64_t rows, int64_t w, size_t px_in,
                 size_t px_out, uint8_t* dst);
// Encodes to bytes in memory (the server's answer), or to a file through an AtomicFile.
Result<std::vector<uint8_t>> encode_image(ImageFormat format, const Image& img,
                                          int jpeg_quality = 95);
Status write_image(const std::string& path, const Image& img, int jpeg_quality = 95);
// A row-by-row encoder of `fmt` for a w x h image of c channels of `type` (kF32 for .npy).
Result<std::unique_ptr<RowEncoder>> make_row_encoder(FILE* f, const std::string& what,
                                                     ImageFormat fmt, int64_t w, int64_t h,
                                                     int32_t c, PixelType type,
                                                     int jpeg_quality = 95);

}  // namespace lucent::cli
