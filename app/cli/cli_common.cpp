#include "app/cli/cli_common.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "core/store/library_store.h"

namespace memlong::cli {
namespace {
std::atomic<CancelSource*> g_active_cancel{nullptr};
}  // namespace

int fail(const Status& s) {
  std::fprintf(stderr, "memlong: %s\n", s.to_string().c_str());
  return 1;
}

Status write_json(const std::string& path, const nlohmann::json& value) {
  if (path == "-") {
    std::cout << value.dump(2) << "\n";
    return std::cout ? Status::ok() : io_error("cannot write to standard output");
  }
  std::ofstream f(path);
  f << value.dump(2) << "\n";
  if (!f) return io_error("cannot write " + path);
  return Status::ok();
}

CancelSource* active_cancel() {
  return g_active_cancel.load();
}
void set_active_cancel(CancelSource* source) {
  g_active_cancel.store(source);
}

void add_library_args(CLI::App* cmd, LibraryArgs* a) {
  cmd->add_option("--library", a->library,
                  "Library folder (default: " + default_library_dir().string() + ")");
  cmd->add_option("-m,--model", a->model, "Model: a .gguf file or a Hugging Face folder");
  cmd->add_option("--retriever", a->retriever, "Retriever file or folder");
  cmd->add_option("-t,--threads", a->threads, "CPU threads (default: all cores)");
  cmd->add_option("--device", a->device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--memlong", a->memlong, "MemLong setting key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--memory-tokens", a->memory_tokens,
                  "Session memory capacity in tokens (default: 1048576)");
}

Result<std::unique_ptr<Assistant>> open_assistant(const LibraryArgs& a) {
  AssistantOptions o;
  o.model_path = a.model;
  o.retriever_path = a.retriever;
  o.library_dir = a.library;
  o.n_threads = a.threads;
  o.device = a.device;
  if (a.memory_tokens > 0) o.session_capacity_tokens = a.memory_tokens;
  for (const std::string& kv : a.memlong) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return invalid_argument("--memlong expects key=value, got " + kv);
    o.memlong_overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return Assistant::open(o);
}

nlohmann::json to_json(const Passage& p) {
  return {{"entry_id", p.entry_id},
          {"doc_id", p.doc_id},
          {"doc_title", p.doc_title},
          {"section", p.section_title},
          {"section_ordinal", p.section_ordinal},
          {"page", p.page},
          {"token_begin", p.token_begin},
          {"token_end", p.token_end},
          {"text", p.text}};
}

nlohmann::json to_json(const Citation& c) {
  return {{"passage", to_json(c.passage)},
          {"retrieval_score", c.retrieval_score},
          {"attention_mass", c.attention_mass},
          {"quote", c.quote}};
}

nlohmann::json to_json(const DocumentInfo& d) {
  return {{"id", d.id},
          {"path", d.path},
          {"title", d.title},
          {"author", d.author},
          {"language", d.language},
          {"format", d.format},
          {"status", std::string(document_status_name(d.status))},
          {"error", d.error},
          {"size_bytes", d.size_bytes},
          {"tokens", d.n_tokens},
          {"chunks", d.n_chunks},
          {"has_memory", d.has_memory},
          {"added_at", d.added_at}};
}

nlohmann::json to_json(const SessionInfo& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at},
          {"documents", s.n_documents},
          {"messages", s.n_messages},
          {"memory_tokens", s.memory_tokens}};
}

}  // namespace memlong::cli
