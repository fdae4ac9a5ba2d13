// Sampler: picks the next token from logits. Greedy at temperature 0; otherwise repetition
// penalty, then temperature, then the top-k / top-p / min-p filters, then a draw from a seeded
// std::mt19937_64 (the same seed, prompt and model give the same text).
// Thread-safety: a Sampler holds its RNG state; use one per generation.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace memlong {

struct SamplingParams {
  float temperature = 0.0f;         // <= 0: greedy
  int32_t top_k = 40;               // <= 0: off
  float top_p = 0.95f;              // >= 1: off
  float min_p = 0.05f;              // <= 0: off; keep tokens with p >= min_p * p_max
  float repetition_penalty = 1.0f;  // 1: off; CTRL-style: logit / rp if > 0 else logit * rp
  int32_t repetition_last_n = 64;   // how many recent tokens the penalty looks at
  uint64_t seed = 0;
};

// The distinct ids in range [0, n_vocab) among the last repetition_last_n of `recent` (all when
// negative): the ids the repetition penalty changes, ascending. Empty when the penalty is off.
// Device sampling (Backend::sample) takes this list instead of the history.
std::vector<int32_t> repetition_penalty_ids(const SamplingParams& params,
                                            std::span<const int32_t> recent, int32_t n_vocab);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Returns the chosen token id. `recent` is the token history (prompt and generated) used by the
  // repetition penalty. logits is modified in place (penalty, temperature).
  int32_t sample(std::span<float> logits, std::span<const int32_t> recent);

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

}  // namespace memlong
