// Device sampling's selection logic (core/generate/sample_select.h, the code the CUDA kernel
// runs) against core's Sampler: through CpuBackend::sample, which runs that logic on the host,
// the same token for random logits (with forced ties), parameters and uniforms drawn from the
// Sampler's own RNG stream; the tie rule; InferenceContext::sample_last; and the generator's
// device path (a CPU backend that claims to sample on the device) against its host path.
#include "core/generate/sample_select.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "core/backend/backend.h"
#include "core/generate/generator.h"
#include "core/generate/sampler.h"
#include "core/model/model_file.h"
#include "core/model/synthetic_model.h"
#include "core/tokenizer/tokenizer.h"
#include "core/transformer/llama_model.h"
#include "tests/core/backend/forwarding_backend.h"

namespace memlong {
namespace {

SampleArgs args_of(const SamplingParams& p) {
  SampleArgs a;
  a.temperature = p.temperature;
  a.top_k = p.top_k;
  a.top_p = p.top_p;
  a.min_p = p.min_p;
  a.repetition_penalty = p.repetition_penalty;
  return a;
}

// The shared logic's pick for `logits` (copied), with the uniform the Sampler would draw next
// from an RNG seeded like it.
int32_t shared_pick(Backend& cpu, std::vector<float> logits, const SamplingParams& p,
                    std::span<const int32_t> recent, std::mt19937_64* rng) {
  SampleArgs a = args_of(p);
  const std::vector<int32_t> ids =
      repetition_penalty_ids(p, recent, static_cast<int32_t>(logits.size()));
  a.penalty_ids = ids.data();
  a.n_penalty_ids = static_cast<int32_t>(ids.size());
  if (p.temperature > 0.0f) a.uniform = std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
  int32_t id = -1;
  cpu.sample(logits.data(), static_cast<int32_t>(logits.size()), a, &id);
  return id;
}

TEST(SampleSelect, PicksWhatTheSamplerPicksForRandomLogitsAndParameters) {
  auto cpu = make_cpu_backend(1);
  std::mt19937 rng(11);
  int n_checked = 0, n_distinct_from_greedy = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    const int32_t V = 2 + static_cast<int32_t>(rng() % 700);
    std::vector<float> logits(static_cast<size_t>(V));
    std::normal_distribution<float> nd(0.0f, 1.0f + static_cast<float>(rng() % 4));
    const bool coarse = trial % 3 == 0;  // many exact ties
    for (float& l : logits) l = coarse ? std::round(nd(rng) * 2.0f) / 2.0f : nd(rng);
    if (trial % 7 == 0) logits[rng() % V] = -0.0f;  // -0 and +0 are equal values
    if (trial % 7 == 0) logits[rng() % V] = 0.0f;
    SamplingParams p;
    const float temps[] = {0.0f, 0.3f, 0.7f, 1.0f, 1.7f};
    p.temperature = temps[rng() % 5];
    const int32_t ks[] = {0, 1, 2, 5, 40, V, V + 3};
    p.top_k = ks[rng() % 7];
    const float tps[] = {1.0f, 0.95f, 0.5f, 0.1f};
    p.top_p = tps[rng() % 4];
    const float mps[] = {0.0f, 0.05f, 0.3f};
    p.min_p = mps[rng() % 3];
    const float rps[] = {1.0f, 1.1f, 1.5f};
    p.repetition_penalty = rps[rng() % 3];
    const int32_t lns[] = {64, 0, -1, 5};
    p.repetition_last_n = lns[rng() % 4];
    p.seed = rng();
    std::vector<int32_t> recent(rng() % 80);
    for (int32_t& t : recent) t = static_cast<int32_t>(rng() % (V + 5)) - 2;  // some out of range

    Sampler sampler(p);
    std::mt19937_64 draws(p.seed);
    for (int draw = 0; draw < 3; ++draw) {  // consecutive draws share the RNG stream
      std::vector<float> host = logits;
      const int32_t want = sampler.sample(host, recent);
      const int32_t got = shared_pick(*cpu, logits, p, recent, &draws);
      ASSERT_EQ(got, want) << "trial " << trial << " draw " << draw << " V " << V << " T "
                           << p.temperature << " top_k " << p.top_k << " top_p " << p.top_p
                           << " min_p " << p.min_p << " rp " << p.repetition_penalty;
      ++n_checked;
      std::vector<float> g = logits;
      SamplingParams greedy = p;
      greedy.temperature = 0.0f;
      Sampler gs(greedy);
      if (gs.sample(g, recent) != want) ++n_distinct_from_greedy;
    }
  }
  EXPECT_EQ(n_checked, 4500);
  EXPECT_GT(n_distinct_from_greedy, 500);  // the draws really sample, not only argmax
}

TEST(SampleSelect, TiesGoToTheLowestIdInGreedyAndInTheCandidateOrder) {
  namespace ss = sample_select;
  EXPECT_TRUE(ss::ranks_before(1.0f, 7, 1.0f, 9));
  EXPECT_FALSE(ss::ranks_before(1.0f, 9, 1.0f, 7));
  EXPECT_TRUE(ss::ranks_before(2.0f, 9, 1.0f, 7));
  EXPECT_TRUE(ss::ranks_before(-0.0f, 1, 0.0f, 2));  // -0 == +0: by id
  auto cpu = make_cpu_backend(1);
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f, 3.0f};
  SampleArgs a;  // greedy
  int32_t id = -1;
  cpu->sample(logits.data(), 5, a, &id);
  EXPECT_EQ(id, 1);
  // top_k 2 of three tied maxima keeps ids 1 and 3; u just below 1/2 picks 1, above picks 3.
  a.temperature = 1.0f;
  a.top_k = 2;
  a.top_p = 1.0f;
  a.min_p = 0.0f;
  a.uniform = 0.49;
  cpu->sample(logits.data(), 5, a, &id);
  EXPECT_EQ(id, 1);
  a.uniform = 0.51;
  cpu->sample(logits.data(), 5, a, &id);
  EXPECT_EQ(id, 3);
}

