#include "core/assistant/eval_qa.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/common/mapped_file.h"

namespace memlong {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Parses one line; nlohmann throws, so the adapter catches here (STYLE: third-party exceptions
// stop at their adapter).
Result<QaQuestion> parse_line(std::string_view line, const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return corrupt(where + ": not JSON (" + e.what() + ")");
  }
  if (!j.is_object()) return corrupt(where + ": expected a JSON object");
  QaQuestion q;
  auto get_string = [&](const char* key, std::string* out, bool required) -> Status {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      return required ? corrupt(where + ": missing \"" + key + "\"") : Status::ok();
    }
    if (!it->is_string()) return corrupt(where + ": \"" + key + "\" must be a string");
    *out = it->get<std::string>();
    return Status::ok();
  };
  MEMLONG_RETURN_IF_ERROR(get_string("id", &q.id, true));
  MEMLONG_RETURN_IF_ERROR(get_string("question", &q.question, true));
  MEMLONG_RETURN_IF_ERROR(get_string("doc", &q.doc, false));
  MEMLONG_RETURN_IF_ERROR(get_string("kind", &q.kind, false));
  if (q.id.empty() || q.question.empty()) return corrupt(where + ": empty id or question");
  const auto answers = j.find("answers");
  if (answers == j.end() || !answers->is_array() || answers->empty()) {
    return corrupt(where + ": \"answers\" must be a non-empty list of strings");
  }
  for (const nlohmann::json& a : *answers) {
    if (!a.is_string() || normalize_answer(a.get<std::string>()).empty()) {
      return corrupt(where + ": every answer must be a string with a letter or digit");
    }
    q.answers.push_back(a.get<std::string>());
  }
  auto get_int = [&](const char* key, int64_t* out) -> Status {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::ok();
    if (!it->is_number_integer()) return corrupt(where + ": \"" + key + "\" must be an integer");
    *out = it->get<int64_t>();
    return Status::ok();
  };
  int64_t depth = -1;
  MEMLONG_RETURN_IF_ERROR(get_int("expected_offset", &q.expected_offset));
  MEMLONG_RETURN_IF_ERROR(get_int("depth", &depth));
  if (depth < -1 || depth > 100) return corrupt(where + ": \"depth\" must be 0..100 or -1");
  q.depth = static_cast<int32_t>(depth);
  return q;
}

