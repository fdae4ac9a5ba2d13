// The whole model against logits computed another way:
//  - the tiny Hugging Face fixtures (scripts/gen_tiny_llama.py: float64 numpy forward with
//    rotate-half RoPE on the HF weights), every logit of every position;
//  - the real default model (scripts/gen_reference_logits.py: the PyPI `gguf` package
//    dequantizes the GGUF, numpy runs a float64 forward with interleaved RoPE), argmax and 256
//    stored logits per position. Tests named RealModel need the default model; a missing file
//    fails with the setup hint.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/backend/backend.h"
#include "core/common/paths.h"
#include "core/model/model_file.h"
#include "core/transformer/llama_model.h"

namespace memlong {
namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  if (!in.good()) return json::object();
  return json::parse(in);
}

struct Engine {
  std::unique_ptr<ModelFile> file;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<LlamaModel> model;
};

// Loads `path` on a 2-thread CPU backend; reports failures through gtest. exact: f32 activations
// (see CpuBackend), which isolates the graph from the 8-bit activation rounding.
void load(const std::string& path, Engine* e, bool exact = false) {
  auto file = open_model(path);
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  e->file = std::move(file).value();
  e->backend = make_cpu_backend(2, exact);
  ASSERT_NE(e->backend, nullptr);
  auto model = LlamaModel::create(*e->file, *e->backend);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  e->model = std::move(model).value();
}

// Engine logits [n, V] for `tokens` from an empty cache.
std::vector<float> eval_all(const LlamaModel& model, const std::vector<int32_t>& tokens) {
  auto ctx = InferenceContext::create(model, 256);
  EXPECT_TRUE(ctx.is_ok()) << ctx.status().to_string();
  if (!ctx.is_ok()) return {};
  auto logits = ctx.value()->eval(tokens, /*all_logits=*/true);
  EXPECT_TRUE(logits.is_ok()) << logits.status().to_string();
  if (!logits.is_ok()) return {};
  return std::move(logits).value();
}

// Tiny HF models: F32 weights and f32 activations end to end (F16/BF16 weights are dotted
// against f32 activations), so the engine should agree with the float64 reference to float
// rounding; logits are O(1-4). Tolerance 1e-4 absolute.
void check_tiny(const std::string& folder, float tolerance) {
  Engine e;
  ASSERT_NO_FATAL_FAILURE(load(folder, &e));
  const json ref = read_json(folder + "/expected_logits.json");
  const auto tokens = ref.at("tokens").get<std::vector<int32_t>>();
  const int64_t n_vocab = ref.at("n_vocab").get<int64_t>();
  ASSERT_EQ(n_vocab, e.model->config().n_vocab);
  const std::vector<float> got = eval_all(*e.model, tokens);
  ASSERT_EQ(got.size(), tokens.size() * static_cast<size_t>(n_vocab));
  double max_diff = 0;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const auto& row = ref.at("logits").at(t);
    for (int64_t v = 0; v < n_vocab; ++v) {
      const double want = row.at(static_cast<size_t>(v)).get<double>();
      max_diff = std::max(max_diff, std::fabs(want - got[t * n_vocab + v]));
    }
  }
  EXPECT_LT(max_diff, tolerance) << folder;
  std::printf("[ info ] %s: max |logit diff| vs numpy = %.3g over %zu positions\n",
              std::filesystem::path(folder).filename().c_str(), max_diff, tokens.size());

  // Incremental decoding (one token per call) must give the same last-position logits.
  auto ctx = InferenceContext::create(*e.model, 256);
  ASSERT_TRUE(ctx.is_ok()) << ctx.status().to_string();
  std::vector<float> last;
  for (int32_t id : tokens) {
    auto r = ctx.value()->eval(std::span<const int32_t>(&id, 1), false);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    last = std::move(r).value();
  }
  ASSERT_EQ(last.size(), static_cast<size_t>(n_vocab));
  const auto& ref_last = ref.at("logits").back();
  double max_inc = 0;
  for (int64_t v = 0; v < n_vocab; ++v) {
    max_inc = std::max(max_inc, std::fabs(ref_last.at(v).get<double>() - last[v]));
  }
  EXPECT_LT(max_inc, tolerance) << folder << " (token-by-token)";
}

TEST(LlamaReference, TinyHfF32MatchesNumpy) {
  check_tiny(std::string(MEMLONG_TEST_DATA_DIR) + "/model/tiny_llama", 1e-4f);
}

TEST(LlamaReference, TinyHfShardedHalfMatchesNumpy) {
  // The reference used the same F16/BF16-rounded weights, so only f32 arithmetic differs.
  check_tiny(std::string(MEMLONG_TEST_DATA_DIR) + "/model/tiny_llama_sharded", 1e-4f);
}

