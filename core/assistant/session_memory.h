// SessionMemory: the bounded MemLong memory of one session over the library's stored entries
// (MEMLONG.md §3 capacity and eviction, at library scale). The entries' K/V and keys stay in the
// store; the session holds which entries are in its memory, with the bank's counters (hits, seq),
// and applies the configured eviction policy when documents join and memory is over capacity.
// Invariants: used_tokens() <= capacity_tokens after every add; seq strictly increasing, never
// reused; an entry is held at most once.
// Thread-safety: one thread (the Assistant's).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/memory/eviction.h"
#include "core/store/session_store.h"

namespace memlong {

class SessionMemory {
 public:
  SessionMemory(int64_t capacity_tokens, EvictionPolicy policy)
      : capacity_tokens_(capacity_tokens), policy_(policy) {}

  // Adds an entry (evicting first, per policy, when it does not fit). Entries larger than the
  // capacity are not held. Returns the evicted entry ids.
  std::vector<int64_t> add(int64_t entry_id, int32_t n_tokens);
  void add_hit(int64_t entry_id);  // no-op for entries not held
  bool holds(int64_t entry_id) const { return by_entry_.count(entry_id) > 0; }
  uint32_t hits(int64_t entry_id) const;
  int64_t used_tokens() const { return order_.used_tokens(); }
  int64_t capacity_tokens() const { return capacity_tokens_; }
  size_t n_entries() const { return by_entry_.size(); }

  SessionMemoryState state() const;
  // Restores a saved state; n_tokens gives each entry's size (entries missing from it are
  // dropped, e.g. removed documents).
  void restore(const SessionMemoryState& state,
               const std::unordered_map<int64_t, int32_t>& n_tokens);

 private:
  struct Held {
    uint64_t seq = 0;
    uint32_t hits = 0;
    int32_t n_tokens = 0;
  };
  int64_t capacity_tokens_;
  EvictionPolicy policy_;
  uint64_t next_seq_ = 0;
  EvictionOrder order_;
  std::unordered_map<int64_t, Held> by_entry_;
  std::unordered_map<uint64_t, int64_t> entry_of_seq_;
};

}  // namespace memlong
