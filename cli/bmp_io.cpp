#include "bmp_io.h"

#include <climits>
#include <cstring>

namespace lucent::cli {
namespace {

constexpr size_t kFileHeaderBytes = 14;
constexpr int64_t kMaxSide = int64_t{1} << 30;

uint32_t le16(const uint8_t* p) { return static_cast<uint32_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

Status bad(const std::string& what, const char* why) {
    return make_status(StatusCode::kInvalidArgument, "%s is not a readable BMP image (%s)",
                       what.c_str(), why);
}

// A channel mask as shift and width. field_of is false for a mask with gaps; a field wider
// than 8 bits keeps its top 8.
struct Field {
    int shift = 0, bits = 0;
};

bool field_of(uint32_t mask, Field* f) {
    *f = Field();
    if (mask == 0) return true;
    while (((mask >> f->shift) & 1u) == 0) ++f->shift;
    const uint32_t m = mask >> f->shift;
    while (f->bits < 32 && ((m >> f->bits) & 1u) != 0) ++f->bits;
    return f->bits == 32 || (m >> f->bits) == 0;  // contiguous
}

// A field's value scaled to 8 bits (0 for an absent channel).
uint8_t field_value(uint32_t px, const Field& f) {
    if (f.bits == 0) return 0;
    uint32_t v = (px >> f.shift) & (f.bits >= 32 ? 0xffffffffu : ((1u << f.bits) - 1));
    if (f.bits >= 8) return static_cast<uint8_t>(v >> (f.bits - 8));
    const uint32_t max = (1u << f.bits) - 1;
    return static_cast<uint8_t>((v * 255 + max / 2) / max);
}

}  // namespace

bool is_bmp(const uint8_t* data, size_t size) {
    return size >= 2 && data[0] == 'B' && data[1] == 'M';
}

Result<BmpHeader> bmp_header(const uint8_t* data, size_t size, const std::string& what) {
    if (!is_bmp(data, size)) return bad(what, "no 'BM' signature");
    if (size < kFileHeaderBytes + 4) return bad(what, "the file ends inside its header");
    BmpHeader h;
    h.data_offset = le32(data + 10);
    const uint32_t info_bytes = le32(data + 14);
    if (info_bytes != 12 && info_bytes != 40 && info_bytes != 52 && info_bytes != 56 &&
        info_bytes != 64 && info_bytes != 108 && info_bytes != 124)
        return bad(what, "an unknown info header size");
    if (size < kFileHeaderBytes + info_bytes) return bad(what, "the file ends inside its header");
    const uint8_t* info = data + kFileHeaderBytes;
    uint32_t compression = 0, colors_used = 0, planes = 0;
    if (info_bytes == 12) {
        h.w = le16(info + 4);
        h.h = le16(info + 6);
        planes = le16(info + 8);
        h.bpp = static_cast<int>(le16(info + 10));
        h.palette_entry_bytes = 3;
    } else {
        const int32_t w = static_cast<int32_t>(le32(info + 4));
        const int32_t hh = static_cast<int32_t>(le32(info + 8));
        if (hh == INT32_MIN) return bad(what, "an impossible height");
        h.w = w;
        h.top_down = hh < 0;
        h.h = hh < 0 ? -static_cast<int64_t>(hh) : hh;
        planes = le16(info + 12);
        h.bpp = static_cast<int>(le16(info + 14));
        compression = le32(info + 16);
        colors_used = le32(info + 32);
    }
    if (planes != 1) return bad(what, "planes is not 1");
    if (h.w < 1 || h.h < 1 || h.w > kMaxSide || h.h > kMaxSide)
        return bad(what, "zero or huge width or height");
    if (compression == 1 || compression == 2)
        return bad(what, "run-length (RLE) compressed BMP is not supported");
    if (compression == 4 || compression == 5)
        return bad(what, "BMP holding a JPEG or PNG is not supported");
    if (compression != 0 && compression != 3 && compression != 6)
        return bad(what, "an unknown compression");
    const int bpp = h.bpp;
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
        return bad(what, "an unsupported bit depth");
    size_t after_info = kFileHeaderBytes + info_bytes;
    if (compression == 3 || compression == 6) {
        if (bpp != 16 && bpp != 32) return bad(what, "bit-field masks on a depth without them");
        const size_t mask_count = compression == 6 ? 4 : 3;
        const uint8_t* masks = info + 40;
        if (info_bytes == 52 && mask_count == 4) return bad(what, "an alpha mask past its header");
        if (info_bytes == 40) {  // the masks follow the header
            if (size < after_info + 4 * mask_count)
                return bad(what, "the file ends inside its masks");
            masks = data + after_info;
            after_info += 4 * mask_count;
        } else if (info_bytes == 12 || info_bytes == 64) {
            return bad(what, "bit-field masks with an OS/2 header");
        }
        for (size_t i = 0; i < 3; ++i) h.masks[i] = le32(masks + 4 * i);
        // Alpha: the fourth mask after a 40-byte header (BI_ALPHABITFIELDS), or in a header
        // that has room for it (56 bytes and more).
        if (mask_count == 4 || info_bytes >= 56) h.masks[3] = le32(masks + 12);
    } else if (bpp == 16) {
        h.masks[0] = 0x7c00;
        h.masks[1] = 0x03e0;
        h.masks[2] = 0x001f;
    } else if (bpp == 32) {  // BI_RGB: the fourth byte is unused (BGRX), as the format says
        h.masks[0] = 0x00ff0000;
        h.masks[1] = 0x0000ff00;
        h.masks[2] = 0x000000ff;
    }
    if (bpp <= 8) {
        const size_t max_entries = size_t{1} << bpp;
        h.palette_entries = colors_used == 0 ? max_entries : colors_used;
        if (h.palette_entries > max_entries) h.palette_entries = max_entries;
        h.palette_offset = after_info;
        if (h.palette_entries * h.palette_entry_bytes > size - after_info)
            return bad(what, "the file ends inside its palette (truncated)");
    }
    for (uint32_t m : h.masks) {
        Field f;
        if (!field_of(m, &f)) return bad(what, "a colour mask with gaps");
    }
    h.c = bpp >= 16 && h.masks[3] != 0 ? 4 : 3;
    h.row_bytes = static_cast<size_t>(
        (static_cast<uint64_t>(h.w) * static_cast<uint64_t>(bpp) + 31) / 32 * 4);
    const uint64_t last_row =
        (static_cast<uint64_t>(h.w) * static_cast<uint64_t>(bpp) + 7) / 8;  // unpadded
    const uint64_t need =
        static_cast<uint64_t>(h.row_bytes) * static_cast<uint64_t>(h.h - 1) + last_row;
    if (h.data_offset > size || need > size - h.data_offset)
        return bad(what, "the file ends before its last pixel row (truncated)");
    return h;
}

Status bmp_decode(const uint8_t* data, size_t size, const std::string& what, BmpHeader* header,
                  std::vector<uint8_t>* pixels) {
    LUCENT_ASSIGN_OR_RETURN(*header, bmp_header(data, size, what));
    const BmpHeader& h = *header;
    const size_t w = static_cast<size_t>(h.w), rows = static_cast<size_t>(h.h);
    const size_t c = static_cast<size_t>(h.c);
    pixels->resize(w * rows * c);
    Field fields[4];
    for (int i = 0; i < 4; ++i) field_of(h.masks[i], &fields[i]);
    bool any_alpha = false;
    for (size_t y = 0; y < rows; ++y) {
        const uint8_t* src = data + h.data_offset + (h.top_down ? y : rows - 1 - y) * h.row_bytes;
        uint8_t* dst = pixels->data() + y * w * c;
        for (size_t x = 0; x < w; ++x, dst += c) {
            if (h.bpp <= 8) {
                const size_t per_byte = static_cast<size_t>(8 / h.bpp);
                const int shift = 8 - h.bpp * static_cast<int>(x % per_byte + 1);
                const size_t index = (src[x / per_byte] >> shift) & ((1u << h.bpp) - 1);
                if (index >= h.palette_entries)
                    return bad(what, "a pixel's palette index is outside the palette");
                const uint8_t* e = data + h.palette_offset + index * h.palette_entry_bytes;
                dst[0] = e[2];
                dst[1] = e[1];
                dst[2] = e[0];
            } else if (h.bpp == 24) {
                const uint8_t* p = src + 3 * x;
                dst[0] = p[2];
                dst[1] = p[1];
                dst[2] = p[0];
            } else {
                const uint32_t px = h.bpp == 16 ? le16(src + 2 * x) : le32(src + 4 * x);
                for (size_t k = 0; k < c; ++k) dst[k] = field_value(px, fields[k]);
                if (c == 4 && dst[3] != 0) any_alpha = true;
            }
        }
    }
    // BGRX files leave the fourth byte zero: an alpha of zero everywhere means "no alpha".
    if (c == 4 && !any_alpha)
        for (size_t i = 3; i < pixels->size(); i += 4) (*pixels)[i] = 255;
    return Status();
}

}  // namespace lucent::cli
