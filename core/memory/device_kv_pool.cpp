#include "core/memory/device_kv_pool.h"

#include <algorithm>
#include <functional>
#include <unordered_set>

namespace memlong {
namespace {

constexpr size_t kHalfBytes = 2;

}  // namespace

DeviceKVPoolConfig DeviceKVPool::config_for(const MemoryBankConfig& bank,
                                            int64_t device_budget_bytes) {
  DeviceKVPoolConfig c;
  c.n_head_kv = bank.n_head_kv;
  c.head_dim = bank.head_dim;
  c.dtype = bank.dtype;
  c.capacity_tokens = bank.capacity_tokens;
  c.device_budget_bytes = device_budget_bytes;
  return c;
}

DeviceKVPool::DeviceKVPool(Backend& backend, const DeviceKVPoolConfig& config)
    : backend_(backend), config_(config) {}

Result<std::unique_ptr<DeviceKVPool>> DeviceKVPool::create(Backend& backend,
                                                           const DeviceKVPoolConfig& config) {
  if (config.n_head_kv <= 0 || config.head_dim <= 0 || config.capacity_tokens <= 0 ||
      config.staging_tokens <= 0) {
    return invalid_argument("device K/V pool: bad shape (" + std::to_string(config.n_head_kv) +
                            " KV heads x " + std::to_string(config.head_dim) + ", " +
                            std::to_string(config.capacity_tokens) + " tokens)");
  }
  if (config.capacity_tokens > 0x7fffffff) {
    return invalid_argument("device K/V pool: more than 2^31 - 1 slots");
  }
  const int64_t row = static_cast<int64_t>(config.n_head_kv) * config.head_dim;
  if (row > 0x7fffffff) return invalid_argument("device K/V pool: rows too long");
  auto pool = std::unique_ptr<DeviceKVPool>(new DeviceKVPool(backend, config));
  pool->row_elems_ = static_cast<int32_t>(row);
  const auto slot_bytes = static_cast<int64_t>(2 * row * kHalfBytes);

  int64_t budget = config.device_budget_bytes;
  if (budget < 0) {
    const int64_t free_b = backend.memory_free_bytes();
    budget = free_b < 0 ? config.capacity_tokens * slot_bytes
                        : static_cast<int64_t>(static_cast<double>(free_b) * kDefaultDeviceShare);
  }
  int64_t n_dev = std::min(config.capacity_tokens, budget / slot_bytes);
  while (n_dev > 0) {
    auto buf = backend.alloc(static_cast<size_t>(n_dev * slot_bytes));
    if (buf.is_ok()) {
      pool->device_ = std::move(buf).value();
      break;
    }
    if (buf.status().code() != StatusCode::kOutOfMemory) return buf.status();
    n_dev /= 2;  // less device memory than reported (fragmentation, other users): halve
  }
  pool->n_device_ = n_dev;
  pool->n_host_ = config.capacity_tokens - n_dev;
  if (pool->n_host_ > 0) {
    MEMLONG_ASSIGN_OR_RETURN(
        pool->host_, backend.alloc_host_mapped(static_cast<size_t>(pool->n_host_ * slot_bytes)));
  }
  pool->free_.resize(static_cast<size_t>(config.capacity_tokens));
  for (size_t i = 0; i < pool->free_.size(); ++i) {
    pool->free_[i] = static_cast<int32_t>(config.capacity_tokens - 1 - static_cast<int64_t>(i));
  }
  return pool;
}

Backend::KvPoolView DeviceKVPool::view() const {
  Backend::KvPoolView v;
  v.device = device_.data();
  v.host = host_.data();
  v.n_device = n_device_;
  v.n_host = n_host_;
  v.dtype = config_.dtype == MemoryDType::kBF16 ? DType::kBF16 : DType::kF16;
  v.row_elems = row_elems_;
  return v;
}

std::span<const int32_t> DeviceKVPool::slots_of(uint64_t seq) const {
  const auto it = entries_.find(seq);
  if (it == entries_.end()) return {};
  return it->second;
}

Result<std::vector<int32_t>> DeviceKVPool::take_slots(int32_t n) {
  if (static_cast<size_t>(n) > free_.size()) {
    return out_of_memory("device K/V pool: " + std::to_string(n) + " slots wanted, " +
                         std::to_string(free_.size()) + " free of " +
                         std::to_string(config_.capacity_tokens));
  }
  std::vector<int32_t> s(free_.end() - n, free_.end());
  std::reverse(s.begin(), s.end());  // lowest first
  free_.resize(free_.size() - static_cast<size_t>(n));
  return s;
}

Status DeviceKVPool::upload_slots(std::span<const int32_t> slots) {
  const size_t bytes = std::max<size_t>(slots.size_bytes(), 4);
  if (slot_ids_.size_bytes() < bytes) {
    MEMLONG_ASSIGN_OR_RETURN(slot_ids_,
                             backend_.alloc(std::max(bytes, slot_ids_.size_bytes() * 2)));
  }
  backend_.copy_to_device(slot_ids_.data(), slots.data(), slots.size_bytes());
  return Status::ok();
}

Status DeviceKVPool::append_device(uint64_t seq, const float* k, const float* v, int32_t n_tokens) {
  if (n_tokens <= 0) return invalid_argument("device K/V pool: entry without tokens");
  if (contains(seq)) {
    return invalid_argument("device K/V pool: entry " + std::to_string(seq) + " already held");
  }
  MEMLONG_ASSIGN_OR_RETURN(std::vector<int32_t> slots, take_slots(n_tokens));
  Status s = upload_slots(slots);
  if (s.is_ok()) {
    // Stream order keeps slot_ids_ and the stash valid until the store has run; its execution
    // errors are the backend's sticky ones, reported at the next synchronize.
    backend_.kv_pool_store(view(), slot_ids_.i32(), n_tokens, k, v);
  }
  if (!s.is_ok()) {
    free_.insert(free_.end(), slots.rbegin(), slots.rend());
    std::sort(free_.begin(), free_.end(), std::greater<>());
    return s;
  }
  used_tokens_ += n_tokens;
  entries_.emplace(seq, std::move(slots));
  return Status::ok();
}

Status DeviceKVPool::append_host(uint64_t seq, std::span<const float> k, std::span<const float> v) {
  const auto row = static_cast<size_t>(row_elems_);
  if (k.size() != v.size() || k.empty() || k.size() % row != 0) {
    return invalid_argument("device K/V pool: K/V of " + std::to_string(k.size()) + " and " +
                            std::to_string(v.size()) + " floats, rows of " + std::to_string(row));
  }
  if (contains(seq)) {
    return invalid_argument("device K/V pool: entry " + std::to_string(seq) + " already held");
  }
  const auto n_tokens = static_cast<int64_t>(k.size() / row);
  if (n_tokens > 0x7fffffff) return invalid_argument("device K/V pool: entry too long");
  MEMLONG_ASSIGN_OR_RETURN(std::vector<int32_t> slots, take_slots(static_cast<int32_t>(n_tokens)));
  Status s = Status::ok();
  const int64_t chunk = std::min<int64_t>(config_.staging_tokens, n_tokens);
  const size_t stage_bytes = static_cast<size_t>(chunk) * row * sizeof(float);
  if (stage_k_.size_bytes() < stage_bytes) {
    auto bk = backend_.alloc(stage_bytes);
    auto bv = backend_.alloc(stage_bytes);
    if (!bk.is_ok()) s = bk.status();
    if (s.is_ok() && !bv.is_ok()) s = bv.status();
    if (s.is_ok()) {
      stage_k_ = std::move(bk).value();
      stage_v_ = std::move(bv).value();
    }
  }
  for (int64_t t0 = 0; s.is_ok() && t0 < n_tokens; t0 += chunk) {
    const int64_t n = std::min(chunk, n_tokens - t0);
    const size_t off = static_cast<size_t>(t0) * row;
    const size_t bytes = static_cast<size_t>(n) * row * sizeof(float);
    backend_.copy_to_device(stage_k_.data(), k.data() + off, bytes);
    backend_.copy_to_device(stage_v_.data(), v.data() + off, bytes);
    s = upload_slots(
        std::span<const int32_t>(slots).subspan(static_cast<size_t>(t0), static_cast<size_t>(n)));
    if (!s.is_ok()) break;
    // The next round's uploads are ordered after this store on the backend's stream.
    backend_.kv_pool_store(view(), slot_ids_.i32(), static_cast<int32_t>(n), stage_k_.f32(),
                           stage_v_.f32());
  }
  if (!s.is_ok()) {
    free_.insert(free_.end(), slots.begin(), slots.end());
    std::sort(free_.begin(), free_.end(), std::greater<>());
    return s;
  }
  used_tokens_ += n_tokens;
  entries_.emplace(seq, std::move(slots));
  return Status::ok();
}

bool DeviceKVPool::release(uint64_t seq) {
  const auto it = entries_.find(seq);
  if (it == entries_.end()) return false;
  used_tokens_ -= static_cast<int64_t>(it->second.size());
  free_.insert(free_.end(), it->second.begin(), it->second.end());
  entries_.erase(it);
  return true;
}

void DeviceKVPool::erase(uint64_t seq) {
  // Keep the lowest index on top so device slots are reused first (invariant 3).
  if (release(seq)) std::sort(free_.begin(), free_.end(), std::greater<>());
}

int64_t DeviceKVPool::retain_only(std::span<const MemoryEntryInfo> keep) {
  std::unordered_set<uint64_t> kept;
  kept.reserve(keep.size());
  for (const MemoryEntryInfo& e : keep) kept.insert(e.seq);
  std::vector<uint64_t> drop;
  for (const auto& [seq, slots] : entries_) {
    if (kept.count(seq) == 0) drop.push_back(seq);
  }
  for (uint64_t seq : drop) release(seq);
  if (!drop.empty()) std::sort(free_.begin(), free_.end(), std::greater<>());  // one sort
  return static_cast<int64_t>(drop.size());
}

void DeviceKVPool::clear() {
  entries_.clear();
  used_tokens_ = 0;
  free_.resize(static_cast<size_t>(config_.capacity_tokens));
  for (size_t i = 0; i < free_.size(); ++i) {
    free_[i] = static_cast<int32_t>(config_.capacity_tokens - 1 - static_cast<int64_t>(i));
  }
}

Status DeviceKVPool::ensure(const MemoryBank& bank, std::span<const uint64_t> seqs) {
  bool pruned = false;
  std::vector<float> k, v;
  for (uint64_t seq : seqs) {
    if (contains(seq)) continue;
    const uint64_t one[1] = {seq};
    MEMLONG_ASSIGN_OR_RETURN(int64_t n, bank.gather(one, &k, &v));
    if (n > static_cast<int64_t>(free_.size()) && !pruned) {
      retain_only(bank.entries());
      pruned = true;
    }
    MEMLONG_RETURN_IF_ERROR(append_host(seq, k, v));
  }
  return Status::ok();
}

Result<int64_t> DeviceKVPool::gather(std::span<const uint64_t> seqs, float* k_out, float* v_out,
                                     int64_t max_tokens) {
  slot_list_.clear();
  for (uint64_t seq : seqs) {
    const auto it = entries_.find(seq);
    if (it == entries_.end()) {
      return not_found("device K/V pool: no entry with seq " + std::to_string(seq));
    }
    slot_list_.insert(slot_list_.end(), it->second.begin(), it->second.end());
  }
  const auto m = static_cast<int64_t>(slot_list_.size());
  if (m > max_tokens) {
    return invalid_argument("device K/V pool: gather of " + std::to_string(m) +
                            " tokens into room for " + std::to_string(max_tokens));
  }
  if (m == 0) return int64_t{0};
  MEMLONG_RETURN_IF_ERROR(upload_slots(slot_list_));
  backend_.kv_pool_gather(view(), slot_ids_.i32(), static_cast<int32_t>(m), k_out, v_out);
  return m;
}

}  // namespace memlong
