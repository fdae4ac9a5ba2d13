// Session archive export/import (see session_archive.h).
//
// Archive schema (PRAGMA application_id = kArchiveApplicationId, user_version = format version):
//   archive_profile(model_id, retriever_id, memory_layer, entry_tokens, dtype, n_head_kv,
//                   head_dim, emb_dim)                        -- 0 rows when the session has none
//   archive_session(name, created_at, updated_at, settings_json, capacity_tokens, next_seq)
//   archive_documents(id, path, content_hash, size_bytes, mtime, title, author, language, format,
//                     n_tokens, is_complete, in_session)
//   archive_sections(doc_id, ordinal, title, level, page)
//   archive_chunks(id, doc_id, ordinal, text, token_begin, token_end, section_ordinal, page,
//                  tokens, embedding, kv, kv_crc)              -- kv: the kv.dat payload bytes
//   archive_memory(entry_id, hits, seq)                       -- entry_id: archive_chunks.id
//   archive_messages(ordinal, role, text, citations_json, created_at)
// Import reads and checks everything into memory first (phase 1), then writes it in one
// transaction of the target (phase 2).
#include "core/store/session_archive.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "core/store/library_store.h"
#include "core/store/session_store.h"
#include "core/store/sha256.h"
#include "core/store/store_context.h"

