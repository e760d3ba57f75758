// libFuzzer target: the image decoders as the CLI and the server call them (PNG via libpng,
// JPEG via libjpeg-turbo, BMP/TGA/PNM written here): the header, then, for images small
// enough for the fuzzer's memory, the pixels; the decoded size must match the header, and a
// second decode must give the same bytes (a decoder reading memory it never wrote would not:
// ASan does not track uninitialised reads).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "cli/image_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    lucent::Result<lucent::cli::ImageInfo> info = lucent::cli::image_info(data, size, "fuzz input");
    if (!info.ok()) return 0;
    const auto& i = info.value();
    // A few header bytes can declare millions of pixels (54 x 52236 RGBA from an 81-byte TGA);
    // decoding those under ASan takes seconds and only slows the search. The CLI and server
    // bound real inputs with their memory and pixel limits before decoding.
    if (i.w * i.h * i.c > (int64_t{1} << 22)) return 0;
    lucent::Result<lucent::cli::Image> img = lucent::cli::decode_image(data, size, "fuzz input");
    if (img.ok() && (img.value().w != i.w || img.value().h != i.h || img.value().c != i.c))
        std::abort();  // header and pixels disagree: a finding
    if (img.ok()) {
        lucent::Result<lucent::cli::Image> again =
            lucent::cli::decode_image(data, size, "fuzz input");
        if (!again.ok() || again.value().bytes != img.value().bytes) std::abort();
    }
    return 0;
}