std::string format_double(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

Result<std::vector<QaQuestion>> parse_questions(std::string_view jsonl, const std::string& source) {
  std::vector<QaQuestion> out;
  std::set<std::string> ids;
  size_t line_no = 0;
  while (!jsonl.empty()) {
    const size_t nl = jsonl.find('\n');
    std::string_view line = jsonl.substr(0, nl);
    jsonl.remove_prefix(nl == std::string_view::npos ? jsonl.size() : nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = source + ":" + std::to_string(line_no);
    MEMLONG_ASSIGN_OR_RETURN(QaQuestion q, parse_line(line, where));
    if (!ids.insert(q.id).second) return invalid_argument(where + ": repeated id \"" + q.id + "\"");
    out.push_back(std::move(q));
  }
  return out;
}

Result<std::vector<QaQuestion>> load_questions(const std::string& path) {
  MEMLONG_ASSIGN_OR_RETURN(std::string text, read_text_file(path, size_t{64} << 20));
  return parse_questions(text, path);
}

std::string normalize_answer(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ',' && i > 0 && i + 1 < text.size() && is_digit(text[i - 1]) && is_digit(text[i + 1]))
      continue;
    const auto u = static_cast<unsigned char>(c);
    char keep = ' ';
    if (c >= 'A' && c <= 'Z') {
      keep = static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || is_digit(c) || u >= 0x80) {
      keep = c;
    }
    if (keep == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(keep);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool answer_matches(const QaQuestion& question, const std::string& answer) {
  // Whole words: both sides padded with one space (appended, not concatenated with operator+,
  // which trips GCC 12's -Wrestrict false positive).
  auto padded = [](std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back(' ');
    out.append(normalize_answer(s));
    out.push_back(' ');
    return out;
  };
  const std::string hay = padded(answer);
  for (const std::string& a : question.answers) {
    const std::string needle = padded(a);
    if (needle.size() > 2 && hay.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool location_matches(const QaQuestion& question, const std::string& doc_path, int64_t char_begin,
                      int64_t char_end) {
  if (question.expected_offset < 0 || question.doc.empty()) return false;
  if (std::filesystem::path(doc_path).filename() != std::filesystem::path(question.doc).filename())
    return false;
  return question.expected_offset >= char_begin && question.expected_offset < char_end;
}

std::vector<QaEvalSummary> summarize_eval(std::span<const QaEvalRow> rows) {
  std::vector<QaEvalSummary> out;
  std::vector<std::string> modes;
  for (const QaEvalRow& r : rows) {
    if (std::find(modes.begin(), modes.end(), r.mode) == modes.end()) modes.push_back(r.mode);
  }
  for (const std::string& mode : modes) {
    std::vector<std::string> kinds = {"all"};
    for (const QaEvalRow& r : rows) {
      if (r.mode == mode && std::find(kinds.begin() + 1, kinds.end(), r.kind) == kinds.end())
        kinds.push_back(r.kind);
    }
    for (const std::string& kind : kinds) {
      QaEvalSummary s;
      s.mode = mode;
      s.kind = kind;
      for (const QaEvalRow& r : rows) {
        if (r.mode != mode || (kind != "all" && r.kind != kind)) continue;
        ++s.n;
        s.n_correct += r.correct ? 1 : 0;
        if (r.location_hit >= 0) {
          ++s.n_location_checked;
          s.n_location_hit += r.location_hit;
        }
        s.mean_ttft_s += r.ttft_s;
        s.mean_tokens_per_s += r.tokens_per_s;
      }
      if (s.n > 0) {
        s.accuracy = static_cast<double>(s.n_correct) / s.n;
        s.mean_ttft_s /= s.n;
        s.mean_tokens_per_s /= s.n;
      }
      out.push_back(s);
    }
  }
  return out;
}

nlohmann::json eval_table_json(std::span<const QaEvalRow> rows) {
  nlohmann::json j;
  j["summary"] = nlohmann::json::array();
  for (const QaEvalSummary& s : summarize_eval(rows)) {
    j["summary"].push_back({{"mode", s.mode},
                            {"kind", s.kind},
                            {"n", s.n},
                            {"correct", s.n_correct},
                            {"accuracy", s.accuracy},
                            {"location_checked", s.n_location_checked},
                            {"location_hits", s.n_location_hit},
                            {"mean_ttft_s", s.mean_ttft_s},
                            {"mean_tokens_per_s", s.mean_tokens_per_s}});
  }
  j["rows"] = nlohmann::json::array();
  for (const QaEvalRow& r : rows) {
    j["rows"].push_back({{"id", r.question_id},
                         {"kind", r.kind},
                         {"mode", r.mode},
                         {"answer", r.answer},
                         {"correct", r.correct},
                         {"location_hit", r.location_hit},
                         {"ttft_s", r.ttft_s},
                         {"tokens_per_s", r.tokens_per_s},
                         {"n_prompt_tokens", r.n_prompt_tokens},
                         {"n_tokens", r.n_tokens}});
  }
  return j;
}

std::string eval_table_text(std::span<const QaEvalRow> rows) {
  std::string out =
      "| mode | kind | questions | correct | accuracy | cited at the answer | mean TTFT (s) | "
      "tokens/s |\n|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const QaEvalSummary& s : summarize_eval(rows)) {
    const std::string location = s.n_location_checked > 0 ? std::to_string(s.n_location_hit) + "/" +
                                                                std::to_string(s.n_location_checked)
                                                          : "-";
    out += "| " + s.mode + " | " + s.kind + " | " + std::to_string(s.n) + " | " +
           std::to_string(s.n_correct) + " | " + format_double("%.1f%%", 100.0 * s.accuracy) +
           " | " + location + " | " + format_double("%.2f", s.mean_ttft_s) + " | " +
           format_double("%.1f", s.mean_tokens_per_s) + " |\n";
  }
  return out;
}

}  // namespace memlong
