// Issue 7 on the GPU: decode steps replayed from CUDA graphs against the same steps as plain
// launches and against the batch path (bit-identical logits, stash and memory token mass over 32
// steps, with and without MemLong memory), and device sampling against the host's selection
// (CpuBackend::sample, i.e. core/generate/sample_select.h, itself tested equal to the Sampler)
// on the same logits and uniforms, and the generator's device path against its host path on
// GPU logits. Skipped with the loader's reason where there is no GPU.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/backend/backend.h"
#include "core/backend/backend_loader.h"
#include "core/generate/generator.h"
#include "core/generate/sampler.h"
#include "core/model/model_file.h"
#include "core/model/synthetic_model.h"
#include "core/transformer/llama_model.h"
#include "cuda_test_support.h"

namespace memlong {
namespace {

using namespace cuda_test;

bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = a.size() == b.size() ? 0.0f : INFINITY;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

struct Trace {
  std::vector<std::vector<float>> logits, stash_k, stash_v, token_mass;
};

// 8 prefill tokens, then 32 decode steps; with memory: a block joint with the upper layers, the
// stash and (when the backend has it) token mass requested on every call.
Trace run(const LlamaModel& model, bool capturable, int memory_mode) {
  Trace t;
  auto ctx = InferenceContext::create(model, 128, 16);
  EXPECT_TRUE(ctx.is_ok()) << ctx.status().to_string();
  if (!ctx.is_ok()) return t;
  (*ctx)->set_capturable_decode(capturable);
  const LlamaConfig& c = model.config();
  const int32_t kv_row = c.n_head_kv * c.head_dim, n_mem = 96;
  const auto mk = random_vec(static_cast<size_t>(n_mem * kv_row), 21);
  const auto mv = random_vec(static_cast<size_t>(n_mem * kv_row), 22);
  std::vector<int32_t> layers;
  for (int32_t l = c.n_layer / 2; l < c.n_layer; l += 2) layers.push_back(l);
  MemoryAttention mem;
  mem.k = mk.data();
  mem.v = mv.data();
  mem.n_mem = n_mem;
  mem.contiguous_positions = memory_mode == 2;
  mem.retrieval_layers = layers;
  mem.memory_layer = c.n_layer / 2 - 1;
  mem.block_id = 3;
  std::mt19937 rng(4);
  std::vector<int32_t> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back(static_cast<int32_t>(rng() % 256));
  auto eval = [&](std::span<const int32_t> toks) {
    MemoryOutputs mo;
    auto r = memory_mode != 0 ? (*ctx)->eval(toks, false, mem, &mo) : (*ctx)->eval(toks, false);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    t.logits.push_back(std::move(r).value());
    t.stash_k.push_back(mo.stash_k);
    t.stash_v.push_back(mo.stash_v);
    t.token_mass.push_back(mo.mem_token_mass);
  };
  const std::span<const int32_t> all(tokens);
  eval(all.subspan(0, 8));
  for (size_t i = 8; i < tokens.size(); ++i) eval(all.subspan(i, 1));
  return t;
}

void expect_identical(const Trace& a, const Trace& b, const std::string& what) {
  ASSERT_EQ(a.logits.size(), b.logits.size()) << what;
  float worst = 0.0f;
  for (size_t s = 0; s < a.logits.size(); ++s) {
    worst = std::max(worst, max_abs_diff(a.logits[s], b.logits[s]));
    EXPECT_TRUE(bits_equal(a.logits[s], b.logits[s])) << what << ": logits of call " << s;
    EXPECT_TRUE(bits_equal(a.stash_k[s], b.stash_k[s])) << what << ": stash K of call " << s;
    EXPECT_TRUE(bits_equal(a.stash_v[s], b.stash_v[s])) << what << ": stash V of call " << s;
    EXPECT_TRUE(bits_equal(a.token_mass[s], b.token_mass[s])) << what << ": mass of call " << s;
  }
  std::printf("[ parity ] %s: max |logit diff| %.3g over %zu calls\n", what.c_str(), worst,
              a.logits.size());
}

TEST(CudaParityGraphs, ReplayEqualsPlainLaunchesOver32DecodeSteps) {
  MEMLONG_REQUIRE_GPU(gpu);
  const auto path = std::filesystem::temp_directory_path() /
                    ("memlong_cuda_graphs_" + std::to_string(::getpid()) + ".gguf");
  SyntheticModelSpec spec;  // SmolLM2-135M's widths on 8 layers
  spec.n_layer = 8;
  spec.n_embd = 576;
  spec.n_head = 9;
  spec.n_head_kv = 3;
  spec.n_ff = 1536;
  spec.matrix_type = DType::kQ8_0;
  ASSERT_TRUE(write_synthetic_llama_gguf(path.string(), spec).is_ok());
  auto file = open_model(path.string());
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  auto model = LlamaModel::create(**file, gpu);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  for (int memory_mode : {0, 1, 2}) {
    const std::string label = memory_mode == 0   ? "no memory"
                              : memory_mode == 1 ? "memory(zero)"
                                                 : "memory(contiguous)";
    gpu.set_decode_graphs_enabled(true);
    const Trace graphs = run(**model, true, memory_mode);
    const std::string status = gpu.decode_graph_status();
    std::printf("[ graphs ] %s: %s\n", label.c_str(), status.c_str());
    EXPECT_EQ(status.rfind("on;", 0), 0u) << status;
    EXPECT_EQ(status.find(" 0 replays"), std::string::npos) << status;
    gpu.set_decode_graphs_enabled(false);
    const Trace plain = run(**model, true, memory_mode);
    const Trace batch = run(**model, false, memory_mode);
    gpu.set_decode_graphs_enabled(true);
    expect_identical(plain, graphs, label + ": graph replay vs plain launches");
    expect_identical(batch, graphs, label + ": graph replay vs batch path");
  }
  std::filesystem::remove(path);
}

TEST(CudaParityGraphs, DeviceSamplingEqualsTheHostSelection) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto cpu = make_cpu_backend(1);
  std::mt19937 rng(17);
  int n_checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int32_t V = trial % 3 == 0 ? 49152 : 1 + static_cast<int32_t>(rng() % 3000);
    auto logits =
        random_vec(static_cast<size_t>(V), 100 + trial, 1.0f + static_cast<float>(trial % 4));
    if (trial % 4 == 0) {
      for (float& l : logits) l = std::round(l * 2.0f) / 2.0f;  // many ties
    }
    SamplingParams p;
    const float temps[] = {0.0f, 0.5f, 1.0f, 1.5f};
    p.temperature = temps[rng() % 4];
    const int32_t ks[] = {1, 2, 40, 256, 1024};
    p.top_k = ks[rng() % 5];
    const float tps[] = {1.0f, 0.95f, 0.5f};
    p.top_p = tps[rng() % 3];
    const float mps[] = {0.0f, 0.05f};
    p.min_p = mps[rng() % 2];
    p.repetition_penalty = rng() % 2 ? 1.0f : 1.3f;
    std::vector<int32_t> recent(64);
    for (int32_t& t : recent) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(V));
    const auto ids = repetition_penalty_ids(p, recent, V);
    SampleArgs a;
    a.temperature = p.temperature;
    a.top_k = p.top_k;
    a.top_p = p.top_p;
    a.min_p = p.min_p;
    a.repetition_penalty = p.repetition_penalty;
    a.uniform = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    ASSERT_TRUE(gpu.samples_on_device(a));
    // Host: the shared selection on the CPU, and core's Sampler with the same uniform.
    std::vector<float> host = logits;
    SampleArgs ha = a;
    ha.penalty_ids = ids.data();
    ha.n_penalty_ids = static_cast<int32_t>(ids.size());
    int32_t want = -1;
    cpu->sample(host.data(), V, ha, &want);
    // Device.
    auto d_logits = gpu.alloc(logits.size() * 4);
    auto d_ids = gpu.alloc(std::max<size_t>(ids.size(), 1) * 4);
    auto d_out = gpu.alloc(4);
    ASSERT_TRUE(d_logits.is_ok() && d_ids.is_ok() && d_out.is_ok());
    gpu.copy_to_device(d_logits->data(), logits.data(), logits.size() * 4);
    if (!ids.empty()) gpu.copy_to_device(d_ids->data(), ids.data(), ids.size() * 4);
    SampleArgs da = a;
    da.penalty_ids = d_ids->i32();
    da.n_penalty_ids = static_cast<int32_t>(ids.size());
    gpu.sample(d_logits->f32(), V, da, d_out->i32());
    int32_t got = -2;
    ASSERT_TRUE(gpu.copy_to_host(&got, d_out->data(), 4).is_ok());
    ASSERT_EQ(got, want) << "trial " << trial << " V " << V << " T " << p.temperature << " top_k "
                         << p.top_k << " top_p " << p.top_p << " min_p " << p.min_p << " rp "
                         << p.repetition_penalty << " u " << a.uniform;
    ++n_checked;
  }
  EXPECT_EQ(n_checked, 300);
  std::printf("[ parity ] device sampling: %d picks equal to the host's\n", n_checked);
}

