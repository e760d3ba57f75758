// The BMP and TGA readers on files built here, byte by byte, for the layouts PIL does not write
// (tests/python/test_decoders.py covers those against PIL): 15/16-bit pixels, 16-bit and
// 24/32-bit colour maps, right-to-left TGA, 5-6-5 and alpha bit fields, OS/2 and top-down BMP,
// 4-bit palettes; every cut of each file is refused, never decoded from memory it lacks.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/image_io.h"

namespace lucent::cli {
namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes* b, uint32_t v) {
    b->push_back(static_cast<uint8_t>(v));
    b->push_back(static_cast<uint8_t>(v >> 8));
}
void put32(Bytes* b, uint32_t v) {
    put16(b, v & 0xffff);
    put16(b, v >> 16);
}

Bytes tga_header(int map_type, int type, int map_first, int map_len, int map_depth, int w, int h,
                 int depth, int descriptor) {
    Bytes b{0, static_cast<uint8_t>(map_type), static_cast<uint8_t>(type)};
    put16(&b, static_cast<uint32_t>(map_first));
    put16(&b, static_cast<uint32_t>(map_len));
    b.push_back(static_cast<uint8_t>(map_depth));
    put16(&b, 0);
    put16(&b, 0);
    put16(&b, static_cast<uint32_t>(w));
    put16(&b, static_cast<uint32_t>(h));
    b.push_back(static_cast<uint8_t>(depth));
    b.push_back(static_cast<uint8_t>(descriptor));
    return b;
}

Image decoded(const Bytes& b) {
    Result<Image> img = decode_image(b.data(), b.size(), "test");
    EXPECT_TRUE(img.ok()) << img.status().message();
    return img.ok() ? std::move(img).value() : Image();
}

// Every prefix from keep_from bytes on that lacks pixel data must be refused (a BMP's last row
// may lack its padding: `padding` bytes). The header alone tells a cut of an uncompressed
// file; run-length data is only known short while decoding.
void expect_every_cut_refused(const Bytes& b, size_t keep_from, const char* what,
                              size_t padding = 0, bool header_knows = true) {
    for (size_t n = keep_from; n < b.size() - padding; ++n) {
        Result<Image> img = decode_image(b.data(), n, "test");
        EXPECT_FALSE(img.ok()) << what << " cut to " << n << " of " << b.size() << " bytes";
        Result<ImageInfo> info = image_info(b.data(), n, "test");
        if (header_knows && info.ok()) {
            ADD_FAILURE() << what << ": header of a file cut to " << n << " accepted";
        }
    }
}

TEST(TgaReader, SixteenBitRightToLeftTopDown) {
    // 2 x 2, 16-bit true colour, descriptor: top-to-bottom (0x20) and right-to-left (0x10).
    Bytes b = tga_header(0, 2, 0, 0, 0, 2, 2, 16, 0x30);
    const uint32_t px[4] = {0x7c00, 0x03e0, 0x001f, 0x4210};  // stored R, G, B, mid-gray
    for (uint32_t p : px) put16(&b, p);
    const Image img = decoded(b);
    ASSERT_EQ(img.c, 3);
    // Row 0 stored (R, G) shown right-to-left: G, R. Row 1: (B, gray) -> gray, B.
    const Bytes want{0, 255, 0, 255, 0, 0, 131, 131, 131, 0, 0, 255};
    EXPECT_EQ(img.bytes, want);
    expect_every_cut_refused(b, 18, "16-bit TGA");
}

TEST(TgaReader, ColourMapsWithSixteenBitIndicesAndAFirstEntry) {
    // Map entries 5..6 (first entry 5), 32-bit BGRA; 16-bit indices; bottom-up (descriptor 0).
    Bytes b = tga_header(1, 1, 5, 2, 32, 2, 1, 16, 0);
    for (uint32_t e : {0x80102030u, 0xff405060u}) put32(&b, e);  // BGRA little-endian
    put16(&b, 6);
    put16(&b, 5);
    const Image img = decoded(b);
    ASSERT_EQ(img.c, 4);
    const Bytes want{0x40, 0x50, 0x60, 0xff, 0x10, 0x20, 0x30, 0x80};
    EXPECT_EQ(img.bytes, want);
    expect_every_cut_refused(b, 18, "mapped TGA");
    Bytes outside = b;
    outside[outside.size() - 2] = 4;  // index 4 is before the first entry
    EXPECT_FALSE(decode_image(outside.data(), outside.size(), "test").ok());
}

TEST(TgaReader, RunLengthPacketsAcrossRowsAndOverruns) {
    // 3 x 2 gray, RLE: a run of 4 (crosses the row end), then 2 raw pixels.
    Bytes b = tga_header(0, 11, 0, 0, 0, 3, 2, 8, 0x20);
    for (uint8_t v : {0x83, 9, 0x01, 1, 2}) b.push_back(v);
    const Image img = decoded(b);
    EXPECT_EQ(img.bytes, (Bytes{9, 9, 9, 9, 1, 2}));
    expect_every_cut_refused(b, 18, "RLE TGA", 0, false);
    Bytes over = b;
    over[18] = 0x86;  // a run of 7 pixels in a 6-pixel image
    EXPECT_FALSE(decode_image(over.data(), over.size(), "test").ok());
}

