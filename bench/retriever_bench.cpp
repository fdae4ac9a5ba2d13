// Throughput of the default retriever (multilingual-e5-small q4, E5S1): passages of ~128 tokens
// (specials and "passage: " included) embedded in calls of --batch texts on --threads threads.
//   ./retriever_bench [--model PATH] [--threads 2] [--batch 64] [--seconds 5] [--json FILE]
//                     [--dump FILE] [--device cpu|cuda|cuda:N|auto]
// --dump writes the passages' embeddings (raw f32, [batch, dim]) for bit-exact comparisons of
// two builds.
// Passages are built from a fixed word list with a fixed seed, so runs are comparable.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/backend/backend_loader.h"
#include "core/common/paths.h"
#include "core/quant/quant.h"
#include "core/retriever/encoder_embedder.h"

namespace memlong {
namespace {

int run(int argc, char** argv) {
  std::string model = default_retriever_path(), json_path, dump_path, device = "cpu";
  int n_threads = 2, batch = 64;
  double seconds = 5.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--model")
      model = argv[i + 1];
    else if (a == "--threads")
      n_threads = std::atoi(argv[i + 1]);
    else if (a == "--batch")
      batch = std::atoi(argv[i + 1]);
    else if (a == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (a == "--json")
      json_path = argv[i + 1];
    else if (a == "--dump")
      dump_path = argv[i + 1];
    else if (a == "--device")
      device = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: %s [--model PATH] [--threads N] [--batch N] [--seconds S] "
                   "[--json FILE] [--dump FILE] [--device D]\n",
                   argv[0]);
      return 2;
    }
  }
  BackendOptions bo;
  bo.device = device;
  bo.n_threads = n_threads;
  auto backend = make_backend(bo);
  if (!backend.is_ok()) {
    std::fprintf(stderr, "%s\n", backend.status().to_string().c_str());
    return 1;
  }
  auto loaded = load_e5_embedder(model, std::move(backend).value());
  if (!loaded.is_ok()) {
    std::fprintf(stderr, "%s\n%s\n", loaded.status().to_string().c_str(),
                 missing_model_hint(model).c_str());
    return 1;
  }
  auto& embedder = *loaded.value();
  static const char* kWords[] = {
      "the",     "memory",    "of",        "a",      "long",        "conversation", "is",
      "kept",    "in",        "chunks",    "and",    "each",        "chunk",        "has",
      "its",     "own",       "embedding", "which",  "ranks",       "it",           "for",
      "query",   "Elizabeth", "walked",    "to",     "Netherfield", "through",      "muddy",
      "fields",  "while",     "her",       "sister", "lay",         "ill",          "with",
      "fever",   "retrieval", "works",     "best",   "when",        "passages",     "are",
      "short",   "enough",    "to",        "carry",  "one",         "idea",         "each",
      "morning", "letter"};
  std::mt19937 rng(7);
  std::vector<std::string> passages;
  int64_t n_tokens_per_call = 0;
  for (int p = 0; p < batch; ++p) {
    std::string text;
    while (embedder.token_ids(text, EmbedKind::kPassage).size() < 128) {
      if (!text.empty()) text += ' ';
      text += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    }
    n_tokens_per_call += static_cast<int64_t>(embedder.token_ids(text, EmbedKind::kPassage).size());
    passages.push_back(text);
  }
  // Warm-up (page in the weights), then timed calls.
  auto first = embedder.embed(passages, EmbedKind::kPassage);
  if (!first.is_ok()) {
    std::fprintf(stderr, "%s\n", first.status().to_string().c_str());
    return 1;
  }
  if (!dump_path.empty()) {
    std::ofstream dump(dump_path, std::ios::binary);
    dump.write(reinterpret_cast<const char*>(first->data()),
               static_cast<std::streamsize>(first->size() * sizeof(float)));
    if (!dump) {
      std::fprintf(stderr, "cannot write %s\n", dump_path.c_str());
      return 1;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  int calls = 0;
  double elapsed = 0.0;
  do {
    if (!embedder.embed(passages, EmbedKind::kPassage).is_ok()) return 1;
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (elapsed < seconds);
  const double passages_per_s = calls * static_cast<double>(batch) / elapsed;
  const double tokens_per_s = calls * static_cast<double>(n_tokens_per_call) / elapsed;
  std::printf(
      "retriever_bench: %s on %s, %d threads, %s, batch %d x %.1f tokens: %.1f passages/s, "
      "%.0f tokens/s (%d calls, %.2f s)\n",
      embedder.info().name.c_str(), embedder.info().backend.c_str(), n_threads,
      quant::simd_path_name(), batch, static_cast<double>(n_tokens_per_call) / batch,
      passages_per_s, tokens_per_s, calls, elapsed);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << "{\"benchmark\": \"retriever_bench\", \"model\": \"" << embedder.info().name
        << "\", \"backend\": \"" << embedder.info().backend << "\", \"threads\": " << n_threads
        << ", \"simd\": \"" << quant::simd_path_name() << "\", \"batch\": " << batch
        << ", \"tokens_per_passage\": " << static_cast<double>(n_tokens_per_call) / batch
        << ", \"calls\": " << calls << ", \"seconds\": " << elapsed
        << ", \"passages_per_s\": " << passages_per_s << ", \"tokens_per_s\": " << tokens_per_s
        << "}\n";
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
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
