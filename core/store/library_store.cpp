// LibraryStore (see library_store.h; invariants 1-5 are stated there).
//
// How each invariant is kept:
//  1. memory_entries.chunk_id is the primary key and references chunks(id) ON DELETE CASCADE;
//     write_chunks_in_tx inserts chunk and entry in the same transaction.
//  2. write_chunks_in_tx appends the records, fdatasyncs kv.dat, then updates kv_state in the
//     transaction that inserts the entries; open() truncates kv.dat to that mark, and drops
//     (marks for rebuild) memory whose record lies past the end of a short file.
//  3. add_chunks/mark_stale/upsert(changed) set doc_memory.is_complete = 0; only
//     set_document_status(kReady) sets it to 1.
//  4. add_chunks checks the batch's ordinals against count(*) inside its transaction.
//  5. profile_id is a column of chunks and memory_entries and a filter of every query;
//     load_kv refuses entries of two profiles in one call.
// Allowed state changes of (doc, profile) memory: none -> incomplete (add_chunks) -> complete
// (set_document_status ready) -> incomplete (mark_stale, corruption found, content changed) ...
#include "core/store/library_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "core/common/half.h"
#include "core/store/fts_query.h"
#include "core/store/schema.h"
#include "core/store/session_store.h"
#include "core/store/sha256.h"
#include "core/store/store_context.h"

namespace memlong {

namespace fs = std::filesystem;

namespace {

std::string escape_identity_field(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ';' || c == '=' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

const char* status_text(DocumentStatus s) {
  switch (s) {
    case DocumentStatus::kPending:
      return "pending";
    case DocumentStatus::kIngesting:
      return "ingesting";
    case DocumentStatus::kReady:
      return "ready";
    case DocumentStatus::kFailed:
      return "failed";
  }
  return "pending";
}

DocumentStatus parse_status(const std::string& s) {
  if (s == "ingesting") return DocumentStatus::kIngesting;
  if (s == "ready") return DocumentStatus::kReady;
  if (s == "failed") return DocumentStatus::kFailed;
  return DocumentStatus::kPending;
}

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// JSON array text of ids, for "IN (SELECT value FROM json_each(?))".
std::string json_ids(std::span<const int64_t> ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += ",";
    s += std::to_string(ids[i]);
  }
  return s + "]";
}

void encode_16(std::span<const float> src, bool is_bf16, uint8_t* dst) {
  for (size_t i = 0; i < src.size(); ++i) {
    const uint16_t h = is_bf16 ? f32_to_bf16(src[i]) : f32_to_f16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

void decode_16(const uint8_t* src, size_t n, bool is_bf16, float* dst) {
  if (is_bf16) {
    for (size_t i = 0; i < n; ++i) {  // bf16 -> f32 is a shift; this loop vectorises
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      const uint32_t bits = static_cast<uint32_t>(h) << 16;
      std::memcpy(dst + i, &bits, 4);
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = f16_to_f32(h);
    }
  }
}

DocumentRecord read_document_row(const Stmt& st) {
  DocumentRecord d;
  d.id = st.col_int(0);
  d.meta.path = st.col_text(1);
  d.meta.content_hash = st.col_text(2);
  d.meta.size_bytes = st.col_int(3);
  d.meta.mtime = st.col_int(4);
  d.meta.title = st.col_text(5);
  d.meta.author = st.col_text(6);
  d.meta.language = st.col_text(7);
  d.meta.format = st.col_text(8);
  d.status = parse_status(st.col_text(9));
  d.error = st.col_text(10);
  d.n_tokens = st.col_int(11);
  d.added_at = st.col_int(12);
  d.updated_at = st.col_int(13);
  return d;
}

constexpr const char* kDocumentColumns =
    "id, path, content_hash, size_bytes, mtime, title, author, language, format, status, error, "
    "n_tokens, added_at, updated_at";

// Marks (doc, profile) memory lost: deletes its chunks, sets it incomplete and the document
// pending with a note. Writer mutex held, inside a transaction.
Status drop_memory_in_tx(StoreContext& ctx, int64_t doc_id, int64_t profile_id,
                         const std::string& why, IndexDelta* delta) {
  MEMLONG_ASSIGN_OR_RETURN(
      auto ids, entry_ids_where(ctx, "c.doc_id = ?1 AND c.profile_id = ?2", doc_id, profile_id));
  delta->removes.insert(delta->removes.end(), ids.begin(), ids.end());
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt del, ctx.writer.prepare("DELETE FROM chunks WHERE doc_id = ? AND profile_id = ?"));
  MEMLONG_RETURN_IF_ERROR(del.bind(1, doc_id).bind(2, profile_id).run());
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt mem, ctx.writer.prepare(
                    "INSERT INTO doc_memory(doc_id, profile_id, is_complete, n_tokens, updated_at) "
                    "VALUES (?1, ?2, 0, 0, ?3) ON CONFLICT(doc_id, profile_id) DO UPDATE SET "
                    "is_complete = 0, n_tokens = 0, updated_at = ?3"));
  MEMLONG_RETURN_IF_ERROR(mem.bind(1, doc_id).bind(2, profile_id).bind(3, unix_now()).run());
  if (!why.empty()) {
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt doc, ctx.writer.prepare("UPDATE documents SET status = 'pending', error = ?2, "
                                     "updated_at = ?3 WHERE id = ?1"));
    MEMLONG_RETURN_IF_ERROR(doc.bind(1, doc_id).bind(2, why).bind(3, unix_now()).run());
  }
  return Status::ok();
}

// Drops the memory of every (doc, profile) that has an entry matching `where` (on memory_entries
// alias m). Writer mutex held; runs its own transaction. Adds to report.
Status drop_memory_where(StoreContext& ctx, const std::string& where, int64_t arg,
                         const std::string& why, StoreOpenReport* report) {
  IndexDelta delta;
  {
    Transaction tx(&ctx.writer);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    std::vector<std::pair<int64_t, int64_t>> pairs;
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx.writer.prepare("SELECT chunk_id, doc_id, profile_id "
                                                           "FROM memory_entries m WHERE " +
                                                           where + " ORDER BY chunk_id"));
      st.bind(1, arg);
      for (;;) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        report->corrupt_entry_ids.push_back(st.col_int(0));
        std::pair<int64_t, int64_t> p{st.col_int(1), st.col_int(2)};
        if (std::find(pairs.begin(), pairs.end(), p) == pairs.end()) pairs.push_back(p);
      }
    }
    for (const auto& [doc, profile] : pairs) {
      MEMLONG_RETURN_IF_ERROR(drop_memory_in_tx(ctx, doc, profile, why, &delta));
      if (std::find(report->stale_doc_ids.begin(), report->stale_doc_ids.end(), doc) ==
          report->stale_doc_ids.end())
        report->stale_doc_ids.push_back(doc);
    }
    MEMLONG_RETURN_IF_ERROR(tx.commit());
  }
  apply_index_delta(ctx, delta);
  return Status::ok();
}

Status set_kv_state(StoreContext& ctx, int64_t committed, const std::string& file_id) {
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx.writer.prepare("INSERT INTO kv_state(id, committed_bytes, file_id) VALUES "
                                  "(1, ?1, ?2) ON CONFLICT(id) DO UPDATE SET committed_bytes = "
                                  "?1, file_id = ?2"));
  return st.bind(1, committed).bind(2, file_id).run();
}

