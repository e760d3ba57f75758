#include "weights/weight_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

namespace lucent::weights {
namespace {

constexpr uint64_t kHeaderBytes = 64;
constexpr uint64_t kMaxFileBytes = uint64_t{16} << 30;
constexpr uint32_t kMaxMeta = 256;
constexpr uint32_t kMaxTensors = 65536;

// Little-endian reads through a cursor that never leaves [pos, end).
class Cursor {
  public:
    Cursor(const uint8_t* base, uint64_t pos, uint64_t end) : base_(base), pos_(pos), end_(end) {}
    bool take(uint64_t n, const uint8_t** p) {
        if (n > end_ - pos_) return false;
        *p = base_ + pos_;
        pos_ += n;
        return true;
    }
    template <typename T>
    bool read(T* v) {
        const uint8_t* p;
        if (!take(sizeof(T), &p)) return false;
        std::memcpy(v, p, sizeof(T));  // x86-64 is little-endian, as the format
        return true;
    }
    uint64_t pos() const { return pos_; }

  private:
    const uint8_t* base_;
    uint64_t pos_, end_;
};

bool printable(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] < 0x20 || p[i] > 0x7e) return false;
    return true;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {  // subnormal: normalise
        exp = 113;
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            --exp;
        }
        bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

std::string dims_str(const std::vector<int64_t>& d) {
    std::string s = "[";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
}

}  // namespace

// zlib's CRC-32, eight bytes per step ("slicing by 8": table k advances a byte's CRC by k
// more bytes): a 64 MB weight file took 0.26 s a byte at a time, a quarter of loading it.
uint32_t crc32(uint32_t crc, const uint8_t* data, size_t size) {
    static const auto tables = [] {
        std::unique_ptr<uint32_t[]> t(new uint32_t[8 * 256]);
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        for (int k = 1; k < 8; ++k)
            for (uint32_t i = 0; i < 256; ++i) {
                const uint32_t prev = t[(k - 1) * 256 + i];
                t[k * 256 + i] = (prev >> 8) ^ t[prev & 0xffu];
            }
        return t;
    }();
    const uint32_t* t = tables.get();
    auto le32 = [](const uint8_t* p) {
        return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    };
    crc = ~crc;
    for (; size >= 8; data += 8, size -= 8) {
        const uint32_t lo = crc ^ le32(data), hi = le32(data + 4);
        crc = t[7 * 256 + (lo & 0xffu)] ^ t[6 * 256 + ((lo >> 8) & 0xffu)] ^
              t[5 * 256 + ((lo >> 16) & 0xffu)] ^ t[4 * 256 + (lo >> 24)] ^
              t[3 * 256 + (hi & 0xffu)] ^ t[2 * 256 + ((hi >> 8) & 0xffu)] ^
              t[1 * 256 + ((hi >> 16) & 0xffu)] ^ t[hi >> 24];
    }
    for (; size > 0; ++data, --size) crc = t[(crc ^ *data) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

int64_t TensorEntry::numel() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;  // dims are bounded at parse time (rank <= 4, each < 2^31)
    return n;
}

Result<WeightFile> WeightFile::open(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        return make_status(StatusCode::kIo, "cannot open weight file %s: %s", path.c_str(),
                           std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return make_status(StatusCode::kIo, "weight file %s is not a regular file", path.c_str());
    if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes)
        return make_status(StatusCode::kBadWeights,
                           "weight file %s is %lld bytes, over the 16 GiB limit", path.c_str(),
                           static_cast<long long>(st.st_size));
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f)
        return make_status(StatusCode::kIo, "cannot open weight file %s: %s", path.c_str(),
                           std::strerror(errno));
    std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
    if (!bytes.empty() && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size())
        return make_status(StatusCode::kIo, "cannot read weight file %s", path.c_str());
    return parse(std::move(bytes), path);
}

Result<WeightFile> WeightFile::parse(std::vector<uint8_t> bytes, const std::string& what) {
    WeightFile wf;
    wf.bytes_ = std::move(bytes);
    wf.what_ = what;
    LUCENT_RETURN_IF_ERROR(wf.parse_tables());
    return wf;
}

