// EntryEncoder: turns chunks into memory entries (MEMLONG.md §2.2, §3): for each chunk, the memory
// layer's pre-RoPE K/V of its tokens (one forward pass per chunk with only its own tokens as local
// context, stopped after the memory layer: the layers below it never see memory, so an entry's
// K/V depend only on its own text), and the retriever's passage embedding of its text.
// This is the whole model cost of ingestion: no layer above the memory layer runs.
// Ownership: borrows the engine and the embedder, which must outlive it.
// Thread-safety: one thread (drives the engine's backend).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/common/cancel.h"
#include "core/engine/engine.h"
#include "core/ingest/chunker.h"
#include "core/memory/memlong_config.h"
#include "core/retriever/embedder.h"

namespace memlong {

struct EncodedEntry {
  std::vector<float> k;          // [n_tokens, Hkv, dh] f32, pre-RoPE
  std::vector<float> v;          // [n_tokens, Hkv, dh] f32
  std::vector<float> embedding;  // retriever dim, L2-normalised
};

class EntryEncoder {
 public:
  // Errors: InvalidArgument when the config's memory layer or entry size does not fit the model.
  static Result<std::unique_ptr<EntryEncoder>> create(const Engine& engine, Embedder& embedder,
                                                      const MemLongConfig& config);

  // Encodes `chunks` (each <= entry_tokens tokens). Errors: Cancelled (checked per chunk), the
  // engine's and the embedder's errors.
  Result<std::vector<EncodedEntry>> encode(std::span<const Chunk> chunks,
                                           const CancelToken& cancel = {});

  int64_t kv_floats_per_token() const { return row_; }

  // Time spent so far in the model (memory-layer passes) and in the retriever, for benchmarks.
  struct Timing {
    double model_seconds = 0.0;
    double retriever_seconds = 0.0;
    int64_t tokens = 0;
  };
  const Timing& timing() const { return timing_; }

 private:
  EntryEncoder(const Engine& engine, Embedder& embedder, MemLongConfig config)
      : engine_(engine), embedder_(embedder), config_(std::move(config)) {}
  const Engine& engine_;
  Embedder& embedder_;
  MemLongConfig config_;
  std::unique_ptr<InferenceContext> ctx_;
  int64_t row_ = 0;  // Hkv * dh
  Timing timing_;
};

}  // namespace memlong
