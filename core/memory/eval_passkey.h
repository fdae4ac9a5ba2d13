// Passkey retrieval (MEMLONG.md §8.2, with filler from a book): a fixed instruction, filler text
// to the target length, "The pass key is K. Remember it. K is the pass key." inserted at a chosen
// depth, and the prompt ends "What is the pass key? The pass key is". K is a random 5-digit
// number; the model decodes greedily; success means the first number it produces equals K.
// The key's tokens overwrite filler tokens at the chosen depth, so the rest of the filler keeps its
// positions. Each trial takes the filler from a different chunk-aligned start and a new key.
// With memory the prompt is read as MemLongReader does (prefix entries of E tokens, then a tail of
// T tokens that retrieves top-k and generates; the key must lie in the memorised prefix to test
// memory, and the report says where it fell and whether the tail retrieved it). Prefix entries
// depend only on their own tokens (MEMLONG.md §2.2), so with `reuse_filler_entries` the filler's
// entries are encoded once and shared by every trial; only the entries the key or the instruction
// touch are encoded per trial (tests check this equals reading the whole prompt). Without memory
// the model sees the last min(length, native context) tokens in one pass.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/common/cancel.h"
#include "core/engine/engine.h"
#include "core/memory/memlong_config.h"
#include "core/retriever/embedder.h"

namespace memlong {

struct PasskeyOptions {
  std::vector<std::string> filler_paths;  // long UTF-8 texts (books), concatenated
  std::vector<int64_t> lengths = {4096};
  std::vector<int32_t> depths_percent = {0, 25, 50, 75, 100};
  int32_t trials = 2;
  uint64_t seed = 1;
  bool use_memory = false;
  bool reuse_filler_entries = true;  // memory runs: encode each filler entry once (see above)
  int32_t max_new_tokens = 8;
  MemLongConfig memlong;
};

struct PasskeyTrial {
  int64_t length = 0;  // prompt tokens
  int32_t depth_percent = 0;
  int32_t key = 0;
  std::string answer;  // generated text
  bool success = false;
  bool key_in_memory = false;  // the key sentence lies in the memorised prefix (memory runs)
  bool key_split = false;      // the key sentence spans two entries
  bool key_retrieved = false;  // the tail retrieved an entry holding part of the key
  int32_t key_rank = -1;       // best retrieval rank (0 = top score) of such an entry, or -1
  // The same for top-k retrieval with the question alone ("What is the pass key?") as the query,
  // as a question in ask mode would retrieve: can the retriever find the key among the filler?
  int32_t key_rank_by_question = -1;
  double seconds = 0.0;
};

struct PasskeyCell {
  int64_t length = 0;
  int32_t depth_percent = 0;
  int32_t n_trials = 0;
  int32_t n_success = 0;
  int32_t n_key_in_memory = 0;
  int32_t n_key_retrieved = 0;
  int32_t n_key_by_question = 0;
};

struct PasskeyResult {
  std::vector<PasskeyTrial> trials;
  std::vector<PasskeyCell> cells;
};

// The trial's prompt: `head`, then `filler[start, start + n)` with `key` written over the tokens
// from `head.size() + at`, then `tail`. Exposed for tests.
std::vector<int32_t> passkey_prompt(std::span<const int32_t> head, std::span<const int32_t> filler,
                                    int64_t start, int64_t n, std::span<const int32_t> key,
                                    int64_t at, std::span<const int32_t> tail);

Result<PasskeyResult> run_passkey_eval(
    const Engine& engine, Embedder* embedder, const PasskeyOptions& options,
    const std::function<void(const PasskeyTrial&)>& on_trial = {}, const CancelToken& cancel = {});

}  // namespace memlong
