#include "core/ingest/ingest_pipeline.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <system_error>

#include "core/ingest/chunker.h"
#include "core/store/profile_identity.h"
#include "core/store/sha256.h"

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;

// A model file's identity: its name, size and the sha256 of its first 4 MiB (header, metadata and
// the first tensors). Portable across machines (session archives compare it), cheap for large
// files, and different for any two real models.
std::string file_identity(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p(path);
  std::filesystem::path target = p;
  if (std::filesystem::is_directory(p, ec)) target = p / "config.json";
  const auto size = std::filesystem::file_size(target, ec);
  std::ifstream in(target, std::ios::binary);
  std::vector<uint8_t> head(4u << 20);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return p.filename().string() + ":" + std::to_string(ec ? 0 : size) + ":" +
         sha256_hex(head).substr(0, 16);
}

bool known_extension(const std::filesystem::path& p) {
  static const std::set<std::string> kExt = {".txt", ".text",  ".md",   ".markdown", ".html",
                                             ".htm", ".xhtml", ".epub", ".pdf",      ".docx"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return kExt.count(ext) > 0;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

ProfileIdentity profile_identity_for(const Engine& engine, const Embedder& embedder,
                                     const MemLongConfig& config) {
  return make_profile_identity(file_identity(engine.file().path),
                               embedder.info().name + "@" + file_identity(embedder.info().path),
                               engine.model().config(), config, embedder.info().dim);
}

Result<std::vector<std::filesystem::path>> expand_ingest_paths(
    const std::vector<std::filesystem::path>& paths) {
  std::vector<std::filesystem::path> files;
  for (const std::filesystem::path& p : paths) {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(p, ec);
    if (ec || !std::filesystem::exists(abs, ec))
      return not_found("no such file or folder: " + p.string());
    if (std::filesystem::is_directory(abs, ec)) {
      std::vector<std::filesystem::path> found;
      for (auto it = std::filesystem::recursive_directory_iterator(
               abs, std::filesystem::directory_options::skip_permission_denied, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && known_extension(it->path())) found.push_back(it->path());
      }
      if (ec) return io_error("cannot list " + abs.string() + ": " + ec.message());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(abs.lexically_normal());
    }
  }
  return files;
}

Result<std::unique_ptr<IngestPipeline>> IngestPipeline::create(const Engine& engine,
                                                               Embedder& embedder,
                                                               LibraryStore& store,
                                                               const MemLongConfig& config,
                                                               const IngestOptions& options) {
  std::unique_ptr<IngestPipeline> p(new IngestPipeline(engine, store, config, options));
  if (p->options_.batch_chunks < 1) p->options_.batch_chunks = 1;
  MEMLONG_ASSIGN_OR_RETURN(p->encoder_, EntryEncoder::create(engine, embedder, config));
  MEMLONG_ASSIGN_OR_RETURN(p->profile_id_,
                           store.ensure_profile(profile_identity_for(engine, embedder, config)));
  return p;
}

Result<IngestReport> IngestPipeline::run(
    const std::vector<std::filesystem::path>& files,
    const std::function<void(const IngestProgress&)>& on_progress, const CancelToken& cancel,
    const PauseToken& pause) {
  const auto t0 = Clock::now();
  IngestReport report;
  IngestProgress progress;
  progress.n_files = static_cast<int32_t>(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    progress.file_index = static_cast<int32_t>(i);
    progress.path = files[i].string();
    progress.chunks_done = progress.chunks_total = 0;
    progress.message.clear();
    IngestFileResult r;
    r.path = files[i].string();
    if (cancel.is_cancelled()) {
      r.outcome = IngestStage::kCancelled;
      report.files.push_back(r);
      continue;
    }
    MEMLONG_RETURN_IF_ERROR(
        ingest_one(files[i], &progress, on_progress, cancel, pause, &r).with_context(r.path));
    progress.stage = r.outcome;
    progress.message = r.error;
    if (on_progress) on_progress(progress);
    report.files.push_back(std::move(r));
  }
  report.tokens_read = progress.tokens_done;
  report.seconds = seconds_since(t0);
  return report;
}

Status IngestPipeline::ingest_one(const std::filesystem::path& file, IngestProgress* progress,
                                  const std::function<void(const IngestProgress&)>& on_progress,
                                  const CancelToken& cancel, const PauseToken& pause,
                                  IngestFileResult* result) {
  auto fail = [&](int64_t doc_id, const Status& why) -> Status {
    result->outcome = IngestStage::kFailed;
    result->error = why.message();
    if (doc_id != 0) {
      return store_.set_document_status(doc_id, profile_id_, DocumentStatus::kFailed,
                                        why.message());
    }
    return Status::ok();
  };
  progress->stage = IngestStage::kParsing;
  if (on_progress) on_progress(*progress);

  // 1. Identity: path, size, time, content hash. Unchanged + complete: skip (invariant 2).
  DocumentMeta meta;
  meta.path = file.string();
  struct stat st {};
  if (::stat(meta.path.c_str(), &st) != 0) {
    return fail(0, io_error("cannot read " + meta.path));
  }
  meta.size_bytes = st.st_size;
  meta.mtime = st.st_mtime;
  Result<std::string> hash = sha256_file(meta.path);
  if (!hash.is_ok()) return fail(0, hash.status());
  meta.content_hash = *hash;
  MEMLONG_ASSIGN_OR_RETURN(std::optional<DocumentRecord> existing,
                           store_.find_document_by_path(meta.path));
  if (existing && existing->meta.content_hash == meta.content_hash &&
      existing->status == DocumentStatus::kReady) {
    MEMLONG_ASSIGN_OR_RETURN(bool rebuild, store_.needs_rebuild(existing->id, profile_id_));
    if (!rebuild) {
      result->doc_id = existing->id;
      result->outcome = IngestStage::kSkipped;
      result->n_tokens = existing->n_tokens;
      return Status::ok();
    }
  }

  // 2. Parse (in a child process unless told otherwise).
  Result<ParsedDocument> parsed = options_.isolate_parser
                                      ? parse_document_isolated(file, options_.limits, cancel)
                                      : parse_document(file, options_.limits);
  if (!parsed.is_ok() && parsed.status().code() == StatusCode::kCancelled) {
    result->outcome = IngestStage::kCancelled;
    return Status::ok();
  }
  if (parsed.is_ok()) {
    meta.title = parsed->title;
    meta.author = parsed->author;
    meta.language = parsed->language;
    meta.format = document_format_name(parsed->format);
  } else {
    meta.title = file.filename().string();
  }
  MEMLONG_ASSIGN_OR_RETURN(UpsertResult up, store_.upsert_document(meta));
  result->doc_id = up.doc_id;
  if (!parsed.is_ok()) return fail(up.doc_id, parsed.status());

  // 3. Sections and chunks; resume after the chunks already committed (invariant 1).
  std::vector<SectionRecord> sections;
  for (size_t s = 0; s < parsed->sections.size(); ++s) {
    const DocumentSection& d = parsed->sections[s];
    sections.push_back({static_cast<int32_t>(s), d.title, d.level, d.page});
  }
  MEMLONG_ASSIGN_OR_RETURN(int32_t committed, store_.committed_chunk_count(up.doc_id, profile_id_));
  if (committed == 0) MEMLONG_RETURN_IF_ERROR(store_.replace_sections(up.doc_id, sections));
  const std::vector<Chunk> chunks =
      chunk_document(*parsed, engine_.tokenizer(), {.entry_tokens = config_.entry_tokens});
  if (chunks.empty()) return fail(up.doc_id, invalid_argument("the document has no text"));
  if (committed > static_cast<int32_t>(chunks.size())) {
    // The store holds more than this text has: an inconsistency; rebuild from scratch.
    MEMLONG_RETURN_IF_ERROR(store_.mark_stale(up.doc_id, profile_id_));
    committed = 0;
  }
  const int64_t doc_tokens = chunks.back().token_end;
  progress->tokens_total += doc_tokens;
  progress->tokens_done += chunks[static_cast<size_t>(committed)].token_begin;
  progress->chunks_total = static_cast<int64_t>(chunks.size());
  progress->chunks_done = committed;
  progress->stage = IngestStage::kReading;
  if (on_progress) on_progress(*progress);

  // 4. Encode and commit in batches.
  for (size_t b = static_cast<size_t>(committed); b < chunks.size();) {
    pause.wait_while_paused(cancel);
    if (cancel.is_cancelled()) {
      result->outcome = IngestStage::kCancelled;
      return Status::ok();
    }
    const size_t e = std::min(chunks.size(), b + static_cast<size_t>(options_.batch_chunks));
    const std::span<const Chunk> batch(chunks.data() + b, e - b);
    const auto t_batch = Clock::now();
    Result<std::vector<EncodedEntry>> encoded = encoder_->encode(batch, cancel);
    if (!encoded.is_ok()) {
      if (encoded.status().code() == StatusCode::kCancelled) {
        result->outcome = IngestStage::kCancelled;
        return Status::ok();
      }
      return fail(up.doc_id, encoded.status());
    }
    std::vector<ChunkInput> inputs(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const Chunk& c = batch[i];
      ChunkInput& in = inputs[i];
      in.ordinal = c.ordinal;
      in.text = c.text;
      in.token_begin = c.token_begin;
      in.token_end = c.token_end;
      in.tokens = c.tokens;
      in.section_ordinal = c.section_ordinal;
      in.page = c.page;
      in.embedding = (*encoded)[i].embedding;
      in.k_f32 = (*encoded)[i].k;
      in.v_f32 = (*encoded)[i].v;
    }
    progress->stage = IngestStage::kCommitting;
    MEMLONG_RETURN_IF_ERROR(store_.add_chunks(up.doc_id, profile_id_, inputs).status());
    const int64_t batch_tokens = batch.back().token_end - batch.front().token_begin;
    run_tokens_ += batch_tokens;
    run_seconds_ += seconds_since(t_batch);
    progress->tokens_done += batch_tokens;
    progress->chunks_done = static_cast<int64_t>(e);
    progress->tokens_per_s = run_seconds_ > 0 ? static_cast<double>(run_tokens_) / run_seconds_ : 0;
    progress->eta_s = progress->tokens_per_s > 0
                          ? static_cast<double>(progress->tokens_total - progress->tokens_done) /
                                progress->tokens_per_s
                          : -1.0;
    progress->stage = IngestStage::kReading;
    if (on_progress) on_progress(*progress);
    b = e;
  }
  MEMLONG_RETURN_IF_ERROR(
      store_.set_document_status(up.doc_id, profile_id_, DocumentStatus::kReady));
  result->outcome = IngestStage::kDone;
  result->n_tokens = doc_tokens;
  return Status::ok();
}

}  // namespace memlong
