// MemLongConfig: how a model reads with memory (MEMLONG.md §6): which layer's K/V are stored,
// which layers attend to memory, entry size, top-k, capacity, tail length, position mode,
// eviction policy and memory dtype.
//
// Where the values come from, in order: the defaults of the spec's rule for any depth
// (m = floor(L/2), R = {m, m+4, ...} <= L-1), replaced by the untuned profile (contiguous mode,
// R = {m}) when the model carries no MemLong settings, then the settings the model carries
// (GGUF `memlong.*` keys / config.json "memlong"), then user overrides ("key=value", CLI).
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/status.h"
#include "core/memory/memory_bank.h"
#include "core/model/model_file.h"

namespace memlong {

enum class PositionMode {
  kZero,        // paper: memory keys at position 0 (unrotated), local positions 1..n per call
  kContiguous,  // project: memory at 0..M-1 (rotated from pre-RoPE), local keys at M..M+n-1
};

std::string_view position_mode_name(PositionMode m);

struct MemLongConfig {
  int32_t memory_layer = 0;               // m
  std::vector<int32_t> retrieval_layers;  // R, ascending, each >= m
  int32_t entry_tokens = 128;             // E
  int32_t top_k = 8;                      // k
  int64_t capacity_tokens = 32768;        // C
  int32_t last_context = 1024;            // T
  PositionMode position_mode = PositionMode::kZero;
  EvictionPolicy eviction = EvictionPolicy::kCounter;
  MemoryDType mem_dtype = MemoryDType::kBF16;
  std::string profile;  // "tuned (from the model)" or "untuned"

  bool is_retrieval_layer(int32_t layer) const;
  // Checks ranges against the model: 0 <= m < n_layer, R within [m, n_layer), E, k, C, T > 0.
  Status validate(int32_t n_layer) const;
  // One line for logs and `memlong info`.
  std::string summary() const;
};

// The spec's defaults for a model of n_layer layers (MEMLONG.md §6 rule and table).
MemLongConfig default_memlong_config(int32_t n_layer);

// Applies one "key=value" setting. Keys: memory_layer, retrieval_layers ("15,19,23"),
// entry_tokens, top_k, capacity_tokens, last_context, position_mode (zero|contiguous),
// eviction (counter|fifo_half), mem_dtype (bf16|f16). Errors: InvalidArgument naming the key.
Status apply_memlong_setting(const std::string& key, const std::string& value, MemLongConfig* c);

// The configuration for `model`: defaults, untuned profile or the model's own settings, then
// `overrides` ("key=value" each). Errors: InvalidArgument for bad settings, with their source.
Result<MemLongConfig> memlong_config_for(const ModelFile& model,
                                         const std::vector<std::string>& overrides = {});

}  // namespace memlong
