#include "core/generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace memlong {

std::vector<int32_t> repetition_penalty_ids(const SamplingParams& params,
                                            std::span<const int32_t> recent, int32_t n_vocab) {
  std::vector<int32_t> ids;
  if (params.repetition_penalty == 1.0f || params.repetition_last_n == 0) return ids;
  const size_t n = params.repetition_last_n < 0
                       ? recent.size()
                       : std::min(recent.size(), static_cast<size_t>(params.repetition_last_n));
  for (size_t i = recent.size() - n; i < recent.size(); ++i) {
    if (recent[i] >= 0 && recent[i] < n_vocab) ids.push_back(recent[i]);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> recent) {
  const auto n_vocab = static_cast<int32_t>(logits.size());
  if (params_.repetition_penalty != 1.0f && params_.repetition_last_n != 0) {
    const size_t n = params_.repetition_last_n < 0
                         ? recent.size()
                         : std::min(recent.size(), static_cast<size_t>(params_.repetition_last_n));
    std::unordered_set<int32_t> seen(recent.end() - static_cast<std::ptrdiff_t>(n), recent.end());
    for (int32_t id : seen) {
      if (id < 0 || id >= n_vocab) continue;
      float& l = logits[static_cast<size_t>(id)];
      l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    }
  }
  if (params_.temperature <= 0.0f) {
    // Greedy; ties go to the lowest id.
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }

  candidates_.clear();
  candidates_.reserve(logits.size());
  for (int32_t i = 0; i < n_vocab; ++i) {
    candidates_.emplace_back(logits[static_cast<size_t>(i)] / params_.temperature, i);
  }
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t keep = candidates_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
    keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep),
                      candidates_.end(), by_logit);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  candidates_.resize(keep);

  // Softmax over the survivors (max-subtracted).
  const float mx = candidates_.front().first;
  double sum = 0.0;
  std::vector<double> p(keep);
  for (size_t i = 0; i < keep; ++i) {
    p[i] = std::exp(static_cast<double>(candidates_[i].first - mx));
    sum += p[i];
  }
  for (double& x : p) x /= sum;

  if (params_.min_p > 0.0f) {
    const double threshold = params_.min_p * p[0];
    size_t k = 1;
    while (k < keep && p[k] >= threshold) ++k;
    keep = k;
  }
  if (params_.top_p < 1.0f) {
    double cum = 0.0;
    size_t k = 0;
    while (k < keep) {
      cum += p[k];
      ++k;
      if (cum >= params_.top_p) break;
    }
    keep = std::max<size_t>(k, 1);
  }
  double total = 0.0;
  for (size_t i = 0; i < keep; ++i) total += p[i];
  std::uniform_real_distribution<double> dist(0.0, total);
  const double r = dist(rng_);
  double acc = 0.0;
  for (size_t i = 0; i < keep; ++i) {
    acc += p[i];
    if (r < acc) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace memlong
