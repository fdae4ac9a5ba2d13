// FlatIndex and HnswIndex (see vector_index.h).
// Invariants:
//  1. FlatIndex: labels_.size() * dim_ == vectors_.size(); row_of_[labels_[i]] == i for every row.
//  2. HnswIndex: n_live_ + n_deleted_ == the points in the graph; every live label was added once
//     and not removed. Labels are never re-added (the bank never reuses a seq).
//  3. No exception from hnswlib or from allocation leaves this file: each hnswlib call sits in a
//     try block that turns it into a Status.
#include "core/memory/vector_index.h"

// hnswlib 0.6.2 (Debian) prefetches through datal[j + 1] in its SSE path, reading 4 bytes past a
// full upper-level link list (fixed upstream later). The value only feeds _mm_prefetch, but it is
// an out-of-bounds read that AddressSanitizer rightly reports, so sanitizer builds use hnswlib's
// portable path (same results, slower distances); other builds keep the SSE/AVX path.
#if defined(__SANITIZE_ADDRESS__) && !defined(NO_MANUAL_VECTORIZATION)
#define NO_MANUAL_VECTORIZATION
#endif
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <queue>
#include <stdexcept>
#include <string>

#include "core/backend/vec_f32.h"

namespace memlong {

namespace {

bool is_excluded(std::span<const uint64_t> excluded_sorted, uint64_t label) {
  return !excluded_sorted.empty() &&
         std::binary_search(excluded_sorted.begin(), excluded_sorted.end(), label);
}

float rank_score(float s) {
  return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s;
}

}  // namespace

bool hit_before(const IndexHit& a, const IndexHit& b) {
  const float sa = rank_score(a.score), sb = rank_score(b.score);
  if (sa != sb) return sa > sb;
  return a.label < b.label;
}

// ---- FlatIndex ----

void FlatIndex::reserve(size_t n) {
  if (labels_.capacity() >= n) return;
  n = std::max(n, 2 * labels_.capacity());  // geometric, so reserve(size() + 1) stays amortised
  vectors_.reserve(n * static_cast<size_t>(dim_));
  labels_.reserve(n);
  row_of_.reserve(n);
}

void FlatIndex::add(uint64_t label, std::span<const float> vec) {
  MEMLONG_ASSERT(vec.size() == static_cast<size_t>(dim_));
  MEMLONG_ASSERT(row_of_.find(label) == row_of_.end());
  vectors_.insert(vectors_.end(), vec.begin(), vec.end());
  labels_.push_back(label);
  row_of_.emplace(label, labels_.size() - 1);
}

void FlatIndex::remove(uint64_t label) {
  auto it = row_of_.find(label);
  MEMLONG_ASSERT(it != row_of_.end());
  const size_t row = it->second;
  const size_t last = labels_.size() - 1;
  const size_t d = static_cast<size_t>(dim_);
  if (row != last) {  // move the last row into the hole
    std::copy_n(vectors_.begin() + static_cast<std::ptrdiff_t>(last * d), d,
                vectors_.begin() + static_cast<std::ptrdiff_t>(row * d));
    labels_[row] = labels_[last];
    row_of_[labels_[row]] = row;
  }
  row_of_.erase(it);
  labels_.pop_back();
  vectors_.resize(last * d);
}

void FlatIndex::clear() {
  vectors_.clear();
  labels_.clear();
  row_of_.clear();
}

const float* FlatIndex::vector(uint64_t label) const {
  auto it = row_of_.find(label);
  if (it == row_of_.end()) return nullptr;
  return vectors_.data() + it->second * static_cast<size_t>(dim_);
}

std::vector<IndexHit> FlatIndex::search(std::span<const float> query, size_t k,
                                        std::span<const uint64_t> excluded_sorted) const {
  MEMLONG_ASSERT(query.size() == static_cast<size_t>(dim_));
  std::vector<IndexHit> heap;  // the worst of the best k on top
  if (k == 0) return heap;
  heap.reserve(k + 1);
  auto worse_on_top = [](const IndexHit& a, const IndexHit& b) { return hit_before(a, b); };
  const size_t d = static_cast<size_t>(dim_);
  for (size_t row = 0; row < labels_.size(); ++row) {
    const IndexHit hit{labels_[row],
                       vec::dot(query.data(), vectors_.data() + row * d, static_cast<int>(d))};
    if (heap.size() == k && !hit_before(hit, heap.front())) continue;
    if (is_excluded(excluded_sorted, hit.label)) continue;
    heap.push_back(hit);
    std::push_heap(heap.begin(), heap.end(), worse_on_top);
    if (heap.size() > k) {
      std::pop_heap(heap.begin(), heap.end(), worse_on_top);
      heap.pop_back();
    }
  }
  std::sort_heap(heap.begin(), heap.end(), worse_on_top);  // best first
  return heap;
}

// ---- HnswIndex ----

Result<std::unique_ptr<HnswIndex>> HnswIndex::create(int32_t dim, size_t initial_capacity) {
  MEMLONG_ASSERT(dim > 0);
  std::unique_ptr<HnswIndex> index(new HnswIndex());
  index->dim_ = dim;
  try {
    index->space_ = std::make_unique<hnswlib::InnerProductSpace>(static_cast<size_t>(dim));
    index->graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        index->space_.get(), std::max<size_t>(initial_capacity, 16), kM, kEfConstruction);
  } catch (const std::bad_alloc&) {
    return out_of_memory("hnsw index: cannot allocate room for " +
                         std::to_string(initial_capacity) + " vectors of dim " +
                         std::to_string(dim));
  } catch (const std::exception& e) {
    return out_of_memory(std::string("hnsw index: creating the graph failed: ") + e.what());
  }
  return index;
}

