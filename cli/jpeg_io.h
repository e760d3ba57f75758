// JPEG through libjpeg-turbo: decode from memory to 8-bit gray or RGB (CMYK/YCCK files are
// refused by name), encode 8-bit gray or RGB to a FILE*. Library errors (longjmp) are caught
// inside and come back as a Status; a truncated file is an error too, so it never decodes to
// a half-grey picture silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "lucent/status.hpp"

namespace lucent::cli {

struct JpegHeader {
    int64_t w = 0, h = 0;
    int32_t c = 0;  // 1 or 3
};

bool is_jpeg(const uint8_t* data, size_t size);
Result<JpegHeader> jpeg_header(const uint8_t* data, size_t size, const std::string& what);
Status jpeg_decode(const uint8_t* data, size_t size, const std::string& what, JpegHeader* header,
                   std::vector<uint8_t>* pixels);
// Encoding: jpeg_row_encoder() in row_encoder.h.

}  // namespace lucent::cli