Status WeightFile::parse_tables() {
    const uint64_t size = bytes_.size();
    const uint8_t* base = bytes_.data();
    if (size < kHeaderBytes)
        return error("file is " + std::to_string(size) + " bytes, shorter than the 64-byte header");
    if (std::memcmp(base, "LCW1", 4) != 0)
        return error("not a Lucent weight file (magic is not LCW1)");
    Cursor h(base, 4, kHeaderBytes);
    uint32_t version, kind, n_meta, n_tensors, reserved, crc, reserved2;
    uint64_t table_size, data_offset, data_size, file_size;
    (void)(h.read(&version) && h.read(&kind) && h.read(&n_meta) && h.read(&n_tensors) &&
           h.read(&reserved) && h.read(&table_size) && h.read(&data_offset) && h.read(&data_size) &&
           h.read(&file_size) && h.read(&crc) && h.read(&reserved2));
    if (version != 1) return error("unsupported format version " + std::to_string(version));
    if (kind < 1 || kind > 3) return error("unknown graph kind " + std::to_string(kind));
    kind_ = static_cast<GraphKind>(kind);
    if (file_size != size)
        return error("header says " + std::to_string(file_size) + " bytes but the file has " +
                     std::to_string(size) + " (truncated or padded)");
    if (n_meta > kMaxMeta) return error("metadata count too large: " + std::to_string(n_meta));
    if (n_tensors < 1 || n_tensors > kMaxTensors)
        return error("tensor count out of range 1..65536: " + std::to_string(n_tensors));
    if (table_size > size - kHeaderBytes || data_offset % 64 != 0 ||
        data_offset < kHeaderBytes + table_size || data_offset > size ||
        data_size != size - data_offset)
        return error("inconsistent section sizes: table " + std::to_string(table_size) +
                     ", data offset " + std::to_string(data_offset) + ", data size " +
                     std::to_string(data_size));
    uint32_t got = crc32(0, base, 56);
    const uint8_t zeros[4] = {0, 0, 0, 0};
    got = crc32(got, zeros, 4);
    got = crc32(got, base + 60, size - 60);
    if (got != crc) return error("CRC-32 mismatch: the file is corrupt");

    Cursor c(base, kHeaderBytes, kHeaderBytes + table_size);
    std::set<std::string> seen;  // metadata keys
    for (uint32_t i = 0; i < n_meta; ++i) {
        const std::string at = "metadata entry " + std::to_string(i);
        uint16_t klen;
        const uint8_t* kp;
        uint8_t type;
        uint32_t count;
        if (!c.read(&klen) || klen < 1 || klen > 64 || !c.take(klen, &kp) || !printable(kp, klen))
            return error(at + " has a bad key");
        MetaEntry m;
        m.key.assign(reinterpret_cast<const char*>(kp), klen);
        if (!c.read(&type) || !c.read(&count) || (type != 1 && type != 2))
            return error("metadata " + m.key + " has a bad type");
        if (type == 1) {
            if (count > 64) return error("metadata " + m.key + " has over 64 values");
            for (uint32_t j = 0; j < count; ++j) {
                int64_t v;
                if (!c.read(&v)) return error("metadata " + m.key + " runs past the table");
                m.ints.push_back(v);
            }
        } else {
            const uint8_t* sp;
            if (count > 256 || !c.take(count, &sp) || !printable(sp, count))
                return error("metadata " + m.key + " has a bad string");
            m.is_string = true;
            m.str.assign(reinterpret_cast<const char*>(sp), count);
        }
        if (!seen.insert(m.key).second) return error("duplicate metadata key " + m.key);
        meta_.push_back(std::move(m));
    }
    uint64_t next_free = 0;  // tensors are ordered and disjoint
    for (uint32_t i = 0; i < n_tensors; ++i) {
        const std::string at = "tensor entry " + std::to_string(i);
        uint16_t nlen;
        const uint8_t* np;
        uint8_t dtype, rank;
        if (!c.read(&nlen) || nlen < 1 || nlen > 256 || !c.take(nlen, &np) || !printable(np, nlen))
            return error(at + " has a bad name");
        TensorEntry t;
        t.name.assign(reinterpret_cast<const char*>(np), nlen);
        if (!c.read(&dtype) || !c.read(&rank))
            return error("tensor " + t.name + " runs past the table");
        if (dtype < 1 || dtype > 3)
            return error("tensor " + t.name + " has unknown dtype " + std::to_string(dtype));
        if (rank < 1 || rank > 4)
            return error("tensor " + t.name + " has rank " + std::to_string(rank));
        t.dtype = static_cast<DType>(dtype);
        uint64_t numel = 1;
        for (uint8_t d = 0; d < rank; ++d) {
            int64_t v;
            if (!c.read(&v)) return error("tensor " + t.name + " runs past the table");
            if (v < 1 || v > INT32_MAX)
                return error("tensor " + t.name + " has dimension " + std::to_string(v));
            t.dims.push_back(v);
            numel *= static_cast<uint64_t>(v);
            if (numel > (uint64_t{1} << 40))
                return error("tensor " + t.name + " is implausibly large");
        }
        uint64_t off, bytes;
        if (!c.read(&off) || !c.read(&bytes))
            return error("tensor " + t.name + " runs past the table");
        const uint64_t esize = t.dtype == DType::kF32 ? 4 : 2;
        if (bytes != numel * esize)
            return error("tensor " + t.name + " byte size " + std::to_string(bytes) +
                         " does not match its shape " + dims_str(t.dims));
        if (off % 64 != 0 || off < next_free || off > data_size || bytes > data_size - off)
            return error("tensor " + t.name + " data [" + std::to_string(off) + ", +" +
                         std::to_string(bytes) + ") is misplaced in the " +
                         std::to_string(data_size) + "-byte data section");
        next_free = off + bytes;
        t.offset = data_offset + off;
        t.bytes = bytes;
        if (!by_name_.emplace(t.name, tensors_.size()).second)
            return error("duplicate tensor name " + t.name);
        tensors_.push_back(std::move(t));
    }
    if (c.pos() != kHeaderBytes + table_size)
        return error("the table holds bytes after its last entry");
    return Status();
}

