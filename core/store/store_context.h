// StoreContext: the state a LibraryStore shares with SessionStore and the session archive
// (internal to core/store; not a public API).
//
// Lock order (never take an earlier lock while holding a later one):
//   writer_mutex -> kv_generation (shared or exclusive) -> indexes_mutex -> reader_mutex ->
//   an EntryVectorIndex's lock -> KvFile's map lock.
// writer_mutex guards the writer connection and every KvFile append/commit/rollback.
// kv_generation is held shared by K/V readers across "read offsets from SQLite, read records"
// and exclusively by compact() across "commit new offsets, install the new file".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "core/store/hnsw_index.h"
#include "core/store/kv_file.h"
#include "core/store/library_store.h"
#include "core/store/sqlite_db.h"

namespace memlong {

// Index changes made inside a transaction, applied to the loaded indexes after it commits.
struct IndexDelta {
  struct Add {
    int64_t profile_id;
    int64_t entry_id;
    int64_t doc_id;
    std::vector<float> embedding;
  };
  std::vector<Add> adds;
  std::vector<int64_t> removes;  // entry ids (any profile)
};

// The flock'ed library.lock (one process per library). Declared first in StoreContext, so it is
// released last, after the connections and the kv.dat mapping are closed.
struct LibraryLock {
  int fd = -1;
  LibraryLock() = default;
  ~LibraryLock();
  LibraryLock(const LibraryLock&) = delete;
  LibraryLock& operator=(const LibraryLock&) = delete;
};

struct StoreContext {
  LibraryLock lock;
  std::string dir;
  StoreOptions options;

  std::mutex writer_mutex;
  SqliteDb writer;
  std::shared_mutex kv_generation;
  std::mutex reader_mutex;
  SqliteDb reader;
  std::unique_ptr<KvFile> kv;

  mutable std::mutex indexes_mutex;
  std::map<int64_t, std::shared_ptr<EntryVectorIndex>> indexes;  // loaded profiles

  std::mutex profiles_mutex;
  std::map<int64_t, ProfileRecord> profiles;  // cache; rows never change once written

  StoreOpenReport report;

  StoreContext() = default;
  StoreContext(const StoreContext&) = delete;
  StoreContext& operator=(const StoreContext&) = delete;

  std::string index_path(int64_t profile_id) const {
    return dir + "/index-" + std::to_string(profile_id) + ".hnsw";
  }
};

int64_t unix_now();

// The profile's record (cached). Errors: NotFound. Takes reader_mutex: do not hold it.
Result<ProfileRecord> load_profile(StoreContext& ctx, int64_t profile_id);

// Bytes of one entry's K/V payload: 2 (K, V) * n_tokens * n_head_kv * head_dim * 2 bytes.
int64_t kv_payload_bytes(const ProfileIdentity& p, int64_t n_tokens);

// Checks a batch against the profile (sizes, spans, ordinals from first_ordinal). Pure.
Status validate_chunks(const ProfileIdentity& p, std::span<const ChunkInput> batch,
                       int32_t first_ordinal);

// Writer mutex held and a transaction open on ctx.writer: inserts the chunks and their entries,
// appends their K/V to kv.dat, fsyncs it and raises kv_state's mark to kv.end(). Records the
// index additions in *delta. After the transaction: kv->mark_committed() on commit, or
// kv->rollback() on failure. Returns the entry ids.
Result<std::vector<int64_t>> write_chunks_in_tx(StoreContext& ctx, const ProfileRecord& profile,
                                                int64_t doc_id, std::span<const ChunkInput> batch,
                                                IndexDelta* delta);

// Entry ids of chunks matching `where` (SQL on table alias c, with ?1 and ?2 bound to a and b),
// on the writer connection; used before deletes to update indexes.
Result<std::vector<int64_t>> entry_ids_where(StoreContext& ctx, const std::string& where, int64_t a,
                                             int64_t b);

// Applies a committed delta to the loaded indexes.
void apply_index_delta(StoreContext& ctx, const IndexDelta& delta);

}  // namespace memlong
