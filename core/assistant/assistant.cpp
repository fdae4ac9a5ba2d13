// Assistant: see assistant.h. This first version loads the engine and the retriever; the library,
// answer and session operations are filled in as the store (issue 4) and answers (issue 5) land.
#include "core/assistant/assistant.h"

#include <cstdlib>
#include <system_error>

#include "core/common/paths.h"
#include "core/engine/engine.h"
#include "core/memory/memlong_config.h"
#include "core/retriever/embedder.h"

namespace memlong {

std::filesystem::path default_library_dir() {
  if (const char* d = std::getenv("MEMLONG_LIBRARY_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0') {
    return std::filesystem::path(x) / "memlong" / "library";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".local/share/memlong/library";
}

struct Assistant::Impl {
  AssistantOptions options;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Embedder> embedder;
  double last_tokens_per_s = 0.0;
};

Assistant::Assistant(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Assistant::~Assistant() = default;

Result<std::unique_ptr<Assistant>> Assistant::open(const AssistantOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (impl->options.library_dir.empty()) impl->options.library_dir = default_library_dir();
  std::error_code ec;
  std::filesystem::create_directories(impl->options.library_dir, ec);
  if (ec) {
    return io_error("cannot create the library folder " + impl->options.library_dir.string() +
                    ": " + ec.message());
  }
  EngineOptions eo;
  eo.model_path = options.model_path;
  eo.n_threads = options.n_threads;
  MEMLONG_ASSIGN_OR_RETURN(impl->engine, Engine::load(eo));
  std::string retriever =
      options.retriever_path.empty() ? default_retriever_path() : options.retriever_path;
  MEMLONG_ASSIGN_OR_RETURN(impl->embedder, load_embedder(retriever, options.n_threads));
  return std::unique_ptr<Assistant>(new Assistant(std::move(impl)));
}

AssistantStatus Assistant::status() const {
  AssistantStatus s;
  auto it = impl_->engine->file().metadata.find("general.name");
  s.model_name = it != impl_->engine->file().metadata.end()
                     ? it->second
                     : std::filesystem::path(impl_->engine->file().path).filename().string();
  s.model_path =
      impl_->options.model_path.empty() ? default_model_path() : impl_->options.model_path;
  s.retriever_name = impl_->embedder->info().name;
  s.device = impl_->engine->backend().description();
  s.library_dir = impl_->options.library_dir.string();
  s.memory_capacity_tokens = impl_->options.session_capacity_tokens;
  s.last_tokens_per_s = impl_->last_tokens_per_s;
  return s;
}

namespace {
Status pending(const char* what) {
  return unsupported(std::string(what) + " is not available in this build yet");
}
}  // namespace

Result<std::vector<DocumentInfo>> Assistant::documents() {
  return pending("the library");
}
Result<IngestReport> Assistant::ingest(const std::vector<std::filesystem::path>&,
                                       const std::function<void(const IngestProgress&)>&,
                                       const CancelToken&, const PauseToken&) {
  return pending("ingestion");
}
Status Assistant::remove_document(int64_t) {
  return pending("the library");
}
Result<DocumentText> Assistant::document_text(int64_t) {
  return pending("the library");
}
Result<std::vector<LibraryHit>> Assistant::search(const std::string&, int32_t) {
  return pending("search");
}
Result<Answer> Assistant::ask(const std::string&, const AskOptions&,
                              const std::function<bool(std::string_view)>&, const CancelToken&) {
  return pending("asking");
}
Result<Summary> Assistant::summarize(int64_t, int32_t, int32_t,
                                     const std::function<void(const SummaryProgress&)>&,
                                     const CancelToken&) {
  return pending("summaries");
}
Result<SessionInfo> Assistant::current_session() {
  return pending("sessions");
}
Result<std::vector<SessionInfo>> Assistant::sessions() {
  return pending("sessions");
}
Result<SessionInfo> Assistant::new_session(const std::string&) {
  return pending("sessions");
}
Result<SessionInfo> Assistant::load_session(int64_t) {
  return pending("sessions");
}
Result<SessionInfo> Assistant::fork_session(int64_t, const std::string&) {
  return pending("sessions");
}
Status Assistant::rename_session(int64_t, const std::string&) {
  return pending("sessions");
}
Status Assistant::delete_session(int64_t) {
  return pending("sessions");
}
Status Assistant::export_session(int64_t, const std::filesystem::path&) {
  return pending("sessions");
}
Result<SessionInfo> Assistant::import_session(const std::filesystem::path&) {
  return pending("sessions");
}
Result<std::vector<ConversationMessage>> Assistant::conversation() {
  return pending("sessions");
}
Result<std::vector<MemoryMapEntry>> Assistant::memory_map(int64_t) {
  return pending("memory");
}

std::string summary_to_markdown(const Summary& summary) {
  std::string md = "# " + summary.doc_title + "\n\n" + summary.book_summary + "\n";
  for (const ChapterSummary& c : summary.chapters) {
    md += "\n## " + (c.title.empty() ? "Chapter " + std::to_string(c.chapter_index + 1) : c.title) +
          "\n\n" + c.text + "\n";
  }
  return md;
}

}  // namespace memlong
