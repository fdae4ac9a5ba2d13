// KvFile: kv.dat, the append-only file of memory entries' K/V payloads (issue 4, "Store").
//
// Layout (little-endian):
//   header, 64 bytes: magic "MLKVDAT\0" | u32 version (1) | u32 header bytes (64) |
//                     char[32] file id (hex; the id kv_state holds in SQLite) | 12 reserved |
//                     u32 crc32 of the first 60 bytes
//   records, back to back from offset 64, each:
//     u32 magic "KVR1" | u32 payload bytes | u32 crc32 of the payload | u32 n_tokens | payload
//   payload: K then V, each [n_tokens, n_head_kv, head_dim] as 16-bit values (the profile's
//   dtype). The database keeps each entry's record offset, payload bytes and crc.
//
// Invariants:
//  1. committed() is the length SQLite's kv_state records; every byte below it was fsync'ed
//     before the transaction that raised the mark committed.
//  2. end() >= committed(); bytes in [committed(), end()) belong to an open transaction only,
//     and rollback() / the next open() remove them.
//  3. The mapping covers [0, mapped size) of the current file; it is replaced (remap, install of
//     a compacted file) only under the exclusive lock, and read only under the shared lock.
// Thread-safety: append/sync/mark_committed/rollback from one writer thread at a time (the
// store's writer mutex). read_record() may be called from any thread concurrently with appends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace memlong {

class KvFile {
 public:
  static constexpr int64_t kHeaderBytes = 64;
  static constexpr int64_t kRecordHeaderBytes = 16;
  static constexpr uint32_t kVersion = 1;

  struct RecordInput {
    std::span<const uint8_t> payload;
    uint32_t crc = 0;  // crc32 of payload
    uint32_t n_tokens = 0;
  };
  struct RecordRef {  // where a record lives (the database's copy)
    int64_t offset = 0;
    int64_t payload_bytes = 0;
    uint32_t crc = 0;
  };

  // Creates `path` with a header carrying `file_id` (temp file + fsync + rename).
  static Status create(const std::string& path, const std::string& file_id);
  // Reads the file id from the header of `path`. Errors: NotFound, Corrupt (magic, version, crc).
  static Result<std::string> read_file_id(const std::string& path);
  // Opens `path` (header must carry `file_id`), then truncates it to `committed_bytes` when it is
  // longer (orphans of a crashed transaction); *truncated gets the bytes removed. A file shorter
  // than committed_bytes opens too: records past its end read as Corrupt.
  static Result<std::unique_ptr<KvFile>> open(const std::string& path, const std::string& file_id,
                                              int64_t committed_bytes, int64_t* truncated);
  ~KvFile();

  const std::string& path() const { return path_; }
  const std::string& file_id() const { return file_id_; }
  int64_t committed() const { return committed_; }
  int64_t end() const { return end_; }
  int64_t file_size() const { return file_size_; }

  // Writer: appends records at end() in one write; returns their offsets. Errors: IoError.
  Result<std::vector<int64_t>> append(std::span<const RecordInput> records);
  Status sync();          // fdatasync
  void mark_committed();  // committed() = end(), after the SQLite commit
  Status rollback();      // truncates back to committed()

  // Reader: checks that `ref` lies inside the file, that its record header matches (magic,
  // bytes, crc) and that the payload's crc32 equals ref.crc, then calls use(payload) under the
  // shared lock. Errors: Corrupt (naming the offset and what differs), IoError (remap).
  Status read_record(const RecordRef& ref,
                     const std::function<void(std::span<const uint8_t>)>& use);

  // Compaction: copies `records` (live records, any order) to a new file at `tmp_path` with
  // `new_file_id`, fsync'ed; returns each record's new offset (same order) and the new length.
  Result<std::pair<std::vector<int64_t>, int64_t>> write_compacted(
      const std::string& tmp_path, const std::string& new_file_id,
      std::span<const RecordRef> records);
  // Exclusive lock for install_compacted (the store holds it across its commit).
  std::unique_lock<std::shared_mutex> lock_exclusive() {
    return std::unique_lock<std::shared_mutex>(map_mutex_);
  }
  // Renames `tmp_path` over path(), fsyncs the folder, reopens and remaps. Caller holds
  // lock_exclusive(). Errors: IoError (the old file stays in use).
  Status install_compacted_locked(const std::string& tmp_path, const std::string& new_file_id,
                                  int64_t new_length);

 private:
  KvFile() = default;
  Status remap_locked();  // maps the whole current file
  void unmap_locked();

  std::string path_;
  std::string file_id_;
  int fd_ = -1;
  int64_t committed_ = 0;
  int64_t end_ = 0;
  int64_t file_size_ = 0;
  std::shared_mutex map_mutex_;
  const uint8_t* map_ = nullptr;
  size_t map_bytes_ = 0;
};

// A fresh random 32-character hex id for a kv.dat.
std::string new_kv_file_id();

}  // namespace memlong