// open() step: brings kv.dat in line with kv_state (see invariant 2 and kv_file.h).
Status open_kv_file(StoreContext& ctx) {
  const std::string path = ctx.dir + "/kv.dat";
  const std::string compact_path = ctx.dir + "/kv.dat.compact";
  StoreOpenReport& report = ctx.report;
  int64_t committed = 0;
  std::string file_id;
  {
    MEMLONG_ASSIGN_OR_RETURN(Stmt st,
                             ctx.writer.prepare("SELECT committed_bytes, file_id FROM kv_state"));
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) {
      committed = st.col_int(0);
      file_id = st.col_text(1);
    }
  }
  if (file_id.empty()) {  // a new library
    file_id = new_kv_file_id();
    MEMLONG_RETURN_IF_ERROR(KvFile::create(path, file_id));
    MEMLONG_RETURN_IF_ERROR(set_kv_state(ctx, KvFile::kHeaderBytes, file_id));
    int64_t truncated = 0;
    MEMLONG_ASSIGN_OR_RETURN(ctx.kv, KvFile::open(path, file_id, KvFile::kHeaderBytes, &truncated));
    return Status::ok();
  }
  // A compaction that committed but did not rename: finish it. One that did not commit: drop it.
  if (fs::exists(compact_path)) {
    auto id = KvFile::read_file_id(compact_path);
    if (id.is_ok() && *id == file_id) {
      std::error_code ec;
      fs::rename(compact_path, path, ec);
      if (ec) return io_error(compact_path + ": cannot finish compaction: " + ec.message());
      report.notes.push_back("finished an interrupted compaction of kv.dat");
    } else {
      std::error_code ec;
      fs::remove(compact_path, ec);
      report.notes.push_back("removed an unfinished compaction of kv.dat");
    }
  }
  int64_t truncated = 0;
  auto kv = KvFile::open(path, file_id, committed, &truncated);
  if (!kv.is_ok()) {
    // Missing or foreign/damaged kv.dat: every K/V record is lost. Keep the bad file aside.
    const Status why = kv.status();
    if (fs::exists(path)) {
      std::error_code ec;
      fs::rename(path, path + ".bad", ec);
    }
    report.notes.push_back("kv.dat unusable (" + why.to_string() + "); all memory will be rebuilt");
    MEMLONG_RETURN_IF_ERROR(
        drop_memory_where(ctx, "1 = ?1", 1, "memory lost: kv.dat was missing or damaged", &report));
    file_id = new_kv_file_id();
    MEMLONG_RETURN_IF_ERROR(KvFile::create(path, file_id));
    MEMLONG_RETURN_IF_ERROR(set_kv_state(ctx, KvFile::kHeaderBytes, file_id));
    MEMLONG_ASSIGN_OR_RETURN(ctx.kv, KvFile::open(path, file_id, KvFile::kHeaderBytes, &truncated));
    return Status::ok();
  }
  ctx.kv = std::move(kv).value();
  if (truncated > 0) {
    report.kv_bytes_truncated = truncated;
    report.notes.push_back("removed " + std::to_string(truncated) +
                           " bytes of uncommitted K/V records from kv.dat");
  }
  if (ctx.kv->end() < committed) {  // the file lost its tail: records past it are gone
    const int64_t size = ctx.kv->end();
    report.notes.push_back("kv.dat is " + std::to_string(size) + " bytes, the library expected " +
                           std::to_string(committed) + "; memory past the end will be rebuilt");
    MEMLONG_RETURN_IF_ERROR(drop_memory_where(
        ctx, "m.kv_offset + " + std::to_string(KvFile::kRecordHeaderBytes) + " + m.kv_bytes > ?1",
        size, "memory lost: kv.dat was cut short", &report));
    MEMLONG_RETURN_IF_ERROR(set_kv_state(ctx, size, file_id));
    ctx.kv.reset();
    MEMLONG_ASSIGN_OR_RETURN(ctx.kv, KvFile::open(path, file_id, size, &truncated));
  }
  return Status::ok();
}

}  // namespace

// ---- shared helpers (store_context.h) ----

LibraryLock::~LibraryLock() {
  if (fd >= 0) ::close(fd);  // releases the flock
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t kv_payload_bytes(const ProfileIdentity& p, int64_t n_tokens) {
  return 2 * n_tokens * p.n_head_kv * p.head_dim * 2;
}

Result<ProfileRecord> load_profile(StoreContext& ctx, int64_t profile_id) {
  {
    std::lock_guard lock(ctx.profiles_mutex);
    auto it = ctx.profiles.find(profile_id);
    if (it != ctx.profiles.end()) return it->second;
  }
  ProfileRecord r;
  {
    std::lock_guard lock(ctx.reader_mutex);
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt st,
        ctx.reader.prepare("SELECT model_id, retriever_id, memory_layer, entry_tokens, "
                           "dtype, n_head_kv, head_dim, emb_dim FROM profiles WHERE id = ?"));
    st.bind(1, profile_id);
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return not_found("profile " + std::to_string(profile_id) + " does not exist");
    r.id = profile_id;
    r.identity.model_id = st.col_text(0);
    r.identity.retriever_id = st.col_text(1);
    r.identity.memory_layer = static_cast<int32_t>(st.col_int(2));
    r.identity.entry_tokens = static_cast<int32_t>(st.col_int(3));
    r.identity.dtype = st.col_text(4);
    r.identity.n_head_kv = static_cast<int32_t>(st.col_int(5));
    r.identity.head_dim = static_cast<int32_t>(st.col_int(6));
    r.identity.emb_dim = static_cast<int32_t>(st.col_int(7));
  }
  std::lock_guard lock(ctx.profiles_mutex);
  ctx.profiles[profile_id] = r;
  return r;
}

Status validate_chunks(const ProfileIdentity& p, std::span<const ChunkInput> batch,
                       int32_t first_ordinal) {
  const size_t per_side = static_cast<size_t>(p.n_head_kv) * static_cast<size_t>(p.head_dim);
  for (size_t i = 0; i < batch.size(); ++i) {
    const ChunkInput& c = batch[i];
    const std::string where =
        "chunk " + std::to_string(i) + " of the batch (ordinal " + std::to_string(c.ordinal) + ")";
    if (c.ordinal != first_ordinal + static_cast<int32_t>(i))
      return invalid_argument(where + ": expected ordinal " +
                              std::to_string(first_ordinal + static_cast<int32_t>(i)) +
                              " (chunks are appended in order without gaps)");
    const int64_t n = c.token_end - c.token_begin;
    if (c.token_begin < 0 || n < 1 || n > p.entry_tokens)
      return invalid_argument(where + ": token span [" + std::to_string(c.token_begin) + ", " +
                              std::to_string(c.token_end) + ") must hold 1.." +
                              std::to_string(p.entry_tokens) + " tokens");
    if (static_cast<int64_t>(c.tokens.size()) != n)
      return invalid_argument(where + ": " + std::to_string(c.tokens.size()) +
                              " token ids for a span of " + std::to_string(n));
    if (c.embedding.size() != static_cast<size_t>(p.emb_dim))
      return invalid_argument(where + ": embedding has " + std::to_string(c.embedding.size()) +
                              " floats, the profile expects " + std::to_string(p.emb_dim));
    const size_t want = static_cast<size_t>(n) * per_side;
    const bool has_f32 = !c.k_f32.empty() || !c.v_f32.empty();
    const bool has_16 = !c.k_16.empty() || !c.v_16.empty();
    if (has_f32 == has_16)
      return invalid_argument(where + ": give K/V either as f32 or as 16-bit values");
    const size_t nk = has_f32 ? c.k_f32.size() : c.k_16.size();
    const size_t nv = has_f32 ? c.v_f32.size() : c.v_16.size();
    if (nk != want || nv != want)
      return invalid_argument(where + ": K/V hold " + std::to_string(nk) + "/" +
                              std::to_string(nv) + " values, expected " + std::to_string(want) +
                              " each ([n_tokens, n_head_kv, head_dim])");
  }
  return Status::ok();
}

