// The library database's schema (library.sqlite) and its ordered migrations.
// PRAGMA user_version holds the schema version; migrate() applies kMigrations[v] for every
// version v from the file's up to kSchemaVersion, each in its own transaction together with the
// user_version bump, so a crash mid-migration leaves the previous version intact.
//   v1: profiles, documents, sections, chunks, memory_entries, doc_memory, kv_state,
//       index_watermarks
//   v2: sessions, session_documents, session_memory, messages
//   v3: chunks_fts (FTS5, external content = chunks) + triggers, backfilled from existing chunks
// Thread-safety: plain functions on one connection.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/common/status.h"

namespace memlong {

class SqliteDb;

inline constexpr int32_t kSchemaVersion = 3;
// PRAGMA application_id of a library database ("MLLB"): tells a library from any other SQLite file.
inline constexpr int32_t kLibraryApplicationId = 0x4D4C4C42;

// The SQL of migration to version v (1..kSchemaVersion); tests build old databases from these.
std::string_view migration_sql(int32_t to_version);

// Brings `db` to kSchemaVersion. Errors: Unsupported when the file is newer than this build,
// Corrupt when its application_id is not a library's, and SQLite errors.
Status migrate(SqliteDb& db);

}  // namespace memlong
