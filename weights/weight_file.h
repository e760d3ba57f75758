// Bounds-checked reader of Lucent's weight files (weights/FORMAT.md). Every count, length,
// size and offset is checked against the file before use, with overflow-safe arithmetic, and
// the CRC-32 must match; a bad file is a kBadWeights status whose message names the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lucent/status.hpp"

namespace lucent::weights {

enum class GraphKind : uint32_t { kSsr = 1, kRed = 2, kCompact = 3 };
enum class DType : uint8_t { kF32 = 1, kF16 = 2, kBF16 = 3 };

struct TensorEntry {
    std::string name;
    DType dtype = DType::kF32;
    std::vector<int64_t> dims;
    uint64_t offset = 0;  // absolute, in the file
    uint64_t bytes = 0;
    int64_t numel() const;
};

struct MetaEntry {
    std::string key;
    bool is_string = false;
    std::vector<int64_t> ints;
    std::string str;
};

class WeightFile {
  public:
    WeightFile() = default;
    // Reads and checks a whole file (at most 16 GiB).
    static Result<WeightFile> open(const std::string& path);
    // Checks an in-memory copy; `what` names it in messages (e.g. "embedded default model").
    static Result<WeightFile> parse(std::vector<uint8_t> bytes, const std::string& what);

    GraphKind kind() const { return kind_; }
    const std::string& what() const { return what_; }
    const std::vector<TensorEntry>& tensors() const { return tensors_; }

    // kBadWeights "<what()>: <msg>", for problems found in this file.
    Status error(const std::string& msg) const;

    // Metadata accessors; a missing key or wrong type is kBadWeights naming the key.
    Status get_int(const char* key, int64_t min, int64_t max, int64_t* out) const;
    Status get_ints(const char* key, std::vector<int64_t>* out) const;
    Status get_string(const char* key, std::string* out) const;

    // The tensor set must be exactly `expected` (names and shapes); the message lists what is
    // missing, unexpected or mis-shaped.
    struct Expected {
        std::string name;
        std::vector<int64_t> dims;
    };
    Status check_tensors(const std::vector<Expected>& expected) const;
    // Tensor `name` converted to float32 (call check_tensors first).
    Result<std::vector<float>> tensor_f32(const std::string& name) const;

  private:
    Status parse_tables();
    const TensorEntry* find_tensor(const std::string& name) const;
    const MetaEntry* find_meta(const char* key) const;

    std::vector<uint8_t> bytes_;
    std::string what_;
    GraphKind kind_ = GraphKind::kSsr;
    std::vector<MetaEntry> meta_;
    std::vector<TensorEntry> tensors_;
    std::map<std::string, size_t> by_name_;  // index into tensors_
};

// zlib's CRC-32 (reflected 0xEDB88320), continuing from `crc` (0 to start).
uint32_t crc32(uint32_t crc, const uint8_t* data, size_t size);

}  // namespace lucent::weights
