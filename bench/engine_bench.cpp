// Whole-engine throughput, measured the way llama.cpp's llama-bench measures it, so that
// scripts/bench can put the two side by side (docs/BENCHMARKS.md):
//   pp<N>: one eval() of N prompt tokens (BOS, then random ids) into an empty KV cache of N
//          tokens, all_logits = false (the LM head runs for the last row only).
//   tg<M>: after a short prompt (--tg-prompt tokens, untimed), M single-token evals of random
//          ids; the time covers the M evals (llama-bench's tg also feeds random ids, no sampling).
// Each test runs --warmup untimed repetitions, then --reps timed ones; tokens/s is reported per
// repetition, with mean and sample stddev (as llama-bench does). Also reports the KV cache size
// (ours is f32: n_layer * 2 * n_ctx * n_head_kv * head_dim * 4 bytes), peak RSS (getrusage
// ru_maxrss: the mapped GGUF pages touched count too) and the model file size.
// A plain main() rather than Google Benchmark: the repetition scheme and the JSON must match
// llama-bench's, not Google Benchmark's adaptive iteration counts.
//   engine_bench [--model GGUF] [--threads 2] [--reps 3] [--warmup 1] [--n-prompt 512]
//                [--n-gen 128] [--tg-prompt 1] [--json FILE] [--decode-steps 1|0]
// --decode-steps 0 runs single-token evals through the batch path instead of the capturable
// decode step (InferenceContext::set_capturable_decode), to compare the two (issue 7).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/common/paths.h"
#include "core/engine/engine.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

struct Options {
  std::string model_path;
  std::string json_path;
  int n_threads = 2;
  int n_reps = 3;
  int n_warmup = 1;
  int n_prompt = 512;
  int n_gen = 128;
  int n_tg_prompt = 1;
  bool decode_steps = true;
};

struct Stats {
  std::vector<double> samples_ts;  // tokens/s of each timed repetition
  double mean = 0.0, stddev = 0.0;
};

struct TestResult {
  std::string name;
  int n_tokens = 0;
  int n_ctx = 0;
  size_t kv_cache_bytes = 0;
  Stats stats;
};

int64_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;  // Linux: kilobytes
}

Stats summarize(std::vector<double> samples) {
  Stats s;
  s.samples_ts = std::move(samples);
  const auto n = static_cast<double>(s.samples_ts.size());
  for (double v : s.samples_ts) s.mean += v / n;
  if (s.samples_ts.size() > 1) {
    double ss = 0.0;
    for (double v : s.samples_ts) ss += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(ss / (n - 1.0));
  }
  return s;
}

size_t kv_cache_bytes(const LlamaConfig& c, int n_ctx) {
  return static_cast<size_t>(c.n_layer) * 2 * static_cast<size_t>(n_ctx) *
         static_cast<size_t>(c.n_head_kv) * static_cast<size_t>(c.head_dim) * sizeof(float);
}

// Random ids with BOS first, like llama-bench's prompt; the seed keeps runs comparable.
std::vector<int32_t> random_tokens(const LlamaConfig& c, int32_t bos_id, int n, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> dist(0, c.n_vocab - 1);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int32_t& id : t) id = dist(rng);
  if (n > 0 && bos_id >= 0 && bos_id < c.n_vocab) t[0] = bos_id;
  return t;
}

using Clock = std::chrono::steady_clock;

Result<TestResult> run_pp(const Engine& engine, const Options& o) {
  const LlamaConfig& c = engine.model().config();
  TestResult r;
  r.name = "pp" + std::to_string(o.n_prompt);
  r.n_tokens = o.n_prompt;
  r.n_ctx = o.n_prompt;
  r.kv_cache_bytes = kv_cache_bytes(c, r.n_ctx);
  MEMLONG_ASSIGN_OR_RETURN(auto ctx, engine.new_context(r.n_ctx, o.n_prompt));
  std::mt19937 rng(1);
  const std::vector<int32_t> prompt =
      random_tokens(c, engine.tokenizer().bos_id(), o.n_prompt, rng);
  std::vector<double> samples;
  for (int rep = 0; rep < o.n_warmup + o.n_reps; ++rep) {
    ctx->reset();
    const auto t0 = Clock::now();
    MEMLONG_ASSIGN_OR_RETURN(auto logits, ctx->eval(prompt, /*all_logits=*/false));
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (rep >= o.n_warmup) samples.push_back(o.n_prompt / s);
  }
  r.stats = summarize(std::move(samples));
  return r;
}

Result<TestResult> run_tg(const Engine& engine, const Options& o) {
  const LlamaConfig& c = engine.model().config();
  TestResult r;
  r.name = "tg" + std::to_string(o.n_gen);
  r.n_tokens = o.n_gen;
  r.n_ctx = o.n_tg_prompt + o.n_gen;
  r.kv_cache_bytes = kv_cache_bytes(c, r.n_ctx);
  MEMLONG_ASSIGN_OR_RETURN(auto ctx, engine.new_context(r.n_ctx, std::max(o.n_tg_prompt, 1)));
  ctx->set_capturable_decode(o.decode_steps);
  std::mt19937 rng(2);
  const std::vector<int32_t> prompt =
      random_tokens(c, engine.tokenizer().bos_id(), o.n_tg_prompt, rng);
  std::vector<double> samples;
  for (int rep = 0; rep < o.n_warmup + o.n_reps; ++rep) {
    ctx->reset();
    if (!prompt.empty()) {
      MEMLONG_ASSIGN_OR_RETURN(auto logits, ctx->eval(prompt, false));
    }
    std::uniform_int_distribution<int32_t> dist(0, c.n_vocab - 1);
    const auto t0 = Clock::now();
    for (int i = 0; i < o.n_gen; ++i) {
      const int32_t token = dist(rng);
      MEMLONG_ASSIGN_OR_RETURN(auto logits, ctx->eval(std::span<const int32_t>(&token, 1), false));
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (rep >= o.n_warmup) samples.push_back(o.n_gen / s);
  }
  r.stats = summarize(std::move(samples));
  return r;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    out += ch;
  }
  return out;
}

