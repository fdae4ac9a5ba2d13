// The attention kernel's online-softmax arithmetic (cuda/kernels/softmax_merge.h), compiled as
// host C++, split over warps the way cuda/kernels/attention.cu splits keys, against a direct
// softmax in double: merged sum, memory share, and every key's final weight (the per-memory-token
// mass). Random scores, warps that see no key, and a single key.
#include "cuda/kernels/softmax_merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "cuda/launch_shape.h"

namespace memlong {
namespace {

using cuda_softmax::SoftmaxState;

TEST(SoftmaxMerge, WarpSplitStatesMergeToTheDirectSoftmax) {
  constexpr int W = cuda_shape::kAttnWarps;
  std::mt19937 rng(4);
  for (const int n_keys : {1, 3, W, W + 1, 37, 500}) {
    for (const int n_mem : {0, 1, n_keys / 2, n_keys}) {
      std::normal_distribution<float> d(0.0f, 4.0f);
      std::vector<float> s(static_cast<size_t>(n_keys));
      for (float& x : s) x = d(rng);
      // Kernel: warp w folds keys w, w + W, ...; then merge.
      SoftmaxState st[W];
      for (int t = 0; t < n_keys; ++t) {
        float corr;
        cuda_softmax::softmax_step(&st[t % W], s[static_cast<size_t>(t)], t < n_mem, &corr);
      }
      float m_all = -INFINITY;
      for (const SoftmaxState& w : st) m_all = std::max(m_all, w.m);
      float total = 0.0f, total_mem = 0.0f;
      for (const SoftmaxState& w : st) {
        const float f = cuda_softmax::merge_factor(w.m, m_all);
        total += f * w.l;
        total_mem += f * w.l_mem;
      }
      // Reference in double.
      double mx = -INFINITY, sum = 0.0, sum_mem = 0.0;
      for (float x : s) mx = std::max(mx, static_cast<double>(x));
      for (int t = 0; t < n_keys; ++t) {
        const double e = std::exp(static_cast<double>(s[static_cast<size_t>(t)]) - mx);
        sum += e;
        if (t < n_mem) sum_mem += e;
      }
      EXPECT_EQ(static_cast<double>(m_all), mx);
      EXPECT_NEAR(total, sum, 1e-5 * sum) << n_keys << " keys";
      EXPECT_NEAR(total_mem / total, sum_mem / sum, 1e-6) << n_keys << " keys, " << n_mem;
      const float inv_total = 1.0f / total;
      double weight_sum = 0.0;
      for (int t = 0; t < n_keys; ++t) {
        const double want = std::exp(static_cast<double>(s[static_cast<size_t>(t)]) - mx) / sum;
        const float got = cuda_softmax::final_weight(s[static_cast<size_t>(t)], m_all, inv_total);
        EXPECT_NEAR(got, want, 1e-6 + 1e-5 * want) << "key " << t;
        weight_sum += got;
      }
      EXPECT_NEAR(weight_sum, 1.0, 1e-5);
    }
  }
}

TEST(SoftmaxMerge, StepRescalesTheAccumulatorByTheMaxChange) {
  SoftmaxState st;
  float corr = -1.0f;
  const float p0 = cuda_softmax::softmax_step(&st, 2.0f, true, &corr);
  EXPECT_EQ(corr, 0.0f);  // first key: nothing to rescale
  EXPECT_EQ(p0, 1.0f);
  const float p1 = cuda_softmax::softmax_step(&st, 5.0f, false, &corr);
  EXPECT_FLOAT_EQ(corr, std::exp(-3.0f));
  EXPECT_EQ(p1, 1.0f);
  EXPECT_FLOAT_EQ(st.l, 1.0f + std::exp(-3.0f));
  EXPECT_FLOAT_EQ(st.l_mem, std::exp(-3.0f));
  EXPECT_EQ(cuda_softmax::merge_factor(-INFINITY, 5.0f), 0.0f);
}

}  // namespace
}  // namespace memlong