Result<std::vector<int64_t>> write_chunks_in_tx(StoreContext& ctx, const ProfileRecord& profile,
                                                int64_t doc_id, std::span<const ChunkInput> batch,
                                                IndexDelta* delta) {
  const ProfileIdentity& p = profile.identity;
  const bool is_bf16 = p.dtype == "bf16";
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins_chunk,
      ctx.writer.prepare("INSERT INTO chunks(doc_id, profile_id, ordinal, text, token_begin, "
                         "token_end, section_ordinal, page, tokens) VALUES (?,?,?,?,?,?,?,?,?)"));
  std::vector<int64_t> ids;
  ids.reserve(batch.size());
  for (const ChunkInput& c : batch) {
    ins_chunk.bind(1, doc_id)
        .bind(2, profile.id)
        .bind(3, c.ordinal)
        .bind(4, c.text)
        .bind(5, c.token_begin)
        .bind(6, c.token_end)
        .bind(7, c.section_ordinal)
        .bind(8, c.page)
        .bind_blob(9, c.tokens);
    MEMLONG_RETURN_IF_ERROR(ins_chunk.run());
    ids.push_back(ctx.writer.last_insert_id());
    MEMLONG_RETURN_IF_ERROR(ins_chunk.reset());
  }
  // Payloads: K then V as 16-bit values.
  std::vector<std::vector<uint8_t>> payloads(batch.size());
  std::vector<KvFile::RecordInput> records(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const ChunkInput& c = batch[i];
    const int64_t n = c.token_end - c.token_begin;
    auto& buf = payloads[i];
    buf.resize(static_cast<size_t>(kv_payload_bytes(p, n)));
    const size_t half = buf.size() / 2;
    if (!c.k_f32.empty()) {
      encode_16(c.k_f32, is_bf16, buf.data());
      encode_16(c.v_f32, is_bf16, buf.data() + half);
    } else {
      std::memcpy(buf.data(), c.k_16.data(), half);
      std::memcpy(buf.data() + half, c.v_16.data(), half);
    }
    records[i] = {buf, crc32(buf), static_cast<uint32_t>(n)};
  }
  MEMLONG_ASSIGN_OR_RETURN(auto offsets, ctx.kv->append(records));
  MEMLONG_RETURN_IF_ERROR(ctx.kv->sync());  // invariant 2: bytes durable before the commit
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins_entry,
      ctx.writer.prepare("INSERT INTO memory_entries(chunk_id, profile_id, doc_id, n_tokens, "
                         "kv_offset, kv_bytes, kv_crc, embedding) VALUES (?,?,?,?,?,?,?,?)"));
  for (size_t i = 0; i < batch.size(); ++i) {
    const ChunkInput& c = batch[i];
    ins_entry.bind(1, ids[i])
        .bind(2, profile.id)
        .bind(3, doc_id)
        .bind(4, c.token_end - c.token_begin)
        .bind(5, offsets[i])
        .bind(6, static_cast<int64_t>(payloads[i].size()))
        .bind(7, static_cast<int64_t>(records[i].crc))
        .bind_blob(8, c.embedding);
    MEMLONG_RETURN_IF_ERROR(ins_entry.run());
    MEMLONG_RETURN_IF_ERROR(ins_entry.reset());
    delta->adds.push_back(
        {profile.id, ids[i], doc_id, std::vector<float>(c.embedding.begin(), c.embedding.end())});
  }
  MEMLONG_RETURN_IF_ERROR(set_kv_state(ctx, ctx.kv->end(), ctx.kv->file_id()));
  return ids;
}

Result<std::vector<int64_t>> entry_ids_where(StoreContext& ctx, const std::string& where, int64_t a,
                                             int64_t b) {
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx.writer.prepare("SELECT c.id FROM chunks c WHERE " + where));
  st.bind(1, a);
  if (where.find("?2") != std::string::npos) st.bind(2, b);
  std::vector<int64_t> ids;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    ids.push_back(st.col_int(0));
  }
  return ids;
}

void apply_index_delta(StoreContext& ctx, const IndexDelta& delta) {
  if (delta.adds.empty() && delta.removes.empty()) return;
  std::lock_guard lock(ctx.indexes_mutex);
  for (auto& [profile_id, index] : ctx.indexes) {
    if (!delta.removes.empty()) index->remove(delta.removes);
    std::vector<int64_t> ids, docs;
    std::vector<float> vecs;
    for (const auto& a : delta.adds) {
      if (a.profile_id != profile_id) continue;
      ids.push_back(a.entry_id);
      docs.push_back(a.doc_id);
      vecs.insert(vecs.end(), a.embedding.begin(), a.embedding.end());
    }
    // An add fails only for lack of memory; the index then lacks these entries until reopened,
    // which costs recall, not correctness.
    if (!ids.empty()) (void)index->add(ids, docs, vecs);
  }
}

// ---- ProfileIdentity ----

std::string ProfileIdentity::identity() const {
  return "model=" + escape_identity_field(model_id) +
         ";retriever=" + escape_identity_field(retriever_id) +
         ";layer=" + std::to_string(memory_layer) + ";E=" + std::to_string(entry_tokens) +
         ";dtype=" + escape_identity_field(dtype) + ";hkv=" + std::to_string(n_head_kv) +
         ";dh=" + std::to_string(head_dim) + ";emb=" + std::to_string(emb_dim);
}

std::string_view document_status_name(DocumentStatus s) {
  return status_text(s);
}

// ---- open / close ----

LibraryStore::LibraryStore(std::unique_ptr<StoreContext> ctx)
    : ctx_(std::move(ctx)), sessions_(std::make_unique<SessionStore>(ctx_.get())) {}

LibraryStore::~LibraryStore() {
  if (ctx_ && ctx_->options.save_index_on_close) (void)save_indexes();
}

Result<std::unique_ptr<LibraryStore>> LibraryStore::open(const std::string& dir,
                                                         const StoreOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error(dir + ": cannot create the library folder: " + ec.message());
  auto ctx = std::make_unique<StoreContext>();
  ctx->dir = dir;
  ctx->options = options;
  const std::string lock_path = dir + "/library.lock";
  ctx->lock.fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (ctx->lock.fd < 0) return io_error(lock_path + ": cannot open: " + std::strerror(errno));
  if (::flock(ctx->lock.fd, LOCK_EX | LOCK_NB) != 0)
    return io_error(dir + ": the library is open in another MemLong process");

  const std::string db_path = dir + "/library.sqlite";
  MEMLONG_ASSIGN_OR_RETURN(ctx->writer, SqliteDb::open(db_path, SqliteDb::Mode::kReadWriteCreate));
  {
    MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx->writer.prepare("PRAGMA journal_mode=WAL"));
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row || st.col_text(0) != "wal")
      return io_error(db_path + ": cannot switch to WAL mode (got '" +
                      (row ? st.col_text(0) : std::string()) + "')");
  }
  // NORMAL in WAL mode: a process crash loses nothing committed; a power cut may lose the last
  // transactions but never leaves the file inconsistent (kv.dat is then truncated to the mark).
  MEMLONG_RETURN_IF_ERROR(ctx->writer.exec("PRAGMA synchronous=NORMAL"));
  MEMLONG_RETURN_IF_ERROR(migrate(ctx->writer).with_context("opening " + db_path));
  MEMLONG_ASSIGN_OR_RETURN(ctx->reader, SqliteDb::open(db_path, SqliteDb::Mode::kReadWrite));
  MEMLONG_RETURN_IF_ERROR(ctx->reader.exec("PRAGMA query_only=ON"));
  {
    std::lock_guard lock(ctx->writer_mutex);
    MEMLONG_RETURN_IF_ERROR(open_kv_file(*ctx).with_context("opening " + dir + "/kv.dat"));
  }
  return std::unique_ptr<LibraryStore>(new LibraryStore(std::move(ctx)));
}