// Real model: the engine quantizes activations to 8 bits (Q8_1 blocks for the Q4_1 weights,
// Q8_0 for the Q8_0 head, as llama.cpp does) where the reference keeps float64. SmolLM2's logits
// are large (|logit| up to ~40, spread ~3.4 RMS), so that noise is not 1e-2 but tenths:
// measured max |Δlogit| = 1.30 and RMS 0.26 over 113 positions x 256 ids (2 threads, AVX2).
// The same numpy pass with emulated 8-bit activations (per-32 block absmax/127, f16 scale)
// deviates from the float64 reference by the same amount (RMS 0.20-0.30, max 1.0-1.6 over the
// whole vocabulary), so this is the quantization, not a bug. A wrong RoPE layout (rotate-half on
// these interleaved weights) gives RMS 5.9, max 18.6 and 35% argmax agreement on the 65-token
// prompt, failing every bound below.
constexpr double kRealMaxTolerance = 2.5;   // measured 1.30
constexpr double kRealRmsTolerance = 0.45;  // measured 0.26
// Argmax must match wherever the reference's top two differ by more than this margin (~2x the
// noise RMS); closer calls may flip either way (measured: 7 positions below 0.15, 3 flips), and
// there the engine's argmax must be one of the reference's top-5 within the margin of its best.
constexpr double kArgmaxTieMargin = 0.5;

TEST(LlamaReference, RealModelMatchesNumpyReference) {
  const std::string path = default_model_path();
  ASSERT_TRUE(std::filesystem::exists(path)) << missing_model_hint(path);
  Engine e;
  ASSERT_NO_FATAL_FAILURE(load(path, &e));
  const json ref =
      read_json(std::string(MEMLONG_TEST_DATA_DIR) + "/model/smollm2_reference_logits.json");
  ASSERT_TRUE(ref.contains("prompts"));
  const int64_t V = e.model->config().n_vocab;
  double max_diff = 0, sum_sq = 0;
  int64_t n_values = 0;
  int n_positions = 0, n_near_ties = 0;
  for (const json& prompt : ref.at("prompts")) {
    const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
    const auto ids = prompt.at("ids").get<std::vector<int32_t>>();
    const std::vector<float> got = eval_all(*e.model, tokens);
    ASSERT_EQ(got.size(), tokens.size() * static_cast<size_t>(V));
    for (size_t t = 0; t < tokens.size(); ++t) {
      const json& pos = prompt.at("positions").at(t);
      const float* row = got.data() + t * V;
      const int32_t arg = static_cast<int32_t>(std::max_element(row, row + V) - row);
      const int32_t want = pos.at("argmax").get<int32_t>();
      const auto top5 = pos.at("top5").get<std::vector<int32_t>>();
      const auto top5_logits = pos.at("top5_logits").get<std::vector<double>>();
      if (top5_logits[0] - top5_logits[1] > kArgmaxTieMargin) {
        EXPECT_EQ(arg, want) << "prompt '" << prompt.at("text").get<std::string>() << "' position "
                             << t;
      } else {
        ++n_near_ties;
        bool ok = false;
        for (size_t k = 0; k < top5.size(); ++k) {
          ok |= top5[k] == arg && top5_logits[0] - top5_logits[k] <= kArgmaxTieMargin;
        }
        EXPECT_TRUE(ok) << "position " << t << ": engine argmax " << arg
                        << " is not among the reference's near-tied top ids";
      }
      const auto& logits = pos.at("logits");
      for (size_t k = 0; k < ids.size(); ++k) {
        const double d = logits.at(k).get<double>() - row[ids[k]];
        max_diff = std::max(max_diff, std::fabs(d));
        sum_sq += d * d;
        ++n_values;
      }
      ++n_positions;
    }
  }
  ASSERT_GT(n_values, 0);
  const double rms = std::sqrt(sum_sq / static_cast<double>(n_values));
  EXPECT_LT(max_diff, kRealMaxTolerance);
  EXPECT_LT(rms, kRealRmsTolerance);
  std::printf(
      "[ info ] real model: max |logit diff| = %.4f, RMS %.4f over %d positions x 256 "
      "ids (%d positions with the top two within %.1f)\n",
      max_diff, rms, n_positions, n_near_ties, kArgmaxTieMargin);
}

// With f32 activations the engine runs the same arithmetic as the float64 reference up to float
// rounding: every argmax must match and the logits agree to 1e-3 (measured: 1.1e-4 max).
TEST(LlamaReference, RealModelExactActivationsMatchNumpyTightly) {
  const std::string path = default_model_path();
  ASSERT_TRUE(std::filesystem::exists(path)) << missing_model_hint(path);
  Engine e;
  ASSERT_NO_FATAL_FAILURE(load(path, &e, /*exact=*/true));
  const json ref =
      read_json(std::string(MEMLONG_TEST_DATA_DIR) + "/model/smollm2_reference_logits.json");
  const int64_t V = e.model->config().n_vocab;
  double max_diff = 0;
  for (const json& prompt : ref.at("prompts")) {
    const auto tokens = prompt.at("tokens").get<std::vector<int32_t>>();
    const auto ids = prompt.at("ids").get<std::vector<int32_t>>();
    const std::vector<float> got = eval_all(*e.model, tokens);
    ASSERT_EQ(got.size(), tokens.size() * static_cast<size_t>(V));
    for (size_t t = 0; t < tokens.size(); ++t) {
      const json& pos = prompt.at("positions").at(t);
      const float* row = got.data() + t * V;
      EXPECT_EQ(std::max_element(row, row + V) - row, pos.at("argmax").get<int32_t>())
          << "position " << t;
      const auto& logits = pos.at("logits");
      for (size_t k = 0; k < ids.size(); ++k) {
        max_diff = std::max(max_diff, std::fabs(logits.at(k).get<double>() - row[ids[k]]));
      }
    }
  }
  EXPECT_LT(max_diff, 1e-3);
  std::printf("[ info ] real model, exact activations: max |logit diff| = %.2e\n", max_diff);
}

}  // namespace
}  // namespace memlong
