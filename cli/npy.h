// Minimal, bounds-checked reader and writer for NumPy .npy files holding little-endian
// float32 arrays in C order (descr '<f4'), format versions 1.0 to 3.0. Anything else
// (other dtypes, Fortran order, truncated data, trailing bytes, absurd shapes) is refused
// with a status naming the problem.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "lucent/status.hpp"
#include "row_encoder.h"

namespace lucent {

struct NpyArray {
    std::vector<int64_t> shape;  // up to 8 dimensions; empty for a scalar
    std::vector<float> data;     // product(shape) values
};

Result<NpyArray> read_npy(const std::string& path);
// Parses an in-memory .npy image (the file reader's core; also used by fuzz-style tests).
Result<NpyArray> parse_npy(const uint8_t* bytes, size_t size, const std::string& what);
// The shape of a .npy file, from its header alone (the data size is checked against the file
// size, not read).
Result<std::vector<int64_t>> read_npy_shape(const std::string& path);
// Writes version 1.0 '<f4' C-order through an AtomicFile (atomic_file.h): a failed write never
// leaves a partial or temporary file.
Status write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data);
// The version 1.0 header (magic to newline) for `shape`; *count gets the element count.
Result<std::string> npy_header(const std::vector<int64_t>& shape, int64_t* count);
// An h x w x c float32 image written row by row to `out`: the header at once, then each block of
// rows (packed native floats, which are little-endian on x86-64) as it comes. The same bytes as
// write_npy of the whole image.
Result<std::unique_ptr<cli::RowEncoder>> npy_row_encoder(FILE* out, const std::string& what,
                                                         int64_t w, int64_t h, int32_t c);

}  // namespace lucent