const std::string& LibraryStore::dir() const {
  return ctx_->dir;
}
const StoreOpenReport& LibraryStore::open_report() const {
  return ctx_->report;
}
SessionStore& LibraryStore::sessions() {
  return *sessions_;
}

int64_t LibraryStore::kv_file_bytes() const {
  std::lock_guard lock(ctx_->writer_mutex);
  return ctx_->kv->committed();
}

IndexState LibraryStore::index_state(int64_t profile_id) const {
  std::lock_guard lock(ctx_->indexes_mutex);
  auto it = ctx_->indexes.find(profile_id);
  if (it == ctx_->indexes.end()) return {};
  return it->second->state();
}

// ---- profiles ----

Result<int64_t> LibraryStore::ensure_profile(const ProfileIdentity& p) {
  if (p.model_id.empty() || p.retriever_id.empty())
    return invalid_argument("profile: model_id and retriever_id must be set");
  if (p.dtype != "bf16" && p.dtype != "f16")
    return invalid_argument("profile: dtype '" + p.dtype + "' (expected bf16 or f16)");
  if (p.memory_layer < 0 || p.entry_tokens <= 0 || p.n_head_kv <= 0 || p.head_dim <= 0 ||
      p.emb_dim <= 0)
    return invalid_argument("profile: sizes must be positive (" + p.identity() + ")");
  std::lock_guard lock(ctx_->writer_mutex);
  const std::string id = p.identity();
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins,
      ctx_->writer.prepare("INSERT INTO profiles(identity, model_id, retriever_id, memory_layer, "
                           "entry_tokens, dtype, n_head_kv, head_dim, emb_dim, created_at) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(identity) DO NOTHING"));
  MEMLONG_RETURN_IF_ERROR(ins.bind(1, id)
                              .bind(2, p.model_id)
                              .bind(3, p.retriever_id)
                              .bind(4, p.memory_layer)
                              .bind(5, p.entry_tokens)
                              .bind(6, p.dtype)
                              .bind(7, p.n_head_kv)
                              .bind(8, p.head_dim)
                              .bind(9, p.emb_dim)
                              .bind(10, unix_now())
                              .run());
  MEMLONG_ASSIGN_OR_RETURN(Stmt sel,
                           ctx_->writer.prepare("SELECT id FROM profiles WHERE identity = ?"));
  sel.bind(1, id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, sel.step());
  if (!row) return internal_error("profile vanished after insert: " + id);
  return sel.col_int(0);
}

Result<ProfileRecord> LibraryStore::get_profile(int64_t profile_id) {
  return load_profile(*ctx_, profile_id);
}

Result<std::vector<ProfileRecord>> LibraryStore::list_profiles() {
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(ctx_->reader_mutex);
    MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare("SELECT id FROM profiles ORDER BY id"));
    for (;;) {
      MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      ids.push_back(st.col_int(0));
    }
  }
  std::vector<ProfileRecord> out;
  for (int64_t id : ids) {
    MEMLONG_ASSIGN_OR_RETURN(ProfileRecord r, load_profile(*ctx_, id));
    out.push_back(std::move(r));
  }
  return out;
}

// ---- documents (writes) ----

Result<UpsertResult> LibraryStore::upsert_document(const DocumentMeta& meta) {
  if (meta.path.empty()) return invalid_argument("document: empty path");
  if (!is_sha256_hex(meta.content_hash))
    return invalid_argument("document " + meta.path +
                            ": content_hash must be 64 lowercase hex digits (sha256)");
  std::lock_guard lock(ctx_->writer_mutex);
  IndexDelta delta;
  UpsertResult result;
  {
    Transaction tx(&ctx_->writer);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt sel, ctx_->writer.prepare("SELECT id, content_hash FROM documents WHERE path = ?"));
    sel.bind(1, meta.path);
    MEMLONG_ASSIGN_OR_RETURN(bool exists, sel.step());
    const int64_t now = unix_now();
    if (!exists) {
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt ins, ctx_->writer.prepare(
                        "INSERT INTO documents(path, content_hash, size_bytes, mtime, title, "
                        "author, language, format, status, added_at, updated_at) VALUES "
                        "(?,?,?,?,?,?,?,?,'pending',?,?)"));
      MEMLONG_RETURN_IF_ERROR(ins.bind(1, meta.path)
                                  .bind(2, meta.content_hash)
                                  .bind(3, meta.size_bytes)
                                  .bind(4, meta.mtime)
                                  .bind(5, meta.title)
                                  .bind(6, meta.author)
                                  .bind(7, meta.language)
                                  .bind(8, meta.format)
                                  .bind(9, now)
                                  .bind(10, now)
                                  .run());
      result.doc_id = ctx_->writer.last_insert_id();
      result.is_new = true;
    } else {
      result.doc_id = sel.col_int(0);
      result.is_unchanged = sel.col_text(1) == meta.content_hash;
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt upd, ctx_->writer.prepare(
                        "UPDATE documents SET content_hash = ?2, size_bytes = ?3, mtime = ?4, "
                        "title = ?5, author = ?6, language = ?7, format = ?8, updated_at = ?9 "
                        "WHERE id = ?1"));
      MEMLONG_RETURN_IF_ERROR(upd.bind(1, result.doc_id)
                                  .bind(2, meta.content_hash)
                                  .bind(3, meta.size_bytes)
                                  .bind(4, meta.mtime)
                                  .bind(5, meta.title)
                                  .bind(6, meta.author)
                                  .bind(7, meta.language)
                                  .bind(8, meta.format)
                                  .bind(9, now)
                                  .run());
      if (!result.is_unchanged) {  // new content: everything derived from the old one goes
        MEMLONG_ASSIGN_OR_RETURN(auto ids,
                                 entry_ids_where(*ctx_, "c.doc_id = ?1", result.doc_id, 0));
        delta.removes = std::move(ids);
        for (const char* sql :
             {"DELETE FROM chunks WHERE doc_id = ?1", "DELETE FROM sections WHERE doc_id = ?1",
              "DELETE FROM doc_memory WHERE doc_id = ?1",
              "UPDATE documents SET status = 'pending', error = '', n_tokens = 0 WHERE id = ?1"}) {
          MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->writer.prepare(sql));
          MEMLONG_RETURN_IF_ERROR(st.bind(1, result.doc_id).run());
        }
      }
    }
    MEMLONG_RETURN_IF_ERROR(tx.commit());
  }
  apply_index_delta(*ctx_, delta);
  return result;
}

Status LibraryStore::replace_sections(int64_t doc_id, std::span<const SectionRecord> sections) {
  std::lock_guard lock(ctx_->writer_mutex);
  Transaction tx(&ctx_->writer);
  MEMLONG_RETURN_IF_ERROR(tx.status());
  MEMLONG_ASSIGN_OR_RETURN(Stmt chk, ctx_->writer.prepare("SELECT 1 FROM documents WHERE id = ?"));
  chk.bind(1, doc_id);
  MEMLONG_ASSIGN_OR_RETURN(bool exists, chk.step());
  if (!exists) return not_found("document " + std::to_string(doc_id) + " does not exist");
  MEMLONG_ASSIGN_OR_RETURN(Stmt del, ctx_->writer.prepare("DELETE FROM sections WHERE doc_id = ?"));
  MEMLONG_RETURN_IF_ERROR(del.bind(1, doc_id).run());
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins, ctx_->writer.prepare("INSERT INTO sections(doc_id, ordinal, title, level, page) "
                                     "VALUES (?,?,?,?,?)"));
  for (const auto& s : sections) {
    Status st = ins.bind(1, doc_id)
                    .bind(2, s.ordinal)
                    .bind(3, s.title)
                    .bind(4, s.level)
                    .bind(5, s.page)
                    .run();
    if (!st.is_ok()) return st.with_context("section " + std::to_string(s.ordinal));
    MEMLONG_RETURN_IF_ERROR(ins.reset());
  }
  return tx.commit();
}

