#include "npy.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "atomic_file.h"
#include "row_encoder.h"

namespace lucent {

namespace {

constexpr int64_t kMaxElements = int64_t{1} << 34;
constexpr size_t kMaxHeader = 1 << 16;

Status bad(const std::string& what, const char* why) {
    return make_status(StatusCode::kInvalidArgument, "%s is not a usable .npy file: %s",
                       what.c_str(), why);
}

// Value text that follows 'key': in the header dictionary, or npos.
size_t find_value(const std::string& header, const char* key) {
    const std::string quoted[2] = {std::string("'") + key + "'", std::string("\"") + key + "\""};
    for (const std::string& q : quoted) {
        size_t pos = header.find(q);
        if (pos == std::string::npos) continue;
        pos = header.find(':', pos + q.size());
        if (pos == std::string::npos) return std::string::npos;
        ++pos;
        while (pos < header.size() && header[pos] == ' ') ++pos;
        return pos;
    }
    return std::string::npos;
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

struct NpyHeader {
    std::vector<int64_t> shape;
    size_t data_offset = 0;
    int64_t count = 0;  // elements
};

// Parses and checks the header found in the first `avail` bytes of a `size`-byte .npy image,
// including that the data after it is exactly count * 4 bytes.
Result<NpyHeader> parse_header(const uint8_t* bytes, size_t avail, uint64_t size,
                               const std::string& what) {
    if (avail < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0)
        return bad(what, "missing the \\x93NUMPY magic");
    const uint8_t major = bytes[6];
    size_t header_len = 0, offset = 0;
    if (major == 1) {
        header_len = static_cast<size_t>(bytes[8]) | (static_cast<size_t>(bytes[9]) << 8);
        offset = 10;
    } else if (major == 2 || major == 3) {
        if (avail < 12) return bad(what, "truncated header");
        header_len = static_cast<size_t>(bytes[8]) | (static_cast<size_t>(bytes[9]) << 8) |
                     (static_cast<size_t>(bytes[10]) << 16) |
                     (static_cast<size_t>(bytes[11]) << 24);
        offset = 12;
    } else {
        return bad(what, "unsupported format version");
    }
    if (header_len > kMaxHeader || header_len > avail - offset)
        return bad(what, "truncated header");
    const std::string header(reinterpret_cast<const char*>(bytes + offset), header_len);
    const size_t data_offset = offset + header_len;

    size_t pos = find_value(header, "descr");
    if (pos == std::string::npos) return bad(what, "header has no 'descr'");
    const std::string descr = header.substr(pos, 5);
    if (descr != "'<f4'" && descr != "\"<f4\"")
        return bad(what, "dtype is not little-endian float32 ('<f4')");
    pos = find_value(header, "fortran_order");
    if (pos == std::string::npos) return bad(what, "header has no 'fortran_order'");
    if (header.compare(pos, 5, "False") != 0)
        return bad(what, "Fortran-ordered arrays are not supported");
    pos = find_value(header, "shape");
    if (pos == std::string::npos || pos >= header.size() || header[pos] != '(')
        return bad(what, "header has no 'shape' tuple");
    const size_t close = header.find(')', pos);
    if (close == std::string::npos) return bad(what, "unterminated 'shape' tuple");

    NpyHeader arr;
    int64_t count = 1;
    for (size_t i = pos + 1; i < close;) {
        while (i < close && (header[i] == ' ' || header[i] == ',')) ++i;
        if (i >= close) break;
        if (header[i] < '0' || header[i] > '9')
            return bad(what, "non-numeric dimension in 'shape'");
        int64_t d = 0;
        while (i < close && header[i] >= '0' && header[i] <= '9') {
            d = d * 10 + (header[i] - '0');
            if (d > kMaxElements) return bad(what, "dimension too large");
            ++i;
        }
        if (arr.shape.size() >= 8) return bad(what, "more than 8 dimensions");
        if (d != 0 && count > kMaxElements / d) return bad(what, "more than 2^34 elements");
        count *= d;
        arr.shape.push_back(d);
    }
    const uint64_t need = static_cast<uint64_t>(count) * 4u;
    if (size - data_offset != need) {
        return make_status(StatusCode::kInvalidArgument,
                           "%s holds %llu data bytes but shape needs %llu; the file is truncated "
                           "or has trailing bytes",
                           what.c_str(), static_cast<unsigned long long>(size - data_offset),
                           static_cast<unsigned long long>(need));
    }
    arr.data_offset = data_offset;
    arr.count = count;
    return arr;
}

Result<uint64_t> file_size(std::FILE* f, const std::string& path) {
    if (std::fseek(f, 0, SEEK_END) != 0)
        return make_status(StatusCode::kIo, "cannot seek in '%s'", path.c_str());
    const long size = std::ftell(f);
    if (size < 0) return make_status(StatusCode::kIo, "cannot size '%s'", path.c_str());
    if (static_cast<uint64_t>(size) > (static_cast<uint64_t>(kMaxElements) * 4u + kMaxHeader))
        return make_status(StatusCode::kOutOfMemory, "'%s' is larger than 64 GiB", path.c_str());
    std::rewind(f);
    return static_cast<uint64_t>(size);
}

}  // namespace

Result<NpyArray> parse_npy(const uint8_t* bytes, size_t size, const std::string& what) {
    LUCENT_ASSIGN_OR_RETURN(NpyHeader h, parse_header(bytes, size, size, what));
    NpyArray arr;
    arr.shape = std::move(h.shape);
    arr.data.resize(static_cast<size_t>(h.count));
    if (!arr.data.empty())
        std::memcpy(arr.data.data(), bytes + h.data_offset, arr.data.size() * 4u);
    return arr;
}

Result<std::vector<int64_t>> read_npy_shape(const std::string& path) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f) return make_status(StatusCode::kIo, "cannot open '%s' for reading", path.c_str());
    Result<uint64_t> size = file_size(f.get(), path);
    if (!size.ok()) return size.status();
    std::vector<uint8_t> head(
        static_cast<size_t>(std::min<uint64_t>(size.value(), 12 + kMaxHeader)));
    if (!head.empty() && std::fread(head.data(), 1, head.size(), f.get()) != head.size())
        return make_status(StatusCode::kIo, "cannot read '%s'", path.c_str());
    LUCENT_ASSIGN_OR_RETURN(NpyHeader h,
                            parse_header(head.data(), head.size(), size.value(), "'" + path + "'"));
    return std::move(h.shape);
}

