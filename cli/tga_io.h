// TGA decoding, written here because stb_image decodes a truncated TGA from memory it never
// wrote (the output then held whatever the heap had: three runs, three different files).
// Reads image types 1/2/3 and their run-length forms 9/10/11: colour-mapped (8- or 16-bit
// indices into a 15/16/24/32-bit map), true colour 15/16/24/32-bit and gray 8-bit or 16-bit
// (gray + alpha). Channels out: gray 1, gray+alpha 2, 15/16/24-bit colour 3 (5-bit channels
// scaled by 255/31, the 16-bit attribute bit ignored), 32-bit 4. Both origin bits are honoured.
// Strict: every pixel must come from the file (a run or raw packet past the end, or a map
// index past the map, is an error); bytes after the pixels (TGA 2.0's footer) are allowed.
// TGA has no magic number: is_tga accepts a header only when every field is one of the
// values above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lucent/status.hpp"

namespace lucent::cli {

struct TgaHeader {
    int64_t w = 0, h = 0;
    int32_t c = 0;       // channels decoded: 1 to 4
    int image_type = 0;  // 1, 2, 3, 9, 10, 11
    int depth = 0;       // bits per stored pixel (or per map index)
    int map_first = 0, map_length = 0, map_depth = 0;
    bool right_to_left = false, top_to_bottom = false;
    size_t map_offset = 0, data_offset = 0;
};

bool is_tga(const uint8_t* data, size_t size);
Result<TgaHeader> tga_header(const uint8_t* data, size_t size, const std::string& what);
// Pixels interleaved, top row first, 8 bits per sample.
Status tga_decode(const uint8_t* data, size_t size, const std::string& what, TgaHeader* header,
                  std::vector<uint8_t>* pixels);

}  // namespace lucent::cli