Status WeightFile::error(const std::string& msg) const {
    return make_status(StatusCode::kBadWeights, "%s: %s", what_.c_str(), msg.c_str());
}

const MetaEntry* WeightFile::find_meta(const char* key) const {
    for (const MetaEntry& m : meta_)
        if (m.key == key) return &m;
    return nullptr;
}

Status WeightFile::get_int(const char* key, int64_t min, int64_t max, int64_t* out) const {
    const MetaEntry* m = find_meta(key);
    if (!m || m->is_string || m->ints.size() != 1)
        return error(std::string("metadata ") + key + " (one integer) is missing");
    if (m->ints[0] < min || m->ints[0] > max)
        return error(std::string("metadata ") + key + " = " + std::to_string(m->ints[0]) +
                     " is outside " + std::to_string(min) + ".." + std::to_string(max));
    *out = m->ints[0];
    return Status();
}

Status WeightFile::get_ints(const char* key, std::vector<int64_t>* out) const {
    const MetaEntry* m = find_meta(key);
    if (!m || m->is_string)
        return error(std::string("metadata ") + key + " (integer list) is missing");
    *out = m->ints;
    return Status();
}

Status WeightFile::get_string(const char* key, std::string* out) const {
    const MetaEntry* m = find_meta(key);
    if (!m || !m->is_string) return error(std::string("metadata ") + key + " (string) is missing");
    *out = m->str;
    return Status();
}

Status WeightFile::check_tensors(const std::vector<Expected>& expected) const {
    std::string missing, extra, wrong;
    int n_missing = 0, n_extra = 0, n_wrong = 0;
    auto add = [](std::string* list, int* n, const std::string& s) {
        if ((*n)++ < 6) *list += (list->empty() ? "" : ", ") + s;
    };
    std::set<std::string> wanted;
    for (const Expected& e : expected) {
        wanted.insert(e.name);
        const TensorEntry* found = find_tensor(e.name);
        if (!found)
            add(&missing, &n_missing, e.name);
        else if (found->dims != e.dims)
            add(&wrong, &n_wrong,
                e.name + " is " + dims_str(found->dims) + ", expected " + dims_str(e.dims));
    }
    for (const TensorEntry& t : tensors_)
        if (!wanted.count(t.name)) add(&extra, &n_extra, t.name);
    if (n_missing + n_extra + n_wrong == 0) return Status();
    std::string msg = "tensors do not fit the graph:";
    if (n_missing) msg += " missing " + std::to_string(n_missing) + " (" + missing + ")";
    if (n_extra) msg += " unexpected " + std::to_string(n_extra) + " (" + extra + ")";
    if (n_wrong) msg += " mis-shaped " + std::to_string(n_wrong) + " (" + wrong + ")";
    return error(msg);
}

const TensorEntry* WeightFile::find_tensor(const std::string& name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

Result<std::vector<float>> WeightFile::tensor_f32(const std::string& name) const {
    const TensorEntry* found = find_tensor(name);
    if (found == nullptr) return error("missing tensor " + name);
    const TensorEntry& t = *found;
    std::vector<float> out(static_cast<size_t>(t.numel()));
    const uint8_t* p = bytes_.data() + t.offset;
    if (t.dtype == DType::kF32) {
        std::memcpy(out.data(), p, t.bytes);
    } else {
        for (size_t i = 0; i < out.size(); ++i) {
            uint16_t v;
            std::memcpy(&v, p + 2 * i, 2);
            if (t.dtype == DType::kF16) {
                out[i] = half_to_float(v);
            } else {
                const uint32_t bits = static_cast<uint32_t>(v) << 16;
                std::memcpy(&out[i], &bits, 4);
            }
        }
    }
    return out;
}

}  // namespace lucent::weights
