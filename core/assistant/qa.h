// Answering a question over retrieved passages, in one of three modes (AnswerMode):
// - memory (MemLong, MEMLONG.md §2.3, §5): the prompt holds only the system line, the earlier
//   turns and the question; the retrieval layers attend to the passages' stored memory-layer K/V,
//   concatenated in chronological (entry_id) order, under the configured position mode. The text
//   is never re-read. Every decode step attends to the same memory block (one upload, block_id
//   reuse). The attention mass that generation puts on each passage ranks the citations.
// - text (classic RAG): the passages' text, numbered and titled, in the prompt; no memory.
// - none: the question alone (the evaluation's baseline).
// Generation streams text pieces (the generator's contract: whole UTF-8 characters, no part of a
// stop string, pieces concatenate to the result's text) and stops at end-of-generation, a stop
// string of the chat template, the token limit, on_piece returning false, or cancellation.
//
// This file knows nothing of the store: passages come in as plain values.
// Ownership: borrows the engine for the call; results are values.
// Thread-safety: one thread drives the engine; the cancel token may be set from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/assistant/assistant_types.h"
#include "core/assistant/prompts.h"
#include "core/common/cancel.h"
#include "core/common/status.h"
#include "core/engine/engine.h"
#include "core/generate/sampler.h"
#include "core/memory/memlong_config.h"