Bytes bmp(int info_bytes, int32_t w, int32_t h, int bpp, uint32_t compression,
          const std::vector<uint32_t>& masks, const Bytes& palette, const Bytes& pixels) {
    Bytes info;
    put32(&info, static_cast<uint32_t>(info_bytes));
    if (info_bytes == 12) {
        put16(&info, static_cast<uint32_t>(w));
        put16(&info, static_cast<uint32_t>(h));
        put16(&info, 1);
        put16(&info, static_cast<uint32_t>(bpp));
    } else {
        put32(&info, static_cast<uint32_t>(w));
        put32(&info, static_cast<uint32_t>(h));
        put16(&info, 1);
        put16(&info, static_cast<uint32_t>(bpp));
        put32(&info, compression);
        for (int i = 0; i < 5; ++i) put32(&info, 0);
        if (info_bytes > 40)
            for (size_t i = 0; i < 4; ++i) put32(&info, i < masks.size() ? masks[i] : 0);
        while (static_cast<int>(info.size()) < info_bytes) info.push_back(0);
    }
    Bytes extra;
    if (info_bytes == 40)
        for (uint32_t m : masks) put32(&extra, m);
    const uint32_t offset = static_cast<uint32_t>(14 + info.size() + extra.size() + palette.size());
    Bytes b{'B', 'M'};
    put32(&b, offset + static_cast<uint32_t>(pixels.size()));
    put32(&b, 0);
    put32(&b, offset);
    const Bytes* parts[] = {&info, &extra, &palette, &pixels};
    for (const Bytes* part : parts) b.insert(b.end(), part->begin(), part->end());
    return b;
}

TEST(BmpReader, FiveSixFiveBitFieldsTopDown) {
    // 2 x 2, top-down (negative height), 16-bit 5-6-5; rows of 4 bytes need no padding.
    Bytes px;
    for (uint32_t p : {0xf800u, 0x07e0u, 0x001fu, 0xffffu}) put16(&px, p);
    const Bytes b = bmp(40, 2, -2, 16, 3, {0xf800, 0x07e0, 0x001f}, {}, px);
    const Image img = decoded(b);
    ASSERT_EQ(img.c, 3);
    EXPECT_EQ(img.bytes, (Bytes{255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255}));
    expect_every_cut_refused(b, 14, "5-6-5 BMP");
}

TEST(BmpReader, AlphaMaskInAVersion5Header) {
    // 1 x 2 bottom-up, 32-bit with an alpha mask in a 124-byte header.
    Bytes px;
    put32(&px, 0x11223344);  // bottom row
    put32(&px, 0x80ff0000);  // top row: red, alpha 0x80
    const Bytes b = bmp(124, 1, 2, 32, 3, {0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000}, {}, px);
    const Image img = decoded(b);
    ASSERT_EQ(img.c, 4);
    EXPECT_EQ(img.bytes, (Bytes{255, 0, 0, 0x80, 0x22, 0x33, 0x44, 0x11}));
    expect_every_cut_refused(b, 14, "V5 BMP");
}

TEST(BmpReader, FourBitPaletteAndCoreHeader) {
    // 3 x 1, 4-bit, 2-entry palette: indices 1, 0, 1 (high nibble first), padded to 4 bytes.
    const Bytes pal{10, 20, 30, 0, 40, 50, 60, 0};
    Bytes b = bmp(40, 3, 1, 4, 0, {}, pal, Bytes{0x10, 0x10, 0, 0});
    // colors used = 2 (offset 14 + 32)
    b[46] = 2;
    Image img = decoded(b);
    EXPECT_EQ(img.bytes, (Bytes{60, 50, 40, 30, 20, 10, 60, 50, 40}));
    Bytes bad_index = b;
    bad_index[bad_index.size() - 4] = 0x20;  // index 2 of a 2-entry palette
    EXPECT_FALSE(decode_image(bad_index.data(), bad_index.size(), "test").ok());
    // OS/2 core header: 3-byte palette entries, 8-bit, 1 x 1.
    const Bytes core = bmp(12, 1, 1, 8, 0, {}, Bytes(256 * 3, 7), Bytes{5, 0, 0, 0});
    img = decoded(core);
    EXPECT_EQ(img.bytes, (Bytes{7, 7, 7}));
    expect_every_cut_refused(core, 14, "OS/2 BMP", 3);
}

TEST(BmpReader, RunLengthIsRefusedByName) {
    const Bytes b = bmp(40, 2, 2, 8, 1, {}, Bytes(1024, 0), Bytes(8, 0));
    Result<Image> img = decode_image(b.data(), b.size(), "x.bmp");
    ASSERT_FALSE(img.ok());
    EXPECT_NE(img.status().message().find("RLE"), std::string::npos) << img.status().message();
}

}  // namespace
}  // namespace lucent::cli
