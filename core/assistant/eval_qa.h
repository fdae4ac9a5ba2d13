// Question-answering evaluation: the question set (JSONL written by scripts/gen_qa.py), answer
// scoring, and the per-mode / per-kind tables. The driver that ingests documents and asks the
// questions is the CLI (`memlong eval-qa`); this file only loads, scores and aggregates.
//
// Question file: one JSON object per line:
//   {"id": "planted-003", "question": "...", "answers": ["4721"], "doc": "planted-003.txt",
//    "expected_offset": 1234, "kind": "planted", "depth": 25}
// id, question and a non-empty answers list are required; doc (file name of the document that
// holds the answer), expected_offset (byte offset of the answer's sentence in that document; -1:
// unknown), kind and depth (percent of the document; -1: not applicable) are optional. Blank
// lines and lines starting with '#' are skipped.
//
// Scoring: an answer is correct when the normalised form of one expected answer occurs in the
// normalised answer as whole words. normalise = ASCII lowercase, ',' between two digits dropped
// (73,914 == 73914), every other ASCII character that is not a letter or digit becomes a space,
// runs of spaces collapse, ends trimmed (non-ASCII bytes are kept as they are).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"

namespace memlong {

struct QaQuestion {
  std::string id;
  std::string question;
  std::vector<std::string> answers;
  std::string doc;
  int64_t expected_offset = -1;
  std::string kind;
  int32_t depth = -1;
};

// Errors: those of reading the file; Corrupt naming the line for malformed JSON or missing fields;
// InvalidArgument for a repeated id.
Result<std::vector<QaQuestion>> load_questions(const std::string& path);
// The same from text; `source` names it in errors.
Result<std::vector<QaQuestion>> parse_questions(std::string_view jsonl, const std::string& source);

std::string normalize_answer(std::string_view text);
bool answer_matches(const QaQuestion& question, const std::string& answer);
// Whether a cited passage is where the answer is: same document (by file name, ignoring folders)
// and expected_offset inside [char_begin, char_end). False when the question has no location.
bool location_matches(const QaQuestion& question, const std::string& doc_path, int64_t char_begin,
                      int64_t char_end);

// One answered question in one mode.
struct QaEvalRow {
  std::string question_id;
  std::string kind;
  std::string mode;  // "memory", "text", "none"
  std::string answer;
  bool correct = false;
  int32_t location_hit = -1;  // top citation at the expected place: 1 / 0; -1 not checked
  double ttft_s = 0.0;
  double tokens_per_s = 0.0;
  int32_t n_prompt_tokens = 0;
  int32_t n_tokens = 0;
};

// One line of the table: a mode over all kinds (kind == "all") or over one kind.
struct QaEvalSummary {
  std::string mode;
  std::string kind;
  int32_t n = 0;
  int32_t n_correct = 0;
  double accuracy = 0.0;
  int32_t n_location_checked = 0;
  int32_t n_location_hit = 0;
  double mean_ttft_s = 0.0;
  double mean_tokens_per_s = 0.0;
};

// Modes in order of first appearance; per mode, "all" first, then kinds in order of appearance.
std::vector<QaEvalSummary> summarize_eval(std::span<const QaEvalRow> rows);
// {"summary": [{mode, kind, n, correct, accuracy, location_checked, location_hits, mean_ttft_s,
//   mean_tokens_per_s}...], "rows": [{id, kind, mode, answer, correct, location_hit, ttft_s,
//   tokens_per_s, n_prompt_tokens, n_tokens}...]}
nlohmann::json eval_table_json(std::span<const QaEvalRow> rows);
// The summary as a Markdown table (for the terminal and docs/EVALUATION.md).
std::string eval_table_text(std::span<const QaEvalRow> rows);

}  // namespace memlong
