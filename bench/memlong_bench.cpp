// MemLong overheads on the default model (MEMLONG.md; issue "MemLong"):
//   decode:  generation tokens/s with a local window of --local tokens, plain vs. with k*E memory
//            tokens attended at the retrieval layers (untuned profile R = {m}, and the spec's
//            full rule R = {m, m+4, ...}); the overhead is the per-token cost of memory attention
//            (retrieval is per call, not per token: the project's speed option, MEMLONG.md §2.3).
//   chunk:   one 128-token prefix pass: a plain forward, the memory-only ingestion shortcut, and
//            the full reader pass (retrieval with the default E5 retriever + forward + write).
//   bytes:   memory bytes per stored token (K/V bf16 + embedding + text), from the bank.
// A plain main(): each figure needs its own setup.
//   memlong_bench [--threads 2] [--local 512] [--gen 64] [--reps 3] [--json FILE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/common/paths.h"
#include "core/engine/engine.h"
#include "core/memory/memlong_config.h"
#include "core/memory/reader.h"
#include "core/retriever/embedder.h"

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int die(const Status& s) {
  std::fprintf(stderr, "memlong_bench: %s\n", s.to_string().c_str());
  return 1;
}

int run(int argc, char** argv) {
  int threads = 2, local = 512, gen = 64, reps = 3;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--threads")
      threads = std::atoi(next().c_str());
    else if (a == "--local")
      local = std::atoi(next().c_str());
    else if (a == "--gen")
      gen = std::atoi(next().c_str());
    else if (a == "--reps")
      reps = std::atoi(next().c_str());
    else if (a == "--json")
      json_path = next();
    else {
      std::fprintf(
          stderr,
          "usage: memlong_bench [--threads N] [--local N] [--gen N] [--reps N] [--json FILE]\n");
      return 2;
    }
  }
  EngineOptions eo;
  eo.n_threads = threads;
  auto engine = Engine::load(eo);
  if (!engine.is_ok()) return die(engine.status());
  const Engine& e = **engine;
  const LlamaConfig& mc = e.model().config();
  const MemLongConfig spec = default_memlong_config(mc.n_layer);
  const int32_t n_mem = spec.top_k * spec.entry_tokens;
  const size_t row = static_cast<size_t>(mc.n_head_kv) * mc.head_dim;
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> mem_k(static_cast<size_t>(n_mem) * row), mem_v(mem_k.size());
  for (float& x : mem_k) x = dist(rng);
  for (float& x : mem_v) x = dist(rng);
  std::vector<int32_t> prompt(static_cast<size_t>(local));
  for (int32_t& t : prompt) t = static_cast<int32_t>(rng() % static_cast<uint32_t>(mc.n_vocab));

  // ---- decode ----
  struct DecodeRow {
    std::string name;
    double tok_s;
  };
  std::vector<DecodeRow> decode;
  const std::vector<int32_t> untuned_r = {spec.memory_layer};
  auto decode_rate = [&](const std::vector<int32_t>* layers) -> Result<double> {
    MEMLONG_ASSIGN_OR_RETURN(auto ctx, e.new_context(local + gen + 1, 512));
    MemoryAttention mem;
    if (layers != nullptr) {
      mem.k = mem_k.data();
      mem.v = mem_v.data();
      mem.n_mem = n_mem;
      mem.contiguous_positions = true;
      mem.retrieval_layers = *layers;
      mem.block_id = 1;  // one retrieved block for the whole generation (re-query per call)
    }
    double best = 0;
    for (int r = 0; r < reps; ++r) {
      ctx->reset();
      MEMLONG_ASSIGN_OR_RETURN(std::vector<float> l, ctx->eval(prompt, false, mem, nullptr));
      const auto t0 = Clock::now();
      for (int i = 0; i < gen; ++i) {
        const int32_t next[1] = {static_cast<int32_t>(i % mc.n_vocab)};
        MEMLONG_ASSIGN_OR_RETURN(l, ctx->eval(next, false, mem, nullptr));
      }
      best = std::max(best, gen / since(t0));
    }
    return best;
  };
  for (int which = 0; which < 3; ++which) {
    const std::vector<int32_t>* layers = which == 0   ? nullptr
                                         : which == 1 ? &untuned_r
                                                      : &spec.retrieval_layers;
    auto rate = decode_rate(layers);
    if (!rate.is_ok()) return die(rate.status());
    decode.push_back({which == 0   ? "plain"
                      : which == 1 ? "memory R={m}"
                                   : "memory R=spec rule",
                      *rate});
  }

  // ---- chunk ----
  auto embedder = load_embedder(default_retriever_path(), threads);
  if (!embedder.is_ok()) return die(embedder.status());
  MemoryBankConfig bc;
  bc.n_head_kv = mc.n_head_kv;
  bc.head_dim = mc.head_dim;
  bc.emb_dim = (*embedder)->info().dim;
  auto bank = MemoryBank::create(bc);
  if (!bank.is_ok()) return die(bank.status());
  MemLongConfig cfg = spec;
  cfg.position_mode = PositionMode::kContiguous;
  cfg.retrieval_layers = untuned_r;
  cfg.last_context = 128;
  auto reader = MemLongReader::create(e, **embedder, **bank, cfg);
  if (!reader.is_ok()) return die(reader.status());
  // Fill the bank with 16 entries of real text first so retrieval has k = 8 to gather.
  std::vector<int32_t> text_ids;
  {
    std::string text = "It is a truth universally acknowledged. ";
    for (int i = 0; i < 400; ++i)
      text += "Emma Woodhouse, handsome, clever, and rich, had lived nearly twenty-one years. ";
    text_ids = e.tokenizer().encode(text, false, false);
  }
  ReadCallOptions ro;
  auto warm = (*reader)->read_call(std::span<const int32_t>(text_ids).subspan(0, 2048), ro);
  if (!warm.is_ok()) return die(warm.status());
  const std::span<const int32_t> chunk = std::span<const int32_t>(text_ids).subspan(2048, 128);
  double t_plain = 1e9, t_shortcut = 1e9, t_pass = 1e9;
  auto ctx = e.new_context(256, 256);
  if (!ctx.is_ok()) return die(ctx.status());
  for (int r = 0; r < reps; ++r) {
    (*ctx)->reset();
    auto t0 = Clock::now();
    if (!(*ctx)->eval(chunk, false).is_ok()) return 1;
    t_plain = std::min(t_plain, since(t0));
    MemoryAttention mem;
    mem.memory_layer = spec.memory_layer;
    mem.memory_only = true;
    MemoryOutputs stash;
    (*ctx)->reset();
    t0 = Clock::now();
    if (!(*ctx)->eval(chunk, false, mem, &stash).is_ok()) return 1;
    t_shortcut = std::min(t_shortcut, since(t0));
    ReadCallOptions o;
    o.token_offset = 100000 + r * 1000;
    t0 = Clock::now();
    auto pr = (*reader)->read_call(chunk, o);  // the whole chunk is a tail pass: full forward
    if (!pr.is_ok()) return die(pr.status());
    t_pass = std::min(t_pass, since(t0));
  }
  const double bytes_per_token =
      static_cast<double>((*bank)->memory_bytes()) / static_cast<double>((*bank)->used_tokens());

  std::printf("MemLong overheads, %s, %d threads, local window %d, memory %d tokens\n",
              mc.name.c_str(), threads, local, n_mem);
  std::printf("| decode | tok/s | overhead vs plain |\n|---|---|---|\n");
  for (const DecodeRow& d : decode) {
    std::printf("| %s | %.1f | %+.1f%% |\n", d.name.c_str(), d.tok_s,
                100.0 * (decode[0].tok_s / d.tok_s - 1.0));
  }
  std::printf("| 128-token pass | ms |\n|---|---|\n");
  std::printf(
      "| plain forward | %.1f |\n| memory-only shortcut | %.1f |\n| reader pass (retrieve + "
      "forward + write) | %.1f |\n",
      1e3 * t_plain, 1e3 * t_shortcut, 1e3 * t_pass);
  std::printf("memory bytes per stored token: %.0f\n", bytes_per_token);
  if (!json_path.empty()) {
    std::ofstream f(json_path);
    f << "{\n  \"bench\": \"memlong\",\n  \"threads\": " << threads << ",\n  \"local\": " << local
      << ",\n  \"memory_tokens\": " << n_mem
      << ",\n  \"decode_tok_s\": {\"plain\": " << decode[0].tok_s
      << ", \"memory_R_m\": " << decode[1].tok_s << ", \"memory_R_spec\": " << decode[2].tok_s
      << "},\n  \"pass_ms\": {\"plain\": " << 1e3 * t_plain
      << ", \"memory_only\": " << 1e3 * t_shortcut << ", \"reader_pass\": " << 1e3 * t_pass
      << "},\n  \"bytes_per_token\": " << bytes_per_token << "\n}\n";
  }
  return 0;
}

}  // namespace
}  // namespace memlong

int main(int argc, char** argv) {
  return memlong::run(argc, argv);
}