std::string test_json(const TestResult& t) {
  std::string samples;
  for (double v : t.stats.samples_ts) samples += (samples.empty() ? "" : ", ") + std::to_string(v);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"n_tokens\": %d, \"n_ctx\": %d, \"kv_cache_bytes\": %zu, "
                "\"tokens_per_s_mean\": %.3f, \"tokens_per_s_stddev\": %.3f, ",
                t.n_tokens, t.n_ctx, t.kv_cache_bytes, t.stats.mean, t.stats.stddev);
  return std::string(buf) + "\"samples_ts\": [" + samples + "]}";
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--model GGUF] [--threads N] [--reps N] [--warmup N] [--n-prompt N]\n"
               "          [--n-gen N] [--tg-prompt N] [--json FILE] [--decode-steps 1|0]\n",
               argv0);
  return 2;
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const char* v = argv[++i];
    if (a == "--model")
      o.model_path = v;
    else if (a == "--json")
      o.json_path = v;
    else if (a == "--threads")
      o.n_threads = std::atoi(v);
    else if (a == "--reps")
      o.n_reps = std::atoi(v);
    else if (a == "--warmup")
      o.n_warmup = std::atoi(v);
    else if (a == "--n-prompt")
      o.n_prompt = std::atoi(v);
    else if (a == "--n-gen")
      o.n_gen = std::atoi(v);
    else if (a == "--tg-prompt")
      o.n_tg_prompt = std::atoi(v);
    else if (a == "--decode-steps")
      o.decode_steps = std::atoi(v) != 0;
    else
      return usage(argv[0]);
  }
  if (o.n_threads < 1 || o.n_reps < 1 || o.n_warmup < 0 || o.n_prompt < 1 || o.n_gen < 1 ||
      o.n_tg_prompt < 0) {
    return usage(argv[0]);
  }
  if (o.model_path.empty()) o.model_path = default_model_path();

  const auto t_load = Clock::now();
  auto engine = Engine::load(EngineOptions{o.model_path, o.n_threads});
  if (!engine) {
    std::fprintf(stderr, "engine_bench: %s\n", engine.status().to_string().c_str());
    return 1;
  }
  const double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();
  const int64_t rss_after_load = peak_rss_bytes();
  std::error_code ec;
  const auto model_size = static_cast<int64_t>(std::filesystem::file_size(o.model_path, ec));

  auto pp = run_pp(**engine, o);
  if (!pp) {
    std::fprintf(stderr, "engine_bench: pp: %s\n", pp.status().to_string().c_str());
    return 1;
  }
  auto tg = run_tg(**engine, o);
  if (!tg) {
    std::fprintf(stderr, "engine_bench: tg: %s\n", tg.status().to_string().c_str());
    return 1;
  }
  const int64_t rss = peak_rss_bytes();
  const size_t kv_max = std::max(pp->kv_cache_bytes, tg->kv_cache_bytes);

  std::printf("model %s (%.1f MiB), %d threads, simd %s, KV f32, load %.2f s\n",
              o.model_path.c_str(), model_size / 1048576.0, o.n_threads, quant::simd_path_name(),
              load_s);
  for (const TestResult* t : {&*pp, &*tg}) {
    std::printf("%-6s %9.2f ± %6.2f tok/s  (n_ctx %d, KV %.1f MiB)\n", t->name.c_str(),
                t->stats.mean, t->stats.stddev, t->n_ctx, t->kv_cache_bytes / 1048576.0);
  }
  std::printf("peak RSS %.1f MiB (after load %.1f MiB)\n", rss / 1048576.0,
              rss_after_load / 1048576.0);

  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    f << "{\n  \"model\": \"" << json_escape(o.model_path) << "\",\n"
      << "  \"model_size_bytes\": " << model_size << ",\n"
      << "  \"n_threads\": " << o.n_threads << ",\n"
      << "  \"reps\": " << o.n_reps << ",\n  \"warmup\": " << o.n_warmup << ",\n"
      << "  \"tg_prompt_tokens\": " << o.n_tg_prompt << ",\n"
      << "  \"simd_path\": \"" << quant::simd_path_name() << "\",\n"
      << "  \"kv_type\": \"f32\",\n"
      << "  \"load_s\": " << load_s << ",\n"
      << "  \"pp" << o.n_prompt << "\": " << test_json(*pp) << ",\n"
      << "  \"tg" << o.n_gen << "\": " << test_json(*tg) << ",\n"
      << "  \"kv_cache_bytes_max\": " << kv_max << ",\n"
      << "  \"peak_rss_after_load_bytes\": " << rss_after_load << ",\n"
      << "  \"peak_rss_bytes\": " << rss << "\n}\n";
    if (!f) {
      std::fprintf(stderr, "engine_bench: could not write %s\n", o.json_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace memlong

int main(int argc, char** argv) {
  return memlong::run(argc, argv);
}
