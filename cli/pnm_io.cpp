#include "pnm_io.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "row_encoder.h"

namespace lucent::cli {
namespace {

constexpr int64_t kMaxSide = int64_t{1} << 30;

bool is_space(uint8_t ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

// Reads one decimal number after whitespace and comments; false on anything else or a value
// above `max`.
bool read_number(const uint8_t* data, size_t size, size_t* pos, int64_t max, int64_t* out) {
    for (;;) {
        while (*pos < size && is_space(data[*pos])) ++*pos;
        if (*pos < size && data[*pos] == '#') {
            while (*pos < size && data[*pos] != '\n') ++*pos;
            continue;
        }
        break;
    }
    int64_t v = 0;
    size_t digits = 0;
    while (*pos < size && data[*pos] >= '0' && data[*pos] <= '9') {
        v = v * 10 + (data[*pos] - '0');
        if (v > max) return false;
        ++*pos;
        ++digits;
    }
    *out = v;
    return digits > 0;
}

Status bad(const std::string& what, const char* why) {
    return make_status(StatusCode::kInvalidArgument, "%s is not a readable PNM image (%s)",
                       what.c_str(), why);
}

}  // namespace

bool is_pnm(const uint8_t* data, size_t size) {
    return size >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '6');
}

Result<PnmHeader> pnm_header(const uint8_t* data, size_t size, const std::string& what) {
    if (!is_pnm(data, size)) return bad(what, "only binary P5 and P6 files are read");
    PnmHeader h;
    h.c = data[1] == '5' ? 1 : 3;
    size_t pos = 2;
    int64_t maxval = 0;
    if (!read_number(data, size, &pos, kMaxSide, &h.w) ||
        !read_number(data, size, &pos, kMaxSide, &h.h) ||
        !read_number(data, size, &pos, 65535, &maxval))
        return bad(what, "a bad header");
    if (h.w < 1 || h.h < 1 || maxval < 1) return bad(what, "zero width, height or maxval");
    if (pos >= size || !is_space(data[pos])) return bad(what, "no whitespace after the header");
    h.data_offset = pos + 1;
    h.maxval = static_cast<int32_t>(maxval);
    h.type = maxval > 255 ? PixelType::kU16 : PixelType::kU8;
    const uint64_t need = static_cast<uint64_t>(h.w) * static_cast<uint64_t>(h.h) *
                          static_cast<uint64_t>(h.c) * (maxval > 255 ? 2u : 1u);
    if (need > size - h.data_offset) return bad(what, "the file ends early (truncated)");
    return h;
}

Status pnm_decode(const uint8_t* data, size_t size, const std::string& what, PnmHeader* header,
                  std::vector<uint8_t>* pixels) {
    LUCENT_ASSIGN_OR_RETURN(*header, pnm_header(data, size, what));
    const PnmHeader& h = *header;
    const size_t count = static_cast<size_t>(h.w * h.h * h.c);
    const uint8_t* src = data + h.data_offset;
    const uint32_t full = h.type == PixelType::kU16 ? 65535u : 255u;
    pixels->resize(count * pixel_type_size(h.type));
    for (size_t i = 0; i < count; ++i) {
        uint32_t v =
            h.type == PixelType::kU16 ? (uint32_t{src[2 * i]} << 8) | src[2 * i + 1] : src[i];
        if (v > static_cast<uint32_t>(h.maxval)) return bad(what, "a sample above maxval");
        if (static_cast<uint32_t>(h.maxval) != full)
            v = (v * full + static_cast<uint32_t>(h.maxval) / 2) / static_cast<uint32_t>(h.maxval);
        if (h.type == PixelType::kU16) {
            const uint16_t s = static_cast<uint16_t>(v);
            std::memcpy(pixels->data() + 2 * i, &s, 2);
        } else {
            (*pixels)[i] = static_cast<uint8_t>(v);
        }
    }
    return Status();
}

namespace {

class PnmRowEncoder final : public RowEncoder {
  public:
    PnmRowEncoder(FILE* out, std::string what, size_t row_bytes, bool sixteen)
        : out_(out), what_(std::move(what)), row_bytes_(row_bytes), sixteen_(sixteen) {}
    Status rows(const uint8_t* pixels, int64_t n) override {
        const size_t bytes = static_cast<size_t>(n) * row_bytes_;
        if (sixteen_) {
            // PNM's 16-bit samples are big-endian.
            swapped_.resize(bytes);
            for (size_t i = 0; i + 1 < bytes; i += 2) {
                swapped_[i] = pixels[i + 1];
                swapped_[i + 1] = pixels[i];
            }
            pixels = swapped_.data();
        }
        if (std::fwrite(pixels, 1, bytes, out_) != bytes)
            return make_status(StatusCode::kIo, "cannot write %s: write failed", what_.c_str());
        return Status();
    }
    Status finish() override { return Status(); }  // the file's owner flushes and checks

  private:
    FILE* out_;
    std::string what_;
    size_t row_bytes_;
    bool sixteen_;
    std::vector<uint8_t> swapped_;
};

}  // namespace

Result<std::unique_ptr<RowEncoder>> pnm_row_encoder(FILE* out, const std::string& what, int64_t w,
                                                    int64_t h, int32_t c, PixelType type) {
    if ((c != 1 && c != 3) || w < 1 || h < 1 || type == PixelType::kF32)
        return make_status(StatusCode::kInvalidArgument,
                           "%s: PNM stores 8- or 16-bit gray or RGB, not %d channels", what.c_str(),
                           c);
    const bool sixteen = type == PixelType::kU16;
    if (std::fprintf(out, "P%c\n%lld %lld\n%d\n", c == 1 ? '5' : '6', static_cast<long long>(w),
                     static_cast<long long>(h), sixteen ? 65535 : 255) < 0)
        return make_status(StatusCode::kIo, "cannot write %s: write failed", what.c_str());
    const size_t row = static_cast<size_t>(w) * static_cast<size_t>(c) * (sixteen ? 2 : 1);
    return std::unique_ptr<RowEncoder>(std::make_unique<PnmRowEncoder>(out, what, row, sixteen));
}

}  // namespace lucent::cli
