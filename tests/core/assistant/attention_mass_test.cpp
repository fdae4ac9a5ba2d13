// Per-memory-token attention mass (AttentionParams::mem_token_mass, MemoryOutputs::
// mem_token_mass), which ranks citations: the CPU kernel against a naive double loop, the
// one-softmax identity (memory mass + local mass == 1 per head and query, read back through the
// kernel's own outputs), and the plumbing through InferenceContext on a synthetic model.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/backend/cpu_backend.h"
#include "core/engine/engine.h"
#include "core/model/synthetic_model.h"

namespace memlong {
namespace {

std::vector<float> random_vec(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

struct Shapes {
  int H = 6, Hkv = 2, dh = 8, M = 7, n = 5, n_past = 3;
  int n_kv() const { return n_past + n; }
};

AttentionParams params(const Shapes& s, const std::vector<float>& mk,
                       const std::vector<float>& mv) {
  AttentionParams p;
  p.n_head = s.H;
  p.n_head_kv = s.Hkv;
  p.head_dim = s.dh;
  p.scale = 0.35f;
  p.n_query = s.n;
  p.q_pos0 = s.n_past;
  p.n_kv = s.n_kv();
  p.mem_k = mk.data();
  p.mem_v = mv.data();
  p.n_mem = s.M;
  return p;
}

// Naive reference: for each query i and head h, one softmax over [memory ; visible local] in
// double; returns the memory weights summed over (i, h) per memory token.
std::vector<double> naive_token_mass(const Shapes& s, const std::vector<float>& q,
                                     const std::vector<float>& kc, const std::vector<float>& mk,
                                     double scale) {
  std::vector<double> mass(static_cast<size_t>(s.M), 0.0);
  const int g = s.H / s.Hkv;
  for (int i = 0; i < s.n; ++i) {
    for (int h = 0; h < s.H; ++h) {
      const int hk = h / g, vis = s.n_past + i + 1;
      std::vector<double> z;
      for (int t = 0; t < s.M; ++t) {
        double d = 0;
        for (int j = 0; j < s.dh; ++j)
          d += q[(i * s.H + h) * s.dh + j] * mk[(t * s.Hkv + hk) * s.dh + j];
        z.push_back(d * scale);
      }
      for (int t = 0; t < vis; ++t) {
        double d = 0;
        for (int j = 0; j < s.dh; ++j)
          d += q[(i * s.H + h) * s.dh + j] * kc[(t * s.Hkv + hk) * s.dh + j];
        z.push_back(d * scale);
      }
      double mx = -1e300, sum = 0;
      for (double x : z) mx = std::max(mx, x);
      for (double& x : z) sum += (x = std::exp(x - mx));
      for (int t = 0; t < s.M; ++t) mass[static_cast<size_t>(t)] += z[static_cast<size_t>(t)] / sum;
    }
  }
  return mass;
}

TEST(AttentionMass, PerMemoryTokenMassMatchesNaiveDoubleLoop) {
  const Shapes s;
  const auto q = random_vec(static_cast<size_t>(s.n * s.H * s.dh), 1);
  const auto kc = random_vec(static_cast<size_t>(s.n_kv() * s.Hkv * s.dh), 2);
  const auto vc = random_vec(static_cast<size_t>(s.n_kv() * s.Hkv * s.dh), 3);
  const auto mk = random_vec(static_cast<size_t>(s.M * s.Hkv * s.dh), 4);
  const auto mv = random_vec(static_cast<size_t>(s.M * s.Hkv * s.dh), 5);
  const std::vector<double> want = naive_token_mass(s, q, kc, mk, 0.35);
  for (int threads : {1, 3}) {
    CpuBackend b(threads);
    AttentionParams p = params(s, mk, mv);
    // The output is accumulated into: start from 0.5 everywhere and expect 0.5 + mass.
    std::vector<float> mass(static_cast<size_t>(s.M), 0.5f);
    p.mem_token_mass = mass.data();
    std::vector<float> out(static_cast<size_t>(s.n * s.H * s.dh));
    b.attention(q.data(), kc.data(), vc.data(), p, out.data());
    double total = 0;
    for (int t = 0; t < s.M; ++t) {
      EXPECT_NEAR(mass[static_cast<size_t>(t)], 0.5 + want[static_cast<size_t>(t)], 1e-5)
          << "token " << t << ", " << threads << " threads";
      total += want[static_cast<size_t>(t)];
    }
    // Some mass went to memory and some stayed local (random keys): the test is not vacuous.
    EXPECT_GT(total, 0.05 * s.n * s.H);
    EXPECT_LT(total, 0.95 * s.n * s.H);
  }
}

// One softmax: with V = 1 on memory and 0 on local keys, each output element is exactly the
// memory share of its (query, head); with the values swapped it is the local share. Their sum
// must be 1, and the per-token masses must add up to the per-head memory shares.
TEST(AttentionMass, MemoryAndLocalMassSumToOnePerHeadAndQuery) {
  const Shapes s;
  CpuBackend b(2);
  const auto q = random_vec(static_cast<size_t>(s.n * s.H * s.dh), 11);
  const auto kc = random_vec(static_cast<size_t>(s.n_kv() * s.Hkv * s.dh), 12);
  const auto mk = random_vec(static_cast<size_t>(s.M * s.Hkv * s.dh), 14);
  const std::vector<float> ones_kv(static_cast<size_t>(s.n_kv() * s.Hkv * s.dh), 1.0f);
  const std::vector<float> zeros_kv(ones_kv.size(), 0.0f);
  const std::vector<float> ones_m(static_cast<size_t>(s.M * s.Hkv * s.dh), 1.0f);
  const std::vector<float> zeros_m(ones_m.size(), 0.0f);
  const size_t n_out = static_cast<size_t>(s.n * s.H * s.dh);
  std::vector<float> mem_share(n_out), local_share(n_out);
  std::vector<float> head_mass(static_cast<size_t>(s.n * s.H));
  std::vector<float> token_mass(static_cast<size_t>(s.M), 0.0f);
  AttentionParams p = params(s, mk, ones_m);
  p.mem_mass = head_mass.data();
  p.mem_token_mass = token_mass.data();
  b.attention(q.data(), kc.data(), zeros_kv.data(), p, mem_share.data());
  AttentionParams p2 = params(s, mk, zeros_m);
  b.attention(q.data(), kc.data(), ones_kv.data(), p2, local_share.data());
  double head_total = 0;
  for (int i = 0; i < s.n; ++i) {
    for (int h = 0; h < s.H; ++h) {
      const size_t ih = static_cast<size_t>(i * s.H + h);
      for (int j = 0; j < s.dh; ++j) {
        const size_t o = ih * static_cast<size_t>(s.dh) + static_cast<size_t>(j);
        EXPECT_NEAR(mem_share[o] + local_share[o], 1.0, 1e-5);
        EXPECT_NEAR(mem_share[o], head_mass[ih], 1e-5);
      }
      head_total += head_mass[ih];
    }
  }
  EXPECT_NEAR(std::accumulate(token_mass.begin(), token_mass.end(), 0.0), head_total, 1e-4);
}

// Plumbing: InferenceContext sums the kernel's per-token mass over the retrieval layers and the
// call's tokens. Causal attention means feeding the tokens one at a time gives the same rows, so
// the summed masses must match one batched call; identical memory tokens get identical mass;
// no request, no output.
TEST(AttentionMass, InferenceContextSumsOverLayersAndTokens) {
  const std::string path = ::testing::TempDir() + "/attention-mass-synthetic.gguf";
  SyntheticModelSpec spec;
  spec.n_layer = 3;
  spec.seed = 5;
  ASSERT_TRUE(write_synthetic_llama_gguf(path, spec).is_ok());
  EngineOptions eo;
  eo.model_path = path;
  eo.n_threads = 2;
  auto engine = Engine::load(eo);
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  const LlamaConfig& c = (*engine)->model().config();
  const int M = 6;
  const size_t row = static_cast<size_t>(c.n_head_kv) * static_cast<size_t>(c.head_dim);
  auto mk = random_vec(static_cast<size_t>(M) * row, 21);
  auto mv = random_vec(static_cast<size_t>(M) * row, 22);
  // Memory tokens 4 and 5 repeat tokens 1 and 2 exactly.
  std::copy_n(mk.begin() + static_cast<std::ptrdiff_t>(row), 2 * row,
              mk.begin() + static_cast<std::ptrdiff_t>(4 * row));
  std::copy_n(mv.begin() + static_cast<std::ptrdiff_t>(row), 2 * row,
              mv.begin() + static_cast<std::ptrdiff_t>(4 * row));
  const std::vector<int32_t> layers = {1, 2};
  const std::vector<int32_t> tokens = {72, 101, 108, 108, 111, 32, 119};
  for (bool contiguous : {false, true}) {
    MemoryAttention mem;
    mem.k = mk.data();
    mem.v = mv.data();
    mem.n_mem = M;
    mem.contiguous_positions = contiguous;
    mem.retrieval_layers = layers;
    mem.block_id = 7;
    mem.want_token_mass = true;

    auto ctx = (*engine)->new_context(64);
    ASSERT_TRUE(ctx.is_ok());
    MemoryOutputs batched;
    ASSERT_TRUE((*ctx)->eval(tokens, false, mem, &batched).is_ok());
    ASSERT_EQ(batched.mem_token_mass.size(), static_cast<size_t>(M));

    auto ctx2 = (*engine)->new_context(64);
    ASSERT_TRUE(ctx2.is_ok());
    std::vector<double> stepped(static_cast<size_t>(M), 0.0);
    for (int32_t id : tokens) {
      MemoryOutputs one;
      const int32_t ids[1] = {id};
      ASSERT_TRUE((*ctx2)->eval(ids, false, mem, &one).is_ok());
      ASSERT_EQ(one.mem_token_mass.size(), static_cast<size_t>(M));
      for (int t = 0; t < M; ++t) stepped[static_cast<size_t>(t)] += one.mem_token_mass[t];
    }
    double total = 0;
    for (int t = 0; t < M; ++t) {
      EXPECT_NEAR(batched.mem_token_mass[static_cast<size_t>(t)], stepped[static_cast<size_t>(t)],
                  1e-3 * std::max(1.0, stepped[static_cast<size_t>(t)]));
      EXPECT_GE(batched.mem_token_mass[static_cast<size_t>(t)], 0.0f);
      total += batched.mem_token_mass[static_cast<size_t>(t)];
    }
    // Each (layer, head, token) spends at most 1 on memory; with random weights, some of it.
    const double bound = static_cast<double>(layers.size()) * c.n_head * tokens.size();
    EXPECT_GT(total, 0.01 * bound);
    EXPECT_LT(total, bound);
    if (!contiguous) {
      // Zero mode: memory keys are unrotated, so a repeated memory token scores exactly the same.
      EXPECT_NEAR(batched.mem_token_mass[4], batched.mem_token_mass[1], 1e-5);
      EXPECT_NEAR(batched.mem_token_mass[5], batched.mem_token_mass[2], 1e-5);
    }

    MemoryAttention no_request = mem;
    no_request.want_token_mass = false;
    MemoryOutputs none;
    const int32_t ids[1] = {65};
    ASSERT_TRUE((*ctx)->eval(ids, false, no_request, &none).is_ok());
    EXPECT_TRUE(none.mem_token_mass.empty());
  }
}

}  // namespace
}  // namespace memlong
