// Prompt templates of the assistant (answers and summaries): plain UTF-8 text files with
// {placeholders}, read at run time so that anyone can read and change them.
//
// Layout: <prompts_dir>/default/<name>.txt holds every template; <prompts_dir>/<family>/<name>.txt
// (family = chat_family_name(): "chatml", "llama3", "gemma", ...) overrides one for a model
// family. A template missing from both falls back to the built-in copy, which is identical to
// resources/prompts/default (a test checks it), so the app works without its resources folder.
// A file's trailing newlines are not part of the template.
//
// Placeholders: "{name}" with name in [a-z_]; fill_prompt() replaces the names it is given, in one
// pass (inserted values are never scanned again, so passage text may hold braces), and leaves any
// other brace text as it is.
// Thread-safety: PromptSet is a plain value; the functions are pure apart from reading files.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/status.h"

namespace memlong {

enum class PromptId {
  kQaMemorySystem,            // memory mode: system line
  kQaMemoryUser,              // memory mode: {question}
  kQaTextSystem,              // text mode (RAG): system line
  kQaTextUser,                // text mode: {passages}, {question}
  kQaTextPassage,             // one passage of {passages}: {number}, {title}, {text}
  kQaNoneSystem,              // no documents: system line
  kQaNoneUser,                // no documents: {question}
  kSummarySystem,             // summaries: system line
  kSummaryChapterMemoryUser,  // chapter just read through memory: {doc_title}, {chapter_title}
  kSummaryChapterTextUser,    // chapter text in the prompt: {doc_title}, {chapter_title}, {text}
  kSummaryBookUser,           // book from chapter summaries: {doc_title}, {chapter_summaries}
  kSummaryBookChapterLine,    // one line of {chapter_summaries}: {number}, {title}, {summary}
};
inline constexpr size_t kPromptCount = 12;

// "qa_memory_system.txt", ...
std::string_view prompt_file_name(PromptId id);
// The built-in text of a template (== resources/prompts/default/<file> without its final newline).
std::string_view builtin_prompt(PromptId id);

class PromptSet {
 public:
  PromptSet();  // the built-in templates

  // Reads the templates of `family` from `prompts_dir` as described above. An empty or missing
  // `prompts_dir` gives the built-ins. Errors: those of reading an existing file (IoError;
  // InvalidArgument when it is larger than 64 KiB).
  static Result<PromptSet> load(const std::filesystem::path& prompts_dir, std::string_view family);

  const std::string& text(PromptId id) const { return texts_[static_cast<size_t>(id)]; }
  // Where a template came from: its file path, or "built-in".
  const std::string& source(PromptId id) const { return sources_[static_cast<size_t>(id)]; }

 private:
  std::array<std::string, kPromptCount> texts_;
  std::array<std::string, kPromptCount> sources_;
};

// Replaces every "{name}" of `tmpl` whose name is among `values`, in one pass.
std::string fill_prompt(std::string_view tmpl,
                        const std::vector<std::pair<std::string_view, std::string_view>>& values);

}  // namespace memlong
