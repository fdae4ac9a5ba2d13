// The online-softmax arithmetic of the attention kernel (cuda/kernels/attention.cu), written once
// for the device and the host so tests/cuda/kernels/softmax_merge_test.cpp checks the exact code
// the kernel runs against a direct softmax.
//
// A partial state covers some of one (query, head)'s keys: running max m, sum l = sum exp(s - m),
// and l_mem, the part of l from memory keys. Each warp folds its keys in with softmax_step
// (Milakov & Gimelshein 2018); warp states are merged with merge_factor(m_w, max_w m_w); after
// the merge the final softmax weight of a key with score s is final_weight(s, m_all, 1 / total).
// The per-memory-token mass (AttentionParams::mem_token_mass) uses final_weight in a second pass
// over the memory keys, because a key's final weight needs the final max and sum.
// Plain C++ when not compiled by nvcc (MEMLONG_HD expands to `inline`).
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cmath>

#include "core/common/host_device.h"

namespace memlong::cuda_softmax {

struct SoftmaxState {
  float m = -INFINITY;  // running max of the scores seen (-inf: none yet)
  float l = 0.0f;       // sum of exp(s - m) over the keys seen
  float l_mem = 0.0f;   // the memory keys' part of l
};

// Folds key score s into st. Returns p = exp(s - m_new); *corr = exp(m_old - m_new), the factor
// the caller applies to its value accumulator before adding p * v.
MEMLONG_HD float softmax_step(SoftmaxState* st, float s, bool is_mem, float* corr) {
  const float m_new = fmaxf(st->m, s);
  const float c = expf(st->m - m_new);  // 0 for the first key (m = -inf)
  const float p = expf(s - m_new);
  st->l = st->l * c + p;
  st->l_mem = st->l_mem * c + (is_mem ? p : 0.0f);
  st->m = m_new;
  *corr = c;
  return p;
}

// Weight of a partial state with max m_w in the merged state whose max is m_all (>= m_w);
// 0 for a state that saw no key.
MEMLONG_HD float merge_factor(float m_w, float m_all) {
  return m_w == -INFINITY ? 0.0f : expf(m_w - m_all);
}

// Final softmax weight of a key with score s, given the merged max and 1 / merged sum.
MEMLONG_HD float final_weight(float s, float m_all, float inv_total) {
  return expf(s - m_all) * inv_total;
}

}  // namespace memlong::cuda_softmax