Result<NpyArray> read_npy(const std::string& path) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
    if (!f) return make_status(StatusCode::kIo, "cannot open '%s' for reading", path.c_str());
    Result<uint64_t> size = file_size(f.get(), path);
    if (!size.ok()) return size.status();
    std::vector<uint8_t> bytes(static_cast<size_t>(size.value()));
    if (!bytes.empty() && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
        return make_status(StatusCode::kIo, "cannot read '%s'", path.c_str());
    }
    return parse_npy(bytes.data(), bytes.size(), "'" + path + "'");
}

Result<std::string> npy_header(const std::vector<int64_t>& shape, int64_t* count_out) {
    std::string dims;
    int64_t count = 1;
    for (int64_t d : shape) {
        if (d < 0 || (d != 0 && count > kMaxElements / d))
            return make_status(StatusCode::kInvalidArgument, "a .npy shape out of range");
        count *= d;
        dims += std::to_string(d) + (shape.size() == 1 ? "," : ", ");
    }
    if (!shape.empty() && shape.size() != 1) dims.resize(dims.size() - 2);
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    // Pad with spaces so data starts on a 64-byte boundary; the header ends in '\n'.
    const size_t total = ((10 + header.size() + 1 + 63) / 64) * 64;
    header.append(total - 10 - header.size() - 1, ' ');
    header += '\n';
    const char pre[10] = {'\x93',
                          'N',
                          'U',
                          'M',
                          'P',
                          'Y',
                          1,
                          0,
                          static_cast<char>(header.size() & 0xff),
                          static_cast<char>(header.size() >> 8)};
    if (count_out != nullptr) *count_out = count;
    return std::string(pre, 10) + header;
}

Status write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
    int64_t count = 0;
    Result<std::string> header = npy_header(shape, &count);
    if (!header.ok())
        return make_status(StatusCode::kInvalidArgument, "write_npy: bad shape for '%s'",
                           path.c_str());
    LUCENT_ASSIGN_OR_RETURN(cli::AtomicFile out, cli::AtomicFile::create(path));
    std::fwrite(header.value().data(), 1, header.value().size(), out.file());
    if (count != 0) std::fwrite(data, 4, static_cast<size_t>(count), out.file());
    return out.commit();  // reports any failed write above
}

namespace {

// Float rows in file order: the header at once (the shape is known before the first row),
// then each block of rows as it comes.
class NpyRowEncoder final : public cli::RowEncoder {
  public:
    NpyRowEncoder(FILE* f, std::string what, size_t row_floats)
        : f_(f), what_(std::move(what)), row_floats_(row_floats) {}
    Status rows(const uint8_t* pixels, int64_t n) override {
        const size_t count = row_floats_ * static_cast<size_t>(n);
        if (std::fwrite(pixels, sizeof(float), count, f_) != count) return failed();
        return Status();
    }
    Status finish() override { return std::fflush(f_) == 0 ? Status() : failed(); }

  private:
    Status failed() const { return make_status(StatusCode::kIo, "cannot write %s", what_.c_str()); }
    FILE* f_;
    std::string what_;
    size_t row_floats_;
};

}  // namespace

Result<std::unique_ptr<cli::RowEncoder>> npy_row_encoder(FILE* out, const std::string& what,
                                                         int64_t w, int64_t h, int32_t c) {
    LUCENT_ASSIGN_OR_RETURN(const std::string header, npy_header({h, w, c}, nullptr));
    if (std::fwrite(header.data(), 1, header.size(), out) != header.size())
        return make_status(StatusCode::kIo, "cannot write %s", what.c_str());
    return std::unique_ptr<cli::RowEncoder>(
        new NpyRowEncoder(out, what, static_cast<size_t>(w) * static_cast<size_t>(c)));
}

}  // namespace lucent