namespace memlong {

namespace fs = std::filesystem;

namespace {

constexpr int32_t kArchiveApplicationId = 0x4D4C5341;  // "MLSA"

constexpr std::string_view kArchiveSchema = R"sql(
CREATE TABLE archive_profile(model_id TEXT NOT NULL, retriever_id TEXT NOT NULL,
  memory_layer INTEGER NOT NULL, entry_tokens INTEGER NOT NULL, dtype TEXT NOT NULL,
  n_head_kv INTEGER NOT NULL, head_dim INTEGER NOT NULL, emb_dim INTEGER NOT NULL);
CREATE TABLE archive_session(name TEXT NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, settings_json TEXT NOT NULL, capacity_tokens INTEGER NOT NULL,
  next_seq INTEGER NOT NULL);
CREATE TABLE archive_documents(id INTEGER PRIMARY KEY, path TEXT NOT NULL,
  content_hash TEXT NOT NULL, size_bytes INTEGER NOT NULL, mtime INTEGER NOT NULL,
  title TEXT NOT NULL, author TEXT NOT NULL, language TEXT NOT NULL, format TEXT NOT NULL,
  n_tokens INTEGER NOT NULL, is_complete INTEGER NOT NULL, in_session INTEGER NOT NULL);
CREATE TABLE archive_sections(doc_id INTEGER NOT NULL, ordinal INTEGER NOT NULL,
  title TEXT NOT NULL, level INTEGER NOT NULL, page INTEGER NOT NULL);
CREATE TABLE archive_chunks(id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL,
  ordinal INTEGER NOT NULL, text TEXT NOT NULL, token_begin INTEGER NOT NULL,
  token_end INTEGER NOT NULL, section_ordinal INTEGER NOT NULL, page INTEGER NOT NULL,
  tokens BLOB NOT NULL, embedding BLOB NOT NULL, kv BLOB NOT NULL, kv_crc INTEGER NOT NULL);
CREATE TABLE archive_memory(entry_id INTEGER NOT NULL, hits INTEGER NOT NULL,
  seq INTEGER NOT NULL);
CREATE TABLE archive_messages(ordinal INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL,
  citations_json TEXT NOT NULL, created_at INTEGER NOT NULL);
)sql";

// ---- in-memory form (import phase 1) ----

struct ArchiveDoc {
  int64_t id = 0;
  DocumentMeta meta;
  int64_t n_tokens = 0;
  bool is_complete = false;
  bool in_session = false;
  std::vector<SectionRecord> sections;
  std::vector<size_t> chunk_rows;  // indexes into Archive::chunks, by ordinal
};

struct ArchiveChunk {
  int64_t id = 0;
  int64_t doc_id = 0;
  int32_t ordinal = 0;
  std::string text;
  int64_t token_begin = 0, token_end = 0;
  int32_t section_ordinal = -1, page = 0;
  std::vector<int32_t> tokens;
  std::vector<float> embedding;
  std::vector<uint16_t> kv;  // K then V
};

struct Archive {
  bool has_profile = false;
  ProfileIdentity profile;
  SessionRecord session;
  std::vector<ArchiveDoc> docs;
  std::vector<ArchiveChunk> chunks;
  std::vector<SessionMemoryEntry> memory;  // entry_id = archive chunk id
  std::vector<MessageRecord> messages;
};

template <typename T>
std::vector<T> blob_as(std::span<const uint8_t> b) {
  std::vector<T> v(b.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
  return v;
}

Status bad(const std::string& path, const std::string& what) {
  return corrupt(path + ": not a valid session archive: " + what);
}

Result<Archive> read_archive(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return not_found(path + ": no such file");
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return io_error(path + ": cannot open");
    char magic[16] = {};
    const size_t n = std::fread(magic, 1, sizeof magic, f);
    std::fclose(f);
    if (n != sizeof magic || std::memcmp(magic, "SQLite format 3", 16) != 0)
      return bad(path, "wrong file type (no SQLite header)");
  }
  MEMLONG_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::open(path, SqliteDb::Mode::kReadOnly));
  auto app_id = db.query_int("PRAGMA application_id");
  if (!app_id.is_ok()) return bad(path, app_id.status().message());
  if (*app_id != kArchiveApplicationId) return bad(path, "wrong application id");
  MEMLONG_ASSIGN_OR_RETURN(int64_t version, db.query_int("PRAGMA user_version"));
  if (version > kSessionArchiveVersion)
    return unsupported(path + ": session archive version " + std::to_string(version) +
                       " is newer than this build reads (" +
                       std::to_string(kSessionArchiveVersion) + ")");
  if (version < 1) return bad(path, "version " + std::to_string(version));
  {
    auto check = db.prepare("PRAGMA quick_check");
    if (!check.is_ok()) return bad(path, check.status().message());
    auto row = check->step();
    if (!row.is_ok()) return bad(path, row.status().message());
    if (!*row || check->col_text(0) != "ok")
      return bad(path,
                 "damaged or truncated (" + (*row ? check->col_text(0) : std::string()) + ")");
  }
  Archive a;
  auto read_all = [&]() -> Status {
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT model_id, retriever_id, memory_layer, "
                                                   "entry_tokens, dtype, n_head_kv, head_dim, "
                                                   "emb_dim FROM archive_profile"));
      int n = 0;
      for (;; ++n) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        a.has_profile = true;
        a.profile = {st.col_text(0),
                     st.col_text(1),
                     static_cast<int32_t>(st.col_int(2)),
                     static_cast<int32_t>(st.col_int(3)),
                     st.col_text(4),
                     static_cast<int32_t>(st.col_int(5)),
                     static_cast<int32_t>(st.col_int(6)),
                     static_cast<int32_t>(st.col_int(7))};
      }
      if (n > 1) return bad(path, std::to_string(n) + " profiles");
      const auto& p = a.profile;
      if (a.has_profile &&
          (p.entry_tokens <= 0 || p.entry_tokens > 1 << 16 || p.n_head_kv <= 0 ||
           p.n_head_kv > 1024 || p.head_dim <= 0 || p.head_dim > 4096 || p.emb_dim <= 0 ||
           p.emb_dim > 1 << 16 || (p.dtype != "bf16" && p.dtype != "f16")))
        return bad(path, "impossible profile " + p.identity());
    }
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT name, created_at, updated_at, "
                                                   "settings_json, capacity_tokens, next_seq "
                                                   "FROM archive_session"));
      int n = 0;
      for (;; ++n) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        a.session.name = st.col_text(0);
        a.session.created_at = st.col_int(1);
        a.session.updated_at = st.col_int(2);
        a.session.settings_json = st.col_text(3);
        a.session.capacity_tokens = st.col_int(4);
        a.session.next_seq = static_cast<uint64_t>(st.col_int(5));
      }
      if (n != 1) return bad(path, std::to_string(n) + " sessions (expected 1)");
      if (a.session.name.empty() || a.session.capacity_tokens <= 0)
        return bad(path, "session without a name or capacity");
    }
    std::map<int64_t, size_t> doc_row;
    {
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt st, db.prepare("SELECT id, path, content_hash, size_bytes, mtime, title, author, "
                              "language, format, n_tokens, is_complete, in_session FROM "
                              "archive_documents ORDER BY id"));
      for (;;) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        ArchiveDoc d;
        d.id = st.col_int(0);
        d.meta = {st.col_text(1), st.col_text(2), st.col_int(3),  st.col_int(4),
                  st.col_text(5), st.col_text(6), st.col_text(7), st.col_text(8)};
        d.n_tokens = st.col_int(9);
        d.is_complete = st.col_int(10) != 0;
        d.in_session = st.col_int(11) != 0;
        if (d.meta.path.empty() || d.meta.content_hash.size() != 64)
          return bad(path, "document " + std::to_string(d.id) + " lacks a path or hash");
        doc_row[d.id] = a.docs.size();
        a.docs.push_back(std::move(d));
      }
    }
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT doc_id, ordinal, title, level, page "
                                                   "FROM archive_sections ORDER BY doc_id, "
                                                   "ordinal"));
      for (;;) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        auto it = doc_row.find(st.col_int(0));
        if (it == doc_row.end()) return bad(path, "section of an unknown document");
        a.docs[it->second].sections.push_back({static_cast<int32_t>(st.col_int(1)), st.col_text(2),
                                               static_cast<int32_t>(st.col_int(3)),
                                               static_cast<int32_t>(st.col_int(4))});
      }
    }
    std::map<int64_t, size_t> chunk_row;
    {
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt st, db.prepare("SELECT id, doc_id, ordinal, text, token_begin, token_end, "
                              "section_ordinal, page, tokens, embedding, kv, kv_crc FROM "
                              "archive_chunks ORDER BY doc_id, ordinal"));
      for (;;) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        if (!a.has_profile) return bad(path, "chunks without a profile");
        ArchiveChunk c;
        c.id = st.col_int(0);
        c.doc_id = st.col_int(1);
        c.ordinal = static_cast<int32_t>(st.col_int(2));
        c.text = st.col_text(3);
        c.token_begin = st.col_int(4);
        c.token_end = st.col_int(5);
        c.section_ordinal = static_cast<int32_t>(st.col_int(6));
        c.page = static_cast<int32_t>(st.col_int(7));
        const std::string where = "chunk " + std::to_string(c.id);
        auto it = doc_row.find(c.doc_id);
        if (it == doc_row.end()) return bad(path, where + " of an unknown document");
        const int64_t n = c.token_end - c.token_begin;
        if (n < 1 || n > a.profile.entry_tokens) return bad(path, where + ": bad token span");
        const auto tok = st.col_blob(8);
        const auto emb = st.col_blob(9);
        const auto kv = st.col_blob(10);
        if (tok.size() != static_cast<size_t>(n) * 4) return bad(path, where + ": token ids");
        if (emb.size() != static_cast<size_t>(a.profile.emb_dim) * 4)
          return bad(path, where + ": embedding size");
        if (static_cast<int64_t>(kv.size()) != kv_payload_bytes(a.profile, n))
          return bad(path, where + ": K/V size");
        if (crc32(kv) != static_cast<uint32_t>(st.col_int(11)))
          return bad(path, where + ": K/V crc32 mismatch");
        c.tokens = blob_as<int32_t>(tok);
        c.embedding = blob_as<float>(emb);
        c.kv = blob_as<uint16_t>(kv);
        chunk_row[c.id] = a.chunks.size();
        a.docs[it->second].chunk_rows.push_back(a.chunks.size());
        a.chunks.push_back(std::move(c));
      }
    }
    for (const auto& d : a.docs) {
      for (size_t i = 0; i < d.chunk_rows.size(); ++i)
        if (a.chunks[d.chunk_rows[i]].ordinal != static_cast<int32_t>(i))
          return bad(path, "document " + std::to_string(d.id) + ": chunk ordinals have gaps");
    }
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT entry_id, hits, seq FROM "
                                                   "archive_memory ORDER BY seq"));
      for (;;) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        if (chunk_row.count(st.col_int(0)) == 0)
          return bad(path, "memory state names unknown entry " + std::to_string(st.col_int(0)));
        a.memory.push_back({st.col_int(0), static_cast<uint32_t>(st.col_int(1)),
                            static_cast<uint64_t>(st.col_int(2))});
      }
    }
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT ordinal, role, text, citations_json, "
                                                   "created_at FROM archive_messages ORDER BY "
                                                   "ordinal"));
      for (;;) {
        MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        MessageRecord m{static_cast<int32_t>(st.col_int(0)), st.col_text(1), st.col_text(2),
                        st.col_text(3), st.col_int(4)};
        if (m.ordinal != static_cast<int32_t>(a.messages.size()))
          return bad(path, "message ordinals have gaps");
        a.messages.push_back(std::move(m));
      }
    }
    return Status::ok();
  };
  Status st = read_all();
  if (!st.is_ok()) {
    if (st.code() == StatusCode::kCorrupt || st.code() == StatusCode::kUnsupported ||
        st.code() == StatusCode::kNotFound)
      return st;
    return bad(path, st.message());  // missing tables or columns: not our archive
  }
  return a;
}

}  // namespace

