// An output image file written row by row (the streaming CLI path): rows go through a
// RowEncoder into an AtomicFile, so the file appears whole at commit() or not at all, and only
// one block of rows of the output exists in memory at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "atomic_file.h"
#include "image_io.h"

namespace lucent::cli {

class ImageFileWriter {
  public:
    // Rows of w x `channels` samples of `type` will be given; formats without alpha (JPEG, PNM)
    // drop the last channel of 2- or 4-channel rows (alpha_dropped()); .npy takes float32 rows.
    static Result<std::unique_ptr<ImageFileWriter>> open(const std::string& path, ImageFormat fmt,
                                                         int64_t w, int64_t h, int32_t channels,
                                                         PixelType type, int jpeg_quality = 95);
    // The next rows, top to bottom (rows.width and rows.channels as opened).
    Status write(const ConstImageView& rows);
    // After the last row: finishes the encoding and renames the file into place.
    Status commit();
    bool alpha_dropped() const { return drop_alpha_; }

  private:
    ImageFileWriter(AtomicFile file, std::string path)
        : file_(std::move(file)), path_(std::move(path)) {}
    AtomicFile file_;
    std::string path_;
    std::unique_ptr<RowEncoder> enc_;
    int64_t w_ = 0, h_ = 0, written_ = 0;
    int32_t channels_ = 0;
    size_t sample_ = 1;
    bool drop_alpha_ = false;
    std::vector<uint8_t> packed_;  // rows without alpha
};

}  // namespace lucent::cli
