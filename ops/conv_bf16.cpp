// Conv3x3Bf16 driver: weight packing at create(), input packing and row threading per run.
#include "ops/conv_bf16.h"

#include <algorithm>
#include <cstring>

#include "engine/amx.h"
#include "engine/threading.h"
#include "ops/kernels_bf16.h"

namespace lucent::ops {
namespace {

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Columns of a packed row for `width` output pixels: the left pad, whole 32-pixel tile pairs,
// and the right pad the last tap reads, rounded to 16 columns (64 bytes) so that every pair's
// row starts on a cache line.
int64_t packed_width(int64_t width) { return round_up(round_up(width, 32) + 2, 16); }

}  // namespace

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

Result<Conv3x3Bf16> Conv3x3Bf16::create(int64_t cin, int64_t cout, const float* weight,
                                        const float* bias, Activation act, float slope) {
    if (!amx_ready())
        return make_status(StatusCode::kUnsupported,
                           "bf16 convolutions need AMX (amx_bf16, amx_tile and the OS's tile "
                           "permission); this CPU or OS does not offer them");
    if (cin < 1 || cout < 1 || weight == nullptr)
        return make_status(StatusCode::kInvalidArgument,
                           "Conv3x3Bf16: cin %lld and cout %lld must be >= 1 with weights",
                           static_cast<long long>(cin), static_cast<long long>(cout));
    Conv3x3Bf16 c;
    c.cin_ = cin;
    c.cout_ = cout;
    c.kpairs_ = round_up(cin, 2 * kBf16PairsPerBlock) / 2;
    c.mblocks_ = round_up(cout, 2 * kBf16Tile) / kBf16Tile;
    if (act == Activation::kLeakyRelu || act == Activation::kRelu) {
        c.act_ = kActLeaky;
        c.slope_ = act == Activation::kRelu ? 0.0f : slope;
    } else if (act != Activation::kNone) {
        return make_status(StatusCode::kInvalidArgument,
                           "Conv3x3Bf16: the epilogue fuses none, ReLU or LeakyReLU only");
    }
    const int64_t kblocks = c.kpairs_ / kBf16PairsPerBlock;
    // Two bf16 per float of the (zeroed, 64-byte aligned) buffer.
    LUCENT_ASSIGN_OR_RETURN(AlignedBuffer wbuf,
                            AlignedBuffer::create(c.mblocks_ * 9 * kblocks * 16 * 16));
    uint16_t* packed = reinterpret_cast<uint16_t*>(wbuf.data());
    for (int64_t o = 0; o < cout; ++o)
        for (int64_t t = 0; t < 9; ++t)
            for (int64_t i = 0; i < cin; ++i) {
                const int64_t mb = o / 16, kb = i / 32;
                const size_t at = static_cast<size_t>(
                    (((mb * 9 + t) * kblocks + kb) * 16 + o % 16) * 32 + i % 32);
                packed[at] = to_bf16(weight[(o * cin + i) * 9 + t]);
            }
    c.w_ = std::make_shared<const AlignedBuffer>(std::move(wbuf));
    c.bias_.assign(static_cast<size_t>(c.mblocks_ * kBf16Tile), 0.0f);
    if (bias != nullptr) std::copy(bias, bias + cout, c.bias_.begin());
    return c;
}

int64_t Conv3x3Bf16::scratch_floats(int64_t in_w, int64_t out_rows, int) const {
    // The packed rows: (out_rows + 2) rows of kpairs pairs of packed_width columns, two
    // uint16 (one float) per column.
    return (out_rows + 2) * kpairs_ * packed_width(in_w);
}

Status Conv3x3Bf16::run_rows(const Context& ctx, ConstRows in, Rows out, float* scratch) const {
    if (in.c != cin_ || out.c != cout_ || in.w != out.w || in.h != out.h)
        return make_status(StatusCode::kInvalidArgument,
                           "Conv3x3Bf16: input %lldx%lldx%lld and output %lldx%lldx%lld do not "
                           "fit a 3x3 padding-1 convolution of %lld -> %lld channels",
                           static_cast<long long>(in.c), static_cast<long long>(in.h),
                           static_cast<long long>(in.w), static_cast<long long>(out.c),
                           static_cast<long long>(out.h), static_cast<long long>(out.w),
                           static_cast<long long>(cin_), static_cast<long long>(cout_));
    if (out.rows <= 0) return Status();
    AlignedBuffer own;
    if (scratch == nullptr) {
        LUCENT_ASSIGN_OR_RETURN(own, AlignedBuffer::create(scratch_floats(in.w, out.rows, 1)));
        scratch = own.data();
    }
    const int64_t wp = packed_width(in.w);
    const int64_t packed_rows = out.rows + 2;
    const int64_t row_u16 = kpairs_ * wp * 2;
    uint16_t* packed = reinterpret_cast<uint16_t*>(scratch);
    // Packed row r holds input row out.row0 - 1 + r (zero outside the image).
    parallel_for(packed_rows, ctx.num_threads, [&](int64_t r) {
        const int64_t y = out.row0 - 1 + r;
        const float* src = y >= 0 && y < in.h ? in.row(0, y) : nullptr;
        amx::pack_row_bf16(src, in.cs, static_cast<int32_t>(cin_), static_cast<int32_t>(in.w),
                           packed + r * row_u16, static_cast<int32_t>(kpairs_),
                           static_cast<int32_t>(wp));
    });
    // Contiguous row ranges per thread: one tile configuration per range (configuring and
    // releasing the tiles per row cost as much as the row's compute on small widths).
    const int64_t parts = std::min<int64_t>(resolve_threads(ctx.num_threads), out.rows);
    parallel_for(parts, ctx.num_threads, [&](int64_t part) {
        const int64_t r = out.rows * part / parts, r_end = out.rows * (part + 1) / parts;
        if (r_end <= r) return;
        amx::Bf16ConvRowsArgs a;
        a.in = packed + r * row_u16;
        a.in_rs = row_u16;
        a.kpairs = static_cast<int32_t>(kpairs_);
        a.wp = static_cast<int32_t>(wp);
        a.w = reinterpret_cast<const uint16_t*>(w_->data());
        a.bias = bias_.data();
        a.mblocks = static_cast<int32_t>(mblocks_);
        a.cout = static_cast<int32_t>(cout_);
        a.out = out.row(0, out.row0 + r);
        a.out_cs = out.cs;
        a.out_rs = out.w;
        a.rows = static_cast<int32_t>(r_end - r);
        a.width = static_cast<int32_t>(out.w);
        a.act = act_;
        a.slope = slope_;
        amx::conv3x3_bf16_rows(a);
    });
    return Status();
}

}  // namespace lucent::ops
