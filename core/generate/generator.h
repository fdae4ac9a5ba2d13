// Text generation on an InferenceContext: prompt evaluation, then one token at a time through the
// Sampler, streaming decoded text to a callback until an end-of-generation token, a stop string,
// the token limit, a full context, or cancellation.
//
// Streaming contract: the callback receives UTF-8 text in order; pieces never split a UTF-8
// character and never contain (a prefix of) a stop string that later completes. The concatenated
// pieces equal GenerateResult::text.
// Thread-safety: drives one InferenceContext from the calling thread; cancel from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/cancel.h"
#include "core/common/status.h"
#include "core/generate/sampler.h"
#include "core/tokenizer/tokenizer.h"
#include "core/transformer/llama_model.h"

namespace memlong {

enum class StopReason {
  kEndOfGeneration,
  kStopString,
  kMaxTokens,
  kContextFull,
  kCancelled,
  kCallback
};
const char* stop_reason_name(StopReason r);

struct GenerateOptions {
  SamplingParams sampling;
  int32_t max_tokens = 256;
  std::vector<std::string> stop_strings;
};

struct GenerateResult {
  std::string text;
  std::vector<int32_t> tokens;  // generated ids (the stop token excluded)
  int32_t n_prompt_tokens = 0;  // tokens evaluated for the prompt in this call
  StopReason stop_reason = StopReason::kMaxTokens;
  double prompt_ms = 0.0;    // prompt evaluation time
  double generate_ms = 0.0;  // time for the generated tokens
  double tokens_per_second() const {
    return generate_ms > 0 ? 1000.0 * static_cast<double>(tokens.size()) / generate_ms : 0.0;
  }
};

// Return false to stop generating (StopReason::kCallback).
using TextCallback = std::function<bool(std::string_view piece)>;

// Evaluates `prompt` after what the context already holds, then generates. `history` is the token
// sequence already in the context (for the repetition penalty); the function appends the prompt
// and generated tokens to it. Errors: InvalidArgument (prompt does not fit), errors of the
// backend. Cancellation is not an error: the partial result comes back with kCancelled.
Result<GenerateResult> generate(InferenceContext& ctx, const Tokenizer& tokenizer,
                                std::span<const int32_t> prompt, const GenerateOptions& options,
                                const TextCallback& on_text, const CancelToken& cancel,
                                std::vector<int32_t>* history);

// Length of the longest prefix of `bytes` that is whole UTF-8 characters (an incomplete trailing
// sequence is held back; invalid bytes count as whole so they never block the stream).
size_t complete_utf8_prefix(std::string_view bytes);

}  // namespace memlong
