// EvictionOrder (see eviction.h).
// Invariants:
//  1. by_seq_ and by_hits_ hold the same seqs; by_hits_ holds (by_seq_[seq].hits, seq).
//  2. used_tokens_ == the sum of n_tokens over by_seq_.
#include "core/memory/eviction.h"

#include <algorithm>

#include "core/common/status.h"

namespace memlong {

std::string_view eviction_policy_name(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::kCounter:
      return "counter";
    case EvictionPolicy::kFifoHalf:
      return "fifo_half";
  }
  return "unknown";
}

void EvictionOrder::add(uint64_t seq, uint32_t hits, int32_t n_tokens) {
  const bool is_new = by_seq_.emplace(seq, Item{hits, n_tokens}).second;
  MEMLONG_ASSERT(is_new);
  by_hits_.emplace(hits, seq);
  used_tokens_ += n_tokens;
}

void EvictionOrder::remove(uint64_t seq) {
  auto it = by_seq_.find(seq);
  MEMLONG_ASSERT(it != by_seq_.end());
  by_hits_.erase({it->second.hits, seq});
  used_tokens_ -= it->second.n_tokens;
  by_seq_.erase(it);
}

void EvictionOrder::add_hit(uint64_t seq) {
  auto it = by_seq_.find(seq);
  MEMLONG_ASSERT(it != by_seq_.end());
  by_hits_.erase({it->second.hits, seq});
  ++it->second.hits;
  by_hits_.emplace(it->second.hits, seq);
}

void EvictionOrder::clear() {
  by_seq_.clear();
  by_hits_.clear();
  used_tokens_ = 0;
}

std::vector<uint64_t> EvictionOrder::plan(EvictionPolicy policy, int64_t capacity_tokens,
                                          int64_t incoming_tokens) const {
  MEMLONG_ASSERT(incoming_tokens <= capacity_tokens);
  std::vector<uint64_t> victims;
  int64_t used = used_tokens_;
  if (used + incoming_tokens <= capacity_tokens) return victims;
  if (policy == EvictionPolicy::kCounter) {
    for (auto it = by_hits_.begin(); it != by_hits_.end(); ++it) {
      victims.push_back(it->second);
      used -= by_seq_.at(it->second).n_tokens;
      if (used + incoming_tokens <= capacity_tokens) break;
    }
  } else {
    auto it = by_seq_.begin();
    size_t n = by_seq_.size();
    while (used + incoming_tokens > capacity_tokens) {
      MEMLONG_ASSERT(n > 0);
      const size_t n_drop = std::max<size_t>(1, n / 2);
      for (size_t i = 0; i < n_drop; ++i, ++it) {
        victims.push_back(it->first);
        used -= it->second.n_tokens;
      }
      n -= n_drop;
    }
  }
  MEMLONG_ASSERT(used + incoming_tokens <= capacity_tokens);
  return victims;
}

}  // namespace memlong
