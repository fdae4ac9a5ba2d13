// The token-selection arithmetic of core/generate/sampler, written once for the host and the GPU
// (plain C++ here; `__host__ __device__` when nvcc compiles it for cuda/kernels/sample.cu), so the
// CPU and the GPU pick the same token from the same logits and the same uniform.
//
// Rules (equal to Sampler::sample, tested in tests/core/generate/sample_select_test.cpp):
// - repetition penalty on each DISTINCT recent id: l > 0 ? l / rp : l * rp;
// - greedy (temperature <= 0): the largest logit; ties go to the LOWEST id;
// - otherwise candidates are the logits divided by the temperature (float division), ordered by
//   value descending and, among equal values, id ascending (ranks_before); top_k keeps the first
//   k; pick_sorted() then runs the softmax (double), min_p, top_p and the draw r = u * total.
// Logits must not be NaN (the order is undefined for NaN, as it is in Sampler).
// Thread-safety: pure functions.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define MEMLONG_SAMPLE_HD __host__ __device__
#else
#define MEMLONG_SAMPLE_HD
#endif

namespace memlong::sample_select {

MEMLONG_SAMPLE_HD inline float penalize(float logit, float repetition_penalty) {
  return logit > 0 ? logit / repetition_penalty : logit * repetition_penalty;
}

// True when candidate (va, ia) comes before (vb, ib): larger value, or equal value and lower id.
// Greedy picks the candidate that ranks first, so its tie rule is the same.
MEMLONG_SAMPLE_HD inline bool ranks_before(float va, int32_t ia, float vb, int32_t ib) {
  return va > vb || (va == vb && ia < ib);
}

// Index into the sorted candidates (scaled logits `scaled(i)`, i < n, n >= 1, ordered by
// ranks_before) of the drawn token: softmax in double over the n candidates (max-subtracted),
// then min_p (keep p >= min_p * p_max; <= 0: off), then top_p (smallest prefix with cumulative
// p >= top_p; >= 1: off), then the first candidate whose cumulative p exceeds u * kept mass.
// Probabilities are recomputed instead of stored (same values: exp is deterministic), so the
// device needs no [n] array. `scaled` is any callable int32_t -> float.
template <typename Scaled>
MEMLONG_SAMPLE_HD int32_t pick_sorted(const Scaled& scaled, int32_t n, float min_p, float top_p,
                                      double uniform) {
  const float mx = scaled(0);
  double sum = 0.0;
  for (int32_t i = 0; i < n; ++i) sum += exp(static_cast<double>(scaled(i) - mx));
  auto prob = [&](int32_t i) { return exp(static_cast<double>(scaled(i) - mx)) / sum; };
  int32_t keep = n;
  if (min_p > 0.0f) {
    const double threshold = min_p * prob(0);
    int32_t k = 1;
    while (k < keep && prob(k) >= threshold) ++k;
    keep = k;
  }
  if (top_p < 1.0f) {
    double cum = 0.0;
    int32_t k = 0;
    while (k < keep) {
      cum += prob(k);
      ++k;
      if (cum >= top_p) break;
    }
    keep = k > 1 ? k : 1;
  }
  double total = 0.0;
  for (int32_t i = 0; i < keep; ++i) total += prob(i);
  const double r = uniform * total;
  double acc = 0.0;
  for (int32_t i = 0; i < keep; ++i) {
    acc += prob(i);
    if (r < acc) return i;
  }
  return keep - 1;
}

}  // namespace memlong::sample_select