Result<std::vector<int64_t>> LibraryStore::add_chunks(int64_t doc_id, int64_t profile_id,
                                                      std::span<const ChunkInput> batch) {
  MEMLONG_ASSIGN_OR_RETURN(ProfileRecord profile, load_profile(*ctx_, profile_id));
  if (batch.empty()) return std::vector<int64_t>{};
  std::lock_guard lock(ctx_->writer_mutex);
  IndexDelta delta;
  std::vector<int64_t> ids;
  Status failure;
  {
    Transaction tx(&ctx_->writer);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    auto body = [&]() -> Status {
      MEMLONG_ASSIGN_OR_RETURN(Stmt chk,
                               ctx_->writer.prepare("SELECT 1 FROM documents WHERE id = ?"));
      chk.bind(1, doc_id);
      MEMLONG_ASSIGN_OR_RETURN(bool exists, chk.step());
      if (!exists) return not_found("document " + std::to_string(doc_id) + " does not exist");
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt cnt,
          ctx_->writer.prepare("SELECT count(*) FROM chunks WHERE doc_id = ? AND profile_id = ?"));
      cnt.bind(1, doc_id).bind(2, profile_id);
      MEMLONG_ASSIGN_OR_RETURN(bool has_row, cnt.step());
      const int32_t n_committed = has_row ? static_cast<int32_t>(cnt.col_int(0)) : 0;
      MEMLONG_RETURN_IF_ERROR(validate_chunks(profile.identity, batch, n_committed));
      MEMLONG_ASSIGN_OR_RETURN(ids, write_chunks_in_tx(*ctx_, profile, doc_id, batch, &delta));
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt mem,
          ctx_->writer.prepare(
              "INSERT INTO doc_memory(doc_id, profile_id, is_complete, n_tokens, updated_at) "
              "VALUES (?1, ?2, 0, 0, ?3) ON CONFLICT(doc_id, profile_id) DO UPDATE SET "
              "is_complete = 0, updated_at = ?3"));
      MEMLONG_RETURN_IF_ERROR(mem.bind(1, doc_id).bind(2, profile_id).bind(3, unix_now()).run());
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt doc, ctx_->writer.prepare("UPDATE documents SET status = 'ingesting', error = '', "
                                         "updated_at = ?2 WHERE id = ?1"));
      MEMLONG_RETURN_IF_ERROR(doc.bind(1, doc_id).bind(2, unix_now()).run());
      return tx.commit();
    };
    failure = body();
  }
  if (!failure.is_ok()) {
    (void)ctx_->kv->rollback();
    return failure;
  }
  ctx_->kv->mark_committed();
  apply_index_delta(*ctx_, delta);
  return ids;
}

Result<int32_t> LibraryStore::committed_chunk_count(int64_t doc_id, int64_t profile_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st,
      ctx_->reader.prepare("SELECT count(*) FROM chunks WHERE doc_id = ? AND profile_id = ?"));
  st.bind(1, doc_id).bind(2, profile_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? static_cast<int32_t>(st.col_int(0)) : 0;
}

Status LibraryStore::set_document_status(int64_t doc_id, int64_t profile_id, DocumentStatus status,
                                         const std::string& error) {
  if (status == DocumentStatus::kReady)
    MEMLONG_RETURN_IF_ERROR(load_profile(*ctx_, profile_id).status());
  std::lock_guard lock(ctx_->writer_mutex);
  Transaction tx(&ctx_->writer);
  MEMLONG_RETURN_IF_ERROR(tx.status());
  const int64_t now = unix_now();
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt upd, ctx_->writer.prepare(
                    "UPDATE documents SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1"));
  MEMLONG_RETURN_IF_ERROR(upd.bind(1, doc_id)
                              .bind(2, status_text(status))
                              .bind(3, status == DocumentStatus::kFailed ? error : std::string())
                              .bind(4, now)
                              .run());
  if (ctx_->writer.changes() == 0)
    return not_found("document " + std::to_string(doc_id) + " does not exist");
  if (status == DocumentStatus::kReady) {
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt sum, ctx_->writer.prepare("SELECT coalesce(sum(token_end - token_begin), 0) FROM "
                                       "chunks WHERE doc_id = ? AND profile_id = ?"));
    sum.bind(1, doc_id).bind(2, profile_id);
    MEMLONG_ASSIGN_OR_RETURN(bool row, sum.step());
    const int64_t n_tokens = row ? sum.col_int(0) : 0;
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt mem, ctx_->writer.prepare(
                      "INSERT INTO doc_memory(doc_id, profile_id, is_complete, n_tokens, "
                      "updated_at) VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT(doc_id, profile_id) DO "
                      "UPDATE SET is_complete = 1, n_tokens = ?3, updated_at = ?4"));
    MEMLONG_RETURN_IF_ERROR(
        mem.bind(1, doc_id).bind(2, profile_id).bind(3, n_tokens).bind(4, now).run());
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt nt, ctx_->writer.prepare("UPDATE documents SET n_tokens = ? WHERE id = ?"));
    MEMLONG_RETURN_IF_ERROR(nt.bind(1, n_tokens).bind(2, doc_id).run());
  }
  return tx.commit();
}

Status LibraryStore::mark_stale(int64_t doc_id, int64_t profile_id) {
  std::lock_guard lock(ctx_->writer_mutex);
  IndexDelta delta;
  {
    Transaction tx(&ctx_->writer);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    MEMLONG_ASSIGN_OR_RETURN(Stmt chk,
                             ctx_->writer.prepare("SELECT 1 FROM documents WHERE id = ?"));
    chk.bind(1, doc_id);
    MEMLONG_ASSIGN_OR_RETURN(bool exists, chk.step());
    if (!exists) return not_found("document " + std::to_string(doc_id) + " does not exist");
    MEMLONG_RETURN_IF_ERROR(drop_memory_in_tx(*ctx_, doc_id, profile_id, "", &delta));
    MEMLONG_RETURN_IF_ERROR(tx.commit());
  }
  apply_index_delta(*ctx_, delta);
  return Status::ok();
}

Result<bool> LibraryStore::needs_rebuild(int64_t doc_id, int64_t profile_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->reader.prepare(
                   "SELECT is_complete FROM doc_memory WHERE doc_id = ? AND profile_id = ?"));
  st.bind(1, doc_id).bind(2, profile_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
  return !row || st.col_int(0) == 0;
}

Status LibraryStore::remove_document(int64_t doc_id) {
  std::lock_guard lock(ctx_->writer_mutex);
  IndexDelta delta;
  {
    Transaction tx(&ctx_->writer);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    MEMLONG_ASSIGN_OR_RETURN(delta.removes, entry_ids_where(*ctx_, "c.doc_id = ?1", doc_id, 0));
    MEMLONG_ASSIGN_OR_RETURN(Stmt del, ctx_->writer.prepare("DELETE FROM documents WHERE id = ?"));
    MEMLONG_RETURN_IF_ERROR(del.bind(1, doc_id).run());
    if (ctx_->writer.changes() == 0)
      return not_found("document " + std::to_string(doc_id) + " does not exist");
    MEMLONG_RETURN_IF_ERROR(tx.commit());
  }
  apply_index_delta(*ctx_, delta);
  return Status::ok();
}

