#include "engine/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "engine/alloc_stats.h"
#include "engine/threading.h"

namespace lucent {

namespace {
constexpr int64_t kMaxElements = int64_t{1} << 40;
// Buffers from this size on (arenas, activations, large weights) take transparent huge pages
// where the kernel offers them on request (THP "madvise", the Debian default): 512 times fewer
// page faults on first touch and TLB entries that cover the channel planes the convs read.
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

std::string Shape::str() const {
    return "[" + std::to_string(n) + ", " + std::to_string(c) + ", " + std::to_string(h) + ", " +
           std::to_string(w) + "]";
}

Status checked_numel(const Shape& s, const char* what, int64_t* numel) {
    const int64_t dims[4] = {s.n, s.c, s.h, s.w};
    int64_t total = 1;
    for (int64_t d : dims) {
        if (d < 1) {
            return make_status(StatusCode::kInvalidArgument,
                               "%s shape %s has a dimension below 1; every dimension must be >= 1",
                               what, s.str().c_str());
        }
        if (d > kMaxElements || total > kMaxElements / d) {
            return make_status(StatusCode::kOutOfMemory, "%s shape %s has more than 2^40 elements",
                               what, s.str().c_str());
        }
        total *= d;
    }
    *numel = total;
    return Status();
}

void AlignedBuffer::Free::operator()(float* p) const {
    alloc_stats::on_free(bytes);
    std::free(p);
}

Result<AlignedBuffer> AlignedBuffer::create(int64_t count, int threads) {
    if (count < 0 || count > kMaxElements) {
        return make_status(StatusCode::kOutOfMemory, "buffer of %lld floats is outside [0, 2^40]",
                           static_cast<long long>(count));
    }
    AlignedBuffer b;
    if (count == 0) return b;
    size_t bytes = static_cast<size_t>(count) * sizeof(float);
    bytes = (bytes + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
    // Huge: whole pages of address space (aligned_alloc wants a multiple of the alignment); only
    // the bytes asked for are touched and counted.
    const bool huge = bytes >= kHugePage;
    const size_t reserved = huge ? (bytes + kHugePage - 1) / kHugePage * kHugePage : bytes;
    void* p = std::aligned_alloc(huge ? kHugePage : kTensorAlign, reserved);
    if (p == nullptr) {
        return make_status(StatusCode::kOutOfMemory, "could not allocate %zu bytes", bytes);
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge) (void)madvise(p, reserved, MADV_HUGEPAGE);  // a hint: refusals change nothing
#endif
    if (huge && resolve_threads(threads) > 1) {
        char* bytes_p = static_cast<char*>(p);
        parallel_for(static_cast<int64_t>(reserved / kHugePage), threads, [&](int64_t i) {
            const size_t at = static_cast<size_t>(i) * kHugePage;
            std::memset(bytes_p + at, 0, std::min(kHugePage, bytes - std::min(bytes, at)));
        });
    } else {
        std::memset(p, 0, bytes);
    }
    alloc_stats::on_alloc(bytes);
    b.data_ = std::unique_ptr<float, Free>(static_cast<float*>(p), Free{bytes});
    b.size_ = count;
    return b;
}

Result<Tensor> Tensor::create(const Shape& shape) {
    int64_t count = 0;
    LUCENT_RETURN_IF_ERROR(checked_numel(shape, "tensor", &count));
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer buf, AlignedBuffer::create(count));
    Tensor t;
    t.shape_ = shape;
    t.buf_ = std::move(buf);
    return t;
}

}  // namespace lucent
