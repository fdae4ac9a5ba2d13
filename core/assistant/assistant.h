// Assistant: the one core object the app and the CLI talk to. It owns the engine (model, backend,
// tokenizer), the retriever, the library store of one library folder, and the current session
// (its documents, its MemLong memory state and its conversation), and offers the user-level
// operations: ingest, search, ask, summarize, sessions.
//
// Ownership: owns everything it loads; values it returns are copies.
// Thread-safety: NOT thread-safe. One thread (the GUI's engine worker, or the CLI's main thread)
// calls every member. Long operations take a CancelToken (and ingestion a PauseToken) that other
// threads may trigger, and report progress through callbacks run on the calling thread.
// Settings changes that need another model, retriever or memory shape are made by opening a new
// Assistant (the store keeps everything; nothing is lost).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/assistant/assistant_types.h"
#include "core/common/cancel.h"
#include "core/common/pause.h"
#include "core/common/status.h"

namespace memlong {

struct AssistantOptions {
  std::string model_path;             // empty: the default model (core/common/paths.h)
  std::string retriever_path;         // empty: the default retriever
  std::filesystem::path library_dir;  // empty: default_library_dir()
  int n_threads = 0;                  // <= 0: one per core
  // "cpu", "cuda", "cuda:N", "auto" (CUDA when usable, else the CPU with a note in status()).
  // The default stays "cpu" until the CUDA backend has passed its parity checks on a GPU.
  std::string device = "cpu";
  // MemLong overrides ("memlong.<key>" names without the prefix, as `--memlong key=value`).
  std::vector<std::pair<std::string, std::string>> memlong_overrides;
  // Capacity of a session's memory in tokens (the spec's C; a library assistant keeps whole books,
  // so the default is larger than MEMLONG.md's 32768). Eviction follows memlong.eviction.
  int64_t session_capacity_tokens = 1 << 20;
};

// ~/.local/share/memlong/library (or $MEMLONG_LIBRARY_DIR).
std::filesystem::path default_library_dir();

class Assistant {
 public:
  // Loads the model and the retriever, opens (or creates) the library and its last session (or a
  // new "Default" session). Errors: NotFound with the setup hint when a model is missing, the
  // loaders' and the store's errors.
  static Result<std::unique_ptr<Assistant>> open(const AssistantOptions& options);
  ~Assistant();

  AssistantStatus status() const;

  // ---- Library ----
  Result<std::vector<DocumentInfo>> documents();
  // Ingests files and folders (recursively; known formats only). Unchanged files are skipped,
  // changed ones re-read; each ingested document joins the current session. Per-file errors are
  // reported in the result, not as the call's error. Errors: Cancelled is reported per file.
  Result<IngestReport> ingest(const std::vector<std::filesystem::path>& paths,
                              const std::function<void(const IngestProgress&)>& on_progress,
                              const CancelToken& cancel = {}, const PauseToken& pause = {});
  Status remove_document(int64_t doc_id);
  Result<DocumentText> document_text(int64_t doc_id);
  // Retriever + BM25 fused search over the current session's documents.
  Result<std::vector<LibraryHit>> search(const std::string& query, int32_t k);

  // ---- Answers ----
  // Answers `question` over the session's documents, streaming the answer's text pieces through
  // on_piece (return false to stop). The turn is saved in the session's conversation.
  Result<Answer> ask(const std::string& question, const AskOptions& options,
                     const std::function<bool(std::string_view)>& on_piece,
                     const CancelToken& cancel = {});
  // Summarizes chapters [first_chapter, last_chapter] (0-based, inclusive; -1: to the end) and
  // then the whole range; saved in the session.
  Result<Summary> summarize(int64_t doc_id, int32_t first_chapter, int32_t last_chapter,
                            const std::function<void(const SummaryProgress&)>& on_progress,
                            const CancelToken& cancel = {});

  // ---- Sessions ----
  Result<SessionInfo> current_session();
  Result<std::vector<SessionInfo>> sessions();
  Result<SessionInfo> new_session(const std::string& name);
  Result<SessionInfo> load_session(int64_t session_id);
  Result<SessionInfo> fork_session(int64_t session_id, const std::string& new_name);
  Status rename_session(int64_t session_id, const std::string& name);
  Status delete_session(int64_t session_id);  // not the current one
  Status export_session(int64_t session_id, const std::filesystem::path& file);
  Result<SessionInfo> import_session(const std::filesystem::path& file);
  Result<std::vector<ConversationMessage>> conversation();
  // The session's memory along one document (memory view).
  Result<std::vector<MemoryMapEntry>> memory_map(int64_t doc_id);

 private:
  struct Impl;
  explicit Assistant(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace memlong