// ---- export ----

Status export_session(LibraryStore& store, int64_t session_id, const std::string& archive_path) {
  SessionStore& sessions = store.sessions();
  MEMLONG_ASSIGN_OR_RETURN(SessionRecord session, sessions.get_session(session_id));
  MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> session_docs, sessions.documents(session_id));
  MEMLONG_ASSIGN_OR_RETURN(SessionMemoryState memory, sessions.load_memory_state(session_id));
  MEMLONG_ASSIGN_OR_RETURN(std::vector<MessageRecord> messages, sessions.messages(session_id));
  std::vector<int64_t> doc_ids = session_docs;
  std::optional<ProfileRecord> profile;
  if (session.profile_id != 0) {
    MEMLONG_ASSIGN_OR_RETURN(profile, store.get_profile(session.profile_id));
    std::vector<int64_t> mem_ids;
    for (const auto& e : memory.entries) mem_ids.push_back(e.entry_id);
    MEMLONG_ASSIGN_OR_RETURN(auto mem_entries, store.get_entries(mem_ids));
    for (const auto& e : mem_entries) doc_ids.push_back(e.doc_id);
  }
  std::sort(doc_ids.begin(), doc_ids.end());
  doc_ids.erase(std::unique(doc_ids.begin(), doc_ids.end()), doc_ids.end());

  const std::string tmp = archive_path + ".tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  auto write = [&]() -> Status {
    MEMLONG_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::open(tmp, SqliteDb::Mode::kReadWriteCreate));
    MEMLONG_RETURN_IF_ERROR(
        db.exec("PRAGMA application_id=" + std::to_string(kArchiveApplicationId)));
    MEMLONG_RETURN_IF_ERROR(
        db.exec("PRAGMA user_version=" + std::to_string(kSessionArchiveVersion)));
    Transaction tx(&db);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    MEMLONG_RETURN_IF_ERROR(db.exec(kArchiveSchema));
    if (profile) {
      const auto& p = profile->identity;
      MEMLONG_ASSIGN_OR_RETURN(Stmt st,
                               db.prepare("INSERT INTO archive_profile VALUES (?,?,?,?,?,?,?,?)"));
      MEMLONG_RETURN_IF_ERROR(st.bind(1, p.model_id)
                                  .bind(2, p.retriever_id)
                                  .bind(3, p.memory_layer)
                                  .bind(4, p.entry_tokens)
                                  .bind(5, p.dtype)
                                  .bind(6, p.n_head_kv)
                                  .bind(7, p.head_dim)
                                  .bind(8, p.emb_dim)
                                  .run());
    }
    {
      MEMLONG_ASSIGN_OR_RETURN(Stmt st,
                               db.prepare("INSERT INTO archive_session VALUES (?,?,?,?,?,?)"));
      MEMLONG_RETURN_IF_ERROR(st.bind(1, session.name)
                                  .bind(2, session.created_at)
                                  .bind(3, session.updated_at)
                                  .bind(4, session.settings_json)
                                  .bind(5, session.capacity_tokens)
                                  .bind(6, static_cast<int64_t>(session.next_seq))
                                  .run());
    }
    MEMLONG_ASSIGN_OR_RETURN(Stmt ins_doc, db.prepare("INSERT INTO archive_documents VALUES "
                                                      "(?,?,?,?,?,?,?,?,?,?,?,?)"));
    MEMLONG_ASSIGN_OR_RETURN(Stmt ins_sec,
                             db.prepare("INSERT INTO archive_sections VALUES (?,?,?,?,?)"));
    MEMLONG_ASSIGN_OR_RETURN(Stmt ins_chunk, db.prepare("INSERT INTO archive_chunks VALUES "
                                                        "(?,?,?,?,?,?,?,?,?,?,?,?)"));
    for (int64_t doc_id : doc_ids) {
      MEMLONG_ASSIGN_OR_RETURN(DocumentRecord d, store.get_document(doc_id));
      bool is_complete = false;
      if (profile) {
        MEMLONG_ASSIGN_OR_RETURN(bool stale, store.needs_rebuild(doc_id, profile->id));
        is_complete = !stale;
      }
      const bool in_session = std::binary_search(session_docs.begin(), session_docs.end(), doc_id);
      MEMLONG_RETURN_IF_ERROR(ins_doc.bind(1, d.id)
                                  .bind(2, d.meta.path)
                                  .bind(3, d.meta.content_hash)
                                  .bind(4, d.meta.size_bytes)
                                  .bind(5, d.meta.mtime)
                                  .bind(6, d.meta.title)
                                  .bind(7, d.meta.author)
                                  .bind(8, d.meta.language)
                                  .bind(9, d.meta.format)
                                  .bind(10, d.n_tokens)
                                  .bind(11, static_cast<int64_t>(is_complete))
                                  .bind(12, static_cast<int64_t>(in_session))
                                  .run());
      MEMLONG_RETURN_IF_ERROR(ins_doc.reset());
      MEMLONG_ASSIGN_OR_RETURN(auto secs, store.sections(doc_id));
      for (const auto& s : secs) {
        MEMLONG_RETURN_IF_ERROR(ins_sec.bind(1, doc_id)
                                    .bind(2, s.ordinal)
                                    .bind(3, s.title)
                                    .bind(4, s.level)
                                    .bind(5, s.page)
                                    .run());
        MEMLONG_RETURN_IF_ERROR(ins_sec.reset());
      }
      if (!profile) continue;
      const int64_t one[1] = {doc_id};
      MEMLONG_ASSIGN_OR_RETURN(auto entry_ids,
                               store.list_entries(profile->id, DocSet::of({one[0]})));
      for (int64_t id : entry_ids) {
        const int64_t ids[1] = {id};
        MEMLONG_ASSIGN_OR_RETURN(auto entries, store.get_entries(ids));
        const EntryRecord& e = entries[0];
        MEMLONG_ASSIGN_OR_RETURN(std::vector<uint8_t> kv, store.load_kv_raw(id));
        MEMLONG_RETURN_IF_ERROR(ins_chunk.bind(1, id)
                                    .bind(2, doc_id)
                                    .bind(3, e.ordinal)
                                    .bind(4, e.text)
                                    .bind(5, e.token_begin)
                                    .bind(6, e.token_end)
                                    .bind(7, e.section_ordinal)
                                    .bind(8, e.page)
                                    .bind_blob(9, std::span<const int32_t>(e.tokens))
                                    .bind_blob(10, std::span<const float>(e.embedding))
                                    .bind_blob(11, std::span<const uint8_t>(kv))
                                    .bind(12, static_cast<int64_t>(crc32(kv)))
                                    .run());
        MEMLONG_RETURN_IF_ERROR(ins_chunk.reset());
      }
    }
    MEMLONG_ASSIGN_OR_RETURN(Stmt ins_mem, db.prepare("INSERT INTO archive_memory VALUES (?,?,?)"));
    for (const auto& e : memory.entries) {
      MEMLONG_RETURN_IF_ERROR(ins_mem.bind(1, e.entry_id)
                                  .bind(2, static_cast<int64_t>(e.hits))
                                  .bind(3, static_cast<int64_t>(e.seq))
                                  .run());
      MEMLONG_RETURN_IF_ERROR(ins_mem.reset());
    }
    MEMLONG_ASSIGN_OR_RETURN(Stmt ins_msg,
                             db.prepare("INSERT INTO archive_messages VALUES (?,?,?,?,?)"));
    for (const auto& m : messages) {
      MEMLONG_RETURN_IF_ERROR(ins_msg.bind(1, m.ordinal)
                                  .bind(2, m.role)
                                  .bind(3, m.text)
                                  .bind(4, m.citations_json)
                                  .bind(5, m.created_at)
                                  .run());
      MEMLONG_RETURN_IF_ERROR(ins_msg.reset());
    }
    return tx.commit();  // journal_mode DELETE, synchronous FULL: durable on return
  };
  Status st = write();
  if (!st.is_ok()) {
    fs::remove(tmp, ec);
    return st.with_context("exporting session " + std::to_string(session_id));
  }
  fs::rename(tmp, archive_path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error(archive_path + ": cannot rename the finished archive into place");
  }
  return Status::ok();
}

