// The capturable decode step (issue 7) on the CPU: single-token evals through the step path
// (inputs staged into a device buffer, positions and cache row read by the ops) give logits,
// stash and memory token mass BIT-IDENTICAL to the batch path (n_past as op arguments), with and
// without MemLong memory in both position modes; and replayed from a recording
// (tests/core/backend/forwarding_backend.h: ReplayingBackend, a host model of CUDA graphs) they
// are identical too, which shows that nothing a step varies is baked into the recorded ops.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "core/backend/backend.h"
#include "core/common/paths.h"
#include "core/model/model_file.h"
#include "core/model/synthetic_model.h"
#include "core/transformer/llama_model.h"
#include "tests/core/backend/forwarding_backend.h"

namespace memlong {
namespace {

struct Trace {
  std::vector<std::vector<float>> logits;
  std::vector<std::vector<float>> stash_k, stash_v, token_mass;
};

struct MemSetup {
  bool enabled = false;
  bool contiguous = false;
};

std::vector<float> randn(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Prefill of `n_prefill` tokens, then one token per eval (all with memory when enabled, the
// stash and token mass requested on every call, as core/assistant/qa.cpp decodes).
Trace run(const ModelFile& file, Backend& backend, bool capturable, const MemSetup& ms,
          const std::vector<int32_t>& tokens, int n_prefill) {
  Trace t;
  auto model = LlamaModel::create(file, backend);
  EXPECT_TRUE(model.is_ok()) << model.status().to_string();
  if (!model.is_ok()) return t;
  auto ctx = InferenceContext::create(**model, 128, 32);
  EXPECT_TRUE(ctx.is_ok()) << ctx.status().to_string();
  if (!ctx.is_ok()) return t;
  (*ctx)->set_capturable_decode(capturable);
  const LlamaConfig& c = (*model)->config();
  const int32_t kv_row = c.n_head_kv * c.head_dim;
  const int32_t n_mem = 24;
  const auto mk = randn(static_cast<size_t>(n_mem * kv_row), 7);
  const auto mv = randn(static_cast<size_t>(n_mem * kv_row), 8);
  std::vector<int32_t> layers;
  for (int32_t l = 1; l < c.n_layer; ++l) layers.push_back(l);
  MemoryAttention mem;
  if (ms.enabled) {
    mem.k = mk.data();
    mem.v = mv.data();
    mem.n_mem = n_mem;
    mem.contiguous_positions = ms.contiguous;
    mem.retrieval_layers = layers;
    mem.memory_layer = 0;
    mem.block_id = 5;
    mem.want_token_mass = true;
  }
  auto eval = [&](std::span<const int32_t> toks) {
    MemoryOutputs mo;
    auto r = ms.enabled ? (*ctx)->eval(toks, false, mem, &mo) : (*ctx)->eval(toks, false);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    t.logits.push_back(std::move(r).value());
    t.stash_k.push_back(mo.stash_k);
    t.stash_v.push_back(mo.stash_v);
    t.token_mass.push_back(mo.mem_token_mass);
  };
  const std::span<const int32_t> all(tokens);
  eval(all.subspan(0, static_cast<size_t>(n_prefill)));
  for (size_t i = static_cast<size_t>(n_prefill); i < tokens.size(); ++i) eval(all.subspan(i, 1));
  return t;
}

bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

void expect_identical(const Trace& a, const Trace& b, const std::string& what) {
  ASSERT_EQ(a.logits.size(), b.logits.size()) << what;
  for (size_t s = 0; s < a.logits.size(); ++s) {
    ASSERT_FALSE(a.logits[s].empty());
    EXPECT_TRUE(bits_equal(a.logits[s], b.logits[s])) << what << ": logits of call " << s;
    EXPECT_TRUE(bits_equal(a.stash_k[s], b.stash_k[s])) << what << ": stash K of call " << s;
    EXPECT_TRUE(bits_equal(a.stash_v[s], b.stash_v[s])) << what << ": stash V of call " << s;
    EXPECT_TRUE(bits_equal(a.token_mass[s], b.token_mass[s]))
        << what << ": token mass of call " << s;
  }
}

class DecodeStep : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("memlong_decode_step_" + std::to_string(::getpid()) + ".gguf"))
                .string();
    SyntheticModelSpec spec;
    spec.n_layer = 3;
    spec.n_embd = 64;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.n_ff = 128;
    spec.matrix_type = DType::kQ8_0;
    ASSERT_TRUE(write_synthetic_llama_gguf(path_, spec).is_ok());
    auto f = open_model(path_);
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    file_ = std::move(f).value();
    std::mt19937 rng(3);
    for (int i = 0; i < 30; ++i) tokens_.push_back(static_cast<int32_t>(rng() % 256));
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::string path_;
  std::unique_ptr<ModelFile> file_;
  std::vector<int32_t> tokens_;  // 10 prefill + 20 decode steps
};

TEST_F(DecodeStep, StepPathAndReplayAreBitIdenticalToTheBatchPath) {
  for (const MemSetup ms : {MemSetup{false, false}, MemSetup{true, false}, MemSetup{true, true}}) {
    const std::string what = !ms.enabled     ? "no memory"
                             : ms.contiguous ? "memory (contiguous)"
                                             : "memory (zero)";
    auto cpu = make_cpu_backend(2);
    const Trace batch = run(*file_, *cpu, false, ms, tokens_, 10);
    const Trace step = run(*file_, *cpu, true, ms, tokens_, 10);
    expect_identical(batch, step, what + ", step path");
    testing::ReplayingBackend replaying(make_cpu_backend(2));
    const Trace replayed = run(*file_, replaying, true, ms, tokens_, 10);
    expect_identical(batch, replayed, what + ", recorded and replayed");
    // One key for all 20 steps: recorded once, replayed 19 times; the prefill is no step.
    EXPECT_EQ(replaying.n_captures, 1) << what;
    EXPECT_EQ(replaying.n_replays, 19) << what;
    EXPECT_EQ(replaying.n_keys(), 1) << what;
    if (ms.enabled) {
      ASSERT_FALSE(step.token_mass.back().empty()) << what;
      ASSERT_FALSE(step.stash_k.back().empty()) << what;
    }
  }
}

TEST_F(DecodeStep, FailedRecordingIsRetriedAsPlainLaunches) {
  auto cpu = make_cpu_backend(2);
  const Trace batch = run(*file_, *cpu, false, MemSetup{true, false}, tokens_, 10);
  testing::ReplayingBackend replaying(make_cpu_backend(2));
  replaying.fail_next_captures(1);
  const Trace retried = run(*file_, replaying, true, MemSetup{true, false}, tokens_, 10);
  expect_identical(batch, retried, "after a failed recording");
  EXPECT_EQ(replaying.n_failed_captures, 1);
  EXPECT_EQ(replaying.n_captures, 0);
  EXPECT_EQ(replaying.n_plain, 20);  // the failed step's retry and the 19 after it
}

TEST_F(DecodeStep, KeysSeparateContextsAndMemoryBlocks) {
  // Two contexts on one backend, and a step without memory between steps with memory: each
  // distinct op sequence gets its own key (a replay of another's recording would differ).
  testing::ReplayingBackend replaying(make_cpu_backend(2));
  auto model = LlamaModel::create(*file_, replaying);
  ASSERT_TRUE(model.is_ok());
  auto a = InferenceContext::create(**model, 64, 8);
  auto b = InferenceContext::create(**model, 64, 8);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  const int32_t t0[1] = {3}, t1[1] = {4};
  ASSERT_TRUE((*a)->eval(t0, false).is_ok());
  ASSERT_TRUE((*b)->eval(t0, false).is_ok());
  ASSERT_TRUE((*a)->eval(t1, false).is_ok());
  EXPECT_EQ(replaying.n_keys(), 2);
  EXPECT_EQ(replaying.n_replays, 1);
  const LlamaConfig& c = (*model)->config();
  const auto mk = randn(static_cast<size_t>(4 * c.n_head_kv * c.head_dim), 1);
  MemoryAttention mem;
  mem.k = mk.data();
  mem.v = mk.data();
  mem.n_mem = 4;
  const int32_t layers[1] = {1};
  mem.retrieval_layers = layers;
  ASSERT_TRUE((*a)->eval(t0, false, mem, nullptr).is_ok());
  EXPECT_EQ(replaying.n_keys(), 3);
}

// The real default model: the first decode steps after a prompt, step path against batch path.
TEST(DecodeStepRealModel, StepPathIsBitIdenticalOnTheDefaultModel) {
  const std::string path = default_model_path();
  ASSERT_TRUE(std::filesystem::exists(path)) << missing_model_hint(path);
  auto file = open_model(path);
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  const std::vector<int32_t> tokens = {1, 504, 3458, 282, 4649, 314, 253, 1345, 30, 378, 2114};
  auto cpu = make_cpu_backend(2);
  const Trace batch = run(**file, *cpu, false, MemSetup{}, tokens, 6);
  const Trace step = run(**file, *cpu, true, MemSetup{}, tokens, 6);
  expect_identical(batch, step, "default model");
  testing::ReplayingBackend replaying(make_cpu_backend(2));
  const Trace replayed = run(**file, replaying, true, MemSetup{}, tokens, 6);
  expect_identical(batch, replayed, "default model, replayed");
  EXPECT_EQ(replaying.n_replays, 4);
}

}  // namespace
}  // namespace memlong
