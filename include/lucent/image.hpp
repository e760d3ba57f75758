// Lucent: interleaved images in the caller's memory, for Model::run_image().
//
// An image is `height` rows of `width` pixels; each pixel holds `channels` samples of one
// PixelType, interleaved (RGBRGB..., RGBARGBA...). Rows start `stride_bytes` apart (0 means
// packed: width * channels * sample size). `size_bytes` is the size of the buffer behind
// `data`, so a call can refuse a buffer that is too small instead of writing past it.
//
// Channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. Sample values: uint8 0..255 and uint16
// 0..65535 map to [0, 1]; float32 is taken as it is (no clamping, in or out).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lucent {

enum class PixelType : int32_t {
    kU8 = 1,   // 8-bit unsigned
    kU16 = 2,  // 16-bit unsigned, native byte order
    kF32 = 3,  // 32-bit float
};

// Bytes per sample (1, 2 or 4); 0 for a value outside the enum.
size_t pixel_type_size(PixelType type);
// "u8", "u16" or "f32" ("?" for a value outside the enum).
const char* pixel_type_name(PixelType type);

struct ConstImageView {
    const void* data = nullptr;
    size_t size_bytes = 0;  // bytes readable at data
    int64_t width = 0, height = 0;
    int32_t channels = 0;  // 1-4
    PixelType type = PixelType::kU8;
    size_t stride_bytes = 0;  // 0 = packed rows
};

struct ImageView {
    void* data = nullptr;
    size_t size_bytes = 0;  // bytes writable at data
    int64_t width = 0, height = 0;
    int32_t channels = 0;  // 1-4
    PixelType type = PixelType::kU8;
    size_t stride_bytes = 0;           // 0 = packed rows
    operator ConstImageView() const {  // NOLINT: implicit by design
        return ConstImageView{data, size_bytes, width, height, channels, type, stride_bytes};
    }
};

// Size of an image a model produces (Model::output_image_size).
struct ImageSize {
    int64_t width = 0, height = 0;
    int32_t channels = 0;
};

// Bytes an image of this size and type needs with rows `stride_bytes` apart (0 = packed):
// stride * (height - 1) + width * channels * sample size. 0 when the figures are invalid
// (non-positive sizes, stride smaller than a row, or overflow).
size_t image_buffer_bytes(const ImageSize& size, PixelType type, size_t stride_bytes = 0);

}  // namespace lucent
