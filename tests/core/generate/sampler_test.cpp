#include "core/generate/sampler.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace memlong {
namespace {

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p);
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(l, {}), 1);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  std::vector<float> l = {3.0f, 2.0f, -1.0f};
  const std::vector<int32_t> recent = {0, 2};
  EXPECT_EQ(s.sample(l, recent), 1);  // 3/2 = 1.5 < 2
  EXPECT_FLOAT_EQ(l[0], 1.5f);
  EXPECT_FLOAT_EQ(l[2], -2.0f);
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    p.seed = seed;
    Sampler s(p);
    std::vector<float> l = {0.0f, 0.5f, 0.4f};
    EXPECT_EQ(s.sample(l, {}), 1);
  }
}

TEST(Sampler, FrequenciesFollowSoftmaxAndSeedIsReproducible) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 7;
  Sampler s(p), s2(p);
  const std::vector<float> base = {0.0f, std::log(3.0f)};  // probabilities 1/4, 3/4
  int ones = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto l = base, l2 = base;
    const int32_t a = s.sample(l, {});
    ASSERT_EQ(a, s2.sample(l2, {}));
    ones += a;
  }
  EXPECT_NEAR(ones / double(n), 0.75, 0.015);
}

TEST(Sampler, TopPAndMinPCutTheTail) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.min_p = 0.0f;
  p.top_p = 0.5f;  // the best token alone holds > 0.5
  std::vector<float> base = {5.0f, 1.0f, 1.0f, 1.0f};
  for (uint64_t seed = 0; seed < 50; ++seed) {
    p.seed = seed;
    Sampler s(p);
    auto l = base;
    EXPECT_EQ(s.sample(l, {}), 0);
  }
  p.top_p = 1.0f;
  p.min_p = 0.5f;  // p1/p0 = e^-4 < 0.5
  for (uint64_t seed = 0; seed < 50; ++seed) {
    p.seed = seed;
    Sampler s(p);
    auto l = base;
    EXPECT_EQ(s.sample(l, {}), 0);
  }
}

}  // namespace
}  // namespace memlong
