// Passkey retrieval (MEMLONG.md §8.2, with filler from a book): a fixed instruction, filler text
// to the target length, "The pass key is K. Remember it. K is the pass key." inserted at a chosen
// depth, and the prompt ends "What is the pass key? The pass key is". K is a random 5-digit
// number; the model decodes greedily; success means the first number it produces equals K.
// With memory the prompt goes through a MemLongReader call (the key must lie in the memorised
// prefix to test memory; the report says where it fell); without, the model sees the last
// min(length, native context) tokens in one pass.
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

struct PasskeyOptions {
  std::string filler_path;  // a long UTF-8 text (a book)
  std::vector<int64_t> lengths = {4096};
  std::vector<int32_t> depths_percent = {0, 25, 50, 75, 100};
  int32_t trials = 2;
  uint64_t seed = 1;
  bool use_memory = false;
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
  double seconds = 0.0;
};

struct PasskeyCell {
  int64_t length = 0;
  int32_t depth_percent = 0;
  int32_t n_trials = 0;
  int32_t n_success = 0;
};

struct PasskeyResult {
  std::vector<PasskeyTrial> trials;
  std::vector<PasskeyCell> cells;
};

Result<PasskeyResult> run_passkey_eval(
    const Engine& engine, Embedder* embedder, const PasskeyOptions& options,
    const std::function<void(const PasskeyTrial&)>& on_trial = {}, const CancelToken& cancel = {});

}  // namespace memlong
