// Library schema and migrations (see schema.h).
// Rules for a new migration: append to kMigrations, never edit a released one; bump
// kSchemaVersion; make it work on a database holding data (backfill in SQL).
#include "core/store/schema.h"

#include <string>

#include "core/store/sqlite_db.h"

namespace memlong {

namespace {

constexpr std::string_view kV1 = R"sql(
CREATE TABLE profiles(
  id INTEGER PRIMARY KEY,
  identity TEXT NOT NULL UNIQUE,
  model_id TEXT NOT NULL,
  retriever_id TEXT NOT NULL,
  memory_layer INTEGER NOT NULL,
  entry_tokens INTEGER NOT NULL,
  dtype TEXT NOT NULL CHECK (dtype IN ('bf16', 'f16')),
  n_head_kv INTEGER NOT NULL,
  head_dim INTEGER NOT NULL,
  emb_dim INTEGER NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE documents(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  content_hash TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT '',
  format TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'ingesting', 'ready', 'failed')),
  error TEXT NOT NULL DEFAULT '',
  n_tokens INTEGER NOT NULL DEFAULT 0,
  added_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE INDEX documents_by_hash ON documents(content_hash);
CREATE TABLE sections(
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  title TEXT NOT NULL,
  level INTEGER NOT NULL,
  page INTEGER NOT NULL,
  PRIMARY KEY (doc_id, ordinal)) WITHOUT ROWID;
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  text TEXT NOT NULL,
  token_begin INTEGER NOT NULL,
  token_end INTEGER NOT NULL,
  section_ordinal INTEGER NOT NULL,
  page INTEGER NOT NULL,
  tokens BLOB NOT NULL,
  UNIQUE (doc_id, profile_id, ordinal));
CREATE INDEX chunks_by_profile ON chunks(profile_id, doc_id);
CREATE TABLE memory_entries(
  chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
  profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  n_tokens INTEGER NOT NULL,
  kv_offset INTEGER NOT NULL,
  kv_bytes INTEGER NOT NULL,
  kv_crc INTEGER NOT NULL,
  embedding BLOB NOT NULL);
CREATE INDEX memory_entries_by_profile ON memory_entries(profile_id, doc_id);
CREATE INDEX memory_entries_by_doc ON memory_entries(doc_id);
CREATE TABLE doc_memory(
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  profile_id INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
  is_complete INTEGER NOT NULL DEFAULT 0,
  n_tokens INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (doc_id, profile_id)) WITHOUT ROWID;
CREATE INDEX doc_memory_by_profile ON doc_memory(profile_id);
CREATE TABLE kv_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  committed_bytes INTEGER NOT NULL,
  file_id TEXT NOT NULL);
CREATE TABLE index_watermarks(
  profile_id INTEGER PRIMARY KEY REFERENCES profiles(id) ON DELETE CASCADE,
  n_entries INTEGER NOT NULL,
  max_entry_id INTEGER NOT NULL,
  ids_sum INTEGER NOT NULL,
  payload_crc INTEGER NOT NULL,
  saved_at INTEGER NOT NULL);
)sql";

constexpr std::string_view kV2 = R"sql(
CREATE TABLE sessions(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  settings_json TEXT NOT NULL DEFAULT '{}',
  capacity_tokens INTEGER NOT NULL,
  profile_id INTEGER REFERENCES profiles(id) ON DELETE SET NULL,
  next_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE session_documents(
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  PRIMARY KEY (session_id, doc_id)) WITHOUT ROWID;
CREATE INDEX session_documents_by_doc ON session_documents(doc_id);
CREATE TABLE session_memory(
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  entry_id INTEGER NOT NULL REFERENCES memory_entries(chunk_id) ON DELETE CASCADE,
  hits INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (session_id, entry_id)) WITHOUT ROWID;
CREATE INDEX session_memory_by_entry ON session_memory(entry_id);
CREATE TABLE messages(
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  role TEXT NOT NULL,
  text TEXT NOT NULL,
  citations_json TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, ordinal)) WITHOUT ROWID;
)sql";

// unicode61 with remove_diacritics 2: case- and accent-insensitive matching for Latin scripts.
constexpr std::string_view kV3 = R"sql(
CREATE VIRTUAL TABLE chunks_fts USING fts5(
  text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
)sql";

constexpr std::string_view kMigrations[] = {kV1, kV2, kV3};
static_assert(std::size(kMigrations) == kSchemaVersion);

}  // namespace

std::string_view migration_sql(int32_t to_version) {
  MEMLONG_ASSERT(to_version >= 1 && to_version <= kSchemaVersion);
  return kMigrations[to_version - 1];
}

Status migrate(SqliteDb& db) {
  MEMLONG_ASSIGN_OR_RETURN(int64_t version, db.query_int("PRAGMA user_version"));
  MEMLONG_ASSIGN_OR_RETURN(int64_t app_id, db.query_int("PRAGMA application_id"));
  if (version > kSchemaVersion) {
    return unsupported(db.path() + ": library schema version " + std::to_string(version) +
                       " is newer than this build knows (" + std::to_string(kSchemaVersion) +
                       "); update MemLong Desktop to open it");
  }
  if (version < 0 || (version > 0 && app_id != kLibraryApplicationId)) {
    return corrupt(db.path() + ": not a MemLong library database (application_id " +
                   std::to_string(app_id) + ", user_version " + std::to_string(version) + ")");
  }
  if (version == 0) {
    MEMLONG_ASSIGN_OR_RETURN(int64_t n_tables, db.query_int("SELECT count(*) FROM sqlite_schema"));
    if (n_tables != 0)
      return corrupt(db.path() + ": not a MemLong library database (has " +
                     std::to_string(n_tables) + " foreign schema objects)");
  }
  for (int32_t v = static_cast<int32_t>(version) + 1; v <= kSchemaVersion; ++v) {
    Transaction tx(&db);
    MEMLONG_RETURN_IF_ERROR(tx.status());
    Status st = db.exec(migration_sql(v));
    if (!st.is_ok())
      return st.with_context("migrating the library to schema v" + std::to_string(v));
    MEMLONG_RETURN_IF_ERROR(
        db.exec("PRAGMA application_id=" + std::to_string(kLibraryApplicationId)));
    MEMLONG_RETURN_IF_ERROR(db.exec("PRAGMA user_version=" + std::to_string(v)));
    MEMLONG_RETURN_IF_ERROR(tx.commit());
  }
  return Status::ok();
}

}  // namespace memlong
