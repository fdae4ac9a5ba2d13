#include "core/backend/vec_f32.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace memlong {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

class VecF32 : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { vec::force_portable_for_testing(GetParam()); }
  void TearDown() override { vec::force_portable_for_testing(false); }
};

TEST_P(VecF32, DotMatchesDoubleLoopForAllLengths) {
  for (int n : {0, 1, 7, 8, 15, 16, 17, 64, 100, 257}) {
    auto a = random_vec(n, 1), b = random_vec(n, 2);
    double want = 0, mag = 0;
    for (int i = 0; i < n; ++i) {
      want += double(a[i]) * b[i];
      mag += std::fabs(double(a[i]) * b[i]);
    }
    EXPECT_NEAR(vec::dot(a.data(), b.data(), n), want, 1e-6 * mag + 1e-6) << "n=" << n;
  }
}

TEST_P(VecF32, WeightedRowSumMatchesDoubleLoop) {
  for (int n : {1, 8, 13, 64, 72, 130}) {
    const int rows = 11, stride = n + 5;
    auto v = random_vec(rows * stride, 3), w = random_vec(rows, 4);
    std::vector<float> out(n, 123.0f);
    vec::weighted_row_sum(out.data(), v.data(), stride, w.data(), rows, n);
    for (int j = 0; j < n; ++j) {
      double want = 0;
      for (int t = 0; t < rows; ++t) want += double(w[t]) * v[t * stride + j];
      EXPECT_NEAR(out[j], want, 1e-5) << "n=" << n << " j=" << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, VecF32, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "portable" : "best"; });

}  // namespace
}  // namespace memlong
