// memlong ask | summarize | eval-qa: answers and summaries over the library (issue 5).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/cli/cli_common.h"
#include "core/assistant/eval_qa.h"
#include "core/ingest/ingest_pipeline.h"

namespace memlong::cli {
namespace {

struct AskArgs {
  LibraryArgs lib;
  std::string question, session, mode = "text", json_path;
  int top_k = 8;
  int max_tokens = 256;
  float temp = 0.0f;
};

Result<AnswerMode> parse_mode(const std::string& m) {
  if (m == "memory") return AnswerMode::kMemory;
  if (m == "text") return AnswerMode::kText;
  if (m == "none") return AnswerMode::kNone;
  return invalid_argument("--mode must be memory, text or none, not " + m);
}

Status select_session(Assistant& a, const std::string& id_or_name) {
  if (id_or_name.empty()) return Status::ok();
  MEMLONG_ASSIGN_OR_RETURN(std::vector<SessionInfo> all, a.sessions());
  for (const SessionInfo& s : all) {
    if (std::to_string(s.id) == id_or_name || s.name == id_or_name) {
      return a.load_session(s.id).status();
    }
  }
  return not_found("no session \"" + id_or_name + "\" (see `memlong session list`)");
}

int cmd_ask(const AskArgs& a) {
  auto mode = parse_mode(a.mode);
  if (!mode.is_ok()) return fail(mode.status());
  auto assistant = open_assistant(a.lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  if (Status s = select_session(**assistant, a.session); !s.is_ok()) return fail(s);
  AskOptions o;
  o.mode = *mode;
  o.top_k = a.top_k;
  o.max_tokens = a.max_tokens;
  o.temperature = a.temp;
  const bool stream = a.json_path != "-";
  CancelSource cancel;
  set_active_cancel(&cancel);
  auto answer = (*assistant)
                    ->ask(
                        a.question, o,
                        [&](std::string_view piece) {
                          if (stream) {
                            std::fwrite(piece.data(), 1, piece.size(), stdout);
                            std::fflush(stdout);
                          }
                          return true;
                        },
                        cancel.token());
  set_active_cancel(nullptr);
  if (!answer.is_ok()) return fail(answer.status());
  if (stream) {
    std::printf("\n\nSources:\n");
    if (answer->citations.empty()) std::printf("(none)\n");
    int i = 0;
    for (const Citation& c : answer->citations) {
      const Passage& p = c.passage;
      std::printf("[%d] %s%s%s%s (tokens %lld-%lld; score %.3f%s)\n    \"%s\"\n", ++i,
                  p.doc_title.c_str(), p.section_title.empty() ? "" : ", ", p.section_title.c_str(),
                  p.page > 0 ? (", p. " + std::to_string(p.page)).c_str() : "",
                  static_cast<long long>(p.token_begin), static_cast<long long>(p.token_end),
                  c.retrieval_score,
                  answer->mode == AnswerMode::kMemory
                      ? (", attention " + std::to_string(c.attention_mass)).c_str()
                      : "",
                  c.quote.c_str());
    }
    std::fflush(stdout);
    std::fprintf(stderr, "[%d prompt tokens, first token after %.2f s, %.1f tok/s%s]\n",
                 answer->n_prompt_tokens, answer->time_to_first_token_s, answer->tokens_per_s,
                 answer->cancelled ? ", cancelled" : "");
  }
  if (!a.json_path.empty()) {
    nlohmann::json cites = nlohmann::json::array();
    for (const Citation& c : answer->citations) cites.push_back(to_json(c));
    nlohmann::json j = {{"question", a.question},
                        {"answer", answer->text},
                        {"mode", a.mode},
                        {"citations", cites},
                        {"prompt_tokens", answer->n_prompt_tokens},
                        {"tokens", answer->n_tokens},
                        {"ttft_s", answer->time_to_first_token_s},
                        {"tokens_per_s", answer->tokens_per_s},
                        {"cancelled", answer->cancelled}};
    if (Status s = write_json(a.json_path, j); !s.is_ok()) return fail(s);
  }
  return answer->cancelled ? 130 : 0;
}

struct SummarizeArgs {
  LibraryArgs lib;
  int64_t doc = 0;
  std::string chapters, out_path;
};

int cmd_summarize(const SummarizeArgs& a) {
  int32_t first = 0, last = -1;
  if (!a.chapters.empty()) {
    const size_t dash = a.chapters.find('-');
    try {
      first = std::stoi(a.chapters.substr(0, dash)) - 1;
      last = dash == std::string::npos      ? first
             : dash + 1 < a.chapters.size() ? std::stoi(a.chapters.substr(dash + 1)) - 1
                                            : -1;
    } catch (...) {
      return fail(invalid_argument("--chapters expects A-B (1-based), got " + a.chapters));
    }
  }
  auto assistant = open_assistant(a.lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  CancelSource cancel;
  set_active_cancel(&cancel);
  auto summary =
      (*assistant)
          ->summarize(
              a.doc, first, last,
              [](const SummaryProgress& p) {
                if (p.chapter_index < p.n_chapters) {
                  std::fprintf(stderr, "chapter %d/%d %s (%.0f tok/s)\n", p.chapter_index + 1,
                               p.n_chapters, p.chapter_title.c_str(), p.tokens_per_s);
                } else {
                  std::fprintf(stderr, "book summary from %d chapter summaries\n", p.n_chapters);
                }
              },
              cancel.token());
  set_active_cancel(nullptr);
  if (!summary.is_ok()) return fail(summary.status());
  const std::string md = summary_to_markdown(*summary);
  if (!a.out_path.empty()) {
    std::ofstream f(a.out_path);
    f << md;
    if (!f) return fail(io_error("cannot write " + a.out_path));
  }
  std::fwrite(md.data(), 1, md.size(), stdout);
  return summary->cancelled ? 130 : 0;
}

struct EvalQaArgs {
  LibraryArgs lib;
  std::string questions, docs_dir, books_dir, modes = "memory,text,none", json_path;
  std::vector<std::string> filler;
  int64_t library_tokens = 0;
  int top_k = 8;
  int max_tokens = 32;
  int limit = 0;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int cmd_eval_qa(EvalQaArgs a) {
  namespace fs = std::filesystem;
  auto questions = load_questions(a.questions);
  if (!questions.is_ok()) return fail(questions.status());
  if (a.limit > 0 && static_cast<int>(questions->size()) > a.limit) questions->resize(a.limit);
  const fs::path base = fs::path(a.questions).parent_path();
  if (a.docs_dir.empty()) a.docs_dir = (base / "docs").string();
  std::vector<AnswerMode> modes;
  std::vector<std::string> mode_names;
  for (size_t b = 0; b <= a.modes.size();) {
    const size_t e = std::min(a.modes.find(',', b), a.modes.size());
    const std::string m = a.modes.substr(b, e - b);
    auto mode = parse_mode(m);
    if (!mode.is_ok()) return fail(mode.status());
    modes.push_back(*mode);
    mode_names.push_back(m);
    b = e + 1;
  }
  // A fresh library unless one is given (then the run adds a session to it).
  fs::path tmp;
  if (a.lib.library.empty()) {
    tmp = fs::temp_directory_path() / ("memlong-eval-qa-" + std::to_string(::getpid()));
    a.lib.library = tmp.string();
  }
  if (a.library_tokens > 0) {
    a.lib.memory_tokens = std::max<int64_t>(a.lib.memory_tokens, a.library_tokens * 2);
  }
  auto assistant = open_assistant(a.lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  Assistant& as = **assistant;
  if (auto s = as.new_session("eval-qa"); !s.is_ok()) return fail(s.status());

  // The questions' documents, then filler books until the library holds library_tokens.
  std::vector<fs::path> docs;
  for (const QaQuestion& q : *questions) {
    fs::path p = fs::path(a.docs_dir) / q.doc;
    if (!fs::exists(p) && !a.books_dir.empty()) p = fs::path(a.books_dir) / q.doc;
    if (!fs::exists(p)) return fail(not_found("document " + q.doc + " of question " + q.id));
    if (std::find(docs.begin(), docs.end(), p) == docs.end()) docs.push_back(p);
  }
  auto progress = [](const IngestProgress& p) {
    if (p.stage == IngestStage::kDone || p.stage == IngestStage::kFailed) {
      std::fprintf(stderr, "eval-qa: %s %s (%.0f tok/s)\n",
                   p.stage == IngestStage::kDone ? "read" : "FAILED", p.path.c_str(),
                   p.tokens_per_s);
    }
  };
  CancelSource cancel;
  set_active_cancel(&cancel);
  auto report = as.ingest(docs, progress, cancel.token());
  if (!report.is_ok()) return fail(report.status());
  for (const std::string& f : a.filler) {
    if (as.status().memory_tokens >= a.library_tokens) break;
    auto files = expand_ingest_paths({fs::path(f)});
    if (!files.is_ok()) return fail(files.status());
    for (const fs::path& file : *files) {
      if (as.status().memory_tokens >= a.library_tokens) break;
      if (auto r = as.ingest({file}, progress, cancel.token()); !r.is_ok()) return fail(r.status());
    }
  }
  const int64_t library_tokens = as.status().memory_tokens;
  std::fprintf(stderr, "eval-qa: library holds %lld tokens; %zu questions x %zu modes\n",
               static_cast<long long>(library_tokens), questions->size(), modes.size());

  std::vector<QaEvalRow> rows;
  for (const QaQuestion& q : *questions) {
    for (size_t m = 0; m < modes.size(); ++m) {
      if (cancel.is_cancelled()) break;
      AskOptions o;
      o.mode = modes[m];
      o.top_k = a.top_k;
      o.max_tokens = a.max_tokens;
      o.use_conversation = false;
      auto ans = as.ask(
          q.question, o, [](std::string_view) { return true; }, cancel.token());
      if (!ans.is_ok()) return fail(ans.status().with_context("question " + q.id));
      QaEvalRow row;
      row.question_id = q.id;
      row.kind = q.kind;
      row.mode = mode_names[m];
      row.answer = ans->text;
      row.correct = answer_matches(q, ans->text);
      if (modes[m] != AnswerMode::kNone) {
        // Location: the top-ranked citation is the expected document and holds the answer (or,
        // for chapter questions, is the expected chapter).
        row.location_hit = 0;
        if (!ans->citations.empty()) {
          const Passage& p = ans->citations[0].passage;
          const bool same_doc =
              fs::path(p.doc_title).stem() == fs::path(q.doc).stem() ||
              lower(p.doc_title).find(lower(fs::path(q.doc).stem().string())) != std::string::npos;
          bool holds = false;
          for (const std::string& want : q.answers) {
            holds = holds || lower(p.text).find(lower(want)) != std::string::npos ||
                    lower(p.section_title) == lower(want);
          }
          row.location_hit = holds && (same_doc || q.kind == "planted") ? 1 : 0;
        }
      }
      row.ttft_s = ans->time_to_first_token_s;
      row.tokens_per_s = ans->tokens_per_s;
      row.n_prompt_tokens = ans->n_prompt_tokens;
      row.n_tokens = ans->n_tokens;
      std::fprintf(stderr, "eval-qa: %s [%s] %s -> %s\n", q.id.c_str(), row.mode.c_str(),
                   row.correct ? "correct" : "wrong", ans->text.substr(0, 80).c_str());
      rows.push_back(std::move(row));
    }
  }
  set_active_cancel(nullptr);
  std::printf("%s", eval_table_text(rows).c_str());
  std::printf("(library: %lld tokens; k = %d; %s)\n", static_cast<long long>(library_tokens),
              a.top_k, as.status().model_name.c_str());
  int rc = 0;
  if (!a.json_path.empty()) {
    nlohmann::json j = eval_table_json(rows);
    j["library_tokens"] = library_tokens;
    j["top_k"] = a.top_k;
    j["max_tokens"] = a.max_tokens;
    j["model"] = as.status().model_name;
    j["retriever"] = as.status().retriever_name;
    j["questions"] = a.questions;
    if (Status s = write_json(a.json_path, j); !s.is_ok()) rc = fail(s);
  }
  assistant->reset();
  if (!tmp.empty()) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  }
  return cancel.is_cancelled() ? 130 : rc;
}

}  // namespace

CommandSet register_answer_commands(CLI::App& app) {
  CommandSet set;
  auto ask_args = std::make_shared<AskArgs>();
  auto* ask =
      app.add_subcommand("ask", "Answer a question from the session's documents, with sources");
  add_library_args(ask, &ask_args->lib);
  ask->add_option("question", ask_args->question, "The question")->required();
  ask->add_option("--session", ask_args->session, "Session id or name (default: the last used)");
  ask->add_option("--mode", ask_args->mode,
                  "memory (MemLong attention), text (passages in the prompt) or none")
      ->capture_default_str();
  ask->add_option("-k,--top-k", ask_args->top_k, "Passages to retrieve")->capture_default_str();
  ask->add_option("-n,--max-tokens", ask_args->max_tokens, "Longest answer")->capture_default_str();
  ask->add_option("--temp", ask_args->temp, "Temperature (0: greedy)")->capture_default_str();
  ask->add_option("--json", ask_args->json_path, "Write the answer as JSON (- for stdout only)");
  set.add(ask, [ask_args] { return cmd_ask(*ask_args); });

  auto sum_args = std::make_shared<SummarizeArgs>();
  auto* summarize = app.add_subcommand("summarize", "Summarize a document, chapter by chapter");
  add_library_args(summarize, &sum_args->lib);
  summarize->add_option("doc", sum_args->doc, "Document id (see library list)")->required();
  summarize->add_option("--chapters", sum_args->chapters, "Chapter range A-B (1-based)");
  summarize->add_option("-o,--out", sum_args->out_path, "Also write the Markdown to this file");
  set.add(summarize, [sum_args] { return cmd_summarize(*sum_args); });

  auto eval_args = std::make_shared<EvalQaArgs>();
  auto* eval =
      app.add_subcommand("eval-qa", "Score answers to a question set (JSON lines) per answer mode");
  add_library_args(eval, &eval_args->lib);
  eval->add_option("questions", eval_args->questions, "QUESTIONS.jsonl")->required();
  eval->add_option("--docs", eval_args->docs_dir,
                   "Folder of the questions' documents (default: <questions folder>/docs)");
  eval->add_option("--books", eval_args->books_dir, "Folder of books named by questions");
  eval->add_option("--filler", eval_args->filler, "Files or folders added until --library-tokens")
      ->allow_extra_args(false);
  eval->add_option("--library-tokens", eval_args->library_tokens,
                   "Grow the library with --filler to this many tokens first");
  eval->add_option("--modes", eval_args->modes, "memory, text, none")->capture_default_str();
  eval->add_option("-k,--top-k", eval_args->top_k, "Passages per question")->capture_default_str();
  eval->add_option("-n,--max-tokens", eval_args->max_tokens, "Longest answer")
      ->capture_default_str();
  eval->add_option("--limit", eval_args->limit, "Only the first N questions");
  eval->add_option("--json", eval_args->json_path, "Write the results as JSON (- for stdout)");
  set.add(eval, [eval_args] { return cmd_eval_qa(*eval_args); });
  return set;
}

}  // namespace memlong::cli