// ---- import ----

Result<int64_t> import_session(LibraryStore& store, const std::string& archive_path) {
  MEMLONG_ASSIGN_OR_RETURN(Archive a, read_archive(archive_path));
  StoreContext& ctx = *store.ctx_;
  std::lock_guard lock(ctx.writer_mutex);
  IndexDelta delta;
  int64_t new_session = 0;
  auto body = [&](Transaction& tx) -> Status {
    MEMLONG_RETURN_IF_ERROR(tx.status());
    SqliteDb& db = ctx.writer;
    const int64_t now = unix_now();
    ProfileRecord profile;
    if (a.has_profile) {
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt ins, db.prepare("INSERT INTO profiles(identity, model_id, retriever_id, "
                               "memory_layer, entry_tokens, dtype, n_head_kv, head_dim, emb_dim, "
                               "created_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(identity) DO "
                               "NOTHING"));
      const auto& p = a.profile;
      MEMLONG_RETURN_IF_ERROR(ins.bind(1, p.identity())
                                  .bind(2, p.model_id)
                                  .bind(3, p.retriever_id)
                                  .bind(4, p.memory_layer)
                                  .bind(5, p.entry_tokens)
                                  .bind(6, p.dtype)
                                  .bind(7, p.n_head_kv)
                                  .bind(8, p.head_dim)
                                  .bind(9, p.emb_dim)
                                  .bind(10, now)
                                  .run());
      MEMLONG_ASSIGN_OR_RETURN(Stmt sel, db.prepare("SELECT id FROM profiles WHERE identity = ?"));
      sel.bind(1, p.identity());
      MEMLONG_ASSIGN_OR_RETURN(bool row, sel.step());
      if (!row) return internal_error("imported profile vanished");
      profile.id = sel.col_int(0);
      profile.identity = p;
    }
    std::map<int64_t, int64_t> doc_map;    // archive doc id -> target doc id
    std::map<int64_t, int64_t> entry_map;  // archive chunk id -> target chunk id
    for (const ArchiveDoc& d : a.docs) {
      int64_t target = 0;
      bool has_memory = false;
      {
        MEMLONG_ASSIGN_OR_RETURN(
            Stmt st, db.prepare("SELECT d.id, coalesce(m.is_complete, 0) FROM documents d LEFT "
                                "JOIN doc_memory m ON m.doc_id = d.id AND m.profile_id = ?2 "
                                "WHERE d.content_hash = ?1 ORDER BY coalesce(m.is_complete, 0) "
                                "DESC, d.id LIMIT 1"));
        MEMLONG_ASSIGN_OR_RETURN(bool row,
                                 st.bind(1, d.meta.content_hash).bind(2, profile.id).step());
        if (row) {
          target = st.col_int(0);
          has_memory = a.has_profile && st.col_int(1) != 0;
        }
      }
      if (has_memory) {  // reuse its entries when they line up with the archive's
        MEMLONG_ASSIGN_OR_RETURN(
            Stmt st, db.prepare("SELECT id FROM chunks WHERE doc_id = ? AND profile_id = ? ORDER "
                                "BY ordinal"));
        st.bind(1, target).bind(2, profile.id);
        std::vector<int64_t> ids;
        for (;;) {
          MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
          if (!row) break;
          ids.push_back(st.col_int(0));
        }
        if (ids.size() == d.chunk_rows.size()) {
          for (size_t i = 0; i < ids.size(); ++i) entry_map[a.chunks[d.chunk_rows[i]].id] = ids[i];
          doc_map[d.id] = target;
          continue;
        }
      }
      if (target == 0) {
        std::string path = d.meta.path;
        for (int n = 1;; ++n) {
          MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT 1 FROM documents WHERE path = ?"));
          MEMLONG_ASSIGN_OR_RETURN(bool taken, st.bind(1, path).step());
          if (!taken) break;
          path = d.meta.path + " (imported " + std::to_string(n) + ")";
        }
        MEMLONG_ASSIGN_OR_RETURN(
            Stmt ins, db.prepare("INSERT INTO documents(path, content_hash, size_bytes, mtime, "
                                 "title, author, language, format, status, added_at, updated_at) "
                                 "VALUES (?,?,?,?,?,?,?,?,'pending',?,?)"));
        MEMLONG_RETURN_IF_ERROR(ins.bind(1, path)
                                    .bind(2, d.meta.content_hash)
                                    .bind(3, d.meta.size_bytes)
                                    .bind(4, d.meta.mtime)
                                    .bind(5, d.meta.title)
                                    .bind(6, d.meta.author)
                                    .bind(7, d.meta.language)
                                    .bind(8, d.meta.format)
                                    .bind(9, now)
                                    .bind(10, now)
                                    .run());
        target = db.last_insert_id();
        MEMLONG_ASSIGN_OR_RETURN(
            Stmt sec, db.prepare("INSERT INTO sections(doc_id, ordinal, title, level, page) "
                                 "VALUES (?,?,?,?,?)"));
        for (const auto& s : d.sections) {
          MEMLONG_RETURN_IF_ERROR(sec.bind(1, target)
                                      .bind(2, s.ordinal)
                                      .bind(3, s.title)
                                      .bind(4, s.level)
                                      .bind(5, s.page)
                                      .run());
          MEMLONG_RETURN_IF_ERROR(sec.reset());
        }
      }
      doc_map[d.id] = target;
      if (!a.has_profile) continue;
      // Replace whatever partial memory the target has for this profile with the archive's.
      MEMLONG_ASSIGN_OR_RETURN(
          auto old_ids,
          entry_ids_where(ctx, "c.doc_id = ?1 AND c.profile_id = ?2", target, profile.id));
      delta.removes.insert(delta.removes.end(), old_ids.begin(), old_ids.end());
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt del, db.prepare("DELETE FROM chunks WHERE doc_id = ? AND profile_id = ?"));
      MEMLONG_RETURN_IF_ERROR(del.bind(1, target).bind(2, profile.id).run());
      std::vector<ChunkInput> batch;
      batch.reserve(d.chunk_rows.size());
      for (size_t row : d.chunk_rows) {
        const ArchiveChunk& c = a.chunks[row];
        const size_t half = c.kv.size() / 2;
        ChunkInput in;
        in.ordinal = c.ordinal;
        in.text = c.text;
        in.token_begin = c.token_begin;
        in.token_end = c.token_end;
        in.tokens = c.tokens;
        in.section_ordinal = c.section_ordinal;
        in.page = c.page;
        in.embedding = c.embedding;
        in.k_16 = std::span<const uint16_t>(c.kv.data(), half);
        in.v_16 = std::span<const uint16_t>(c.kv.data() + half, half);
        batch.push_back(std::move(in));
      }
      MEMLONG_RETURN_IF_ERROR(validate_chunks(profile.identity, batch, 0));
      if (!batch.empty()) {
        MEMLONG_ASSIGN_OR_RETURN(auto ids, write_chunks_in_tx(ctx, profile, target, batch, &delta));
        for (size_t i = 0; i < ids.size(); ++i) entry_map[a.chunks[d.chunk_rows[i]].id] = ids[i];
      }
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt mem, db.prepare("INSERT INTO doc_memory(doc_id, profile_id, is_complete, n_tokens, "
                               "updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(doc_id, "
                               "profile_id) DO UPDATE SET is_complete = ?3, n_tokens = ?4, "
                               "updated_at = ?5"));
      MEMLONG_RETURN_IF_ERROR(mem.bind(1, target)
                                  .bind(2, profile.id)
                                  .bind(3, static_cast<int64_t>(d.is_complete))
                                  .bind(4, d.n_tokens)
                                  .bind(5, now)
                                  .run());
      if (d.is_complete) {
        MEMLONG_ASSIGN_OR_RETURN(
            Stmt upd, db.prepare("UPDATE documents SET status = 'ready', error = '', n_tokens = ? "
                                 "WHERE id = ?"));
        MEMLONG_RETURN_IF_ERROR(upd.bind(1, d.n_tokens).bind(2, target).run());
      }
    }
    {
      MEMLONG_ASSIGN_OR_RETURN(
          Stmt ins, db.prepare("INSERT INTO sessions(name, created_at, updated_at, settings_json, "
                               "capacity_tokens, profile_id, next_seq) VALUES (?,?,?,?,?,?,?)"));
      ins.bind(1, a.session.name)
          .bind(2, a.session.created_at)
          .bind(3, now)
          .bind(4, a.session.settings_json)
          .bind(5, a.session.capacity_tokens);
      if (a.has_profile)
        ins.bind(6, profile.id);
      else
        ins.bind_null(6);
      MEMLONG_RETURN_IF_ERROR(ins.bind(7, static_cast<int64_t>(a.session.next_seq)).run());
      new_session = db.last_insert_id();
    }
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt sd,
        db.prepare("INSERT OR IGNORE INTO session_documents(session_id, doc_id) VALUES (?,?)"));
    for (const ArchiveDoc& d : a.docs) {
      if (!d.in_session) continue;
      MEMLONG_RETURN_IF_ERROR(sd.bind(1, new_session).bind(2, doc_map[d.id]).run());
      MEMLONG_RETURN_IF_ERROR(sd.reset());
    }
    MEMLONG_ASSIGN_OR_RETURN(
        Stmt sm,
        db.prepare("INSERT INTO session_memory(session_id, entry_id, hits, seq) VALUES (?,?,?,?)"));
    for (const auto& e : a.memory) {
      MEMLONG_RETURN_IF_ERROR(sm.bind(1, new_session)
                                  .bind(2, entry_map.at(e.entry_id))
                                  .bind(3, static_cast<int64_t>(e.hits))
                                  .bind(4, static_cast<int64_t>(e.seq))
                                  .run());
      MEMLONG_RETURN_IF_ERROR(sm.reset());
    }
    MEMLONG_ASSIGN_OR_RETURN(Stmt msg,
                             db.prepare("INSERT INTO messages(session_id, ordinal, role, text, "
                                        "citations_json, created_at) VALUES (?,?,?,?,?,?)"));
    for (const auto& m : a.messages) {
      MEMLONG_RETURN_IF_ERROR(msg.bind(1, new_session)
                                  .bind(2, m.ordinal)
                                  .bind(3, m.role)
                                  .bind(4, m.text)
                                  .bind(5, m.citations_json)
                                  .bind(6, m.created_at)
                                  .run());
      MEMLONG_RETURN_IF_ERROR(msg.reset());
    }
    return tx.commit();
  };
  Status st;
  {
    Transaction tx(&ctx.writer);
    st = body(tx);
  }
  if (!st.is_ok()) {
    (void)ctx.kv->rollback();
    return st.with_context("importing " + archive_path);
  }
  ctx.kv->mark_committed();
  apply_index_delta(ctx, delta);
  return new_session;
}

}  // namespace memlong
