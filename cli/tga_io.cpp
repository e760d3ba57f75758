#include "tga_io.h"

#include <cstring>

namespace lucent::cli {
namespace {

constexpr size_t kHeaderBytes = 18;

int le16(const uint8_t* p) { return p[0] | (p[1] << 8); }

Status bad(const std::string& what, const char* why) {
    return make_status(StatusCode::kInvalidArgument, "%s is not a readable TGA image (%s)",
                       what.c_str(), why);
}

bool is_mapped(int type) { return type == 1 || type == 9; }
bool is_gray(int type) { return type == 3 || type == 11; }

// Channels of a stored pixel (or map entry) of `depth` bits.
int32_t channels_of(int depth, bool gray) {
    if (gray) return depth == 8 ? 1 : 2;
    return depth == 32 ? 4 : 3;
}

// One stored pixel of `depth` bits at p, in output channels (BGR(A) -> RGB(A)).
void convert_pixel(const uint8_t* p, int depth, bool gray, uint8_t* out) {
    if (gray) {
        out[0] = p[0];
        if (depth == 16) out[1] = p[1];
        return;
    }
    if (depth == 15 || depth == 16) {
        const int v = le16(p);
        out[0] = static_cast<uint8_t>(((v >> 10) & 31) * 255 / 31);
        out[1] = static_cast<uint8_t>(((v >> 5) & 31) * 255 / 31);
        out[2] = static_cast<uint8_t>((v & 31) * 255 / 31);
        return;
    }
    out[0] = p[2];
    out[1] = p[1];
    out[2] = p[0];
    if (depth == 32) out[3] = p[3];
}

}  // namespace

bool is_tga(const uint8_t* data, size_t size) {
    if (size < kHeaderBytes) return false;
    const int map_type = data[1], type = data[2], depth = data[16];
    const int map_length = le16(data + 5), map_depth = data[7];
    if (le16(data + 12) < 1 || le16(data + 14) < 1) return false;
    if ((data[17] & 0xc0) != 0) return false;  // interleaving: never used, not read
    if (is_mapped(type)) {
        return map_type == 1 && map_length >= 1 && (depth == 8 || depth == 16) &&
               (map_depth == 15 || map_depth == 16 || map_depth == 24 || map_depth == 32);
    }
    if (map_type > 1) return false;
    if (is_gray(type)) return depth == 8 || depth == 16;
    if (type == 2 || type == 10) return depth == 15 || depth == 16 || depth == 24 || depth == 32;
    return false;
}

Result<TgaHeader> tga_header(const uint8_t* data, size_t size, const std::string& what) {
    if (!is_tga(data, size)) return bad(what, "not a TGA header this decoder reads");
    TgaHeader h;
    h.image_type = data[2];
    h.depth = data[16];
    h.w = le16(data + 12);
    h.h = le16(data + 14);
    h.right_to_left = (data[17] & 0x10) != 0;
    h.top_to_bottom = (data[17] & 0x20) != 0;
    h.map_offset = kHeaderBytes + data[0];  // after the image ID
    size_t map_bytes = 0;
    if (data[1] == 1) {  // a map is skipped when the image is not colour-mapped
        h.map_first = le16(data + 3);
        h.map_length = le16(data + 5);
        h.map_depth = data[7];
        map_bytes = static_cast<size_t>(h.map_length) * static_cast<size_t>((h.map_depth + 7) / 8);
    }
    h.data_offset = h.map_offset + map_bytes;
    if (h.data_offset > size) return bad(what, "the file ends inside the colour map (truncated)");
    h.c = is_mapped(h.image_type) ? channels_of(h.map_depth, false)
                                  : channels_of(h.depth, is_gray(h.image_type));
    if (h.image_type < 9) {  // uncompressed: the size is known from the header
        const uint64_t need = static_cast<uint64_t>(h.w) * static_cast<uint64_t>(h.h) *
                              static_cast<uint64_t>((h.depth + 7) / 8);
        if (need > size - h.data_offset) return bad(what, "the file ends early (truncated)");
    }
    return h;
}

Status tga_decode(const uint8_t* data, size_t size, const std::string& what, TgaHeader* header,
                  std::vector<uint8_t>* pixels) {
    LUCENT_ASSIGN_OR_RETURN(*header, tga_header(data, size, what));
    const TgaHeader& h = *header;
    const size_t stored = static_cast<size_t>((h.depth + 7) / 8);
    const size_t c = static_cast<size_t>(h.c);
    const bool mapped = is_mapped(h.image_type), gray = is_gray(h.image_type);
    const size_t entry = static_cast<size_t>((h.map_depth + 7) / 8);

    // The colour map, converted once.
    std::vector<uint8_t> map;
    if (mapped) {
        map.resize(static_cast<size_t>(h.map_length) * c);
        for (int i = 0; i < h.map_length; ++i)
            convert_pixel(data + h.map_offset + static_cast<size_t>(i) * entry, h.map_depth, false,
                          map.data() + static_cast<size_t>(i) * c);
    }

    const size_t count = static_cast<size_t>(h.w * h.h);
    std::vector<uint8_t> file_order(count * c);  // the pixels as stored, in storage order
    size_t pos = h.data_offset;
    // Converts the stored pixel at `src` into pixel number i of file_order.
    auto put = [&](const uint8_t* src, size_t i) -> bool {
        uint8_t* out = file_order.data() + i * c;
        if (!mapped) {
            convert_pixel(src, h.depth, gray, out);
            return true;
        }
        const int index = (h.depth == 8 ? src[0] : le16(src)) - h.map_first;
        if (index < 0 || index >= h.map_length) return false;
        std::memcpy(out, map.data() + static_cast<size_t>(index) * c, c);
        return true;
    };
    const char* kBadIndex = "a pixel's colour-map index is outside the map";
    if (h.image_type < 9) {
        for (size_t i = 0; i < count; ++i, pos += stored)
            if (!put(data + pos, i)) return bad(what, kBadIndex);
    } else {
        // Run-length packets: a header byte (top bit: a run; low 7 bits: count - 1), then one
        // pixel repeated or `count` raw pixels. Packets may cross rows.
        size_t i = 0;
        while (i < count) {
            if (pos >= size) return bad(what, "the run-length data ends early (truncated)");
            const uint8_t packet = data[pos++];
            const size_t n = static_cast<size_t>(packet & 0x7f) + 1;
            if (n > count - i) return bad(what, "a run-length packet runs past the last pixel");
            const bool run = (packet & 0x80) != 0;
            const size_t bytes = run ? stored : n * stored;
            if (bytes > size - pos) return bad(what, "the run-length data ends early (truncated)");
            for (size_t k = 0; k < n; ++k)
                if (!put(data + pos + (run ? 0 : k * stored), i + k)) return bad(what, kBadIndex);
            pos += bytes;
            i += n;
        }
    }

    // Storage order to top-left first: rows are bottom-up unless the top-to-bottom bit is set,
    // columns right-to-left when that bit is.
    pixels->resize(count * c);
    const size_t w = static_cast<size_t>(h.w), rows = static_cast<size_t>(h.h);
    for (size_t y = 0; y < rows; ++y) {
        const uint8_t* src = file_order.data() + (h.top_to_bottom ? y : rows - 1 - y) * w * c;
        uint8_t* dst = pixels->data() + y * w * c;
        if (!h.right_to_left) {
            std::memcpy(dst, src, w * c);
        } else {
            for (size_t x = 0; x < w; ++x) std::memcpy(dst + x * c, src + (w - 1 - x) * c, c);
        }
    }
    return Status();
}

}  // namespace lucent::cli