TEST(SampleSelect, PickSortedFollowsMinPAndTopP) {
  namespace ss = sample_select;
  // probabilities of [2, 1, 0, -3]: 0.6572, 0.2418, 0.0889, 0.0044 (softmax)
  const float v[] = {2.0f, 1.0f, 0.0f, -3.0f};
  auto at = [&](int32_t i) { return v[i]; };
  EXPECT_EQ(ss::pick_sorted(at, 4, 0.0f, 1.0f, 0.0), 0);
  EXPECT_EQ(ss::pick_sorted(at, 4, 0.0f, 1.0f, 0.999), 3);
  EXPECT_EQ(ss::pick_sorted(at, 4, 0.0f, 1.0f, 0.70), 1);
  EXPECT_EQ(ss::pick_sorted(at, 4, 0.0f, 0.5f, 0.999), 0);  // top_p 0.5: the first alone
  EXPECT_EQ(ss::pick_sorted(at, 4, 0.0f, 0.8f, 0.999), 1);  // 0.657 + 0.242 >= 0.8
  EXPECT_EQ(ss::pick_sorted(at, 4, 0.2f, 1.0f, 0.999), 1);  // min_p 0.2: p >= 0.131, two kept
  EXPECT_EQ(ss::pick_sorted(at, 4, 0.1f, 1.0f, 0.999), 2);  // p >= 0.0657: three kept
}

// The kernel's top-k selection (cuda/kernels/sample.cu) emulated serially with the same pieces:
// 8 radix passes over rank keys find the k-th key, the keys >= it sorted descending are the
// first k candidates of a full sort by ranks_before (ids and values).
TEST(SampleSelect, RadixSelectOfRankKeysGivesTheTopKInRankOrder) {
  namespace ss = sample_select;
  std::mt19937 rng(23);
  for (int trial = 0; trial < 400; ++trial) {
    const int32_t V = 1 + static_cast<int32_t>(rng() % 5000);
    std::vector<float> v(static_cast<size_t>(V));
    std::normal_distribution<float> nd(0.0f, 3.0f);
    for (float& x : v) x = trial % 2 == 0 ? std::round(nd(rng)) : nd(rng);  // ties when rounded
    if (V > 4) {
      v[1] = -0.0f;
      v[2] = 0.0f;
      v[3] = -INFINITY;
      v[4] = INFINITY;
    }
    const int32_t k = 1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(std::min(V, 1024)));
    std::vector<uint64_t> keys(static_cast<size_t>(V));
    for (int32_t i = 0; i < V; ++i) keys[static_cast<size_t>(i)] = ss::rank_key(v[i], i);
    uint64_t prefix = 0, mask = 0;
    unsigned int remaining = static_cast<unsigned int>(k);
    for (int pass = 0; pass < 8; ++pass) {
      const int shift = 56 - 8 * pass;
      unsigned int hist[256] = {};
      for (uint64_t key : keys) {
        if ((key & mask) == prefix) ++hist[(key >> shift) & 0xff];
      }
      prefix |= static_cast<uint64_t>(ss::radix_pick_digit(hist, &remaining)) << shift;
      mask |= uint64_t{0xff} << shift;
    }
    EXPECT_EQ(remaining, 1u);
    std::vector<uint64_t> picked;
    for (uint64_t key : keys) {
      if (key >= prefix) picked.push_back(key);
    }
    ASSERT_EQ(picked.size(), static_cast<size_t>(k)) << "trial " << trial;
    std::sort(picked.rbegin(), picked.rend());
    std::vector<int32_t> order(static_cast<size_t>(V));
    for (int32_t i = 0; i < V; ++i) order[static_cast<size_t>(i)] = i;
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return ss::ranks_before(v[a], a, v[b], b); });
    for (int32_t i = 0; i < k; ++i) {
      const int32_t id = order[static_cast<size_t>(i)];
      ASSERT_EQ(ss::id_of_key(picked[static_cast<size_t>(i)]), id) << "trial " << trial;
      ASSERT_EQ(ss::value_of_key(picked[static_cast<size_t>(i)]), v[id]);
    }
  }
  // order_bits is monotone and one-to-one on values (with -0 == +0).
  EXPECT_EQ(ss::order_bits(-0.0f), ss::order_bits(0.0f));
  EXPECT_LT(ss::order_bits(-1.0f), ss::order_bits(-0.5f));
  EXPECT_LT(ss::order_bits(-1e-30f), ss::order_bits(0.0f));
  EXPECT_LT(ss::order_bits(0.0f), ss::order_bits(1e-30f));
  EXPECT_LT(ss::order_bits(2.0f), ss::order_bits(INFINITY));
  EXPECT_EQ(ss::from_order_bits(ss::order_bits(-3.25f)), -3.25f);
}

