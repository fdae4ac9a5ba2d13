// Session archive: one saved session as ONE portable file (a SQLite database with its own small
// schema, see session_archive.cpp): the session, its messages, the metadata, sections and chunks
// of its documents, their memory entries of the session's profile with embeddings and K/V bytes,
// and the profile identity. Import merges it into another library: documents are matched by
// content_hash (an existing document with complete memory for the same profile is reused),
// everything else gets new ids, K/V is appended to the target's kv.dat.
//
// The archive is hostile input: magic (application_id), format version, integrity_check, row
// counts and every blob size are checked before anything is written to the target, and the
// import runs in one transaction of the target, so a failed import leaves it unchanged (K/V bytes
// appended before the failure lie past the committed mark and are truncated on next open).
// Thread-safety: as LibraryStore (writes go through its writer connection).
#pragma once

#include <cstdint>
#include <string>

#include "core/common/status.h"

namespace memlong {

class LibraryStore;

inline constexpr int32_t kSessionArchiveVersion = 1;

// Writes session `session_id` of `store` to `archive_path` (temp file + rename).
// Errors: NotFound (session), IoError, Corrupt (a K/V record failed its crc).
Status export_session(LibraryStore& store, int64_t session_id, const std::string& archive_path);

// Imports the archive into `store`; returns the new session's id. Errors: NotFound, Corrupt (not
// an archive, truncated, bad sizes), Unsupported (newer archive version), InvalidArgument
// (profile shape that cannot be stored), IoError.
Result<int64_t> import_session(LibraryStore& store, const std::string& archive_path);

}  // namespace memlong
