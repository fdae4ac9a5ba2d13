// memlong ask | summarize: answers and summaries over the library (issue 5).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/cli/cli_common.h"

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
  return set;
}

}  // namespace memlong::cli
