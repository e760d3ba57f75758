// PNG through libpng: decode from memory (8- or 16-bit; palette and low-bit gray expanded,
// tRNS becomes alpha; interlaced too) and encode 8- or 16-bit rows to a FILE* (row_encoder.h).
// libpng's errors (longjmp) are caught inside these functions and come back as a Status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "lucent/image.hpp"
#include "lucent/status.hpp"

namespace lucent::cli {

struct PngHeader {
    int64_t w = 0, h = 0;
    int32_t c = 0;                    // after expansion: 1-4
    PixelType type = PixelType::kU8;  // kU16 for 16-bit files
};

bool is_png(const uint8_t* data, size_t size);
Result<PngHeader> png_header(const uint8_t* data, size_t size, const std::string& what);
// Decodes into `pixels` (h * w * c samples of the header's type, packed rows).
Status png_decode(const uint8_t* data, size_t size, const std::string& what, PngHeader* header,
                  std::vector<uint8_t>* pixels);
// Encoding: png_row_encoder() in row_encoder.h.

}  // namespace lucent::cli
