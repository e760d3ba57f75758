// BMP decoding, written here because stb_image accepts a truncated BMP and fills the missing
// pixels with zeros. Reads the Windows formats a camera, an editor or PIL writes: the
// 12-byte OS/2 core header and the 40/52/56/108/124-byte info headers; uncompressed 1/4/8-bit
// palette images, 24-bit BGR, 16- and 32-bit pixels with the default masks (5-5-5, 8-8-8-8)
// or BI_BITFIELDS / BI_ALPHABITFIELDS masks (contiguous, up to 8 bits used per channel);
// bottom-up or top-down rows. Run-length (RLE4/RLE8), JPEG and PNG payloads are refused by
// name. Channels out: 3 (RGB), or 4 when a bit-field header declares an alpha mask (32-bit
// BI_RGB is BGRX: its fourth byte is unused, as the format says and PIL reads it; stb_image
// took it as alpha); an alpha channel that is zero everywhere reads as opaque. Strict: the header's
// rows must all be in the file (the last row may omit its padding), and a palette index must be
// inside the palette.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lucent/status.hpp"

namespace lucent::cli {

struct BmpHeader {
    int64_t w = 0, h = 0;
    int32_t c = 0;  // 3 or 4
    int bpp = 0;
    bool top_down = false;
    uint32_t masks[4] = {0, 0, 0, 0};  // r, g, b, a for 16- and 32-bit pixels
    size_t palette_offset = 0, palette_entries = 0, palette_entry_bytes = 4;
    size_t data_offset = 0, row_bytes = 0;
};

bool is_bmp(const uint8_t* data, size_t size);
Result<BmpHeader> bmp_header(const uint8_t* data, size_t size, const std::string& what);
// Pixels interleaved, top row first, 8 bits per sample.
Status bmp_decode(const uint8_t* data, size_t size, const std::string& what, BmpHeader* header,
                  std::vector<uint8_t>* pixels);

}  // namespace lucent::cli
