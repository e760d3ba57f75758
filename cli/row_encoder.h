// Image encoders that take rows top to bottom, as a streaming run produces them, so that an
// output file of any height is written while only a stripe of it is in memory. Each writes to
// a FILE* (the CLI's AtomicFile, or a memory stream for the server); a codec error or a failed
// write comes back as a Status naming `what`, and the caller discards the file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "lucent/image.hpp"
#include "lucent/status.hpp"

namespace lucent::cli {

class RowEncoder {
  public:
    virtual ~RowEncoder() = default;
    // The next `n` rows: packed samples (native-endian uint16 for 16-bit).
    virtual Status rows(const uint8_t* pixels, int64_t n) = 0;
    // After the last row: trailers and flush.
    virtual Status finish() = 0;
};

// PNG (libpng): 1-4 channels of 8 or 16 bits.
Result<std::unique_ptr<RowEncoder>> png_row_encoder(FILE* out, const std::string& what, int64_t w,
                                                    int64_t h, int32_t c, PixelType type);
// JPEG (libjpeg-turbo): 8-bit gray or RGB at `quality`.
Result<std::unique_ptr<RowEncoder>> jpeg_row_encoder(FILE* out, const std::string& what, int64_t w,
                                                     int64_t h, int32_t c, int quality);
// Binary PGM / PPM: gray or RGB, 8 or 16 bits.
Result<std::unique_ptr<RowEncoder>> pnm_row_encoder(FILE* out, const std::string& what, int64_t w,
                                                    int64_t h, int32_t c, PixelType type);

}  // namespace lucent::cli
