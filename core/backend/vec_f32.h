// Small f32 vector kernels used by the CPU backend's attention and elementwise ops, with an
// AVX2/FMA version chosen at run time and a portable one. n is any length; the SIMD paths handle
// the tail.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace memlong::vec {

// Sum of a[i] * b[i].
float dot(const float* a, const float* b, int n);

// out[j] = sum over t of w[t] * v[t * stride + j], j < n (rows t = 0..n_rows-1). The attention
// value pass: keeps out in registers across rows instead of a read-modify-write per row.
void weighted_row_sum(float* out, const float* v, int64_t stride, const float* w, int n_rows,
                      int n);

// Tests only: forces the portable path (true) or restores detection (false).
void force_portable_for_testing(bool force);

}  // namespace memlong::vec
