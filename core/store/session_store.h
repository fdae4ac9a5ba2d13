// SessionStore: saved memory sessions of a library (issue 4, "Saved memory sessions", storage
// side): a session's settings, the documents it reads, its memory state (which entries its
// MemoryBank holds, with the bank's hits and seq counters) and its conversation.
//
// Invariants:
//  1. A session's memory rows reference entries of the session's profile only; deleting a
//     document or its memory removes the rows that reference it (cascade).
//  2. Message ordinals of a session are 0..n-1 in append order.
//  3. fork_session() copies documents, memory state and messages in one transaction; the two
//     sessions share nothing afterwards (entries are shared read-only rows of the library).
//
// Thread-safety: owned by LibraryStore and safe to use from any thread (writes go through the
// store's writer connection, reads through its reader connection). Results are plain values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace memlong {

struct StoreContext;

struct SessionRecord {
  int64_t id = 0;
  std::string name;
  int64_t created_at = 0;  // seconds since the epoch
  int64_t updated_at = 0;
  std::string settings_json;    // opaque to the store ("{}" by default)
  int64_t capacity_tokens = 0;  // the MemoryBank's C
  int64_t profile_id = 0;       // 0: not bound to a profile yet
  uint64_t next_seq = 0;        // the bank's next_seq at the last save_memory_state()
};

// One entry held by a session's MemoryBank.
struct SessionMemoryEntry {
  int64_t entry_id = 0;  // LibraryStore entry (chunk) id
  uint32_t hits = 0;
  uint64_t seq = 0;
};

struct SessionMemoryState {
  uint64_t next_seq = 0;
  std::vector<SessionMemoryEntry> entries;  // ascending seq
};

struct MessageRecord {
  int32_t ordinal = 0;  // assigned by append_message
  std::string role;     // "user", "assistant", "system"
  std::string text;
  std::string citations_json;  // "[]" when none
  int64_t created_at = 0;      // assigned by append_message when 0
};

class SessionStore {
 public:
  explicit SessionStore(StoreContext* ctx) : ctx_(ctx) {}

  // Errors: InvalidArgument (empty name, capacity <= 0, unknown profile).
  Result<int64_t> create_session(const std::string& name, int64_t profile_id,
                                 int64_t capacity_tokens, const std::string& settings_json = "{}");
  Result<std::vector<SessionRecord>> list_sessions();     // most recently updated first
  Result<SessionRecord> get_session(int64_t session_id);  // NotFound
  Status rename_session(int64_t session_id, const std::string& name);
  Status set_settings(int64_t session_id, const std::string& settings_json);
  Status delete_session(int64_t session_id);  // cascades; NotFound
  // Copies documents, memory state and conversation into a new session (invariant 3).
  Result<int64_t> fork_session(int64_t session_id, const std::string& new_name);

  Status set_documents(int64_t session_id, std::span<const int64_t> doc_ids);
  Result<std::vector<int64_t>> documents(int64_t session_id);  // ascending id

  // Replaces the session's memory state (one transaction). Entries must exist and belong to the
  // session's profile (InvalidArgument otherwise).
  Status save_memory_state(int64_t session_id, const SessionMemoryState& state);
  Result<SessionMemoryState> load_memory_state(int64_t session_id);

  // Appends a message; returns its ordinal.
  Result<int32_t> append_message(int64_t session_id, const MessageRecord& message);
  Result<std::vector<MessageRecord>> messages(int64_t session_id);  // by ordinal

 private:
  StoreContext* ctx_;  // not owned; outlives this (owned by the same LibraryStore)
};

}  // namespace memlong
