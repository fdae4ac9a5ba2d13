// Per-element and per-row arithmetic of the retriever encoder kernels (cuda/kernels/encoder.cu),
// written once for the device and the host so tests/cuda/kernels/encoder_math_test.cpp checks the
// exact code the kernels run, on the CPU, against the CPU backend's encoder ops
// (core/backend/cpu_backend.cpp). Each function mirrors one step of those CPU loops: same
// operations in float, the row sums in double.
// Plain C++ when not compiled by nvcc (MEMLONG_HD expands to `inline`).
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/common/host_device.h"

namespace memlong::cuda_encoder {

// The sequence holding packed row `row`: the s with seq_offsets[s] <= row < seq_offsets[s + 1]
// (offsets increasing from 0, n_seq + 1 of them, row < seq_offsets[n_seq]). Binary search.
MEMLONG_HD int sequence_of_row(const int32_t* seq_offsets, int n_seq, int32_t row) {
  int lo = 0, hi = n_seq - 1;  // invariant: the answer is in [lo, hi]
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (seq_offsets[mid] <= row) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// BERT's exact GELU: u / 2 * (1 + erf(u / sqrt(2))).
MEMLONG_HD float gelu_erf(float u) {
  constexpr float kInvSqrt2 = 0.70710678118654752440f;
#ifdef __CUDA_ARCH__
  return 0.5f * u * (1.0f + erff(u * kInvSqrt2));
#else
  return 0.5f * u * (1.0f + std::erf(u * kInvSqrt2));
#endif
}

// LayerNorm from the row's sums: mean = sum / dim (as float); inverse standard deviation from
// the sum of squared float deviations var_sum: 1 / sqrt(var_sum / dim + eps).
MEMLONG_HD float layer_norm_mean(double sum, int dim) {
  return static_cast<float>(sum / dim);
}
MEMLONG_HD float layer_norm_inv_std(double var_sum, int dim, float eps) {
#ifdef __CUDA_ARCH__
  return 1.0f / sqrtf(static_cast<float>(var_sum / dim) + eps);
#else
  return 1.0f / std::sqrt(static_cast<float>(var_sum / dim) + eps);
#endif
}
// One output element: (z - mean) * inv * w + b.
MEMLONG_HD float layer_norm_apply(float z, float mean, float inv, float w, float b) {
  return (z - mean) * inv * w + b;
}

// Column `col` of sequence s's pooled row: x[first row] (first_only), or the column summed over
// the sequence's rows in order, times 1 / length (both float, as the CPU loop).
MEMLONG_HD float pool_column(const float* x, const int32_t* seq_offsets, int s, int dim, int col,
                             bool first_only) {
  const int64_t b = seq_offsets[s], e = seq_offsets[s + 1];
  if (first_only) return x[b * dim + col];
  float acc = 0.0f;
  for (int64_t t = b; t < e; ++t) acc += x[t * dim + col];
  const float inv_len = 1.0f / static_cast<float>(e - b);
  return acc * inv_len;
}

// 1 / max(|x|, 1e-12) from the row's sum of squares (double).
MEMLONG_HD float l2_inv_norm(double norm2) {
#ifdef __CUDA_ARCH__
  const float n = static_cast<float>(sqrt(norm2));
  return 1.0f / fmaxf(n, 1e-12f);
#else
  const float n = static_cast<float>(std::sqrt(norm2));
  return 1.0f / (n > 1e-12f ? n : 1e-12f);
#endif
}

}  // namespace memlong::cuda_encoder
