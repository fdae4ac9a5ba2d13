// MemLongReader: feeds text of any length through the model the way the reference does
// (MEMLONG.md §2.1-2.2): each model call is split into prefix chunks of E tokens, each a separate
// forward pass with only its own tokens as local context, then a tail of <= T tokens in one pass.
// Every pass retrieves before it runs (query = the pass's own text) and writes after it (the
// memory layer's pre-RoPE K/V, in entries of <= E tokens keyed by the retriever embedding of each
// entry's text). It reports, per pass, which entries were retrieved with their scores, and can
// score the call's tokens (perplexity).
// Ownership: borrows the engine, embedder and bank, which must outlive it.
// Thread-safety: one thread (drives the engine's backend).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/common/cancel.h"
#include "core/engine/engine.h"
#include "core/memory/device_kv_pool.h"
#include "core/memory/memlong_config.h"
#include "core/memory/memory_bank.h"
#include "core/retriever/embedder.h"

namespace memlong {

struct PassReport {
  int64_t token_offset = 0;  // of the pass's first token in the document
  int32_t n_tokens = 0;
  bool is_tail = false;
  std::vector<RetrievedEntry> retrieved;  // chronological order, with scores
  std::vector<uint64_t> written;          // seqs of the entries this pass wrote
};

struct ReadCallResult {
  std::vector<PassReport> passes;
  double nll_sum = 0.0;  // sum of -log p(token) over scored tokens
  int64_t n_scored = 0;
};

struct ReadCallOptions {
  int64_t doc_id = 0;
  int64_t token_offset = 0;  // document offset of tokens[0]
  // Score the last `score_last` tokens of the call (each predicted from the previous position;
  // the call's first token is never scored). 0: no scoring.
  int64_t score_last = 0;
  bool write_memory = true;  // false: retrieve and attend only
};

class MemLongReader {
 public:
  // Errors: InvalidArgument when the configuration does not fit the model (validate()).
  static Result<std::unique_ptr<MemLongReader>> create(const Engine& engine, Embedder& embedder,
                                                       MemoryBank& bank,
                                                       const MemLongConfig& config);

  // One model call over `tokens` (§2.1). on_pass, if set, sees each pass's report as it ends.
  // Errors: Cancelled (checked between passes), errors of the engine and the embedder.
  Result<ReadCallResult> read_call(std::span<const int32_t> tokens, const ReadCallOptions& options,
                                   const std::function<void(const PassReport&)>& on_pass = {},
                                   const CancelToken& cancel = {});

  // After a read_call, continues the text greedily from the end of its tail pass, attending to
  // the memory that pass retrieved (re-querying is the caller's choice, not done here). Returns
  // the generated ids (stops at end-of-generation or max_tokens). Errors: FailedPrecondition-like
  // InvalidArgument when no tail pass has run.
  Result<std::vector<int32_t>> generate_greedy(int32_t max_tokens);

  // Keeps the bank's K/V in the engine backend's memory as well (DeviceKVPool, issue 7):
  // retrievals are gathered on the backend instead of uploaded from the host bank. Entries the
  // pool lacks (written before this call, or restored) are copied in on first retrieval; written
  // entries are copied in from the host stash. device_budget_bytes: DeviceKVPoolConfig's.
  // Results equal the host path's bit for bit (the same 16-bit values). Errors: the pool's.
  // create() calls it (default budget) when the engine's backend is CUDA; the CPU keeps the host
  // path (the pool would only copy the bank).
  Status enable_device_pool(int64_t device_budget_bytes = -1);
  const DeviceKVPool* device_pool() const { return pool_.get(); }

  const MemLongConfig& config() const { return config_; }
  MemoryBank& bank() { return bank_; }

 private:
  MemLongReader(const Engine& engine, Embedder& embedder, MemoryBank& bank, MemLongConfig config)
      : engine_(engine), embedder_(embedder), bank_(bank), config_(std::move(config)) {}

  // One forward pass: retrieve, run, write; appends log-probs of scored positions.
  Status run_pass(std::span<const int32_t> ids, int64_t offset, bool is_tail,
                  const ReadCallOptions& options, int64_t score_from, ReadCallResult* result,
                  std::vector<float>* last_logits);

  const Engine& engine_;
  Embedder& embedder_;
  MemoryBank& bank_;
  MemLongConfig config_;
  std::unique_ptr<InferenceContext> ctx_;
  // The last tail pass: the memory it attended to and its final logits (for generate_greedy).
  std::vector<float> tail_mem_k_, tail_mem_v_;
  std::vector<uint64_t> tail_seqs_;  // with a device pool: the tail's entries
  int32_t tail_n_mem_ = 0;
  uint64_t tail_block_id_ = 0;
  uint64_t block_counter_ = 0;  // memory block ids for InferenceContext's upload cache
  std::vector<float> tail_logits_;
  std::unique_ptr<DeviceKVPool> pool_;  // optional device copy of the bank's K/V
  DeviceBuffer dstash_k_, dstash_v_;    // with pool_: one pass's stash on the backend
  static constexpr int32_t kGenerationHeadroom = 64;
};

// The bank configuration that matches `engine`'s memory layer shape, `embedder`'s dimension and
// `config`'s entry size, capacity, eviction and dtype.
MemoryBankConfig memory_bank_config_for(const Engine& engine, const Embedder& embedder,
                                        const MemLongConfig& config);

// -log softmax(logits)[target], computed stably in double.
double token_nll(std::span<const float> logits, int32_t target);

}  // namespace memlong