// The generator on GPU logits: its device-sampling path against core's Sampler on the same
// logits read back (same seed, same RNG stream), same tokens.
TEST(CudaParityGraphs, GeneratorDeviceSamplingEqualsHostSampling) {
  MEMLONG_REQUIRE_GPU(gpu);
  const auto path = std::filesystem::temp_directory_path() /
                    ("memlong_cuda_gen_" + std::to_string(::getpid()) + ".gguf");
  SyntheticModelSpec spec;
  spec.n_layer = 4;
  spec.n_embd = 256;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 512;
  spec.weight_scale = 0.3f;
  ASSERT_TRUE(write_synthetic_llama_gguf(path.string(), spec).is_ok());
  auto file = open_model(path.string());
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  auto tok = (*file)->make_tokenizer();
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  auto model = LlamaModel::create(**file, gpu);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  const std::vector<int32_t> prompt = {72, 101, 108, 108, 111};
  for (const float temperature : {0.0f, 0.8f}) {
    GenerateOptions o;
    o.max_tokens = 32;
    o.sampling.temperature = temperature;
    o.sampling.repetition_penalty = 1.2f;
    o.sampling.seed = 5;
    auto dev_ctx = InferenceContext::create(**model, 128, 16);
    ASSERT_TRUE(dev_ctx.is_ok());
    auto got = generate(**dev_ctx, **tok, prompt, o, nullptr, CancelToken(), nullptr);
    ASSERT_TRUE(got.is_ok()) << got.status().to_string();
    // Host path: the same logits read back, core's Sampler.
    auto host_ctx = InferenceContext::create(**model, 128, 16);
    ASSERT_TRUE(host_ctx.is_ok());
    Sampler sampler(o.sampling);
    std::vector<int32_t> hist(prompt);
    auto logits = (*host_ctx)->eval(prompt, false);
    ASSERT_TRUE(logits.is_ok());
    std::vector<int32_t> want;
    for (int i = 0; i < o.max_tokens; ++i) {
      const int32_t id = sampler.sample(*logits, hist);
      if ((*tok)->is_end_of_generation(id)) break;
      want.push_back(id);
      hist.push_back(id);
      const int32_t next[1] = {id};
      logits = (*host_ctx)->eval(next, false);
      ASSERT_TRUE(logits.is_ok());
    }
    EXPECT_EQ(got->tokens, want) << "temperature " << temperature;
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace memlong
