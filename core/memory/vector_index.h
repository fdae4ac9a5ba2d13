// Inner-product search over the memory bank's entry embeddings (MEMLONG.md §4).
//   FlatIndex: the embeddings themselves, one dense row per entry ([n, dim] f32, rows moved on
//              removal), and exact top-k search. The source of truth for scores.
//   HnswIndex: the adapter around hnswlib's HierarchicalNSW over InnerProductSpace; the only
//              place that calls hnswlib. hnswlib throws std::runtime_error (and std::bad_alloc);
//              every call here catches and returns a Status.
// Labels are the bank's seqs. Both searches skip the labels in `excluded_sorted` (ascending) and
// order hits by score descending, equal scores by the lower label.
// Thread-safety: neither is thread-safe. hnswlib in particular must not be searched while a point
// is being added; the bank is single-threaded (memory_bank.h), so this never happens.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/status.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
class InnerProductSpace;
}  // namespace hnswlib

namespace memlong {

struct IndexHit {
  uint64_t label = 0;
  float score = 0.0f;  // inner product with the query
};

// True when a ranks before b: higher score, then lower label. NaN scores rank last.
bool hit_before(const IndexHit& a, const IndexHit& b);

class FlatIndex {
 public:
  explicit FlatIndex(int32_t dim) : dim_(dim) {}

  int32_t dim() const { return dim_; }
  size_t size() const { return labels_.size(); }
  int64_t memory_bytes() const { return static_cast<int64_t>(vectors_.size() * sizeof(float)); }

  // vec has dim floats; label is new (asserted). May throw std::bad_alloc (the bank reserves
  // first, see reserve()).
  void add(uint64_t label, std::span<const float> vec);
  void reserve(size_t n);
  void remove(uint64_t label);  // label must be held (asserted)
  void clear();
  // The stored vector, or nullptr for an unknown label.
  const float* vector(uint64_t label) const;
  // Label held in row i, i < size() (rows are in no particular order).
  uint64_t label_at(size_t i) const { return labels_[i]; }

  // Exact top-min(k, eligible) by inner product; query has dim floats.
  std::vector<IndexHit> search(std::span<const float> query, size_t k,
                               std::span<const uint64_t> excluded_sorted) const;

 private:
  int32_t dim_;
  std::vector<float> vectors_;  // [size(), dim]
  std::vector<uint64_t> labels_;
  std::unordered_map<uint64_t, size_t> row_of_;
};

class HnswIndex {
 public:
  // Graph parameters: M = 16 and ef_construction = 200 are hnswlib's defaults, which
  // bench/memory_bench.cpp measures recall@10 with them on random unit vectors.
  static constexpr size_t kM = 16;
  static constexpr size_t kEfConstruction = 200;

  // Errors: OutOfMemory when hnswlib cannot allocate.
  static Result<std::unique_ptr<HnswIndex>> create(int32_t dim, size_t initial_capacity);
  ~HnswIndex();

  size_t n_live() const { return n_live_; }
  size_t n_deleted() const { return n_deleted_; }
  // Approximate bytes held by the graph and its copy of the vectors.
  int64_t memory_bytes() const;

  // Adds a point (grows the index as needed). Errors: OutOfMemory, Internal.
  Status add(uint64_t label, const float* vec);
  // Marks a point deleted (it stays in the graph as a waypoint). Errors: NotFound, Internal.
  Status remove(uint64_t label);
  // Up to k + excluded_sorted.size() candidates from the graph with ef = max(ef_search, that
  // count), minus the excluded labels, best first. Scores are hnswlib's (1 - distance).
  Result<std::vector<IndexHit>> search(std::span<const float> query, size_t k, size_t ef_search,
                                       std::span<const uint64_t> excluded_sorted);

  // Writes the graph in hnswlib's own format to `path` (no header or checksum: the caller wraps
  // it, see core/store/hnsw_index.h). Errors: IoError.
  Status save(const std::string& path) const;
  // Loads a graph written by save() for vectors of `dim`. hnswlib checks little, so only load
  // bytes whose checksum the caller verified. Errors: Corrupt (hnswlib rejected the file),
  // OutOfMemory.
  static Result<std::unique_ptr<HnswIndex>> load(const std::string& path, int32_t dim);

 private:
  HnswIndex() = default;
  int32_t dim_ = 0;
  size_t n_live_ = 0;
  size_t n_deleted_ = 0;
  std::unique_ptr<hnswlib::InnerProductSpace> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
};

}  // namespace memlong