Result<int64_t> LibraryStore::purge_other_profiles(int64_t keep_profile_id) {
  std::lock_guard lock(ctx_->writer_mutex);
  IndexDelta delta;
  std::vector<int64_t> purged_profiles;
  {
    Transaction tx(&ctx_->writer);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    MEMLONG_ASSIGN_OR_RETURN(delta.removes,
                             entry_ids_where(*ctx_, "c.profile_id != ?1", keep_profile_id, 0));
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st,
                               ctx_->writer.prepare("SELECT id FROM profiles WHERE id != ?"));
      st.bind(1, keep_profile_id);
      for (;;) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        purged_profiles.push_back(st.col_int(0));
      }
    }
    for (const char* sql : {"DELETE FROM chunks WHERE profile_id != ?1",
                            "DELETE FROM doc_memory WHERE profile_id != ?1",
                            "DELETE FROM index_watermarks WHERE profile_id != ?1"}) {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->writer.prepare(sql));
      MEMLONG_RETURN_IF_ERROR(st.bind(1, keep_profile_id).run());
    }
    MEMLONG_RETURN_IF_ERROR(tx.commit());
  }
  {
    std::lock_guard ilock(ctx_->indexes_mutex);
    for (int64_t p : purged_profiles) ctx_->indexes.erase(p);
  }
  for (int64_t p : purged_profiles) {
    std::error_code ec;
    fs::remove(ctx_->index_path(p), ec);
  }
  return static_cast<int64_t>(delta.removes.size());
}

// ---- documents (reads) ----

Result<DocumentRecord> LibraryStore::get_document(int64_t doc_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare(std::string("SELECT ") + kDocumentColumns +
                                                         " FROM documents WHERE id = ?"));
  st.bind(1, doc_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return not_found("document " + std::to_string(doc_id) + " does not exist");
  return read_document_row(st);
}

Result<std::optional<DocumentRecord>> LibraryStore::find_document_by_path(const std::string& path) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare(std::string("SELECT ") + kDocumentColumns +
                                                         " FROM documents WHERE path = ?"));
  st.bind(1, path);
  MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<DocumentRecord>();
  return std::optional<DocumentRecord>(read_document_row(st));
}

Result<std::vector<DocumentRecord>> LibraryStore::list_documents() {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare(std::string("SELECT ") + kDocumentColumns +
                                                         " FROM documents ORDER BY id"));
  std::vector<DocumentRecord> out;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read_document_row(st));
  }
  return out;
}

Result<std::vector<SectionRecord>> LibraryStore::sections(int64_t doc_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->reader.prepare("SELECT ordinal, title, level, page FROM sections WHERE "
                                    "doc_id = ? ORDER BY ordinal"));
  st.bind(1, doc_id);
  std::vector<SectionRecord> out;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back({static_cast<int32_t>(st.col_int(0)), st.col_text(1),
                   static_cast<int32_t>(st.col_int(2)), static_cast<int32_t>(st.col_int(3))});
  }
  return out;
}

// ---- entries ----

Result<std::vector<int64_t>> LibraryStore::list_entries(int64_t profile_id, const DocSet& docs) {
  std::lock_guard lock(ctx_->reader_mutex);
  std::string sql =
      "SELECT m.chunk_id FROM memory_entries m JOIN chunks c ON c.id = m.chunk_id WHERE "
      "m.profile_id = ?1";
  if (!docs.is_all) sql += " AND m.doc_id IN (SELECT value FROM json_each(?2))";
  sql += " ORDER BY c.doc_id, c.ordinal";
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare(sql));
  st.bind(1, profile_id);
  if (!docs.is_all) st.bind(2, json_ids(docs.ids));
  std::vector<int64_t> out;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(st.col_int(0));
  }
  return out;
}

Result<std::vector<EntryRecord>> LibraryStore::get_entries(std::span<const int64_t> entry_ids) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->reader.prepare(
                   "SELECT c.doc_id, c.profile_id, c.ordinal, c.token_begin, c.token_end, "
                   "m.n_tokens, c.section_ordinal, c.page, c.text, c.tokens, m.embedding FROM "
                   "chunks c JOIN memory_entries m ON m.chunk_id = c.id WHERE c.id = ?"));
  std::vector<EntryRecord> out;
  out.reserve(entry_ids.size());
  for (int64_t id : entry_ids) {
    st.bind(1, id);
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return not_found("memory entry " + std::to_string(id) + " does not exist");
    EntryRecord e;
    e.entry_id = id;
    e.doc_id = st.col_int(0);
    e.profile_id = st.col_int(1);
    e.ordinal = static_cast<int32_t>(st.col_int(2));
    e.token_begin = st.col_int(3);
    e.token_end = st.col_int(4);
    e.n_tokens = static_cast<int32_t>(st.col_int(5));
    e.section_ordinal = static_cast<int32_t>(st.col_int(6));
    e.page = static_cast<int32_t>(st.col_int(7));
    e.text = st.col_text(8);
    const auto tok = st.col_blob(9);
    e.tokens.resize(tok.size() / sizeof(int32_t));
    if (!tok.empty()) std::memcpy(e.tokens.data(), tok.data(), e.tokens.size() * sizeof(int32_t));
    const auto emb = st.col_blob(10);
    e.embedding.resize(emb.size() / sizeof(float));
    if (!emb.empty())
      std::memcpy(e.embedding.data(), emb.data(), e.embedding.size() * sizeof(float));
    out.push_back(std::move(e));
    MEMLONG_RETURN_IF_ERROR(st.reset());
  }
  return out;
}

namespace {

struct KvRef {
  int64_t entry_id = 0;
  int64_t doc_id = 0;
  int64_t profile_id = 0;
  int64_t n_tokens = 0;
  KvFile::RecordRef ref;
};

// Reader mutex taken here; the caller holds kv_generation shared.
Result<std::vector<KvRef>> read_kv_refs(StoreContext& ctx, std::span<const int64_t> entry_ids) {
  std::lock_guard lock(ctx.reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx.reader.prepare("SELECT doc_id, profile_id, n_tokens, kv_offset, kv_bytes, "
                                  "kv_crc FROM memory_entries WHERE chunk_id = ?"));
  std::vector<KvRef> refs;
  refs.reserve(entry_ids.size());
  for (int64_t id : entry_ids) {
    st.bind(1, id);
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return not_found("memory entry " + std::to_string(id) + " does not exist");
    refs.push_back({id,
                    st.col_int(0),
                    st.col_int(1),
                    st.col_int(2),
                    {st.col_int(3), st.col_int(4), static_cast<uint32_t>(st.col_int(5))}});
    MEMLONG_RETURN_IF_ERROR(st.reset());
  }
  return refs;
}

}  // namespace

Status LibraryStore::load_kv(std::span<const int64_t> entry_ids, std::vector<float>* k,
                             std::vector<float>* v) {
  k->clear();
  v->clear();
  if (entry_ids.empty()) return Status::ok();
  KvRef bad{};
  Status failure;
  {
    std::shared_lock gen(ctx_->kv_generation);
    MEMLONG_ASSIGN_OR_RETURN(auto refs, read_kv_refs(*ctx_, entry_ids));
    const int64_t profile_id = refs[0].profile_id;
    for (const auto& r : refs) {
      if (r.profile_id != profile_id)
        return invalid_argument("load_kv: entries " + std::to_string(refs[0].entry_id) + " and " +
                                std::to_string(r.entry_id) + " belong to different profiles");
    }
    MEMLONG_ASSIGN_OR_RETURN(ProfileRecord profile, load_profile(*ctx_, profile_id));
    const ProfileIdentity& p = profile.identity;
    const bool is_bf16 = p.dtype == "bf16";
    const size_t per_token = static_cast<size_t>(p.n_head_kv) * static_cast<size_t>(p.head_dim);
    size_t total_tokens = 0;
    for (const auto& r : refs) total_tokens += static_cast<size_t>(r.n_tokens);
    try {
      k->resize(total_tokens * per_token);
      v->resize(total_tokens * per_token);
    } catch (const std::bad_alloc&) {
      return out_of_memory("load_kv: cannot allocate K/V for " + std::to_string(total_tokens) +
                           " tokens");
    }
    size_t at = 0;
    for (const auto& r : refs) {
      const size_t n = static_cast<size_t>(r.n_tokens) * per_token;
      if (r.ref.payload_bytes != kv_payload_bytes(p, r.n_tokens)) {
        failure = corrupt("memory entry " + std::to_string(r.entry_id) + ": K/V record of " +
                          std::to_string(r.ref.payload_bytes) + " bytes for " +
                          std::to_string(r.n_tokens) + " tokens");
      } else {
        failure = ctx_->kv->read_record(r.ref, [&](std::span<const uint8_t> payload) {
          decode_16(payload.data(), n, is_bf16, k->data() + at);
          decode_16(payload.data() + 2 * n, n, is_bf16, v->data() + at);
        });
      }
      if (!failure.is_ok()) {
        bad = r;
        break;
      }
      at += n;
    }
  }
  if (failure.is_ok()) return Status::ok();
  k->clear();
  v->clear();
  if (failure.code() == StatusCode::kCorrupt) {  // mark the doc for rebuild (invariant 3)
    std::lock_guard lock(ctx_->writer_mutex);
    StoreOpenReport report;
    (void)drop_memory_where(*ctx_, "m.chunk_id = ?1", bad.entry_id,
                            "memory damaged: a K/V record failed its check; will rebuild", &report);
  }
  return failure.with_context("loading K/V of memory entry " + std::to_string(bad.entry_id));
}

