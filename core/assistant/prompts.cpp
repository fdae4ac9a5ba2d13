#include "core/assistant/prompts.h"

#include <cstdlib>
#include <system_error>

#include "core/common/mapped_file.h"

namespace memlong {
namespace {

struct PromptDef {
  const char* file;
  const char* text;
};

// Built-in copies of resources/prompts/default/*.txt, in PromptId order. Keep them identical to
// the files (PromptFiles.DefaultFilesEqualBuiltins checks it).
constexpr PromptDef kPrompts[kPromptCount] = {
    {"qa_memory_system.txt",
     R"PROMPT(You are a helpful assistant. You have read the user's documents and remember them. Answer the question in one short sentence.)PROMPT"},
    {"qa_memory_user.txt", R"PROMPT({question})PROMPT"},
    {"qa_text_system.txt",
     R"PROMPT(You are a helpful assistant. Answer the question using the passages. Answer in one short sentence.)PROMPT"},
    {"qa_text_user.txt",
     R"PROMPT({passages}

Question: {question})PROMPT"},
    {"qa_text_passage.txt",
     R"PROMPT([{number}] {title}
{text})PROMPT"},
    {"qa_none_system.txt",
     R"PROMPT(You are a helpful assistant. Answer the question in one short sentence.)PROMPT"},
    {"qa_none_user.txt", R"PROMPT({question})PROMPT"},
    {"summary_system.txt",
     R"PROMPT(You are a helpful assistant who writes short, faithful summaries.)PROMPT"},
    {"summary_chapter_memory_user.txt",
     R"PROMPT(You have just read the chapter "{chapter_title}" of "{doc_title}". Summarize that chapter in two or three sentences.)PROMPT"},
    {"summary_chapter_text_user.txt",
     R"PROMPT(Here is the chapter "{chapter_title}" of "{doc_title}":

{text}

Summarize this chapter in two or three sentences.)PROMPT"},
    {"summary_book_user.txt",
     R"PROMPT(Here are the summaries of the chapters of "{doc_title}":

{chapter_summaries}

Write a short summary of the whole book in three or four sentences.)PROMPT"},
    {"summary_book_chapter_line.txt", R"PROMPT({number}. {title}: {summary})PROMPT"},
};

constexpr size_t kMaxPromptBytes = 64 * 1024;

}  // namespace

std::string_view prompt_file_name(PromptId id) {
  return kPrompts[static_cast<size_t>(id)].file;
}

std::string_view builtin_prompt(PromptId id) {
  return kPrompts[static_cast<size_t>(id)].text;
}

PromptSet::PromptSet() {
  for (size_t i = 0; i < kPromptCount; ++i) {
    texts_[i] = kPrompts[i].text;
    sources_[i] = "built-in";
  }
}

Result<PromptSet> PromptSet::load(const std::filesystem::path& prompts_dir,
                                  std::string_view family) {
  PromptSet set;
  if (prompts_dir.empty()) return set;
  std::vector<std::filesystem::path> dirs;
  if (!family.empty()) dirs.push_back(prompts_dir / std::string(family));
  dirs.push_back(prompts_dir / "default");
  for (size_t i = 0; i < kPromptCount; ++i) {
    for (const std::filesystem::path& dir : dirs) {
      const std::filesystem::path file = dir / kPrompts[i].file;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(file, ec)) continue;
      MEMLONG_ASSIGN_OR_RETURN(std::string text, read_text_file(file.string(), kMaxPromptBytes));
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      set.texts_[i] = std::move(text);
      set.sources_[i] = file.string();
      break;
    }
  }
  return set;
}

std::string fill_prompt(std::string_view tmpl,
                        const std::vector<std::pair<std::string_view, std::string_view>>& values) {
  std::string out;
  out.reserve(tmpl.size());
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      size_t j = i + 1;
      while (j < tmpl.size() && ((tmpl[j] >= 'a' && tmpl[j] <= 'z') || tmpl[j] == '_')) ++j;
      if (j < tmpl.size() && tmpl[j] == '}' && j > i + 1) {
        const std::string_view name = tmpl.substr(i + 1, j - i - 1);
        bool replaced = false;
        for (const auto& [key, value] : values) {
          if (key == name) {
            out += value;
            replaced = true;
            break;
          }
        }
        if (replaced) {
          i = j + 1;
          continue;
        }
      }
    }
    out.push_back(tmpl[i]);
    ++i;
  }
  return out;
}

}  // namespace memlong
