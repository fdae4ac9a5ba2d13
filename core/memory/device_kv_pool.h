// DeviceKVPool: the MemLong memory bank's K/V kept in backend memory (issue 7, docs/GPU.md
// "Memory bank on the GPU"), so that a retrieval costs a gather kernel on the backend instead of
// a host -> device upload of n_mem x Hkv x dh x 8 bytes.
//
// A pool of token slots (Backend::kv_pool_store / kv_pool_gather): each slot holds one token's
// pre-RoPE K and V row in the bank's 16-bit type (MemoryBankConfig::dtype, rounding as
// MemoryBank::append, so gather gives the same floats as MemoryBank::gather, bit for bit). Slots
// come from backend memory up to a budget; the rest (when the bank outgrows it) from host memory
// the backend can address (Backend::alloc_host_mapped: pinned and mapped on CUDA), which kernels
// read over the bus.
//
// The pool is a cache keyed by the bank's entry seq. Seqs are never reused (MemoryBank invariant
// 1), so an entry the pool holds is always the bank's entry of that seq; entries the bank evicted
// are dropped with retain_only() (or erase()). ensure() fills in entries the pool lacks (after a
// restore(), or when the pool was created late) from the bank's host copy. The bank keeps its host
// copy (snapshot, persistence); the pool mirrors it.
//
// Invariants: (1) every held entry owns n_tokens distinct slots, no slot is owned twice; (2)
// used_tokens() == sum of held n_tokens <= capacity_tokens(); (3) device slots are handed out
// before host slots (lowest index first).
// Thread-safety: not thread-safe; one owner thread (the one driving the backend).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/backend/backend.h"
#include "core/common/status.h"
#include "core/memory/memory_bank.h"

namespace memlong {

struct DeviceKVPoolConfig {
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  MemoryDType dtype = MemoryDType::kBF16;
  int64_t capacity_tokens = 0;  // slots in all (the bank's capacity_tokens)
  // Most bytes of backend memory for slots. -1: kDefaultDeviceShare of the backend's free memory
  // (all slots when the backend reports no bound, as the CPU does). Slots beyond it are host slots.
  int64_t device_budget_bytes = -1;
  // Tokens per host -> backend staging round in append_host / ensure.
  int32_t staging_tokens = 1024;
};

class DeviceKVPool {
 public:
  // Share of the backend's free memory an automatic budget takes (the KV cache and scratch of
  // contexts created later need the rest).
  static constexpr double kDefaultDeviceShare = 0.5;

  // Allocates the regions. When the device region cannot be allocated at its planned size
  // (OutOfMemory), it is halved until it can, and host slots take the rest.
  // Errors: InvalidArgument (shapes), OutOfMemory (host region).
  static Result<std::unique_ptr<DeviceKVPool>> create(Backend& backend,
                                                      const DeviceKVPoolConfig& config);
  // Matches a bank's shape, type and capacity.
  static DeviceKVPoolConfig config_for(const MemoryBankConfig& bank, int64_t device_budget_bytes);

  const DeviceKVPoolConfig& config() const { return config_; }
  int32_t row_elems() const { return row_elems_; }  // Hkv * dh
  int64_t capacity_tokens() const { return config_.capacity_tokens; }
  int64_t n_device_slots() const { return n_device_; }
  int64_t n_host_slots() const { return n_host_; }
  int64_t used_tokens() const { return used_tokens_; }
  int64_t free_tokens() const { return static_cast<int64_t>(free_.size()); }
  int64_t n_entries() const { return static_cast<int64_t>(entries_.size()); }
  bool contains(uint64_t seq) const { return entries_.count(seq) != 0; }
  // The entry's slots in token order (empty when not held); for tests and diagnostics.
  std::span<const int32_t> slots_of(uint64_t seq) const;

  // Adds entry `seq` of n_tokens from k, v [n_tokens, Hkv, dh] f32 in BACKEND memory (e.g. the
  // memory layer's stash still on the device): no host round trip. Errors: InvalidArgument (seq
  // already held, n_tokens <= 0), OutOfMemory when no free slots remain
  // (drop evicted entries first), the backend's sticky errors.
  Status append_device(uint64_t seq, const float* k, const float* v, int32_t n_tokens);
  // The same from host memory (staged through backend buffers).
  Status append_host(uint64_t seq, std::span<const float> k, std::span<const float> v);

  void erase(uint64_t seq);  // no-op when not held
  // Drops every held entry whose seq is not among `keep` (the bank's entries after an append
  // that evicted). Returns how many were dropped.
  int64_t retain_only(std::span<const MemoryEntryInfo> keep);
  void clear();

  // Makes the pool hold every entry of `seqs`: missing ones are copied from the bank's host copy
  // (MemoryBank::gather); when slots run out, entries the bank no longer holds are dropped first.
  // Errors: NotFound (a seq the bank lacks), OutOfMemory (still no room).
  Status ensure(const MemoryBank& bank, std::span<const uint64_t> seqs);

  // Writes the entries `seqs`, in the given order, as f32 into k_out / v_out (backend memory,
  // room for max_tokens rows of Hkv * dh each): the same values MemoryBank::gather gives. Returns
  // the token count M. Errors: NotFound (seq not held), InvalidArgument (M > max_tokens).
  Result<int64_t> gather(std::span<const uint64_t> seqs, float* k_out, float* v_out,
                         int64_t max_tokens);

 private:
  DeviceKVPool(Backend& backend, const DeviceKVPoolConfig& config);
  Backend::KvPoolView view() const;
  // Takes n free slots (device first); OutOfMemory when fewer are free.
  Result<std::vector<int32_t>> take_slots(int32_t n);
  Status upload_slots(std::span<const int32_t> slots);  // into slot_ids_ (grown as needed)
  // Returns the entry's slots to free_ unsorted (callers sort once); false when not held.
  bool release(uint64_t seq);

  Backend& backend_;
  DeviceKVPoolConfig config_;
  int32_t row_elems_ = 0;
  int64_t n_device_ = 0, n_host_ = 0;
  DeviceBuffer device_, host_;
  // Free slots as a stack whose top is the lowest index: device slots pop before host slots.
  std::vector<int32_t> free_;
  std::unordered_map<uint64_t, std::vector<int32_t>> entries_;
  int64_t used_tokens_ = 0;
  DeviceBuffer slot_ids_;           // backend int32 scratch for the ops' slot lists
  DeviceBuffer stage_k_, stage_v_;  // backend f32 staging for append_host
  std::vector<int32_t> slot_list_;  // host copy of a gather's slot list
};

}  // namespace memlong