HnswIndex::~HnswIndex() = default;

int64_t HnswIndex::memory_bytes() const {
  if (!graph_) return 0;
  const auto& g = *graph_;
  // Level 0 (links, vector, label) for every slot, plus upper-level links of ~1/M of the points.
  const size_t points = g.cur_element_count;
  return static_cast<int64_t>(g.max_elements_ * g.size_data_per_element_ +
                              points * g.size_links_per_element_ / kM +
                              points * (sizeof(void*) + sizeof(int) + 32));
}

Status HnswIndex::add(uint64_t label, const float* vec) {
  try {
    auto& g = *graph_;
    if (g.cur_element_count >= g.max_elements_) g.resizeIndex(g.max_elements_ * 2);
    g.addPoint(vec, static_cast<hnswlib::labeltype>(label));
  } catch (const std::bad_alloc&) {
    return out_of_memory("hnsw index: out of memory adding entry " + std::to_string(label));
  } catch (const std::exception& e) {
    return internal_error("hnsw index: adding entry " + std::to_string(label) +
                          " failed: " + e.what());
  }
  ++n_live_;
  return Status::ok();
}

Status HnswIndex::remove(uint64_t label) {
  try {
    graph_->markDelete(static_cast<hnswlib::labeltype>(label));
  } catch (const std::exception& e) {
    return not_found("hnsw index: removing entry " + std::to_string(label) +
                     " failed: " + e.what());
  }
  --n_live_;
  ++n_deleted_;
  return Status::ok();
}

Result<std::vector<IndexHit>> HnswIndex::search(std::span<const float> query, size_t k,
                                                size_t ef_search,
                                                std::span<const uint64_t> excluded_sorted) {
  MEMLONG_ASSERT(query.size() == static_cast<size_t>(dim_));
  std::vector<IndexHit> hits;
  if (k == 0 || n_live_ == 0) return hits;
  const size_t n_want = std::min(k + excluded_sorted.size(), n_live_);
  try {
    graph_->setEf(std::max(ef_search, n_want));
    auto queue = graph_->searchKnn(query.data(), n_want);
    hits.reserve(queue.size());
    for (; !queue.empty(); queue.pop()) {
      const auto& [dist, label] = queue.top();
      if (is_excluded(excluded_sorted, label)) continue;
      hits.push_back({static_cast<uint64_t>(label), 1.0f - dist});
    }
  } catch (const std::bad_alloc&) {
    return out_of_memory("hnsw index: out of memory while searching");
  } catch (const std::exception& e) {
    return internal_error(std::string("hnsw index: search failed: ") + e.what());
  }
  std::sort(hits.begin(), hits.end(), hit_before);
  if (hits.size() > k) hits.resize(k);
  return hits;
}

Status HnswIndex::save(const std::string& path) const {
  try {
    graph_->saveIndex(path);
  } catch (const std::exception& e) {
    return io_error("hnsw index: saving " + path + " failed: " + e.what());
  }
  return Status::ok();
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::load(const std::string& path, int32_t dim) {
  MEMLONG_ASSERT(dim > 0);
  std::unique_ptr<HnswIndex> index(new HnswIndex());
  index->dim_ = dim;
  try {
    index->space_ = std::make_unique<hnswlib::InnerProductSpace>(static_cast<size_t>(dim));
    index->graph_ =
        std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space_.get(), path, false);
  } catch (const std::bad_alloc&) {
    return out_of_memory("hnsw index: out of memory loading " + path);
  } catch (const std::exception& e) {
    return corrupt("hnsw index: " + path + " was rejected: " + e.what());
  }
  auto& g = *index->graph_;
  // The vector sits between the level-0 links and the label: its size is the file's dimension.
  if (g.label_offset_ - g.offsetData_ != static_cast<size_t>(dim) * sizeof(float))
    return corrupt("hnsw index: " + path + " holds vectors of " +
                   std::to_string((g.label_offset_ - g.offsetData_) / sizeof(float)) +
                   " floats, expected " + std::to_string(dim));
  // hnswlib 0.6.2's loading constructor counts deletions into num_deleted_ without zeroing it
  // first; count them again here and fix the member.
  size_t n_deleted = 0;
  for (size_t i = 0; i < g.cur_element_count; ++i)
    n_deleted += g.isMarkedDeleted(static_cast<hnswlib::tableint>(i)) ? 1 : 0;
  g.num_deleted_ = n_deleted;
  index->n_deleted_ = n_deleted;
  index->n_live_ = g.cur_element_count - n_deleted;
  return index;
}

}  // namespace memlong