namespace memlong {

// "memory", "text", "none" (CLI flags, evaluation tables).
std::string_view answer_mode_name(AnswerMode mode);
// Parses answer_mode_name()'s names. Errors: InvalidArgument naming the accepted values.
Result<AnswerMode> parse_answer_mode(std::string_view name);

struct QaPassage {
  int64_t entry_id = 0;  // memory entry / chunk id: its order is the chronological order
  std::string title;     // shown in text mode ("Emma, Chapter 3"); may be empty
  std::string text;
  std::vector<int32_t> tokens;  // the entry's token ids (optional; checked against k when given)
  // Memory-layer pre-RoPE K and V of the entry's tokens, [n_tokens, Hkv, dh] f32 each (memory
  // mode only; text and none modes ignore them).
  std::vector<float> k, v;
  float score = 0.0f;  // retrieval score (higher is better); text mode drops the lowest first
};

struct QaTurn {
  std::string role;  // "user" or "assistant"
  std::string text;
};

struct QaOptions {
  AnswerMode mode = AnswerMode::kText;
  int32_t max_tokens = 256;
  SamplingParams sampling;      // temperature 0: greedy
  MemLongConfig memlong;        // memory mode: retrieval layers and position mode
  std::vector<QaTurn> history;  // earlier turns, oldest first (dropped oldest-first to fit)
  PromptSet prompts;            // templates (default: the built-ins)
  // Memory mode, attention mass: the first `mass_sink_tokens` tokens of each passage are left out
  // (see passage_mass_shares).
  int32_t mass_sink_tokens = 1;
};

struct QaResult {
  std::string text;
  // Memory mode: per passage, in the order passed in, its share of the retrieval layers'
  // attention on memory during generation (see answer_question); sums to 1 when any mass was
  // measured. Empty in text and none modes.
  std::vector<float> passage_attention_mass;
  // Memory mode: the raw per-memory-token mass behind it ([M], chronological order, summed over
  // retrieval layers and heads, averaged over decode steps), and where each passage (caller's
  // order) starts in it. For diagnostics and memory views.
  std::vector<float> memory_token_mass;
  std::vector<int32_t> passage_memory_begin;
  // Memory mode: the share of the retrieval layers' attention that went to memory at all (all
  // memory tokens, sinks included), averaged over heads, layers and decode steps, in [0, 1].
  float memory_attention_share = 0.0f;
  int32_t n_prompt_tokens = 0;
  int32_t n_tokens = 0;         // generated
  int32_t n_memory_tokens = 0;  // memory mode: M
  int32_t n_passages_used = 0;  // text mode: passages that fit in the prompt; memory: all
  int32_t n_history_turns_used = 0;
  double ttft_s = 0.0;        // from the call to the first generated token
  double tokens_per_s = 0.0;  // generated tokens per second after the first
  bool cancelled = false;     // the token was cancelled: `text` is the part generated so far
  std::string prompt;         // the rendered prompt (special-token text included)
};

// Answers `question` over `passages`. Memory mode: passage_attention_mass comes from
// passage_mass_shares() over the memory tokens' attention weight, summed over the retrieval
// layers and heads and averaged over the decode steps (the prompt pass when no step ran).
// Errors: InvalidArgument (empty question; a passage's K/V of the wrong size in memory mode; a
// prompt that does not fit the model's context even without history and passages), errors of
// the engine. Cancellation is not an error (cancelled = true).
Result<QaResult> answer_question(const Engine& engine, const std::string& question,
                                 std::span<const QaPassage> passages, const QaOptions& options,
                                 const std::function<bool(std::string_view)>& on_piece,
                                 const CancelToken& cancel = {});

// Per-passage attention shares from per-memory-token mass. Passage p holds memory tokens
// [begin[p], begin[p] + length[p]). Its score is the MEAN mass per token over its tokens after
// the first `sink_tokens` (at least its last token is kept); the scores are normalised to sum 1
// (all zero when no mass). Why not the plain sum over the range: each entry was computed as its
// own pass, so its first token is an attention sink that takes ~90% of the memory mass whatever
// the question. Measured on SmolLM2-135M (untuned profile, R = {15}):
// - 3 short passages (25-37 tokens), 4 planted facts x 2 position modes: the planted passage
//   ranks first 2/8 with sinks (chance), 4/8 summing without sinks, 7/8 with this mean.
// - the 10 planted documents of tests/data/qa cut into 128-token entries (4-7 per document, all
//   given): first 1/10 (contiguous) and 3/10 (zero) with this mean; other scores did about as well:
//   sum without sinks 2/10 and 3/10, sum with sinks 3/10 and 3/10, largest single token 2/10 and
//   4/10. Chance is ~1/5.5. On realistic entries this model's attention barely finds the fact,
//   which is why citations weigh it little (citations.h, kAttentionWeight).
std::vector<float> passage_mass_shares(std::span<const float> token_mass,
                                       std::span<const int32_t> begin,
                                       std::span<const int32_t> length, int32_t sink_tokens);

// ---- The generation step shared by answers and summaries ----

// A fixed memory block: K and V of n_mem tokens, [n_mem, Hkv, dh] f32, chronological order.
struct MemoryBlockView {
  std::span<const float> k, v;
  int32_t n_mem = 0;
};

struct MemoryGeneration {
  std::string text;
  std::vector<int32_t> tokens;
  // [n_mem]: attention on each memory token, summed over retrieval layers and heads, averaged
  // over decode steps (the prompt pass when none ran). Empty without memory.
  std::vector<float> token_mass;
  int32_t n_prompt_tokens = 0;
  double ttft_s = 0.0;
  double tokens_per_s = 0.0;
  bool cancelled = false;
};

// Evaluates `prompt` (with memory at config.retrieval_layers when `memory` has tokens), then
// generates up to max_tokens (fewer when the context runs out). Stops at end-of-generation, a
// stop string, on_piece returning false, or cancel. ttft counts from the call.
// Errors: InvalidArgument when the prompt does not fit, errors of the engine.
Result<MemoryGeneration> generate_with_memory(const Engine& engine, std::span<const int32_t> prompt,
                                              const MemoryBlockView& memory,
                                              const MemLongConfig& config, int32_t max_tokens,
                                              const SamplingParams& sampling,
                                              const std::function<bool(std::string_view)>& on_piece,
                                              const CancelToken& cancel);

// The model's usable context for a prompt plus generation: its native context (n_ctx_train,
// 4096 when unknown).
int32_t native_context(const Engine& engine);

// Renders messages with the engine's chat template and encodes them (special tokens parsed).
std::vector<int32_t> encode_chat(const Engine& engine, const std::vector<ChatMessage>& messages,
                                 std::string* rendered = nullptr);

// The memory of one passage as ingestion computes it (MEMLONG.md §2.2 shortcut): `text` encoded
// without BOS, run as one pass with no memory through layers 0..m, and the memory layer's pre-RoPE
// K/V kept. For tests, evaluations and callers without a store. Errors: InvalidArgument (empty
// text, longer than the model's context), errors of the engine.
Result<QaPassage> passage_with_memory(const Engine& engine, const MemLongConfig& config,
                                      int64_t entry_id, std::string title, std::string text,
                                      float score = 0.0f);

}  // namespace memlong
