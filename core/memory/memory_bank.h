// MemoryBank: MemLong's memory (MEMLONG.md §3): the memory layer's pre-RoPE K/V of processed
// tokens, grouped into entries of <= E tokens, each keyed by the retriever embedding of its text,
// with a bounded capacity in tokens and an eviction policy.
//
// Invariants (tests cite these numbers):
//  1. seq is strictly increasing in insertion order and never reused, also across evictions,
//     clear() and restore().
//  2. used_tokens() == the sum of n_tokens over held entries <= capacity_tokens, after every
//  append.
//  3. every held entry has 1 <= n_tokens <= entry_tokens, K and V of [n_tokens, Hkv, dh], and an
//     embedding of dim floats (L2-normalised by the caller).
//  4. retrieve() returns k' = min(k, eligible entries) entries in ascending seq order, excluding
//     entries whose token range [token_offset, token_offset + n_tokens) of the same doc overlaps
//     the exclusion range; equal scores go to the lower seq; each returned entry's hits += 1.
//  5. eviction runs only inside append(), before the new entry is added, and never removes it:
//     counter policy: repeatedly drop the entry with the smallest (hits, seq) until it fits;
//     fifo_half policy: drop the oldest floor(n/2) entries (repeat while it does not fit).
// Search: exact inner product below `ann_threshold` entries, hnswlib (inner product) above it,
// same results within the index's recall.
// Thread-safety: not thread-safe; one owner thread (the engine worker).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace memlong {

enum class EvictionPolicy { kCounter, kFifoHalf };
enum class MemoryDType { kBF16, kF16 };

struct MemoryBankConfig {
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int32_t emb_dim = 0;              // retriever dimension D
  int32_t entry_tokens = 128;       // E
  int64_t capacity_tokens = 32768;  // C
  EvictionPolicy eviction = EvictionPolicy::kCounter;
  MemoryDType dtype = MemoryDType::kBF16;
  // Entries above which hnswlib is used. Exact search costs ~0.03 us per entry x 384 dims here
  // (0.245 ms at 7,813 entries, docs/BENCHMARKS.md), so 50,000 entries (6.4M tokens at E = 128)
  // stay near 1.6 ms, well inside the 5 ms budget, with recall 1 by construction.
  int64_t ann_threshold = 50000;
  // hnswlib search width; the bank uses max(64, this, 4 x candidates). Recall@10 on 5,000 random
  // 384-d unit vectors: 0.58 / 0.79 / 0.93 / 0.99 at 64 / 128 / 256 / 512 (0.15-0.60 ms); random
  // high-dimensional data is the worst case for a graph index (bench/memory_bench.cpp sweeps it).
  int32_t ann_ef_search = 512;
};

// One entry to append. k and v are [n_tokens, n_head_kv, head_dim] f32 (pre-RoPE keys).
struct MemoryEntryInput {
  int64_t doc_id = 0;
  int64_t token_offset = 0;
  std::vector<int32_t> tokens;   // the entry's token ids (n_tokens of them)
  std::string text;              // their decoded text (the key text)
  std::vector<float> embedding;  // emb_dim floats, L2-normalised
  std::span<const float> k;
  std::span<const float> v;
};

struct MemoryEntryInfo {
  uint64_t seq = 0;
  int64_t doc_id = 0;
  int64_t token_offset = 0;
  int32_t n_tokens = 0;
  uint32_t hits = 0;
};

struct RetrievedEntry {
  MemoryEntryInfo info;
  float score = 0.0f;  // inner product with the query
};

// Token range of one document to keep out of retrieval (the current local window).
struct ExcludeRange {
  int64_t doc_id = -1;  // -1: nothing excluded
  int64_t token_begin = 0;
  int64_t token_end = 0;  // exclusive
};

class MemoryBank {
 public:
  // Errors: InvalidArgument for impossible sizes.
  static Result<std::unique_ptr<MemoryBank>> create(const MemoryBankConfig& config);
  virtual ~MemoryBank() = default;

  virtual const MemoryBankConfig& config() const = 0;
  virtual int64_t n_entries() const = 0;
  virtual int64_t used_tokens() const = 0;
  virtual uint64_t next_seq() const = 0;
  // Bytes held for K/V and embeddings (for the status bar and benchmarks).
  virtual int64_t memory_bytes() const = 0;

  // Appends one entry (evicting first if needed, invariant 5). Returns its seq.
  // Errors: InvalidArgument when sizes break invariant 3.
  virtual Result<uint64_t> append(const MemoryEntryInput& entry) = 0;

  // Top-k by inner product with `query` (emb_dim floats), invariant 4.
  virtual std::vector<RetrievedEntry> retrieve(std::span<const float> query, int32_t k,
                                               const ExcludeRange& exclude) = 0;

  // Concatenates the K and V of `seqs` (in the given order) as f32 into k_out / v_out, each
  // [sum of n_tokens, n_head_kv, head_dim]; returns the token count M. Unknown seqs: NotFound.
  virtual Result<int64_t> gather(std::span<const uint64_t> seqs, std::vector<float>* k_out,
                                 std::vector<float>* v_out) const = 0;

  virtual std::vector<MemoryEntryInfo> entries() const = 0;  // in seq order
  virtual const std::string* entry_text(uint64_t seq) const = 0;
  virtual const std::vector<int32_t>* entry_tokens(uint64_t seq) const = 0;

  virtual void clear() = 0;  // drops all entries; next_seq keeps counting (invariant 1)

  // Serialises the whole state (config, entries with hits, K/V, embeddings, next_seq) to bytes
  // with a magic, version and checksum; restore() checks them and rejects a config mismatch.
  virtual std::vector<uint8_t> snapshot() const = 0;
  virtual Status restore(std::span<const uint8_t> bytes) = 0;
};

std::string_view eviction_policy_name(EvictionPolicy p);

}  // namespace memlong
