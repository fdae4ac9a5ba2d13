#include "core/assistant/session_memory.h"

#include <algorithm>

namespace memlong {

std::vector<int64_t> SessionMemory::add(int64_t entry_id, int32_t n_tokens) {
  std::vector<int64_t> evicted;
  if (holds(entry_id) || n_tokens <= 0 || n_tokens > capacity_tokens_) return evicted;
  for (uint64_t victim : order_.plan(policy_, capacity_tokens_, n_tokens)) {
    const int64_t id = entry_of_seq_.at(victim);
    order_.remove(victim);
    entry_of_seq_.erase(victim);
    by_entry_.erase(id);
    evicted.push_back(id);
  }
  const uint64_t seq = next_seq_++;
  order_.add(seq, 0, n_tokens);
  by_entry_[entry_id] = {seq, 0, n_tokens};
  entry_of_seq_[seq] = entry_id;
  return evicted;
}

void SessionMemory::add_hit(int64_t entry_id) {
  auto it = by_entry_.find(entry_id);
  if (it == by_entry_.end()) return;
  ++it->second.hits;
  order_.add_hit(it->second.seq);
}

uint32_t SessionMemory::hits(int64_t entry_id) const {
  auto it = by_entry_.find(entry_id);
  return it == by_entry_.end() ? 0 : it->second.hits;
}

SessionMemoryState SessionMemory::state() const {
  SessionMemoryState s;
  s.next_seq = next_seq_;
  for (const auto& [id, h] : by_entry_) s.entries.push_back({id, h.hits, h.seq});
  std::sort(s.entries.begin(), s.entries.end(),
            [](const SessionMemoryEntry& a, const SessionMemoryEntry& b) { return a.seq < b.seq; });
  return s;
}

void SessionMemory::restore(const SessionMemoryState& state,
                            const std::unordered_map<int64_t, int32_t>& n_tokens) {
  order_.clear();
  by_entry_.clear();
  entry_of_seq_.clear();
  next_seq_ = state.next_seq;
  for (const SessionMemoryEntry& e : state.entries) {
    auto it = n_tokens.find(e.entry_id);
    if (it == n_tokens.end() || holds(e.entry_id) || entry_of_seq_.count(e.seq) > 0) continue;
    if (order_.used_tokens() + it->second > capacity_tokens_) continue;
    order_.add(e.seq, e.hits, it->second);
    by_entry_[e.entry_id] = {e.seq, e.hits, it->second};
    entry_of_seq_[e.seq] = e.entry_id;
    next_seq_ = std::max(next_seq_, e.seq + 1);
  }
}

}  // namespace memlong