Result<std::vector<uint8_t>> LibraryStore::load_kv_raw(int64_t entry_id) {
  std::shared_lock gen(ctx_->kv_generation);
  const int64_t ids[1] = {entry_id};
  MEMLONG_ASSIGN_OR_RETURN(auto refs, read_kv_refs(*ctx_, ids));
  std::vector<uint8_t> out;
  MEMLONG_RETURN_IF_ERROR(ctx_->kv->read_record(refs[0].ref, [&](std::span<const uint8_t> payload) {
    out.assign(payload.begin(), payload.end());
  }));
  return out;
}

// ---- search ----

namespace {

// The loaded index of a profile, loading it from SQLite on first use (see store_context.h for
// why this holds indexes_mutex across the load).
Result<std::shared_ptr<EntryVectorIndex>> get_index(StoreContext& ctx, int64_t profile_id) {
  MEMLONG_ASSIGN_OR_RETURN(ProfileRecord profile, load_profile(ctx, profile_id));
  std::lock_guard lock(ctx.indexes_mutex);
  auto it = ctx.indexes.find(profile_id);
  if (it != ctx.indexes.end()) return it->second;
  const int32_t dim = profile.identity.emb_dim;
  auto index = std::make_shared<EntryVectorIndex>(profile_id, dim);
  std::vector<int64_t> ids, docs;
  std::vector<float> vecs;
  {
    std::lock_guard rlock(ctx.reader_mutex);
    MEMLONG_ASSIGN_OR_RETURN(
        // A scan in rowid order reads the table pages sequentially; going through the
        // (profile_id, doc_id) index and sorting by id cost 3x more at 8k entries.
        Stmt st, ctx.reader.prepare("SELECT chunk_id, doc_id, embedding FROM memory_entries "
                                    "NOT INDEXED WHERE profile_id = ?"));
    st.bind(1, profile_id);
    for (;;) {
      MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      const auto blob = st.col_blob(2);
      if (blob.size() != static_cast<size_t>(dim) * sizeof(float)) {
        return corrupt("memory entry " + std::to_string(st.col_int(0)) + ": embedding of " +
                       std::to_string(blob.size()) + " bytes, expected " + std::to_string(dim * 4));
      }
      ids.push_back(st.col_int(0));
      docs.push_back(st.col_int(1));
      const size_t at = vecs.size();
      vecs.resize(at + static_cast<size_t>(dim));
      std::memcpy(vecs.data() + at, blob.data(), blob.size());
    }
  }
  MEMLONG_RETURN_IF_ERROR(index->add(ids, docs, vecs));
  ctx.indexes[profile_id] = index;
  return index;
}

Result<std::optional<IndexWatermark>> read_watermark(StoreContext& ctx, int64_t profile_id) {
  std::lock_guard lock(ctx.reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx.reader.prepare("SELECT n_entries, max_entry_id, ids_sum, payload_crc FROM "
                                  "index_watermarks WHERE profile_id = ?"));
  st.bind(1, profile_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<IndexWatermark>();
  return std::optional<IndexWatermark>(IndexWatermark{st.col_int(0), st.col_int(1), st.col_int(2),
                                                      static_cast<uint32_t>(st.col_int(3))});
}

}  // namespace

namespace {

Result<std::shared_ptr<EntryVectorIndex>> ready_index(StoreContext& ctx, int64_t profile_id) {
  MEMLONG_ASSIGN_OR_RETURN(auto index, get_index(ctx, profile_id));
  if (index->size() > ctx.options.exact_search_max && !index->has_graph()) {
    MEMLONG_ASSIGN_OR_RETURN(auto wm, read_watermark(ctx, profile_id));
    MEMLONG_RETURN_IF_ERROR(index->ensure_graph(ctx.index_path(profile_id), wm ? &*wm : nullptr));
  }
  return index;
}

}  // namespace

Status LibraryStore::prepare_search(int64_t profile_id) {
  MEMLONG_RETURN_IF_ERROR(ready_index(*ctx_, profile_id).status());
  return save_indexes();
}

Result<std::vector<VectorHit>> LibraryStore::search_vectors(int64_t profile_id,
                                                            std::span<const float> query, int32_t k,
                                                            const DocSet& docs) {
  MEMLONG_ASSIGN_OR_RETURN(auto index, ready_index(*ctx_, profile_id));
  return index->search(query, k, docs, ctx_->options.exact_search_max, ctx_->options.ann_ef_search);
}

Result<std::vector<TextHit>> LibraryStore::search_text(int64_t profile_id,
                                                       const std::string& query_text, int32_t k,
                                                       const DocSet& docs) {
  const std::string match = fts5_match_expression(query_text);
  if (match.empty() || k <= 0) return std::vector<TextHit>{};
  if (!docs.is_all && docs.ids.empty()) return std::vector<TextHit>{};
  std::string sql =
      "SELECT c.id, bm25(chunks_fts) AS score FROM chunks_fts JOIN chunks c ON c.id = "
      "chunks_fts.rowid WHERE chunks_fts MATCH ?1 AND c.profile_id = ?2";
  if (!docs.is_all) sql += " AND c.doc_id IN (SELECT value FROM json_each(?4))";
  sql += " ORDER BY score, c.id LIMIT ?3";
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare(sql));
  st.bind(1, match).bind(2, profile_id).bind(3, static_cast<int64_t>(k));
  if (!docs.is_all) st.bind(4, json_ids(docs.ids));
  std::vector<TextHit> out;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back({st.col_int(0), st.col_double(1)});
  }
  return out;
}

