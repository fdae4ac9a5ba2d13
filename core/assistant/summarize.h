// Summaries of a document: one per chapter, then one of the whole from the chapter summaries.
//
// Chapters are taken once, in order. How a chapter summary is made (SummarizeOptions::
// chapter_mode):
// - memory: the chapter is read through a growing MemLong memory (one MemoryBank and
//   MemLongReader for the whole document: prefix chunks of E tokens and a tail of <= T tokens per
//   chapter, each pass retrieving from everything read before, MEMLONG.md §2.1-2.2). Then the
//   model is asked to summarise "the chapter just read" with, at the retrieval layers, a memory
//   block of up to top_k of that chapter's entries, evenly spaced across it (coverage rather than
//   similarity to a query: a summary needs the whole chapter). The chapter's text is not in the
//   prompt.
// - text: the chapter's first lead_tokens tokens are in the prompt; no memory is read (nothing
//   would use it). The default: see kDefaultChapterMode for what SmolLM2-135M does in each mode.
// The book summary always puts the chapter summaries' text in the prompt.
//
// Progress: before each chapter, after each reading pass (memory mode) and after each chapter's
// summary, then once with chapter_index == n_chapters before the book summary. tokens_done counts
// the chapters' tokens covered so far; tokens_per_s is tokens_done over the time since the start.
// Cancel: checked before each chapter, between reading passes and between generated tokens. A
// cancelled run returns what was finished (whole chapter summaries only, no book summary) with
// cancelled = true; that is not an error.
// Ownership: borrows the engine and the embedder for the call. Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/assistant/assistant_types.h"
#include "core/assistant/prompts.h"
#include "core/common/cancel.h"
#include "core/common/status.h"
#include "core/engine/engine.h"
#include "core/generate/sampler.h"
#include "core/memory/memlong_config.h"
#include "core/retriever/embedder.h"

namespace memlong {

enum class ChapterSummaryMode { kMemory, kText };

// Text: SmolLM2-135M (untuned) summarises a chapter's opening it sees in the prompt, but with the
// chapter only in memory it writes about the chapter's title and the book in general (outputs in
// the issue report and tests/core/assistant/summarize_test.cpp).
inline constexpr ChapterSummaryMode kDefaultChapterMode = ChapterSummaryMode::kText;

struct SummarizeOptions {
  int64_t doc_id = 0;
  int32_t first_chapter_index = 0;  // ChapterSummary::chapter_index of chapters[0]
  ChapterSummaryMode chapter_mode = kDefaultChapterMode;
  MemLongConfig memlong;            // memory mode
  int32_t lead_tokens = 768;        // text mode: tokens of the chapter's start in the prompt
  int32_t chapter_max_tokens = 96;  // length limits of the generated summaries
  int32_t book_max_tokens = 160;
  SamplingParams sampling = default_summary_sampling();
  PromptSet prompts;

  // Greedy with a mild repetition penalty (1.15 over the last 64 tokens): plain greedy decoding
  // made SmolLM2-135M repeat one sentence until the token limit in chapter summaries.
  static SamplingParams default_summary_sampling();
};

// Errors: InvalidArgument (no chapters; a memory configuration that does not fit the model), the
// engine's and the embedder's errors. Cancellation gives a partial result, not an error.
Result<Summary> summarize_document(const Engine& engine, Embedder& embedder,
                                   const std::string& doc_title,
                                   std::span<const DocumentText::Section> chapters,
                                   const SummarizeOptions& options,
                                   const std::function<void(const SummaryProgress&)>& on_progress,
                                   const CancelToken& cancel = {});

}  // namespace memlong
