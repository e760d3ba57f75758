// Binary PGM (P5) and PPM (P6) decoding, written here because stb_image 2.27's PNM header
// parser overflows on long numbers (found by fuzzing). Strict: one header of magic, width,
// height and maxval (1 to 65535) separated by whitespace and '#' comments, then exactly the
// samples (big-endian when maxval > 255). Samples are scaled to the full 8- or 16-bit range
// when maxval is not 255 / 65535.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lucent/image.hpp"
#include "lucent/status.hpp"

namespace lucent::cli {

struct PnmHeader {
    int64_t w = 0, h = 0;
    int32_t c = 0;  // 1 (P5) or 3 (P6)
    PixelType type = PixelType::kU8;
    int32_t maxval = 255;
    size_t data_offset = 0;
};

bool is_pnm(const uint8_t* data, size_t size);
Result<PnmHeader> pnm_header(const uint8_t* data, size_t size, const std::string& what);
Status pnm_decode(const uint8_t* data, size_t size, const std::string& what, PnmHeader* header,
                  std::vector<uint8_t>* pixels);

}  // namespace lucent::cli
