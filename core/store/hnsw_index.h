// EntryVectorIndex: one profile's memory-entry embeddings in RAM for search (issue 4, "Store"),
// and the persisted hnswlib graph beside the database (`<dir>/index-<profile>.hnsw`).
//
// The embeddings in SQLite are the source of truth. This holds a dense copy ([n, dim] f32 with
// the entry and document id of each row) for exact search, plus, once the profile holds more
// than exact_search_max entries, an hnswlib graph (core/memory/vector_index.h's HnswIndex; labels
// are entry ids) that is saved to and loaded from the .hnsw file.
//
// .hnsw file, little-endian: 64-byte header
//   magic "MLHNSW\0\0" | u32 version (1) | u32 dim | i64 profile id | i64 n_entries |
//   i64 max_entry_id | i64 ids_sum | u64 payload bytes | u32 payload crc32 | u32 header crc32
// then hnswlib's own serialisation (the payload). The same watermark (n_entries, max_entry_id,
// ids_sum, payload crc) is written to SQLite's index_watermarks after the file is renamed into
// place. A file is used only when header, checksums and watermark row agree, and when the live
// entries with id <= max_entry_id are exactly n_entries with that ids_sum; entries added after
// the save (higher ids, ids are never reused) are then inserted. Anything else: rebuild.
//
// Invariants:
//  1. Rows of the flat copy and the live labels of the graph (when present) are the same set.
//  2. Search results are sorted by score descending, ties by lower entry id.
// Thread-safety: search() takes the shared lock (the graph search also a small mutex, since
// hnswlib's ef is a member); add/remove/build take the exclusive lock, so no search runs during
// an insert.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/status.h"
#include "core/store/library_store.h"

namespace memlong {

class HnswIndex;

struct IndexWatermark {
  int64_t n_entries = 0;
  int64_t max_entry_id = 0;
  int64_t ids_sum = 0;
  uint32_t payload_crc = 0;
  bool operator==(const IndexWatermark&) const = default;
};

class EntryVectorIndex {
 public:
  EntryVectorIndex(int64_t profile_id, int32_t dim);
  ~EntryVectorIndex();

  int64_t profile_id() const { return profile_id_; }
  int32_t dim() const { return dim_; }
  int64_t size() const;
  IndexState state() const;
  bool is_dirty() const;  // the graph changed since it was loaded or saved

  // Adds rows (exclusive lock); with a graph, also to the graph. embeddings is [n, dim].
  Status add(std::span<const int64_t> entry_ids, std::span<const int64_t> doc_ids,
             std::span<const float> embeddings);
  // Removes the rows of these entries (unknown ids are ignored); marks them deleted in the graph.
  void remove(std::span<const int64_t> entry_ids);

  // Ensures a graph exists: loads `path` when it matches `watermark` (see above), else builds one
  // from the rows. `watermark` is the SQLite row, or nullptr when there is none.
  Status ensure_graph(const std::string& path, const IndexWatermark* watermark);
  bool has_graph() const;

  // Top-k by inner product among rows whose doc is in `docs`; see library_store.h search_vectors.
  Result<std::vector<VectorHit>> search(std::span<const float> query, int32_t k, const DocSet& docs,
                                        int64_t exact_search_max, int32_t ef_search);

  // Writes the graph to `path` (temp + fsync + rename); returns the watermark to store.
  // Errors: IoError; InvalidArgument when there is no graph.
  Result<IndexWatermark> save(const std::string& path);

 private:
  std::vector<VectorHit> exact_locked(std::span<const float> query, size_t k,
                                      const std::vector<int64_t>* docs_sorted) const;
  IndexWatermark current_watermark_locked() const;
  Status build_graph_locked();

  int64_t profile_id_;
  int32_t dim_;
  mutable std::shared_mutex mutex_;
  std::mutex graph_search_mutex_;  // hnswlib's setEf + search
  std::vector<int64_t> entry_ids_;
  std::vector<int64_t> doc_ids_;
  std::vector<float> vectors_;  // [rows, dim]
  std::unordered_map<int64_t, size_t> row_of_;
  std::unique_ptr<HnswIndex> graph_;
  bool is_dirty_ = false;
  IndexState state_;
};

// File helpers, exposed for tests.
Status write_hnsw_file(const std::string& path, int64_t profile_id, int32_t dim,
                       const HnswIndex& graph, IndexWatermark* watermark);
Result<std::unique_ptr<HnswIndex>> read_hnsw_file(const std::string& path, int64_t profile_id,
                                                  int32_t dim, IndexWatermark* watermark);

}  // namespace memlong