// A CPU backend that claims to sample on the device: the generator then takes its device path.
class DeviceSamplingCpu final : public testing::ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  bool samples_on_device(const SampleArgs&) const override { return true; }
  int n_samples = 0;
  void sample(float* logits, int32_t n_vocab, const SampleArgs& a, int32_t* out) override {
    ++n_samples;
    inner_->sample(logits, n_vocab, a, out);
  }
};

class DeviceSampling : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("memlong_device_sampling_" + std::to_string(::getpid()) + ".gguf"))
                .string();
    SyntheticModelSpec spec;
    spec.n_layer = 2;
    spec.n_embd = 64;
    spec.weight_scale = 0.5f;  // peaked logits: sampling differs from uniform noise
    ASSERT_TRUE(write_synthetic_llama_gguf(path_, spec).is_ok());
    auto f = open_model(path_);
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    file_ = std::move(f).value();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
  std::unique_ptr<ModelFile> file_;
};

TEST_F(DeviceSampling, SampleLastEqualsTheSamplerOnTheSameLogits) {
  auto cpu = make_cpu_backend(2);
  auto model = LlamaModel::create(*file_, *cpu);
  ASSERT_TRUE(model.is_ok());
  auto ctx = InferenceContext::create(**model, 64, 16);
  ASSERT_TRUE(ctx.is_ok());
  SamplingParams p;
  p.temperature = 0.9f;
  p.repetition_penalty = 1.3f;
  p.seed = 42;
  const std::vector<int32_t> prompt = {10, 20, 30, 20};
  auto logits = (*ctx)->eval(prompt, false);
  ASSERT_TRUE(logits.is_ok());
  Sampler sampler(p);
  std::vector<float> host = *logits;
  const int32_t want = sampler.sample(host, prompt);
  std::mt19937_64 draws(p.seed);
  SampleArgs a = args_of(p);
  a.uniform = std::uniform_real_distribution<double>(0.0, 1.0)(draws);
  const auto ids = repetition_penalty_ids(p, prompt, (*model)->config().n_vocab);
  auto got = (*ctx)->sample_last(a, ids);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(*got, want);
  // The logits were consumed: a second pick without an eval is an error.
  EXPECT_EQ((*ctx)->sample_last(a, ids).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DeviceSampling, GeneratorDevicePathGivesTheHostPathsTokens) {
  auto tok = file_->make_tokenizer();
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  const std::vector<int32_t> prompt = {72, 101, 108, 108, 111};
  for (const float temperature : {0.0f, 0.8f}) {
    GenerateOptions o;
    o.max_tokens = 24;
    o.sampling.temperature = temperature;
    o.sampling.repetition_penalty = 1.2f;
    o.sampling.seed = 9;
    auto host_backend = make_cpu_backend(2);
    auto host_model = LlamaModel::create(*file_, *host_backend);
    ASSERT_TRUE(host_model.is_ok());
    auto host_ctx = InferenceContext::create(**host_model, 128, 16);
    ASSERT_TRUE(host_ctx.is_ok());
    auto want = generate(**host_ctx, **tok, prompt, o, nullptr, CancelToken(), nullptr);
    ASSERT_TRUE(want.is_ok()) << want.status().to_string();

    DeviceSamplingCpu dev(make_cpu_backend(2));
    auto dev_model = LlamaModel::create(*file_, dev);
    ASSERT_TRUE(dev_model.is_ok());
    auto dev_ctx = InferenceContext::create(**dev_model, 128, 16);
    ASSERT_TRUE(dev_ctx.is_ok());
    auto got = generate(**dev_ctx, **tok, prompt, o, nullptr, CancelToken(), nullptr);
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    EXPECT_EQ(got->tokens, want->tokens) << "temperature " << temperature;
    EXPECT_EQ(got->stop_reason, want->stop_reason);
    EXPECT_GE(dev.n_samples, static_cast<int>(got->tokens.size()));
    EXPECT_FALSE(want->tokens.empty());
  }
}

}  // namespace
}  // namespace memlong
