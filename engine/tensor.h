// NCHW float32 tensors: a Shape, an owning 64-byte-aligned Tensor and non-owning views.
// Every size computed from outside data goes through checked_numel() so a hostile header
// cannot overflow an allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lucent/status.hpp"

namespace lucent {

constexpr size_t kTensorAlign = 64;

struct Shape {
    int64_t n = 0, c = 0, h = 0, w = 0;

    int64_t plane() const { return h * w; }
    int64_t numel() const { return n * c * h * w; }  // only valid after checked_numel()
    bool operator==(const Shape& o) const { return n == o.n && c == o.c && h == o.h && w == o.w; }
    bool operator!=(const Shape& o) const { return !(*this == o); }
    std::string str() const;  // "[N, C, H, W]"
};

// Every dimension must be >= 1 and the element count must fit 2^40 (4 TiB of float32).
Status checked_numel(const Shape& s, const char* what, int64_t* numel);

struct ConstTensorView {
    const float* data = nullptr;
    Shape shape;
    const float* plane_ptr(int64_t n, int64_t c) const {
        return data + (n * shape.c + c) * shape.plane();
    }
};

struct TensorView {
    float* data = nullptr;
    Shape shape;
    float* plane_ptr(int64_t n, int64_t c) const {
        return data + (n * shape.c + c) * shape.plane();
    }
    operator ConstTensorView() const { return {data, shape}; }  // NOLINT: implicit by design
};

// Rows [row0, row0 + rows) of one image of c channels, h rows and w columns, whose channel
// planes lie `cs` floats apart: a stripe of a streaming buffer (models/stream.h). Element
// (ch, y, x) for y in the window is data[ch * cs + (y - row0) * w + x]. A whole one-image
// tensor is the window row0 = 0, rows = h, cs = h * w (rows_of()).
struct ConstRows {
    const float* data = nullptr;
    int64_t c = 0, h = 0, w = 0, row0 = 0, rows = 0, cs = 0;
    const float* row(int64_t ch, int64_t y) const { return data + ch * cs + (y - row0) * w; }
    int64_t end() const { return row0 + rows; }
};
struct Rows {
    float* data = nullptr;
    int64_t c = 0, h = 0, w = 0, row0 = 0, rows = 0, cs = 0;
    float* row(int64_t ch, int64_t y) const { return data + ch * cs + (y - row0) * w; }
    int64_t end() const { return row0 + rows; }
    operator ConstRows() const { return {data, c, h, w, row0, rows, cs}; }  // NOLINT: by design
};
inline ConstRows rows_of(ConstTensorView t) {
    return {t.data, t.shape.c, t.shape.h, t.shape.w, 0, t.shape.h, t.shape.plane()};
}
inline Rows rows_of(TensorView t) {
    return {t.data, t.shape.c, t.shape.h, t.shape.w, 0, t.shape.h, t.shape.plane()};
}

// Owning, zero-initialised, 64-byte-aligned float buffer. Move-only.
class AlignedBuffer {
  public:
    AlignedBuffer() = default;
    // Fails with kOutOfMemory (never throws) when the allocation fails. `threads` > 1 zeroes a
    // large buffer on that many threads: zeroing is where a fresh buffer's pages fault in and
    // the kernel clears them, about 0.3 s for RED's 1 GB whole-image arena on one core.
    static Result<AlignedBuffer> create(int64_t count, int threads = 1);
    float* data() const { return data_.get(); }
    int64_t size() const { return size_; }

  private:
    struct Free {
        uint64_t bytes;  // for alloc_stats (value-initialised to 0 by unique_ptr)
        void operator()(float* p) const;
    };
    std::unique_ptr<float, Free> data_;
    int64_t size_ = 0;
};

class Tensor {
  public:
    Tensor() = default;
    static Result<Tensor> create(const Shape& shape);

    const Shape& shape() const { return shape_; }
    float* data() const { return buf_.data(); }
    int64_t numel() const { return buf_.size(); }
    TensorView view() const { return {buf_.data(), shape_}; }
    ConstTensorView cview() const { return {buf_.data(), shape_}; }
    operator TensorView() const { return view(); }        // NOLINT: implicit by design
    operator ConstTensorView() const { return cview(); }  // NOLINT: implicit by design

  private:
    Shape shape_;
    AlignedBuffer buf_;
};

}  // namespace lucent
