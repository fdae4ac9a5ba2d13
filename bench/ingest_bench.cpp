// Ingestion speed (issue 4): a whole book through the real pipeline (parse in a child process,
// chunk, memory-layer K/V, retriever keys, batched commits to a fresh library), tokens/s overall
// and per part, and the store's bytes per million tokens.
//   ./ingest_bench [--book PATH] [--threads 2] [--entry-tokens 128] [--max-tokens 0] [--json FILE]
// The library is made in a temporary folder and removed afterwards. --max-tokens cuts the book
// (0: whole book).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "core/common/paths.h"
#include "core/ingest/ingest_pipeline.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;

int64_t dir_bytes(const fs::path& dir) {
  int64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) n += static_cast<int64_t>(e.file_size(ec));
  }
  return n;
}

int run(int argc, char** argv) {
  std::string book = std::string(MEMLONG_BENCH_SOURCE_DIR) + "/../shared/data/books/persuasion.txt";
  std::string json_path;
  int n_threads = 2, entry_tokens = 128;
  int64_t max_bytes = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--book")
      book = argv[i + 1];
    else if (a == "--threads")
      n_threads = std::atoi(argv[i + 1]);
    else if (a == "--entry-tokens")
      entry_tokens = std::atoi(argv[i + 1]);
    else if (a == "--max-bytes")
      max_bytes = std::atoll(argv[i + 1]);
    else if (a == "--json")
      json_path = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: %s [--book PATH] [--threads N] [--entry-tokens E] "
                   "[--max-bytes N] [--json FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  std::random_device rd;
  const fs::path tmp = fs::temp_directory_path() / ("memlong-ingest-bench-" + std::to_string(rd()));
  fs::create_directories(tmp);
  fs::path input = book;
  if (max_bytes > 0) {
    std::ifstream in(book, std::ios::binary);
    std::string text(static_cast<size_t>(max_bytes), '\0');
    in.read(text.data(), max_bytes);
    text.resize(static_cast<size_t>(in.gcount()));
    input = tmp / fs::path(book).filename();
    std::ofstream(input, std::ios::binary) << text;
  }
  auto engine = Engine::load(EngineOptions{.model_path = "", .n_threads = n_threads});
  if (!engine.is_ok()) return std::fprintf(stderr, "%s\n", engine.status().to_string().c_str()), 1;
  auto embedder = load_embedder(default_retriever_path(), n_threads);
  if (!embedder.is_ok())
    return std::fprintf(stderr, "%s\n", embedder.status().to_string().c_str()), 1;
  auto config =
      memlong_config_for((*engine)->file(), {"entry_tokens=" + std::to_string(entry_tokens)});
  if (!config.is_ok()) return 1;
  auto store = LibraryStore::open((tmp / "lib").string());
  if (!store.is_ok()) return std::fprintf(stderr, "%s\n", store.status().to_string().c_str()), 1;
  auto pipeline = IngestPipeline::create(**engine, **embedder, **store, *config);
  if (!pipeline.is_ok()) return 1;
  const auto t0 = std::chrono::steady_clock::now();
  auto report = (*pipeline)->run({input}, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!report.is_ok() || report->files[0].outcome != IngestStage::kDone) {
    std::fprintf(
        stderr, "ingest failed: %s\n",
        report.is_ok() ? report->files[0].error.c_str() : report.status().to_string().c_str());
    return 1;
  }
  const int64_t tokens = report->tokens_read;
  const EntryEncoder::Timing& t = (*pipeline)->encoder_timing();
  store->reset();  // close: the hnsw index is saved, so the size counts it
  const int64_t bytes = dir_bytes(tmp / "lib");
  const LlamaConfig& c = (*engine)->model().config();
  nlohmann::json j = {{"book", fs::path(book).filename().string()},
                      {"threads", n_threads},
                      {"entry_tokens", entry_tokens},
                      {"memory_layer", config->memory_layer},
                      {"n_layer", c.n_layer},
                      {"simd", quant::simd_path_name()},
                      {"tokens", tokens},
                      {"seconds", seconds},
                      {"tokens_per_s", tokens / seconds},
                      {"model_seconds", t.model_seconds},
                      {"model_tokens_per_s", t.tokens / t.model_seconds},
                      {"retriever_seconds", t.retriever_seconds},
                      {"retriever_tokens_per_s", t.tokens / t.retriever_seconds},
                      {"other_seconds", seconds - t.model_seconds - t.retriever_seconds},
                      {"store_bytes", bytes},
                      {"store_bytes_per_million_tokens",
                       static_cast<double>(bytes) * 1e6 / static_cast<double>(tokens)}};
  std::printf("%s\n", j.dump(2).c_str());
  if (!json_path.empty()) std::ofstream(json_path) << j.dump(2) << "\n";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return 0;
}

}  // namespace
}  // namespace memlong

int main(int argc, char** argv) {
  return memlong::run(argc, argv);
}
