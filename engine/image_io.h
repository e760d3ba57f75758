// Image files for the CLI: PNG, JPEG, BMP and TGA in (stb_image; 8- or 16-bit, gray, gray+alpha,
// RGB, RGBA), PNG and JPEG out (stb_image_write, 8-bit), and .npy float32 H x W x C (or H x W)
// both ways. Pixels are interleaved HWC floats in [0, 1]. Writers go through a temporary file in
// the destination folder and rename it into place, so a failure never leaves a partial file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lucent/status.hpp"

namespace lucent {

struct Image {
    int64_t h = 0, w = 0, c = 0;  // c: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (any for .npy)
    std::vector<float> data;      // h * w * c values, row-major, channels interleaved
    bool from_npy = false;        // .npy values are taken as they are (no [0, 1] clamp)
};

struct ImageInfo {
    int64_t h = 0, w = 0, c = 0;
};

// Dimensions without decoding the pixels (for memory checks before a large decode).
Result<ImageInfo> read_image_info(const std::string& path);
// Decodes a file (by content for images, by the .npy extension for arrays).
Result<Image> read_image(const std::string& path);

enum class ImageFormat { kPng, kJpeg, kNpy };
// From the extension (.png, .jpg/.jpeg, .npy; case-insensitive), or kInvalidArgument.
Result<ImageFormat> output_format(const std::string& path);
// 8-bit quantisation is round_half_to_even(clamp(v, 0, 1) * 255); NaN becomes 0.
uint8_t to_u8(float v);
// JPEG stores 1 or 3 channels (an alpha channel is an error: drop it first); PNG 1-4.
Status write_image(const std::string& path, const Image& img, int jpeg_quality = 95);

}  // namespace lucent
