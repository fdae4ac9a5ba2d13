// EvictionOrder: which entries the memory bank drops to make room (MEMLONG.md §3, memory_bank.h
// invariant 5). Tracks (seq, hits, n_tokens) of the held entries and plans victims for both
// policies without touching the bank, so the plan is testable on its own.
//   counter:   drop the entry with the smallest (hits, seq) until used + incoming <= capacity.
//   fifo_half: drop the oldest floor(n/2) entries (n counted before each round) and repeat while
//              it does not fit; a round with n == 1 drops that one entry (floor(1/2) = 0 would
//              never make room; project choice, unreachable when capacity >= 2 * entry_tokens).
// The entry being inserted is not tracked yet, so it can never be a victim.
// Thread-safety: not thread-safe; owned by one MemoryBank.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "core/memory/memory_bank.h"

namespace memlong {

class EvictionOrder {
 public:
  // Preconditions (asserted): seq is new on add, known on remove/hit.
  void add(uint64_t seq, uint32_t hits, int32_t n_tokens);
  void remove(uint64_t seq);
  void add_hit(uint64_t seq);
  void clear();
  size_t size() const { return by_seq_.size(); }
  int64_t used_tokens() const { return used_tokens_; }

  // Victims, in the order they are to be dropped, so that
  // used_tokens() - their tokens + incoming_tokens <= capacity_tokens. Precondition (asserted):
  // incoming_tokens <= capacity_tokens. Empty when it already fits.
  std::vector<uint64_t> plan(EvictionPolicy policy, int64_t capacity_tokens,
                             int64_t incoming_tokens) const;

 private:
  struct Item {
    uint32_t hits = 0;
    int32_t n_tokens = 0;
  };
  std::map<uint64_t, Item> by_seq_;                  // oldest first
  std::set<std::pair<uint32_t, uint64_t>> by_hits_;  // (hits, seq): counter victims first
  int64_t used_tokens_ = 0;
};

}  // namespace memlong
