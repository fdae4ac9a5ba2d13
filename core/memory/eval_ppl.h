// Sliding-window perplexity (MEMLONG.md §8.1, the reference protocol): documents tokenized with a
// leading BOS, non-overlapping windows of S tokens (starts 0, S, 2S, ... while start < len - S),
// fed in order. With memory, each window is one MemLongReader call (prefix chunks, then a tail of
// <= T tokens with retrieval); without, the whole window is one plain causal pass. Only the last
// min(S, score_last_tokens) tokens of a window are scored, with or without memory (the reference
// scores the last 2048 = T; for S <= 2048 every token but the first). Window loss =
// mean NLL of its scored tokens; PPL = exp(mean of window losses).
// Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/common/cancel.h"
#include "core/engine/engine.h"
#include "core/memory/memlong_config.h"
#include "core/retriever/embedder.h"

namespace memlong {

struct PplEvalOptions {
  std::vector<std::string> documents;  // UTF-8 text files
  int64_t window_tokens = 1024;        // S
  int64_t max_windows_per_doc = 0;     // 0: all
  bool use_memory = false;
  bool reset_per_document = false;  // false: memory persists across windows and documents (ref)
  // Score the last min(S, this) tokens of each window, with or without memory, so that the two
  // are comparable (the reference: 2048, its T).
  int64_t score_last_tokens = 2048;
  MemLongConfig memlong;  // with use_memory; last_context is T
};

struct PplEvalResult {
  double ppl = 0.0;
  double mean_window_loss = 0.0;
  int64_t n_windows = 0;
  int64_t n_scored_tokens = 0;
  double seconds = 0.0;
  int64_t memory_entries = 0;  // at the end
  int64_t memory_tokens = 0;
  int64_t evicted_entries = 0;  // appended - held at the end
};

// Runs the protocol. progress(done_windows, total_windows) after each window.
Result<PplEvalResult> run_ppl_eval(const Engine& engine, Embedder* embedder,
                                   const PplEvalOptions& options,
                                   const std::function<void(int64_t, int64_t)>& progress = {},
                                   const CancelToken& cancel = {});

}  // namespace memlong
