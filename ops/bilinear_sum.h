// The sum of several bilinear resizes added to rows, then an activation:
//   out[c, y, x] = act(out[c, y, x] + sum_i resize_i[c, y, x])
// where resize_i is upsample_bilinear (ops/upsample.h: PyTorch's align_corners=False) of the
// small image maps[i] ([C][h_i][w_i]) to out's full size. It is RED's pyramid after its fuse
// conv was split (models/red_stream.cpp): conv1x1 over concat(e2, resize(s_i)) equals conv1x1
// over e2 plus sum_i resize(conv1x1_i(s_i)), the stage convs run on the few pooled pixels.
//
// Along a row, one resize is flat where its source column is clamped and linear between two
// source columns' centres, so the sum is linear between the breakpoints of all the maps. The
// plan lists those segments once; a row then costs one ramp (ramp_act, a + b * t) per segment,
// not two taps per map and pixel, and no resized map is ever stored. The values agree with the
// resizes summed one by one to a few float roundings (not bit for bit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tensor.h"
#include "ops/activation_codes.h"
#include "ops/dispatch.h"

namespace lucent::ops {

class BilinearSum {
  public:
    struct MapSize {
        int64_t h = 0, w = 0;
    };
    static constexpr size_t kMaxMaps = 16;
    BilinearSum() = default;
    // Up to kMaxMaps maps of the given sizes (each side >= 1) resized to out_h x out_w.
    static Result<BilinearSum> create(const std::vector<MapSize>& maps, int64_t out_h,
                                      int64_t out_w);
    // Adds the resizes of maps[0..count) (maps[i]: out.c planes of h_i x w_i) to out's rows in
    // place, then applies act (kNone, kRelu or kLeakyRelu). out.h and out.w are the planned size.
    Status add_rows(const Context& ctx, const float* const* maps, int64_t count, Rows out,
                    Activation act, float slope) const;
    // Linear pieces per row (for tests and the plan's report).
    int64_t segments() const { return static_cast<int64_t>(starts_.size()) - 1; }

  private:
    // Map i over one segment: source columns i0, i1 and the weight of i1 at the segment's
    // first column, growing by dl per column (0 where the column is clamped).
    struct Piece {
        int32_t i0 = 0, i1 = 0;
        float l1 = 0.0f, dl = 0.0f;
    };
    std::vector<MapSize> maps_;
    int64_t out_h_ = 0, out_w_ = 0;
    std::vector<int64_t> starts_;  // first column of each segment, then out_w_
    std::vector<Piece> pieces_;    // [segment][map]
};

}  // namespace lucent::ops
