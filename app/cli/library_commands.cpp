// memlong ingest | library | search | session: the library and saved sessions from the command
// line (issue 4). All go through the Assistant, as the desktop app does.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "app/cli/cli_common.h"

namespace memlong::cli {
namespace {

const char* stage_name(IngestStage s) {
  switch (s) {
    case IngestStage::kParsing:
      return "parsing";
    case IngestStage::kReading:
      return "reading";
    case IngestStage::kCommitting:
      return "committing";
    case IngestStage::kDone:
      return "done";
    case IngestStage::kSkipped:
      return "unchanged";
    case IngestStage::kFailed:
      return "failed";
    case IngestStage::kCancelled:
      return "cancelled";
  }
  return "?";
}

std::string format_eta(double s) {
  if (s < 0) return "--";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return buf;
}

struct IngestArgs {
  LibraryArgs lib;
  std::vector<std::string> paths;
  std::string json_path;
};

int cmd_ingest(const IngestArgs& a) {
  auto assistant = open_assistant(a.lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  std::vector<std::filesystem::path> paths(a.paths.begin(), a.paths.end());
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int last_decile = -1;
  auto on_progress = [&](const IngestProgress& p) {
    const int pct = p.chunks_total > 0 ? static_cast<int>(100 * p.chunks_done / p.chunks_total) : 0;
    const bool final = p.stage == IngestStage::kDone || p.stage == IngestStage::kSkipped ||
                       p.stage == IngestStage::kFailed || p.stage == IngestStage::kCancelled;
    if (!final && !tty && pct / 10 == last_decile) return;
    last_decile = final ? -1 : pct / 10;
    std::fprintf(stderr, "%s[%d/%d] %s: %s %3d%% (%lld/%lld chunks) %.0f tok/s ETA %s%s%s",
                 tty ? "\r\033[K" : "", p.file_index + 1, p.n_files,
                 std::filesystem::path(p.path).filename().c_str(), stage_name(p.stage), pct,
                 static_cast<long long>(p.chunks_done), static_cast<long long>(p.chunks_total),
                 p.tokens_per_s, format_eta(p.eta_s).c_str(), p.message.empty() ? "" : ": ",
                 p.message.c_str());
    if (!tty || final) std::fprintf(stderr, "\n");
  };
  CancelSource cancel;
  set_active_cancel(&cancel);
  auto report = (*assistant)->ingest(paths, on_progress, cancel.token());
  set_active_cancel(nullptr);
  if (!report.is_ok()) return fail(report.status());
  int n_failed = 0, n_cancelled = 0;
  nlohmann::json files = nlohmann::json::array();
  for (const IngestFileResult& f : report->files) {
    n_failed += f.outcome == IngestStage::kFailed;
    n_cancelled += f.outcome == IngestStage::kCancelled;
    files.push_back({{"path", f.path},
                     {"doc_id", f.doc_id},
                     {"outcome", stage_name(f.outcome)},
                     {"error", f.error},
                     {"tokens", f.n_tokens}});
  }
  std::printf("%zu file(s): %lld tokens read in %.1f s (%.0f tok/s), %d failed, %d cancelled\n",
              report->files.size(), static_cast<long long>(report->tokens_read), report->seconds,
              report->seconds > 0 ? report->tokens_read / report->seconds : 0.0, n_failed,
              n_cancelled);
  if (!a.json_path.empty()) {
    nlohmann::json j = {
        {"files", files}, {"tokens_read", report->tokens_read}, {"seconds", report->seconds}};
    if (Status s = write_json(a.json_path, j); !s.is_ok()) return fail(s);
  }
  if (n_cancelled > 0) return 130;
  return n_failed > 0 ? 2 : 0;
}

int cmd_library_list(const LibraryArgs& lib, const std::string& json_path) {
  auto assistant = open_assistant(lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  auto docs = (*assistant)->documents();
  if (!docs.is_ok()) return fail(docs.status());
  nlohmann::json j = nlohmann::json::array();
  for (const DocumentInfo& d : *docs) {
    j.push_back(to_json(d));
    std::printf("%4lld  %-9s %8lld tok  %-6s %s%s%s\n", static_cast<long long>(d.id),
                std::string(document_status_name(d.status)).c_str(),
                static_cast<long long>(d.n_tokens), d.format.c_str(), d.title.c_str(),
                d.error.empty() ? "" : "  error: ", d.error.c_str());
  }
  if (!json_path.empty()) {
    if (Status s = write_json(json_path, j); !s.is_ok()) return fail(s);
  }
  return 0;
}

int cmd_library_remove(const LibraryArgs& lib, int64_t doc_id) {
  auto assistant = open_assistant(lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  if (Status s = (*assistant)->remove_document(doc_id); !s.is_ok()) return fail(s);
  std::printf("removed document %lld\n", static_cast<long long>(doc_id));
  return 0;
}

int cmd_library_stats(const LibraryArgs& lib, const std::string& json_path) {
  auto assistant = open_assistant(lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  auto docs = (*assistant)->documents();
  if (!docs.is_ok()) return fail(docs.status());
  int64_t tokens = 0, chunks = 0, ready = 0, failed = 0;
  for (const DocumentInfo& d : *docs) {
    tokens += d.n_tokens;
    chunks += d.n_chunks;
    ready += d.status == DocumentStatus::kReady;
    failed += d.status == DocumentStatus::kFailed;
  }
  const AssistantStatus st = (*assistant)->status();
  std::printf(
      "library   %s\ndocuments %zu (%lld ready, %lld failed)\ntokens    %lld in %lld chunks\n"
      "session   %s: %lld of %lld memory tokens (%.1f MB)\nmodel     %s\nretriever %s\n"
      "device    %s\n",
      st.library_dir.c_str(), docs->size(), static_cast<long long>(ready),
      static_cast<long long>(failed), static_cast<long long>(tokens),
      static_cast<long long>(chunks), st.session_name.c_str(),
      static_cast<long long>(st.memory_tokens), static_cast<long long>(st.memory_capacity_tokens),
      st.memory_bytes / 1e6, st.model_name.c_str(), st.retriever_name.c_str(), st.device.c_str());
  if (!json_path.empty()) {
    nlohmann::json j = {{"library", st.library_dir},
                        {"documents", docs->size()},
                        {"ready", ready},
                        {"failed", failed},
                        {"tokens", tokens},
                        {"chunks", chunks},
                        {"session", st.session_name},
                        {"memory_tokens", st.memory_tokens},
                        {"memory_bytes", st.memory_bytes},
                        {"model", st.model_name},
                        {"retriever", st.retriever_name},
                        {"device", st.device}};
    if (Status s = write_json(json_path, j); !s.is_ok()) return fail(s);
  }
  return 0;
}

int cmd_search(const LibraryArgs& lib, const std::string& query, int k,
               const std::string& json_path) {
  auto assistant = open_assistant(lib);
  if (!assistant.is_ok()) return fail(assistant.status());
  auto hits = (*assistant)->search(query, k);
  if (!hits.is_ok()) return fail(hits.status());
  nlohmann::json j = nlohmann::json::array();
  int rank = 0;
  for (const LibraryHit& h : *hits) {
    const Passage& p = h.passage;
    std::printf("%d. %s%s%s%s  [fused %.4f, vector %.3f, bm25 %.2f]\n   %s\n", ++rank,
                p.doc_title.c_str(), p.section_title.empty() ? "" : ", ", p.section_title.c_str(),
                p.page > 0 ? (", p. " + std::to_string(p.page)).c_str() : "", h.fused_score,
                h.vector_score, h.bm25_score, p.text.substr(0, 300).c_str());
    nlohmann::json e = to_json(p);
    e["fused_score"] = h.fused_score;
    e["vector_score"] = h.vector_score;
    e["bm25_score"] = h.bm25_score;
    j.push_back(e);
  }
  if (!json_path.empty()) {
    if (Status s = write_json(json_path, j); !s.is_ok()) return fail(s);
  }
  return 0;
}

// A session given as an id or a name.
Result<int64_t> resolve_session(Assistant& a, const std::string& id_or_name) {
  MEMLONG_ASSIGN_OR_RETURN(std::vector<SessionInfo> all, a.sessions());
  for (const SessionInfo& s : all) {
    if (std::to_string(s.id) == id_or_name) return s.id;
  }
  for (const SessionInfo& s : all) {
    if (s.name == id_or_name) return s.id;
  }
  return not_found("no session \"" + id_or_name + "\" (see `memlong session list`)");
}

void print_session(const SessionInfo& s, bool current) {
  std::printf("%s%4lld  %-24s %3d docs %4d messages %9lld memory tokens  updated %s\n",
              current ? "*" : " ", static_cast<long long>(s.id), s.name.c_str(), s.n_documents,
              s.n_messages, static_cast<long long>(s.memory_tokens), s.updated_at.c_str());
}

struct SessionArgs {
  LibraryArgs lib;
  std::string name, target, file, json_path;
};

int run_session(const SessionArgs& a, const std::string& verb) {
  auto opened = open_assistant(a.lib);
  if (!opened.is_ok()) return fail(opened.status());
  Assistant& as = **opened;
  auto check = [](const Status& s) { return s.is_ok() ? 0 : fail(s); };
  if (verb == "new") {
    auto s = as.new_session(a.name);
    if (!s.is_ok()) return fail(s.status());
    print_session(*s, true);
    return 0;
  }
  if (verb == "list") {
    auto all = as.sessions();
    if (!all.is_ok()) return fail(all.status());
    auto cur = as.current_session();
    nlohmann::json j = nlohmann::json::array();
    for (const SessionInfo& s : *all) {
      print_session(s, cur.is_ok() && cur->id == s.id);
      j.push_back(to_json(s));
    }
    if (!a.json_path.empty()) return check(write_json(a.json_path, j));
    return 0;
  }
  auto id = resolve_session(as, a.target);
  if (!id.is_ok()) return fail(id.status());
  if (verb == "load") {
    auto s = as.load_session(*id);
    if (!s.is_ok()) return fail(s.status());
    print_session(*s, true);
    return 0;
  }
  if (verb == "fork") {
    auto s = as.fork_session(*id, a.name);
    if (!s.is_ok()) return fail(s.status());
    print_session(*s, true);
    return 0;
  }
  if (verb == "rename") return check(as.rename_session(*id, a.name));
  if (verb == "delete") return check(as.delete_session(*id));
  if (verb == "export") {
    if (int rc = check(as.export_session(*id, a.file)); rc != 0) return rc;
    std::printf("exported session %lld to %s\n", static_cast<long long>(*id), a.file.c_str());
    return 0;
  }
  return fail(internal_error("unknown session verb " + verb));
}

int cmd_session_import(const SessionArgs& a) {
  auto opened = open_assistant(a.lib);
  if (!opened.is_ok()) return fail(opened.status());
  auto s = (*opened)->import_session(a.file);
  if (!s.is_ok()) return fail(s.status());
  print_session(*s, false);
  return 0;
}

}  // namespace

CommandSet register_library_commands(CLI::App& app) {
  CommandSet set;

  auto ingest_args = std::make_shared<IngestArgs>();
  auto* ingest = app.add_subcommand("ingest", "Add files or folders to the library and read them");
  add_library_args(ingest, &ingest_args->lib);
  ingest->add_option("paths", ingest_args->paths, "Files or folders")->required();
  ingest->add_option("--json", ingest_args->json_path, "Write the report as JSON (- for stdout)");
  set.add(ingest, [ingest_args] { return cmd_ingest(*ingest_args); });

  auto lib_args = std::make_shared<LibraryArgs>();
  auto lib_json = std::make_shared<std::string>();
  auto lib_doc = std::make_shared<int64_t>(0);
  auto* library = app.add_subcommand("library", "List, remove or count the library's documents");
  library->require_subcommand(1);
  auto* list = library->add_subcommand("list", "Documents with their status");
  add_library_args(list, lib_args.get());
  list->add_option("--json", *lib_json, "Write JSON (- for stdout)");
  set.add(list, [lib_args, lib_json] { return cmd_library_list(*lib_args, *lib_json); });
  auto* remove = library->add_subcommand("remove", "Remove a document and its memory");
  add_library_args(remove, lib_args.get());
  remove->add_option("doc", *lib_doc, "Document id (see library list)")->required();
  set.add(remove, [lib_args, lib_doc] { return cmd_library_remove(*lib_args, *lib_doc); });
  auto* stats = library->add_subcommand("stats", "Totals of the library and the session");
  add_library_args(stats, lib_args.get());
  stats->add_option("--json", *lib_json, "Write JSON (- for stdout)");
  set.add(stats, [lib_args, lib_json] { return cmd_library_stats(*lib_args, *lib_json); });

  auto search_args = std::make_shared<LibraryArgs>();
  auto search_query = std::make_shared<std::string>();
  auto search_json = std::make_shared<std::string>();
  auto search_k = std::make_shared<int>(8);
  auto* search = app.add_subcommand(
      "search", "Find passages in the session's documents (retriever and BM25, fused)");
  add_library_args(search, search_args.get());
  search->add_option("query", *search_query, "What to look for")->required();
  search->add_option("-k", *search_k, "Passages to show")->capture_default_str();
  search->add_option("--json", *search_json, "Write JSON (- for stdout)");
  set.add(search, [search_args, search_query, search_k, search_json] {
    return cmd_search(*search_args, *search_query, *search_k, *search_json);
  });

  auto ses = std::make_shared<SessionArgs>();
  auto* session = app.add_subcommand("session", "Saved memory sessions");
  session->require_subcommand(1);
  struct Verb {
    const char* name;
    const char* help;
    bool target, name_arg, file;
  };
  const Verb verbs[] = {
      {"new", "Start a new session and make it current", false, true, false},
      {"list", "All sessions (* marks the current one)", false, false, false},
      {"load", "Make a session current", true, false, false},
      {"fork", "Copy a session under a new name and make it current", true, true, false},
      {"rename", "Rename a session", true, true, false},
      {"delete", "Delete a session", true, false, false},
      {"export", "Write a session to one portable file", true, false, true}};
  for (const Verb& v : verbs) {
    auto* cmd = session->add_subcommand(v.name, v.help);
    add_library_args(cmd, &ses->lib);
    if (v.target) cmd->add_option("session", ses->target, "Session id or name")->required();
    if (v.name_arg) cmd->add_option("name", ses->name, "Session name")->required();
    if (v.file) cmd->add_option("file", ses->file, "Archive file")->required();
    if (std::string(v.name) == "list") cmd->add_option("--json", ses->json_path, "Write JSON");
    const std::string verb = v.name;
    set.add(cmd, [ses, verb] { return run_session(*ses, verb); });
  }
  auto* import = session->add_subcommand("import", "Add a session exported on any machine");
  add_library_args(import, &ses->lib);
  import->add_option("file", ses->file, "Archive file")->required();
  set.add(import, [ses] { return cmd_session_import(*ses); });
  return set;
}

}  // namespace memlong::cli