Result<std::vector<SearchHit>> LibraryStore::search(int64_t profile_id,
                                                    const std::string& query_text,
                                                    std::span<const float> query_embedding,
                                                    int32_t k, const DocSet& docs) {
  if (k <= 0) return std::vector<SearchHit>{};
  const int32_t n_each = 2 * k;
  std::vector<VectorHit> vhits;
  std::vector<TextHit> thits;
  if (!query_embedding.empty()) {
    MEMLONG_ASSIGN_OR_RETURN(vhits, search_vectors(profile_id, query_embedding, n_each, docs));
  }
  if (!query_text.empty()) {
    MEMLONG_ASSIGN_OR_RETURN(thits, search_text(profile_id, query_text, n_each, docs));
  }
  std::unordered_map<int64_t, SearchHit> by_id;
  for (size_t r = 0; r < vhits.size(); ++r) {
    SearchHit& h = by_id[vhits[r].entry_id];
    h.entry_id = vhits[r].entry_id;
    h.vector_rank = static_cast<int32_t>(r);
    h.vector_score = vhits[r].score;
    h.fused_score += 1.0 / (kRrfK + static_cast<double>(r) + 1.0);
  }
  for (size_t r = 0; r < thits.size(); ++r) {
    SearchHit& h = by_id[thits[r].entry_id];
    h.entry_id = thits[r].entry_id;
    h.bm25_rank = static_cast<int32_t>(r);
    h.bm25_score = thits[r].bm25;
    h.fused_score += 1.0 / (kRrfK + static_cast<double>(r) + 1.0);
  }
  std::vector<SearchHit> hits;
  hits.reserve(by_id.size());
  for (auto& [id, h] : by_id) hits.push_back(std::move(h));
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    if (a.fused_score != b.fused_score) return a.fused_score > b.fused_score;
    return a.entry_id < b.entry_id;
  });
  if (hits.size() > static_cast<size_t>(k)) hits.resize(static_cast<size_t>(k));
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->reader.prepare(
                   "SELECT c.doc_id, d.title, coalesce(s.title, ''), c.page, c.token_begin, "
                   "c.token_end, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id "
                   "LEFT JOIN sections s ON s.doc_id = c.doc_id AND s.ordinal = "
                   "c.section_ordinal WHERE c.id = ?"));
  std::vector<SearchHit> out;
  for (auto& h : hits) {
    st.bind(1, h.entry_id);
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) {  // a hit deleted between the searches and this read is dropped
      h.doc_id = st.col_int(0);
      h.doc_title = st.col_text(1);
      h.section_title = st.col_text(2);
      h.page = static_cast<int32_t>(st.col_int(3));
      h.token_begin = st.col_int(4);
      h.token_end = st.col_int(5);
      h.text = st.col_text(6);
      out.push_back(std::move(h));
    }
    MEMLONG_RETURN_IF_ERROR(st.reset());
  }
  return out;
}

// ---- maintenance ----

Result<StoreOpenReport> LibraryStore::verify_kv() {
  StoreOpenReport report;
  std::vector<KvRef> refs;
  {
    std::lock_guard lock(ctx_->reader_mutex);
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt st, ctx_->reader.prepare("SELECT chunk_id, doc_id, profile_id, n_tokens, kv_offset, "
                                      "kv_bytes, kv_crc FROM memory_entries ORDER BY kv_offset"));
    for (;;) {
      MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      refs.push_back({st.col_int(0),
                      st.col_int(1),
                      st.col_int(2),
                      st.col_int(3),
                      {st.col_int(4), st.col_int(5), static_cast<uint32_t>(st.col_int(6))}});
    }
  }
  std::vector<int64_t> bad;
  {
    std::shared_lock gen(ctx_->kv_generation);
    for (const auto& r : refs) {
      MEMLONG_ASSIGN_OR_RETURN(ProfileRecord p, load_profile(*ctx_, r.profile_id));
      Status st = r.ref.payload_bytes != kv_payload_bytes(p.identity, r.n_tokens)
                      ? corrupt("size mismatch")
                      : ctx_->kv->read_record(r.ref, [](std::span<const uint8_t>) {});
      if (st.code() == StatusCode::kCorrupt) {
        bad.push_back(r.entry_id);
        report.notes.push_back("entry " + std::to_string(r.entry_id) + ": " + st.message());
      } else if (!st.is_ok()) {
        return st;
      }
    }
  }
  std::lock_guard lock(ctx_->writer_mutex);
  for (int64_t id : bad) {
    MEMLONG_RETURN_IF_ERROR(
        drop_memory_where(*ctx_, "m.chunk_id = ?1", id,
                          "memory damaged: a K/V record failed its check; will rebuild", &report));
  }
  // An entry of a doc already dropped above is not listed by later calls; list every bad one.
  report.corrupt_entry_ids = bad;
  return report;
}

Result<int64_t> LibraryStore::compact() {
  std::lock_guard lock(ctx_->writer_mutex);
  std::vector<int64_t> ids;
  std::vector<KvFile::RecordRef> refs;
  {
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt st, ctx_->writer.prepare(
                     "SELECT chunk_id, kv_offset, kv_bytes, kv_crc FROM memory_entries ORDER BY "
                     "kv_offset"));
    for (;;) {
      MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      ids.push_back(st.col_int(0));
      refs.push_back({st.col_int(1), st.col_int(2), static_cast<uint32_t>(st.col_int(3))});
    }
  }
  const int64_t old_length = ctx_->kv->committed();
  int64_t live_length = KvFile::kHeaderBytes;
  for (const auto& r : refs) live_length += KvFile::kRecordHeaderBytes + r.payload_bytes;
  if (live_length == old_length) return int64_t{0};  // no dead record: nothing to rewrite
  const std::string tmp = ctx_->dir + "/kv.dat.compact";
  const std::string new_id = new_kv_file_id();
  std::pair<std::vector<int64_t>, int64_t> written;
  {
    std::shared_lock gen(ctx_->kv_generation);
    auto w = ctx_->kv->write_compacted(tmp, new_id, refs);
    if (!w.is_ok()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return w.status();
    }
    written = std::move(w).value();
  }
  std::unique_lock gen(ctx_->kv_generation);
  {
    Transaction tx(&ctx_->writer);
    auto body = [&]() -> Status {
      MEMLONG_RETURN_IF_ERROR(tx.status());
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt upd,
          ctx_->writer.prepare("UPDATE memory_entries SET kv_offset = ? WHERE chunk_id = ?"));
      for (size_t i = 0; i < ids.size(); ++i) {
        MEMLONG_RETURN_IF_ERROR(upd.bind(1, written.first[i]).bind(2, ids[i]).run());
        MEMLONG_RETURN_IF_ERROR(upd.reset());
      }
      MEMLONG_RETURN_IF_ERROR(set_kv_state(*ctx_, written.second, new_id));
      return tx.commit();
    };
    Status st = body();
    if (!st.is_ok()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return st.with_context("compacting kv.dat");
    }
  }
  // Committed: the database points into the new file. If the rename fails here, the next open()
  // finds kv.dat.compact carrying the committed file id and finishes it.
  {
    auto map_lock = ctx_->kv->lock_exclusive();
    MEMLONG_RETURN_IF_ERROR(ctx_->kv->install_compacted_locked(tmp, new_id, written.second));
  }
  return old_length - written.second;
}

Status LibraryStore::save_indexes() {
  std::vector<std::shared_ptr<EntryVectorIndex>> dirty;
  {
    std::lock_guard lock(ctx_->indexes_mutex);
    for (auto& [id, index] : ctx_->indexes)
      if (index->is_dirty()) dirty.push_back(index);
  }
  for (auto& index : dirty) {
    const int64_t profile_id = index->profile_id();
    MEMLONG_ASSIGN_OR_RETURN(IndexWatermark w, index->save(ctx_->index_path(profile_id)));
    std::lock_guard lock(ctx_->writer_mutex);
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt st, ctx_->writer.prepare(
                     "INSERT INTO index_watermarks(profile_id, n_entries, max_entry_id, ids_sum, "
                     "payload_crc, saved_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON "
                     "CONFLICT(profile_id) DO UPDATE SET n_entries = ?2, max_entry_id = ?3, "
                     "ids_sum = ?4, payload_crc = ?5, saved_at = ?6"));
    MEMLONG_RETURN_IF_ERROR(st.bind(1, profile_id)
                                .bind(2, w.n_entries)
                                .bind(3, w.max_entry_id)
                                .bind(4, w.ids_sum)
                                .bind(5, static_cast<int64_t>(w.payload_crc))
                                .bind(6, unix_now())
                                .run());
  }
  return Status::ok();
}

}  // namespace memlong
