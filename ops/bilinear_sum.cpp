#include "ops/bilinear_sum.h"

#include <algorithm>

#include "engine/threading.h"
#include "ops/kernels.h"
#include "ops/upsample.h"
#include "ops/validate.h"

namespace lucent::ops {
namespace {

constexpr int64_t kMaxSide = int64_t{1} << 30;
// ramp_act counts columns in float: split longer segments so every count stays exact.
constexpr int64_t kMaxRamp = int64_t{1} << 22;
// Vertically blended source rows of all maps that fit here are computed once per output row.
constexpr int64_t kCachedColumns = 512;

// Map i's piece at output column x: its taps there, flat where the source column is clamped
// (bilinear_tap gives i0 == 0 and l1 == 0 left of the first centre; i1 == i0 right of the last).
struct Tap {
    int32_t i0, i1;
    float l1;
    bool flat;
};
Tap column_tap(int64_t x, int64_t in_w, int64_t out_w) {
    const LinearTap t = bilinear_tap(x, in_w, out_w);
    return {t.i0, t.i1, t.l1, t.i0 == t.i1 || (t.i0 == 0 && t.l1 == 0.0f)};
}

}  // namespace

Result<BilinearSum> BilinearSum::create(const std::vector<MapSize>& maps, int64_t out_h,
                                        int64_t out_w) {
    LUCENT_RETURN_IF_ERROR(check_param("bilinear_sum", "output height", out_h, 1, kMaxSide));
    LUCENT_RETURN_IF_ERROR(check_param("bilinear_sum", "output width", out_w, 1, kMaxSide));
    if (maps.size() > kMaxMaps)
        return make_status(StatusCode::kInvalidArgument, "bilinear_sum: %zu maps; at most %zu",
                           maps.size(), kMaxMaps);
    for (const MapSize& m : maps) {
        LUCENT_RETURN_IF_ERROR(check_param("bilinear_sum", "map height", m.h, 1, kMaxSide));
        LUCENT_RETURN_IF_ERROR(check_param("bilinear_sum", "map width", m.w, 1, kMaxSide));
    }
    BilinearSum s;
    s.maps_ = maps;
    s.out_h_ = out_h;
    s.out_w_ = out_w;
    // A segment starts wherever any map's source column or flatness changes; its pieces are
    // the maps' taps at its first column.
    const size_t nm = maps.size();
    std::vector<Tap> prev(nm), cur(nm);
    for (int64_t x = 0; x < out_w; ++x) {
        bool changed = x == 0;
        for (size_t i = 0; i < nm; ++i) {
            cur[i] = column_tap(x, maps[i].w, out_w);
            if (x > 0 && (cur[i].i0 != prev[i].i0 || cur[i].flat != prev[i].flat)) changed = true;
        }
        prev.swap(cur);
        if (!changed && x - s.starts_.back() < kMaxRamp) continue;
        s.starts_.push_back(x);
        for (size_t i = 0; i < nm; ++i) {
            const Tap& t = prev[i];
            Piece p;
            p.i0 = t.i0;
            p.i1 = t.i1;
            p.l1 = t.flat ? 0.0f : t.l1;
            // bilinear_tap's source column grows by in / out per output column.
            p.dl = t.flat ? 0.0f : static_cast<float>(maps[i].w) / static_cast<float>(out_w);
            s.pieces_.push_back(p);
        }
    }
    s.starts_.push_back(out_w);
    return s;
}

Status BilinearSum::add_rows(const Context& ctx, const float* const* maps, int64_t count, Rows out,
                             Activation act, float slope) const {
    if (count != static_cast<int64_t>(maps_.size()) || out.h != out_h_ || out.w != out_w_)
        return make_status(StatusCode::kInvalidArgument,
                           "bilinear_sum: %lld maps into %lldx%lld rows; planned for %lld maps "
                           "into %lldx%lld",
                           static_cast<long long>(count), static_cast<long long>(out.h),
                           static_cast<long long>(out.w), static_cast<long long>(maps_.size()),
                           static_cast<long long>(out_h_), static_cast<long long>(out_w_));
    if (act != Activation::kNone && act != Activation::kRelu && act != Activation::kLeakyRelu)
        return make_status(StatusCode::kInvalidArgument, "bilinear_sum: activation %s unsupported",
                           activation_name(act));
    const int32_t code = act == Activation::kNone ? kActNone : kActLeaky;
    const float sl = act == Activation::kRelu ? 0.0f : slope;
    const size_t nm = maps_.size();
    int64_t columns = 0;
    for (const MapSize& m : maps_) columns += m.w;
    const bool cached = columns <= kCachedColumns;
    const KernelTable& k = *ctx.k;
    parallel_for(out.c * out.rows, ctx.num_threads, [&](int64_t item) {
        const int64_t c = item / out.rows, y = out.row0 + item % out.rows;
        // Each map's two source rows for output row y, blended vertically as upsample_bilinear
        // does; with few columns, blended once into `cache`.
        const float* r0[kMaxMaps];
        const float* r1[kMaxMaps];
        float w0[kMaxMaps], w1[kMaxMaps];
        int64_t off[kMaxMaps];
        float cache[kCachedColumns];
        int64_t o = 0;
        for (size_t i = 0; i < nm; ++i) {
            const MapSize& m = maps_[i];
            const LinearTap ty = bilinear_tap(y, m.h, out_h_);
            const float* plane = maps[i] + c * m.h * m.w;
            r0[i] = plane + ty.i0 * m.w;
            r1[i] = plane + ty.i1 * m.w;
            w0[i] = ty.l0;
            w1[i] = ty.l1;
            off[i] = o;
            if (cached)
                for (int64_t j = 0; j < m.w; ++j)
                    cache[o + j] = w0[i] * r0[i][j] + w1[i] * r1[i][j];
            o += m.w;
        }
        auto value = [&](size_t i, int32_t j) {
            return cached ? cache[off[i] + j] : w0[i] * r0[i][j] + w1[i] * r1[i][j];
        };
        float* row = out.row(c, y);
        for (int64_t g = 0; g + 1 < static_cast<int64_t>(starts_.size()); ++g) {
            const Piece* p = pieces_.data() + static_cast<size_t>(g) * nm;
            float a = 0.0f, b = 0.0f;
            for (size_t i = 0; i < nm; ++i) {
                const float v0 = value(i, p[i].i0), d = value(i, p[i].i1) - v0;
                a += v0 + d * p[i].l1;
                b += d * p[i].dl;
            }
            const int64_t x0 = starts_[static_cast<size_t>(g)];
            k.ramp_act(row + x0, a, b, row + x0, starts_[static_cast<size_t>(g) + 1] - x0, code,
                       sl);
        }
    });
    return Status();
}

}  // namespace lucent::ops
