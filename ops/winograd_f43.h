// Winograd F(4x4, 3x3): the one-dimensional transforms, written once for float and for the
// SIMD vector types (GCC vector arithmetic: +, -, * by a scalar), so that every tier performs
// the same operations in the same order and the tiers agree bit for bit.
//
// Interpolation points 0, 1, -1, 2, -2 and infinity:
//   B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
//          [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
//   G   = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6],
//          [1/24, -1/12, 1/6], [0, 0, 1]]
//   A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]
// A 4x4 output tile reads a 6x6 input tile; the 2-D transforms apply these along the columns
// of each row first, then along the rows (position xi = 6 * vertical + horizontal).
// Only this header's includers see it: ops/winograd_scalar.cpp and ops/x86/winograd_*.cpp.
#pragma once

namespace lucent::ops::winograd43 {

constexpr int kTile = 4;     // output rows and columns per tile
constexpr int kInput = 6;    // input rows and columns per tile
constexpr int kPoints = 36;  // transformed values per tile and channel

// t = B^T d.
template <class V>
inline void input_1d(const V (&d)[6], V (&t)[6]) {
    t[0] = (d[0] * 4.0f - d[2] * 5.0f) + d[4];
    t[1] = (d[3] + d[4]) - (d[1] + d[2]) * 4.0f;
    t[2] = (d[4] - d[3]) + (d[1] - d[2]) * 4.0f;
    t[3] = (d[4] - d[2]) + (d[3] - d[1]) * 2.0f;
    t[4] = (d[4] - d[2]) - (d[3] - d[1]) * 2.0f;
    t[5] = (d[1] * 4.0f - d[3] * 5.0f) + d[5];
}

// y = A^T m.
template <class V>
inline void output_1d(const V (&m)[6], V (&y)[4]) {
    const V a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    y[0] = (m[0] + a) + c;
    y[1] = b + d * 2.0f;
    y[2] = a + c * 4.0f;
    y[3] = (b + d * 8.0f) + m[5];
}

// The 2-D input transform of one tile from its rows d[i][0..5] (already gathered per column
// position): v[6 * k + j] = (B^T d B)[k][j].
template <class V>
inline void input_2d(const V (&d)[6][6], V (&v)[36]) {
    V h[6][6];
    for (int i = 0; i < 6; ++i) input_1d(d[i], h[i]);
    for (int j = 0; j < 6; ++j) {
        const V col[6] = {h[0][j], h[1][j], h[2][j], h[3][j], h[4][j], h[5][j]};
        V t[6];
        input_1d(col, t);
        for (int k = 0; k < 6; ++k) v[6 * k + j] = t[k];
    }
}

// The 2-D output transform: y[r][c] = (A^T M A)[r][c] for M[k][j] = m[6 * k + j].
template <class V>
inline void output_2d(const V (&m)[36], V (&y)[4][4]) {
    V s[6][4];
    for (int k = 0; k < 6; ++k) {
        const V row[6] = {m[6 * k],     m[6 * k + 1], m[6 * k + 2],
                          m[6 * k + 3], m[6 * k + 4], m[6 * k + 5]};
        output_1d(row, s[k]);
    }
    for (int c = 0; c < 4; ++c) {
        const V col[6] = {s[0][c], s[1][c], s[2][c], s[3][c], s[4][c], s[5][c]};
        V t[4];
        output_1d(col, t);
        for (int r = 0; r < 4; ++r) y[r][c] = t[r];
    }
}

}  // namespace lucent::ops::winograd43
