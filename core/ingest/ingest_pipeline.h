// IngestPipeline: files and folders into the library (issue 4, "Ingestion"): parse (in a child
// process) -> normalise -> chunk by tokens with provenance -> memory entries (memory-layer K/V and
// retriever keys, EntryEncoder) -> commit in batches of chunks. Incremental by content hash;
// resumable at chunk granularity (after a crash or a cancel, the next run continues at the first
// chunk the store does not have); pause and cancel between batches; progress with speed and ETA.
//
// Invariants:
//  1. A document reads as ready only after its last batch committed (the store's status is
//     written last); an interrupted document stays "ingesting" and is resumed, not restarted.
//  2. An unchanged file (same path, same sha256) with complete memory for the profile is skipped.
//  3. A per-file error (unreadable, hostile, unsupported) is recorded on that document as failed
//     and reported; the other files go on.
// Ownership: borrows the engine, embedder and store, which must outlive it.
// Thread-safety: one thread (drives the engine's backend); cancel/pause tokens from any thread.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "core/assistant/assistant_types.h"
#include "core/common/cancel.h"
#include "core/common/pause.h"
#include "core/engine/engine.h"
#include "core/ingest/entry_encoder.h"
#include "core/ingest/parse.h"
#include "core/memory/memlong_config.h"
#include "core/retriever/embedder.h"
#include "core/store/library_store.h"

namespace memlong {

struct IngestOptions {
  int32_t batch_chunks = 16;   // chunks per store transaction
  bool isolate_parser = true;  // parse in a child process (a parser crash cannot take us down)
  ParseLimits limits;
};

// The profile identity of the memory this engine, retriever and configuration produce.
ProfileIdentity profile_identity_for(const Engine& engine, const Embedder& embedder,
                                     const MemLongConfig& config);

// Files under `paths`: each file as given, and inside each folder (recursively, sorted) the files
// whose extension is a known format. Errors: NotFound for a path that does not exist.
Result<std::vector<std::filesystem::path>> expand_ingest_paths(
    const std::vector<std::filesystem::path>& paths);

class IngestPipeline {
 public:
  // Errors: the EntryEncoder's (config vs model), the store's (profile).
  static Result<std::unique_ptr<IngestPipeline>> create(const Engine& engine, Embedder& embedder,
                                                        LibraryStore& store,
                                                        const MemLongConfig& config,
                                                        const IngestOptions& options = {});

  int64_t profile_id() const { return profile_id_; }
  const EntryEncoder::Timing& encoder_timing() const { return encoder_->timing(); }

  // Ingests `files` (see expand_ingest_paths) in order. Per-file outcomes are in the report;
  // the call fails only for store errors that leave it unable to go on. Cancel stops after the
  // current batch (the file is reported kCancelled, resumable later).
  Result<IngestReport> run(const std::vector<std::filesystem::path>& files,
                           const std::function<void(const IngestProgress&)>& on_progress,
                           const CancelToken& cancel = {}, const PauseToken& pause = {});

 private:
  IngestPipeline(const Engine& engine, LibraryStore& store, MemLongConfig config,
                 IngestOptions options)
      : engine_(engine), store_(store), config_(std::move(config)), options_(options) {}
  // One file; fills *result. Returns non-OK only for errors that should stop the whole run.
  Status ingest_one(const std::filesystem::path& file, IngestProgress* progress,
                    const std::function<void(const IngestProgress&)>& on_progress,
                    const CancelToken& cancel, const PauseToken& pause, IngestFileResult* result);

  const Engine& engine_;
  LibraryStore& store_;
  MemLongConfig config_;
  IngestOptions options_;
  std::unique_ptr<EntryEncoder> encoder_;
  int64_t profile_id_ = 0;
  // Speed over the run: tokens encoded and seconds spent encoding them.
  int64_t run_tokens_ = 0;
  double run_seconds_ = 0.0;
};

}  // namespace memlong
