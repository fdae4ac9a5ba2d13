// EntryVectorIndex and the .hnsw file (see hnsw_index.h for the format and invariants 1-2).
#include "core/store/hnsw_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/backend/vec_f32.h"
#include "core/common/mapped_file.h"
#include "core/memory/vector_index.h"
#include "core/store/sha256.h"

namespace memlong {

namespace {

constexpr char kMagic[8] = {'M', 'L', 'H', 'N', 'S', 'W', '\0', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;

template <typename T>
void put(std::vector<uint8_t>* b, size_t at, T v) {
  std::memcpy(b->data() + at, &v, sizeof v);
}
template <typename T>
T get(const uint8_t* p, size_t at) {
  T v;
  std::memcpy(&v, p + at, sizeof v);
  return v;
}

bool ranks_before(const VectorHit& a, const VectorHit& b) {
  const float sa = std::isnan(a.score) ? -std::numeric_limits<float>::infinity() : a.score;
  const float sb = std::isnan(b.score) ? -std::numeric_limits<float>::infinity() : b.score;
  if (sa != sb) return sa > sb;
  return a.entry_id < b.entry_id;
}

Status write_file_synced(const std::string& path, std::span<const uint8_t> a,
                         std::span<const uint8_t> b) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(path + ": cannot create: " + std::strerror(errno));
  Status st;
  for (auto part : {a, b}) {
    const uint8_t* p = part.data();
    size_t n = part.size();
    while (st.is_ok() && n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        st = io_error(path + ": write failed: " + std::strerror(errno));
        break;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  if (st.is_ok() && ::fsync(fd) != 0)
    st = io_error(path + ": fsync failed: " + std::strerror(errno));
  ::close(fd);
  return st;
}

}  // namespace

Status write_hnsw_file(const std::string& path, int64_t profile_id, int32_t dim,
                       const HnswIndex& graph, IndexWatermark* watermark) {
  const std::string payload_path = path + ".payload.tmp";
  Status st = graph.save(payload_path);
  if (!st.is_ok()) {
    std::remove(payload_path.c_str());
    return st;
  }
  std::vector<uint8_t> header(kHeaderBytes, 0);
  Status result;
  {
    auto mapped = MappedFile::open(payload_path);
    if (!mapped.is_ok()) {
      std::remove(payload_path.c_str());
      return mapped.status();
    }
    const auto payload = mapped->bytes();
    watermark->payload_crc = crc32(payload);
    std::memcpy(header.data(), kMagic, 8);
    put<uint32_t>(&header, 8, kVersion);
    put<uint32_t>(&header, 12, static_cast<uint32_t>(dim));
    put<int64_t>(&header, 16, profile_id);
    put<int64_t>(&header, 24, watermark->n_entries);
    put<int64_t>(&header, 32, watermark->max_entry_id);
    put<int64_t>(&header, 40, watermark->ids_sum);
    put<uint64_t>(&header, 48, payload.size());
    put<uint32_t>(&header, 56, watermark->payload_crc);
    put<uint32_t>(&header, 60, crc32_update(0, header.data(), 60));
    result = write_file_synced(path + ".tmp", header, payload);
  }
  std::remove(payload_path.c_str());
  if (!result.is_ok()) return result;
  if (std::rename((path + ".tmp").c_str(), path.c_str()) != 0)
    return io_error(path + ": rename failed: " + std::strerror(errno));
  return Status::ok();
}

Result<std::unique_ptr<HnswIndex>> read_hnsw_file(const std::string& path, int64_t profile_id,
                                                  int32_t dim, IndexWatermark* watermark) {
  const std::string load_path = path + ".load.tmp";
  {
    MEMLONG_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
    const uint8_t* h = mapped.data();
    const size_t size = mapped.size();
    if (size < kHeaderBytes)
      return corrupt(path + ": " + std::to_string(size) + " bytes, shorter than the header");
    if (std::memcmp(h, kMagic, 8) != 0) return corrupt(path + ": bad magic");
    if (get<uint32_t>(h, 60) != crc32_update(0, h, 60))
      return corrupt(path + ": header crc mismatch");
    if (get<uint32_t>(h, 8) != kVersion)
      return unsupported(path + ": version " + std::to_string(get<uint32_t>(h, 8)));
    if (get<uint32_t>(h, 12) != static_cast<uint32_t>(dim))
      return corrupt(path + ": dimension " + std::to_string(get<uint32_t>(h, 12)) + ", expected " +
                     std::to_string(dim));
    if (get<int64_t>(h, 16) != profile_id)
      return corrupt(path + ": belongs to profile " + std::to_string(get<int64_t>(h, 16)));
    const uint64_t payload_bytes = get<uint64_t>(h, 48);
    if (payload_bytes != size - kHeaderBytes)
      return corrupt(path + ": header says " + std::to_string(payload_bytes) +
                     " payload bytes, the file holds " + std::to_string(size - kHeaderBytes));
    const std::span<const uint8_t> payload(h + kHeaderBytes, payload_bytes);
    const uint32_t crc = crc32(payload);
    if (crc != get<uint32_t>(h, 56)) return corrupt(path + ": payload crc mismatch");
    watermark->n_entries = get<int64_t>(h, 24);
    watermark->max_entry_id = get<int64_t>(h, 32);
    watermark->ids_sum = get<int64_t>(h, 40);
    watermark->payload_crc = crc;
    // hnswlib 0.6.2 loads only from a path: hand it the checked payload in a temporary file.
    MEMLONG_RETURN_IF_ERROR(write_file_synced(load_path, payload, {}));
  }
  auto graph = HnswIndex::load(load_path, dim);
  std::remove(load_path.c_str());
  return graph;
}

// ---- EntryVectorIndex ----

EntryVectorIndex::EntryVectorIndex(int64_t profile_id, int32_t dim)
    : profile_id_(profile_id), dim_(dim) {
  MEMLONG_ASSERT(dim > 0);
}

EntryVectorIndex::~EntryVectorIndex() = default;

int64_t EntryVectorIndex::size() const {
  std::shared_lock lock(mutex_);
  return static_cast<int64_t>(entry_ids_.size());
}

IndexState EntryVectorIndex::state() const {
  std::shared_lock lock(mutex_);
  IndexState s = state_;
  s.n_entries = static_cast<int64_t>(entry_ids_.size());
  s.has_graph = graph_ != nullptr;
  return s;
}

bool EntryVectorIndex::is_dirty() const {
  std::shared_lock lock(mutex_);
  return graph_ != nullptr && is_dirty_;
}

bool EntryVectorIndex::has_graph() const {
  std::shared_lock lock(mutex_);
  return graph_ != nullptr;
}

Status EntryVectorIndex::add(std::span<const int64_t> entry_ids, std::span<const int64_t> doc_ids,
                             std::span<const float> embeddings) {
  MEMLONG_ASSERT(entry_ids.size() == doc_ids.size());
  MEMLONG_ASSERT(embeddings.size() == entry_ids.size() * static_cast<size_t>(dim_));
  std::unique_lock lock(mutex_);
  const size_t d = static_cast<size_t>(dim_);
  try {
    entry_ids_.reserve(entry_ids_.size() + entry_ids.size());
    doc_ids_.reserve(doc_ids_.size() + entry_ids.size());
    vectors_.reserve(vectors_.size() + embeddings.size());
  } catch (const std::bad_alloc&) {
    return out_of_memory("vector index: cannot grow by " + std::to_string(entry_ids.size()) +
                         " entries");
  }
  for (size_t i = 0; i < entry_ids.size(); ++i) {
    if (row_of_.count(entry_ids[i]) != 0) continue;  // already present (reload races)
    row_of_.emplace(entry_ids[i], entry_ids_.size());
    entry_ids_.push_back(entry_ids[i]);
    doc_ids_.push_back(doc_ids[i]);
    vectors_.insert(vectors_.end(), embeddings.begin() + static_cast<std::ptrdiff_t>(i * d),
                    embeddings.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
    if (graph_) {
      MEMLONG_RETURN_IF_ERROR(
          graph_->add(static_cast<uint64_t>(entry_ids[i]), embeddings.data() + i * d));
      is_dirty_ = true;
    }
  }
  return Status::ok();
}

void EntryVectorIndex::remove(std::span<const int64_t> entry_ids) {
  std::unique_lock lock(mutex_);
  const size_t d = static_cast<size_t>(dim_);
  for (int64_t id : entry_ids) {
    auto it = row_of_.find(id);
    if (it == row_of_.end()) continue;
    const size_t row = it->second;
    const size_t last = entry_ids_.size() - 1;
    if (row != last) {
      std::copy_n(vectors_.begin() + static_cast<std::ptrdiff_t>(last * d), d,
                  vectors_.begin() + static_cast<std::ptrdiff_t>(row * d));
      entry_ids_[row] = entry_ids_[last];
      doc_ids_[row] = doc_ids_[last];
      row_of_[entry_ids_[row]] = row;
    }
    row_of_.erase(it);
    entry_ids_.pop_back();
    doc_ids_.pop_back();
    vectors_.resize(last * d);
    if (graph_) {
      (void)graph_->remove(static_cast<uint64_t>(id));  // NotFound cannot happen (invariant 1)
      is_dirty_ = true;
    }
  }
}

IndexWatermark EntryVectorIndex::current_watermark_locked() const {
  IndexWatermark w;
  w.n_entries = static_cast<int64_t>(entry_ids_.size());
  for (int64_t id : entry_ids_) {
    w.max_entry_id = std::max(w.max_entry_id, id);
    w.ids_sum += id;
  }
  return w;
}

Status EntryVectorIndex::build_graph_locked() {
  MEMLONG_ASSIGN_OR_RETURN(auto graph, HnswIndex::create(dim_, entry_ids_.size() + 16));
  const size_t d = static_cast<size_t>(dim_);
  for (size_t row = 0; row < entry_ids_.size(); ++row)
    MEMLONG_RETURN_IF_ERROR(
        graph->add(static_cast<uint64_t>(entry_ids_[row]), vectors_.data() + row * d));
  graph_ = std::move(graph);
  is_dirty_ = true;
  state_.was_rebuilt = true;
  return Status::ok();
}

Status EntryVectorIndex::ensure_graph(const std::string& path, const IndexWatermark* watermark) {
  std::unique_lock lock(mutex_);
  if (graph_) return Status::ok();
  std::string why;
  if (watermark == nullptr) {
    why = "no saved index";
  } else {
    IndexWatermark from_file;
    auto graph = read_hnsw_file(path, profile_id_, dim_, &from_file);
    if (!graph.is_ok()) {
      why = graph.status().to_string();
    } else if (!(from_file == *watermark)) {
      why = path + ": header does not match the library's watermark";
    } else {
      // The saved set must be exactly the live entries with id <= max_entry_id.
      IndexWatermark live;
      for (int64_t id : entry_ids_) {
        if (id > watermark->max_entry_id) continue;
        ++live.n_entries;
        live.ids_sum += id;
      }
      if (live.n_entries != watermark->n_entries || live.ids_sum != watermark->ids_sum ||
          static_cast<int64_t>((*graph)->n_live()) != watermark->n_entries) {
        why = path + ": saved for " + std::to_string(watermark->n_entries) +
              " entries, the library now holds " + std::to_string(live.n_entries) +
              " of them (or others)";
      } else {
        graph_ = std::move(graph).value();
        const size_t d = static_cast<size_t>(dim_);
        for (size_t row = 0; row < entry_ids_.size(); ++row) {
          if (entry_ids_[row] <= watermark->max_entry_id) continue;
          Status st =
              graph_->add(static_cast<uint64_t>(entry_ids_[row]), vectors_.data() + row * d);
          if (!st.is_ok()) {
            graph_.reset();
            return st;
          }
          is_dirty_ = true;
        }
        state_.was_loaded_from_file = true;
        state_.note.clear();
        return Status::ok();
      }
    }
  }
  state_.note = why;
  return build_graph_locked();
}

std::vector<VectorHit> EntryVectorIndex::exact_locked(
    std::span<const float> query, size_t k, const std::vector<int64_t>* docs_sorted) const {
  std::vector<VectorHit> heap;
  if (k == 0) return heap;
  heap.reserve(k + 1);
  const size_t d = static_cast<size_t>(dim_);
  for (size_t row = 0; row < entry_ids_.size(); ++row) {
    if (docs_sorted != nullptr &&
        !std::binary_search(docs_sorted->begin(), docs_sorted->end(), doc_ids_[row]))
      continue;
    const VectorHit hit{entry_ids_[row], vec::dot(query.data(), vectors_.data() + row * d, dim_)};
    if (heap.size() == k && !ranks_before(hit, heap.front())) continue;
    heap.push_back(hit);
    std::push_heap(heap.begin(), heap.end(), ranks_before);
    if (heap.size() > k) {
      std::pop_heap(heap.begin(), heap.end(), ranks_before);
      heap.pop_back();
    }
  }
  std::sort_heap(heap.begin(), heap.end(), ranks_before);
  return heap;
}

Result<std::vector<VectorHit>> EntryVectorIndex::search(std::span<const float> query, int32_t k,
                                                        const DocSet& docs,
                                                        int64_t exact_search_max,
                                                        int32_t ef_search) {
  if (query.size() != static_cast<size_t>(dim_))
    return invalid_argument("vector search: query has " + std::to_string(query.size()) +
                            " floats, the profile's embeddings have " + std::to_string(dim_));
  if (k <= 0) return std::vector<VectorHit>{};
  std::shared_lock lock(mutex_);
  std::vector<int64_t> docs_sorted;
  const std::vector<int64_t>* filter = nullptr;
  size_t n_candidates = entry_ids_.size();
  if (!docs.is_all) {
    docs_sorted = docs.ids;
    std::sort(docs_sorted.begin(), docs_sorted.end());
    filter = &docs_sorted;
    n_candidates = 0;
    for (int64_t doc : doc_ids_)
      n_candidates += std::binary_search(docs_sorted.begin(), docs_sorted.end(), doc) ? 1 : 0;
  }
  const size_t kk = static_cast<size_t>(k);
  if (n_candidates == 0) return std::vector<VectorHit>{};
  if (!graph_ || static_cast<int64_t>(n_candidates) <= exact_search_max)
    return exact_locked(query, kk, filter);
  // Graph search; a doc filter is applied afterwards, so over-fetch by the inverse of the
  // candidates' share of all entries (hnswlib 0.6.2 has no filter functor).
  const size_t n_all = entry_ids_.size();
  const size_t fetch =
      std::min(n_all, kk * std::max<size_t>(1, (n_all + n_candidates - 1) / n_candidates) * 2);
  std::vector<IndexHit> raw;
  {
    std::lock_guard g(graph_search_mutex_);
    MEMLONG_ASSIGN_OR_RETURN(
        raw, graph_->search(query, fetch, static_cast<size_t>(std::max(ef_search, 1)), {}));
  }
  std::vector<VectorHit> hits;
  for (const auto& h : raw) {
    const auto id = static_cast<int64_t>(h.label);
    auto it = row_of_.find(id);
    if (it == row_of_.end()) continue;
    if (filter != nullptr &&
        !std::binary_search(filter->begin(), filter->end(), doc_ids_[it->second]))
      continue;
    // Score exactly from our copy, so graph and exact paths rank on the same numbers.
    hits.push_back({id, vec::dot(query.data(), vectors_.data() + it->second * dim_, dim_)});
  }
  if (hits.size() < std::min(kk, n_candidates)) return exact_locked(query, kk, filter);
  std::sort(hits.begin(), hits.end(), ranks_before);
  if (hits.size() > kk) hits.resize(kk);
  return hits;
}

Result<IndexWatermark> EntryVectorIndex::save(const std::string& path) {
  std::unique_lock lock(mutex_);
  if (!graph_) return invalid_argument("vector index: no graph to save");
  IndexWatermark w = current_watermark_locked();
  MEMLONG_RETURN_IF_ERROR(write_hnsw_file(path, profile_id_, dim_, *graph_, &w));
  is_dirty_ = false;
  return w;
}

}  // namespace memlong
