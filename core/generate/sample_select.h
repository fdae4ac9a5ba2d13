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
#include <cstring>

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

// ---- pieces of the device's top-k selection (cuda/kernels/sample.cu), tested on the host ----

// Order-preserving bits of a non-NaN float: a < b exactly when order_bits(a) < order_bits(b), and
// -0 and +0 (equal values) map to the same bits.
MEMLONG_SAMPLE_HD inline uint32_t order_bits(float v) {
  if (v == 0.0f) v = 0.0f;  // -0 -> +0
#if defined(__CUDA_ARCH__)
  const uint32_t u = __float_as_uint(v);
#else
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
#endif
  return (u & 0x80000000u) != 0 ? ~u : (u | 0x80000000u);
}

MEMLONG_SAMPLE_HD inline float from_order_bits(uint32_t k) {
  const uint32_t u = (k & 0x80000000u) != 0 ? (k & 0x7fffffffu) : ~k;
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
#endif
}

// A candidate's 64-bit key: key(a) > key(b) exactly when a ranks_before b (ids are distinct, so
// keys are too).
MEMLONG_SAMPLE_HD inline uint64_t rank_key(float value, int32_t id) {
  return (static_cast<uint64_t>(order_bits(value)) << 32) |
         static_cast<uint32_t>(~static_cast<uint32_t>(id));
}
MEMLONG_SAMPLE_HD inline int32_t id_of_key(uint64_t key) {
  return static_cast<int32_t>(~static_cast<uint32_t>(key));
}
MEMLONG_SAMPLE_HD inline float value_of_key(uint64_t key) {
  return from_order_bits(static_cast<uint32_t>(key >> 32));
}

// One pass of the radix select for the `*remaining`-th largest key (1-based) among the keys that
// share the digits chosen so far: hist[b] counts those keys whose current 8-bit digit is b.
// Returns the wanted key's digit and makes *remaining its rank among the keys with that digit.
MEMLONG_SAMPLE_HD inline int radix_pick_digit(const unsigned int* hist, unsigned int* remaining) {
  unsigned int cum = 0;
  for (int b = 255; b > 0; --b) {
    if (cum + hist[b] >= *remaining) {
      *remaining -= cum;
      return b;
    }
    cum += hist[b];
  }
  *remaining -= cum;
  return 0;
}

}  // namespace memlong::sample_select
