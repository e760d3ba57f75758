// ConvBf16 driver: weight packing at create(), input packing and row threading per run.
#include "ops/conv_bf16.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "engine/amx.h"
#include "engine/threading.h"
#include "ops/kernels_bf16.h"

namespace lucent::ops {
namespace {

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

int64_t bf16_packed_width(int64_t width) { return round_up(width, 32) + 2; }

void pack_rows_bf16(const Context& ctx, ConstRows in, const PackedRows& out) {
    const int64_t wx = bf16_packed_width(out.w);
    parallel_for(out.rows, ctx.num_threads, [&](int64_t r) {
        const int64_t y = out.row0 + r;
        avx512bf16::pack_row_bf16(in.row(0, y), in.cs, static_cast<int32_t>(in.c),
                                  static_cast<int32_t>(in.w), out.row(y),
                                  static_cast<int32_t>(out.cp), static_cast<int32_t>(wx));
    });
}

void upsample_nearest_packed(const Context& ctx, const PackedRows& in, int64_t r,
                             const PackedRows& out) {
    const int64_t wx = bf16_packed_width(out.w), cp = out.cp;
    const size_t pixel_bytes = static_cast<size_t>(cp) * sizeof(uint16_t);
    parallel_for(out.rows, ctx.num_threads, [&](int64_t i) {
        const int64_t y = out.row0 + i;
        const uint16_t* src = in.row(y / r);
        uint16_t* dst = out.row(y);
        std::memset(dst, 0, pixel_bytes);
        for (int64_t x = 0; x < out.w; ++x)
            std::memcpy(dst + (x + 1) * cp, src + (x / r + 1) * in.cp, pixel_bytes);
        std::memset(dst + (out.w + 1) * cp, 0, pixel_bytes * static_cast<size_t>(wx - out.w - 1));
    });
}

uint16_t to_bf16(float v) {
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

float from_bf16(uint16_t b) {
    const uint32_t u = static_cast<uint32_t>(b) << 16;
    float v;
    std::memcpy(&v, &u, sizeof v);
    return v;
}

Result<ConvBf16> ConvBf16::create(int64_t cin, int64_t cout, int64_t k, const float* weight,
                                  const float* bias, Activation act, float slope, int64_t stride) {
    if ((k != 1 && k != 3) || (stride != 1 && !(stride == 2 && k == 3)))
        return make_status(StatusCode::kInvalidArgument,
                           "ConvBf16: kernel %lld with stride %lld; kernels 1 and 3 with stride "
                           "1, and 3 with stride 2, are supported",
                           static_cast<long long>(k), static_cast<long long>(stride));
    std::vector<int> dy, dx;
    for (int64_t t = 0; t < k * k; ++t) {
        dy.push_back(static_cast<int>(t / k - k / 2));
        dx.push_back(static_cast<int>(t % k - k / 2));
    }
    LUCENT_ASSIGN_OR_RETURN(ConvBf16 c, create_taps(cin, cout, dy, dx, weight, bias, act, slope));
    c.stride_ = stride;
    return c;
}

Result<ConvBf16> ConvBf16::create_taps(int64_t cin, int64_t cout, const std::vector<int>& tap_dy,
                                       const std::vector<int>& tap_dx, const float* weight,
                                       const float* bias, Activation act, float slope) {
    if (bf16_kernel() == Bf16Kernel::kNone)
        return make_status(StatusCode::kUnsupported,
                           "bf16 convolutions need AMX (amx_bf16, amx_tile and the OS's tile "
                           "permission) or AVX512-BF16; this CPU or OS offers neither");
    if (cin < 1 || cout < 1 || weight == nullptr)
        return make_status(StatusCode::kInvalidArgument,
                           "ConvBf16: cin %lld and cout %lld must be >= 1 with weights",
                           static_cast<long long>(cin), static_cast<long long>(cout));
    const int64_t ntaps = static_cast<int64_t>(tap_dy.size());
    bool taps_ok = ntaps >= 1 && ntaps <= kBf16MaxTaps && tap_dx.size() == tap_dy.size();
    for (int64_t t = 0; taps_ok && t < ntaps; ++t)
        taps_ok = std::abs(tap_dy[static_cast<size_t>(t)]) <= 1 &&
                  std::abs(tap_dx[static_cast<size_t>(t)]) <= 1;
    if (!taps_ok)
        return make_status(StatusCode::kInvalidArgument,
                           "ConvBf16: %lld taps; 1 to %lld taps with offsets in [-1, 1] are "
                           "supported",
                           static_cast<long long>(ntaps), static_cast<long long>(kBf16MaxTaps));
    ConvBf16 c;
    c.ntaps_ = ntaps;
    for (int64_t t = 0; t < ntaps; ++t) {
        c.tap_dy_[t] = static_cast<int8_t>(tap_dy[static_cast<size_t>(t)]);
        c.tap_dx_[t] = static_cast<int8_t>(tap_dx[static_cast<size_t>(t)]);
        c.halo_ = std::max<int64_t>(c.halo_, std::abs(tap_dy[static_cast<size_t>(t)]));
    }
    c.cin_ = cin;
    c.cout_ = cout;
    c.cp_ = round_up(cin, kBf16KBlock);
    c.nblocks_ = round_up(cout, 2 * kBf16Tile) / kBf16Tile;
    if (act == Activation::kLeakyRelu || act == Activation::kRelu) {
        c.act_ = kActLeaky;
        c.slope_ = act == Activation::kRelu ? 0.0f : slope;
    } else if (act != Activation::kNone) {
        return make_status(StatusCode::kInvalidArgument,
                           "ConvBf16: the epilogue fuses none, ReLU or LeakyReLU only");
    }
    const int64_t kblocks = c.cp_ / kBf16KBlock;
    // Two bf16 per float of the (zeroed, 64-byte aligned) buffer.
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer wbuf,
                            AlignedBuffer::create(c.nblocks_ * ntaps * kblocks * 16 * 16));
    uint16_t* packed = reinterpret_cast<uint16_t*>(wbuf.data());
    for (int64_t o = 0; o < cout; ++o)
        for (int64_t t = 0; t < ntaps; ++t)
            for (int64_t i = 0; i < cin; ++i) {
                // Tile row: input channel pair (i % 32) / 2; column: output o % 16, then i % 2.
                const int64_t nb = o / 16, kb = i / 32;
                const size_t at = static_cast<size_t>(
                    (((nb * ntaps + t) * kblocks + kb) * 16 + (i % 32) / 2) * 32 + (o % 16) * 2 +
                    i % 2);
                packed[at] = to_bf16(weight[(o * cin + i) * ntaps + t]);
            }
    c.w_ = std::make_shared<const AlignedBuffer>(std::move(wbuf));
    c.bias_.assign(static_cast<size_t>(c.nblocks_ * kBf16Tile), 0.0f);
    if (bias != nullptr) std::copy(bias, bias + cout, c.bias_.begin());
    return c;
}

int64_t ConvBf16::scratch_floats(int64_t in_w, int64_t out_rows, int) const {
    // The packed rows: out_rows and the halo rows, cp bf16 channels per column. Stride 2: the
    // 2 * out_rows + 1 input rows they read, each as two column halves (even and odd pixels).
    if (stride_ == 2) return (2 * out_rows + 1) * 2 * bf16_row_floats((in_w + 1) / 2, cp_);
    return (out_rows + 2 * halo_) * bf16_row_floats(in_w, cp_);
}

void ConvBf16::run_kernel(const Context& ctx, const uint16_t* in, int64_t in_rs, int32_t in_lo,
                          int32_t in_hi, const uint16_t* zero, int64_t in_cp, int64_t rows,
                          int64_t width, float* out, int64_t out_cs, uint16_t* packed_out,
                          int64_t out_prs, int64_t out_cp, int64_t out_c0, int64_t odd_col0) const {
    // Contiguous row ranges per thread: one tile configuration per range (configuring and
    // releasing the tiles per row cost as much as the row's compute on small widths).
    const int64_t parts = std::min<int64_t>(resolve_threads(ctx.num_threads), rows);
    const Bf16Kernel kernel = bf16_kernel();
    parallel_for(parts, ctx.num_threads, [&](int64_t part) {
        const int64_t r = rows * part / parts, r_end = rows * (part + 1) / parts;
        if (r_end <= r) return;
        Bf16ConvRowsArgs a{};
        // Row indices relative to this part's first output row.
        a.in = in + stride_ * r * in_rs;
        a.in_rs = in_rs;
        a.in_row_step = static_cast<int32_t>(stride_);
        a.in_lo = static_cast<int32_t>(in_lo - stride_ * r);
        a.in_hi = static_cast<int32_t>(in_hi - stride_ * r);
        a.zero = zero;
        a.in_cp = static_cast<int32_t>(in_cp);
        a.kblocks = static_cast<int32_t>(cp_ / kBf16KBlock);
        a.ntaps = static_cast<int32_t>(ntaps_);
        std::copy(tap_dy_, tap_dy_ + ntaps_, a.tap_dy);
        for (int64_t t = 0; t < ntaps_; ++t) {
            // Stride 1: pixel x + dx is column x + 1 + dx. Stride 2: pixel 2x + dx is the even
            // half's column x + 1 (dx = 0) or the odd half's column x + (dx + 1) / 2.
            const int32_t dx = tap_dx_[t];
            a.tap_col[t] = stride_ == 1 ? 1 + dx
                           : dx == 0    ? 1
                                        : static_cast<int32_t>(odd_col0) + (dx + 1) / 2;
        }
        a.w = reinterpret_cast<const uint16_t*>(w_->data());
        a.bias = bias_.data();
        a.nblocks = static_cast<int32_t>(nblocks_);
        a.cout = static_cast<int32_t>(cout_);
        if (packed_out != nullptr) {
            a.out_packed = packed_out + r * out_prs;
            a.out_prs = out_prs;
            a.out_cp = static_cast<int32_t>(out_cp);
            a.out_c0 = static_cast<int32_t>(out_c0);
        } else {
            a.out = out + r * width;
            a.out_cs = out_cs;
            a.out_rs = width;
        }
        a.rows = static_cast<int32_t>(r_end - r);
        a.width = static_cast<int32_t>(width);
        a.act = act_;
        a.slope = slope_;
        if (kernel == Bf16Kernel::kAmx) {
            amx::conv_bf16_rows(a);
        } else {
            avx512bf16::conv_bf16_rows(a);
        }
    });
}

Status ConvBf16::run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch) const {
    const int64_t oh = stride_ == 2 ? (in.h + 1) / 2 : in.h,
                  ow = stride_ == 2 ? (in.w + 1) / 2 : in.w;
    if (in.c != cin_ || out.c != cout_ || out.w != ow || out.h != oh)
        return make_status(StatusCode::kInvalidArgument,
                           "ConvBf16: input %lldx%lldx%lld and output %lldx%lldx%lld do not "
                           "fit a stride-%lld convolution of %lld -> %lld channels",
                           static_cast<long long>(in.c), static_cast<long long>(in.h),
                           static_cast<long long>(in.w), static_cast<long long>(out.c),
                           static_cast<long long>(out.h), static_cast<long long>(out.w),
                           static_cast<long long>(stride_), static_cast<long long>(cin_),
                           static_cast<long long>(cout_));
    if (out.rows <= 0) return Status();
    AlignedBuffer own;
    if (scratch == nullptr) {
        LUCENT_ASSIGN_OR_RETURN(own, AlignedBuffer::create(scratch_floats(in.w, out.rows, 1)));
        scratch = own.data();
    }
    uint16_t* packed = reinterpret_cast<uint16_t*>(scratch);
    if (stride_ == 2) {
        // Input row 2 * out.row0 - 1 + r in packed row r, even pixels in the first half
        // (column j + 1: pixel 2j), odd pixels in the second (column j + 1: pixel 2j + 1).
        const int64_t half = bf16_packed_width(ow), row_u16 = 2 * half * cp_;
        parallel_for(2 * out.rows + 1, ctx.num_threads, [&](int64_t r) {
            const int64_t y = 2 * out.row0 - 1 + r;
            const float* src = y >= 0 && y < in.h ? in.row(0, y) : nullptr;
            uint16_t* d = packed + r * row_u16;
            avx512bf16::pack_row_bf16(src, in.cs, static_cast<int32_t>(cin_),
                                      static_cast<int32_t>((in.w + 1) / 2), d,
                                      static_cast<int32_t>(cp_), static_cast<int32_t>(half), 2);
            avx512bf16::pack_row_bf16(src != nullptr && in.w > 1 ? src + 1 : nullptr, in.cs,
                                      static_cast<int32_t>(cin_), static_cast<int32_t>(in.w / 2),
                                      d + half * cp_, static_cast<int32_t>(cp_),
                                      static_cast<int32_t>(half), 2);
        });
        run_kernel(ctx, packed + row_u16, row_u16, -1, static_cast<int32_t>(2 * out.rows), nullptr,
                   cp_, out.rows, out.w, out.row(0, out.row0), out.cs, nullptr, 0, 0, 0, half);
        return Status();
    }
    const int64_t wp = bf16_packed_width(in.w);
    const int64_t row_u16 = wp * cp_;
    const int64_t halo = halo_;
    // Packed row r holds input row out.row0 - halo + r (zero outside the image).
    parallel_for(out.rows + 2 * halo, ctx.num_threads, [&](int64_t r) {
        const int64_t y = out.row0 - halo + r;
        const float* src = y >= 0 && y < in.h ? in.row(0, y) : nullptr;
        avx512bf16::pack_row_bf16(src, in.cs, static_cast<int32_t>(cin_),
                                  static_cast<int32_t>(in.w), packed + r * row_u16,
                                  static_cast<int32_t>(cp_), static_cast<int32_t>(wp));
    });
    run_kernel(ctx, packed + halo * row_u16, row_u16, static_cast<int32_t>(-halo),
               static_cast<int32_t>(out.rows + halo), nullptr, cp_, out.rows, out.w,
               out.row(0, out.row0), out.cs, nullptr, 0, 0, 0, 0);
    return Status();
}

Status ConvBf16::run_packed(const Context& ctx, const PackedRows& in, int64_t y0, int64_t y1,
                            const Rows* out, const PackedRows* packed_out, int64_t out_c0,
                            float* scratch) const {
    const bool fits_out = packed_out != nullptr
                              ? packed_out->w == in.w && packed_out->h == in.h && out_c0 >= 0 &&
                                    out_c0 + cout_ <= packed_out->cp && packed_out->row0 <= y0 &&
                                    packed_out->row0 + packed_out->rows >= y1
                              : out != nullptr && out->c == cout_ && out->w == in.w &&
                                    out->h == in.h && out->row0 == y0 && out->end() == y1;
    if (stride_ != 1 || in.cp < cp_ || in.cp % kBf16KBlock != 0 || !fits_out ||
        scratch == nullptr || y0 < 0 || y1 > in.h || in.row0 > std::max<int64_t>(y0 - halo_, 0) ||
        in.row0 + in.rows < std::min(y1 + halo_, in.h))
        return make_status(StatusCode::kInvalidArgument,
                           "ConvBf16::run_packed: packed input of %lld channels (rows %lld-%lld "
                           "of %lld) cannot give rows %lld-%lld of a %lld -> %lld layer",
                           static_cast<long long>(in.cp), static_cast<long long>(in.row0),
                           static_cast<long long>(in.row0 + in.rows), static_cast<long long>(in.h),
                           static_cast<long long>(y0), static_cast<long long>(y1),
                           static_cast<long long>(cin_), static_cast<long long>(cout_));
    if (y1 <= y0) return Status();
    // Input rows relative to output row y0: [-halo, rows + halo) where the image has them; the
    // rows past the image's top and bottom read a zero row.
    const int64_t halo = halo_;
    const int32_t lo = static_cast<int32_t>(-std::min(halo, y0));
    const int32_t hi = static_cast<int32_t>(y1 - y0 + std::min(halo, in.h - y1));
    uint16_t* zero = reinterpret_cast<uint16_t*>(scratch);
    if (halo > 0 && (y0 == 0 || y1 == in.h)) std::fill(zero, zero + in.row_u16(), uint16_t{0});
    run_kernel(ctx, in.row(y0), in.row_u16(), lo, hi, zero, in.cp, y1 - y0, in.w,
               out != nullptr ? out->row(0, y0) : nullptr, out != nullptr ? out->cs : 0,
               packed_out != nullptr ? packed_out->row(y0) : nullptr,
               packed_out != nullptr ? packed_out->row_u16() : 0,
               packed_out != nullptr ? packed_out->cp : 0, out_c0, 0);
    return Status();
}

}  // namespace lucent::ops
