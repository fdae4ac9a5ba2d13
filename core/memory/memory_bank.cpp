// MemoryBank implementation (MEMLONG.md §3 and §4; contract in memory_bank.h).
//
// Invariants (tests cite these; 1-5 are the header's, restated for this implementation):
//  1. seq: next_seq_ starts at 1, grows by one per append and never goes back: clear() keeps it
//     and restore() sets it to max(next_seq_, the snapshot's next_seq).
//  2. state_.eviction.used_tokens() == sum of n_tokens over state_.entries <= capacity_tokens
//     after every append (eviction.h plans the victims; append checks the size first).
//  3. every entry has 1 <= n_tokens <= min(entry_tokens, capacity_tokens) and one arena
//     kv[2 * n_tokens * n_head_kv * head_dim] (K rows, then V rows, each [n_tokens, Hkv, dh] in
//     bf16 or f16); tokens.size() == n_tokens; its embedding lives in state_.flat under its seq.
//  4. retrieve() orders candidates by (score desc, seq asc), returns the best
//     min(k, eligible) in ascending seq and adds one hit to each.
//  5. eviction only in append(), before the new entry is inserted.
//  6. state_.entries, state_.by_doc, state_.eviction and state_.flat hold the same seqs; when
//     state_.ann exists it holds them too (live points), and it is used only while
//     n_entries > ann_threshold. It is built by the append that crosses the threshold (or by
//     restore()), then kept up to date on every append and eviction, rebuilt once deleted points
//     outnumber live ones, and dropped by clear(). If hnswlib fails, the index is dropped and
//     search stays exact (same results, slower) until clear() or restore().
//  7. state_.payload_bytes == the sum over entries of kv bytes + 4 * n_tokens + text bytes.
// Allowed state changes: append (evict then insert), retrieve (hits only), clear (drop all,
// keep next_seq), restore (replace everything, all-or-nothing).
//
// Snapshot format, version 1, little-endian:
//   magic "MLMBANK\0" | u32 version | u32 flags (0)
//   config: i32 n_head_kv, i32 head_dim, i32 emb_dim, i32 entry_tokens, i64 capacity_tokens,
//           u32 eviction, u32 dtype
//   u64 next_seq | u64 n_entries
//   n_entries x { u64 seq, i64 doc_id, i64 token_offset, u32 n_tokens, u32 hits, u32 text_bytes,
//                 i32 tokens[n_tokens], text, f32 embedding[emb_dim], u16 k[n*Hkv*dh],
//                 u16 v[n*Hkv*dh] }
//   u32 crc32 (IEEE 802.3, as zlib's crc32) of every byte before it.
// snapshot() returns an empty vector when the bytes cannot be allocated (restore() rejects it).
// restore() compares n_head_kv, head_dim, emb_dim, entry_tokens and dtype with this bank's
// (InvalidArgument on a mismatch) and needs the entries to fit this bank's capacity; the
// eviction policy and ann_threshold are this bank's, not the snapshot's.
// The hnswlib index is never stored; restore() rebuilds it from the embeddings.
#include "core/memory/memory_bank.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <set>
#include <tuple>

#include "core/backend/vec_f32.h"
#include "core/common/half.h"
#include "core/memory/eviction.h"
#include "core/memory/vector_index.h"

namespace memlong {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the snapshot format is little-endian and written with memcpy");

constexpr char kMagic[8] = {'M', 'L', 'M', 'B', 'A', 'N', 'K', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 4 * 4 + 8 + 4 + 4 + 8 + 8;
constexpr size_t kEntryFixedBytes = 8 + 8 + 8 + 4 + 4 + 4;
constexpr size_t kCrcBytes = 4;

// Limits on config sizes: far above any model we load (OpenLLaMA-3B: Hkv 32, dh 100, D 1024,
// E 128), low enough that every size product below fits in 64 bits with room to spare.
constexpr int32_t kMaxHeadsKv = 4096;
constexpr int32_t kMaxHeadDim = 4096;
constexpr int32_t kMaxEmbDim = 65536;
constexpr int32_t kMaxEntryTokens = 1 << 20;

// The hnswlib search width is max(64, config.ann_ef_search, 4 x the candidates asked for): at
// least the contract's max(64, 4k). Measured recall is in memory_bank.h at ann_ef_search.
constexpr size_t kMinEfSearch = 64;
// Rebuild the graph once deleted points outnumber live ones and there are at least this many.
constexpr size_t kMinDeletedForRebuild = 1024;

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int b = 0; b < 8; ++b) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = kCrcTable[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

struct Entry {
  MemoryEntryInfo info;
  std::unique_ptr<uint16_t[]> kv;  // [2][n_tokens, n_head_kv, head_dim]: K then V
  std::vector<int32_t> tokens;
  std::string text;
};

struct BankState {
  explicit BankState(int32_t emb_dim) : flat(emb_dim) {}
  std::map<uint64_t, Entry> entries;                        // by seq
  std::set<std::tuple<int64_t, int64_t, uint64_t>> by_doc;  // (doc_id, token_offset, seq)
  EvictionOrder eviction;
  FlatIndex flat;
  std::unique_ptr<HnswIndex> ann;
  bool is_ann_broken = false;
  int64_t payload_bytes = 0;
};

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}
  template <typename T>
  void put(T v) {
    bytes(&v, sizeof(T));
  }
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_->insert(out_->end(), b, b + n);
  }

 private:
  std::vector<uint8_t>* out_;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }
  template <typename T>
  bool get(T* v) {
    return bytes(v, sizeof(T));
  }
  bool bytes(void* p, size_t n) {
    if (n > remaining()) return false;
    if (n > 0) std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

class MemoryBankImpl final : public MemoryBank {
 public:
  explicit MemoryBankImpl(const MemoryBankConfig& config)
      : config_(config),
        row_elems_(static_cast<size_t>(config.n_head_kv) * static_cast<size_t>(config.head_dim)),
        state_(std::make_unique<BankState>(config.emb_dim)) {}

  const MemoryBankConfig& config() const override { return config_; }
  int64_t n_entries() const override { return static_cast<int64_t>(state_->entries.size()); }
  int64_t used_tokens() const override { return state_->eviction.used_tokens(); }
  uint64_t next_seq() const override { return next_seq_; }
  int64_t memory_bytes() const override {
    return state_->payload_bytes + state_->flat.memory_bytes() +
           (state_->ann ? state_->ann->memory_bytes() : 0);
  }

  Result<uint64_t> append(const MemoryEntryInput& in) override;
  std::vector<RetrievedEntry> retrieve(std::span<const float> query, int32_t k,
                                       const ExcludeRange& exclude) override;
  Result<int64_t> gather(std::span<const uint64_t> seqs, std::vector<float>* k_out,
                         std::vector<float>* v_out) const override;

  std::vector<MemoryEntryInfo> entries() const override {
    std::vector<MemoryEntryInfo> out;
    out.reserve(state_->entries.size());
    for (const auto& [seq, e] : state_->entries) out.push_back(e.info);
    return out;
  }
  const std::string* entry_text(uint64_t seq) const override {
    auto it = state_->entries.find(seq);
    return it == state_->entries.end() ? nullptr : &it->second.text;
  }
  const std::vector<int32_t>* entry_tokens(uint64_t seq) const override {
    auto it = state_->entries.find(seq);
    return it == state_->entries.end() ? nullptr : &it->second.tokens;
  }

  void clear() override { state_ = std::make_unique<BankState>(config_.emb_dim); }

  std::vector<uint8_t> snapshot() const override;
  Status restore(std::span<const uint8_t> bytes) override;

 private:
  size_t kv_elems(int32_t n_tokens) const { return static_cast<size_t>(n_tokens) * row_elems_; }
  uint16_t to_half(float x) const {
    return config_.dtype == MemoryDType::kBF16 ? f32_to_bf16(x) : f32_to_f16(x);
  }
  float from_half(uint16_t h) const {
    return config_.dtype == MemoryDType::kBF16 ? bf16_to_f32(h) : f16_to_f32(h);
  }
  int64_t entry_payload_bytes(const Entry& e) const {
    return static_cast<int64_t>(2 * kv_elems(e.info.n_tokens) * sizeof(uint16_t) +
                                e.tokens.size() * sizeof(int32_t) + e.text.size());
  }

  // Adds a validated entry (seq already assigned) to every structure of `s` (invariant 6).
  void insert(BankState* s, Entry entry, std::span<const float> embedding) const;
  void remove(BankState* s, uint64_t seq) const;
  // Builds s->ann from s->flat when the bank is above the threshold and has none.
  void maybe_build_ann(BankState* s) const;
  std::vector<uint64_t> excluded_seqs(const ExcludeRange& ex) const;

  MemoryBankConfig config_;
  size_t row_elems_;  // n_head_kv * head_dim
  std::unique_ptr<BankState> state_;
  uint64_t next_seq_ = 1;
};

void MemoryBankImpl::insert(BankState* s, Entry entry, std::span<const float> embedding) const {
  const uint64_t seq = entry.info.seq;
  s->payload_bytes += entry_payload_bytes(entry);
  s->by_doc.emplace(entry.info.doc_id, entry.info.token_offset, seq);
  s->eviction.add(seq, entry.info.hits, entry.info.n_tokens);
  s->flat.add(seq, embedding);
  s->entries.emplace(seq, std::move(entry));
  if (s->ann && !s->ann->add(seq, s->flat.vector(seq)).is_ok()) {
    s->ann.reset();  // invariant 6: exact search from now on
    s->is_ann_broken = true;
  }
}

void MemoryBankImpl::remove(BankState* s, uint64_t seq) const {
  auto it = s->entries.find(seq);
  MEMLONG_ASSERT(it != s->entries.end());
  const Entry& e = it->second;
  s->payload_bytes -= entry_payload_bytes(e);
  s->by_doc.erase({e.info.doc_id, e.info.token_offset, seq});
  s->eviction.remove(seq);
  s->flat.remove(seq);
  s->entries.erase(it);
  if (s->ann && !s->ann->remove(seq).is_ok()) {
    s->ann.reset();
    s->is_ann_broken = true;
  }
}

void MemoryBankImpl::maybe_build_ann(BankState* s) const {
  const size_t n = s->entries.size();
  const bool is_stale =
      s->ann && s->ann->n_deleted() > std::max(s->ann->n_live(), kMinDeletedForRebuild);
  if (s->is_ann_broken || static_cast<int64_t>(n) <= config_.ann_threshold) {
    if (is_stale) s->ann.reset();  // unused below the threshold: free it, rebuild when above
    return;
  }
  if (s->ann && !is_stale) return;
  s->ann.reset();
  auto created = HnswIndex::create(config_.emb_dim, 2 * n);
  if (!created.is_ok()) {
    s->is_ann_broken = true;
    return;
  }
  auto ann = std::move(created).value();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t seq = s->flat.label_at(i);
    if (!ann->add(seq, s->flat.vector(seq)).is_ok()) {
      s->is_ann_broken = true;
      return;
    }
  }
  s->ann = std::move(ann);
}

Result<uint64_t> MemoryBankImpl::append(const MemoryEntryInput& in) {
  // Invariant 3: check every size before anything changes.
  const size_t n = in.tokens.size();
  if (n < 1 || n > static_cast<size_t>(config_.entry_tokens)) {
    return invalid_argument("memory bank append: entry has " + std::to_string(n) +
                            " tokens; expected 1.." + std::to_string(config_.entry_tokens));
  }
  if (static_cast<int64_t>(n) > config_.capacity_tokens) {
    return invalid_argument("memory bank append: entry of " + std::to_string(n) +
                            " tokens is larger than the capacity of " +
                            std::to_string(config_.capacity_tokens) + " tokens");
  }
  const int32_t n_tokens = static_cast<int32_t>(n);
  const size_t elems = kv_elems(n_tokens);
  if (in.k.size() != elems || in.v.size() != elems) {
    return invalid_argument("memory bank append: K/V have " + std::to_string(in.k.size()) + "/" +
                            std::to_string(in.v.size()) + " floats; expected " +
                            std::to_string(elems) + " = n_tokens * n_head_kv * head_dim");
  }
  if (in.embedding.size() != static_cast<size_t>(config_.emb_dim)) {
    return invalid_argument("memory bank append: embedding has " +
                            std::to_string(in.embedding.size()) + " floats; expected " +
                            std::to_string(config_.emb_dim));
  }
  for (float x : in.embedding) {
    if (!std::isfinite(x)) return invalid_argument("memory bank append: embedding is not finite");
  }

  Entry entry;
  try {
    entry.kv = std::make_unique_for_overwrite<uint16_t[]>(2 * elems);
    entry.tokens = in.tokens;
    entry.text = in.text;
    state_->flat.reserve(state_->flat.size() + 1);
  } catch (const std::bad_alloc&) {
    return out_of_memory("memory bank append: cannot allocate " +
                         std::to_string(2 * elems * sizeof(uint16_t)) + " bytes of K/V");
  }
  for (size_t i = 0; i < elems; ++i) entry.kv[i] = to_half(in.k[i]);
  for (size_t i = 0; i < elems; ++i) entry.kv[elems + i] = to_half(in.v[i]);

  // Invariant 5: evict before inserting; the new entry is not in the order yet.
  for (uint64_t victim : state_->eviction.plan(config_.eviction, config_.capacity_tokens, n)) {
    remove(state_.get(), victim);
  }

  const uint64_t seq = next_seq_++;
  entry.info = MemoryEntryInfo{seq, in.doc_id, in.token_offset, n_tokens, 0};
  insert(state_.get(), std::move(entry), in.embedding);
  maybe_build_ann(state_.get());
  MEMLONG_ASSERT(used_tokens() <= config_.capacity_tokens);  // invariant 2
  return seq;
}

std::vector<uint64_t> MemoryBankImpl::excluded_seqs(const ExcludeRange& ex) const {
  std::vector<uint64_t> out;
  if (ex.doc_id == -1 || ex.token_end <= ex.token_begin) return out;
  // An entry [off, off + n) overlaps [begin, end) iff off < end and off + n > begin; since
  // n <= entry_tokens, only offsets above begin - entry_tokens can qualify.
  const int64_t lowest = ex.token_begin > std::numeric_limits<int64_t>::min() + config_.entry_tokens
                             ? ex.token_begin - config_.entry_tokens + 1
                             : std::numeric_limits<int64_t>::min();
  const auto& by_doc = state_->by_doc;
  for (auto it = by_doc.lower_bound({ex.doc_id, lowest, 0});
       it != by_doc.end() && std::get<0>(*it) == ex.doc_id && std::get<1>(*it) < ex.token_end;
       ++it) {
    const uint64_t seq = std::get<2>(*it);
    const auto& info = state_->entries.at(seq).info;
    if (info.token_offset + info.n_tokens > ex.token_begin) out.push_back(seq);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<RetrievedEntry> MemoryBankImpl::retrieve(std::span<const float> query, int32_t k,
                                                     const ExcludeRange& exclude) {
  MEMLONG_ASSERT(query.size() == static_cast<size_t>(config_.emb_dim));
  std::vector<RetrievedEntry> out;
  BankState& s = *state_;
  if (k <= 0 || s.entries.empty()) return out;
  const std::vector<uint64_t> excluded = excluded_seqs(exclude);
  const size_t n_eligible = s.entries.size() - excluded.size();
  const size_t k_eff = std::min(static_cast<size_t>(k), n_eligible);  // k' (invariant 4)
  if (k_eff == 0) return out;

  std::vector<IndexHit> hits;
  if (s.ann && static_cast<int64_t>(s.entries.size()) > config_.ann_threshold) {
    const size_t ef = std::max(
        {kMinEfSearch, static_cast<size_t>(config_.ann_ef_search), 4 * (k_eff + excluded.size())});
    auto found = s.ann->search(query, k_eff, ef, excluded);
    if (found.is_ok() && found->size() == k_eff) {
      hits = std::move(found).value();
      for (IndexHit& h : hits) {  // exact scores, so ties and values match the exact path
        h.score = vec::dot(query.data(), s.flat.vector(h.label), config_.emb_dim);
      }
    }
    // Otherwise (an hnswlib error, or a graph that returned too few points): exact below.
  }
  if (hits.empty()) hits = s.flat.search(query, k_eff, excluded);
  MEMLONG_ASSERT(hits.size() == k_eff);

  out.reserve(k_eff);
  for (const IndexHit& h : hits) {
    Entry& e = s.entries.at(h.label);
    ++e.info.hits;
    s.eviction.add_hit(h.label);
    out.push_back({e.info, h.score});
  }
  std::sort(out.begin(), out.end(), [](const RetrievedEntry& a, const RetrievedEntry& b) {
    return a.info.seq < b.info.seq;
  });
  return out;
}

Result<int64_t> MemoryBankImpl::gather(std::span<const uint64_t> seqs, std::vector<float>* k_out,
                                       std::vector<float>* v_out) const {
  MEMLONG_ASSERT(k_out != nullptr && v_out != nullptr);
  std::vector<const Entry*> picked;
  picked.reserve(seqs.size());
  int64_t m = 0;
  for (uint64_t seq : seqs) {
    auto it = state_->entries.find(seq);
    if (it == state_->entries.end()) {
      return not_found("memory bank gather: no entry with seq " + std::to_string(seq) +
                       " (evicted or never appended)");
    }
    picked.push_back(&it->second);
    m += it->second.info.n_tokens;
  }
  try {
    k_out->resize(static_cast<size_t>(m) * row_elems_);
    v_out->resize(static_cast<size_t>(m) * row_elems_);
  } catch (const std::bad_alloc&) {
    return out_of_memory("memory bank gather: cannot allocate K/V for " + std::to_string(m) +
                         " tokens");
  }
  float* kd = k_out->data();
  float* vd = v_out->data();
  for (const Entry* e : picked) {
    const size_t elems = kv_elems(e->info.n_tokens);
    const uint16_t* src = e->kv.get();
    if (config_.dtype == MemoryDType::kBF16) {
      for (size_t i = 0; i < elems; ++i) kd[i] = bf16_to_f32(src[i]);
      for (size_t i = 0; i < elems; ++i) vd[i] = bf16_to_f32(src[elems + i]);
    } else {
      for (size_t i = 0; i < elems; ++i) kd[i] = f16_to_f32(src[i]);
      for (size_t i = 0; i < elems; ++i) vd[i] = f16_to_f32(src[elems + i]);
    }
    kd += elems;
    vd += elems;
  }
  return m;
}

std::vector<uint8_t> MemoryBankImpl::snapshot() const {
  const BankState& s = *state_;
  size_t total = kHeaderBytes + kCrcBytes;
  for (const auto& [seq, e] : s.entries) {
    total += kEntryFixedBytes + e.tokens.size() * 4 + e.text.size() +
             static_cast<size_t>(config_.emb_dim) * 4 + 2 * kv_elems(e.info.n_tokens) * 2;
  }
  std::vector<uint8_t> out;
  try {
    out.reserve(total);
  } catch (const std::bad_alloc&) {
    return {};  // documented: an empty snapshot means it did not fit in memory
  }
  Writer w(&out);
  w.bytes(kMagic, sizeof(kMagic));
  w.put<uint32_t>(kVersion);
  w.put<uint32_t>(0);
  w.put<int32_t>(config_.n_head_kv);
  w.put<int32_t>(config_.head_dim);
  w.put<int32_t>(config_.emb_dim);
  w.put<int32_t>(config_.entry_tokens);
  w.put<int64_t>(config_.capacity_tokens);
  w.put<uint32_t>(static_cast<uint32_t>(config_.eviction));
  w.put<uint32_t>(static_cast<uint32_t>(config_.dtype));
  w.put<uint64_t>(next_seq_);
  w.put<uint64_t>(s.entries.size());
  for (const auto& [seq, e] : s.entries) {
    w.put<uint64_t>(seq);
    w.put<int64_t>(e.info.doc_id);
    w.put<int64_t>(e.info.token_offset);
    w.put<uint32_t>(static_cast<uint32_t>(e.info.n_tokens));
    w.put<uint32_t>(e.info.hits);
    w.put<uint32_t>(static_cast<uint32_t>(e.text.size()));
    w.bytes(e.tokens.data(), e.tokens.size() * 4);
    w.bytes(e.text.data(), e.text.size());
    w.bytes(s.flat.vector(seq), static_cast<size_t>(config_.emb_dim) * 4);
    w.bytes(e.kv.get(), 2 * kv_elems(e.info.n_tokens) * 2);
  }
  w.put<uint32_t>(crc32(out.data(), out.size()));
  MEMLONG_ASSERT(out.size() == total);
  return out;
}

Status MemoryBankImpl::restore(std::span<const uint8_t> bytes) {
  auto bad = [](const std::string& what) { return corrupt("memory bank snapshot: " + what); };
  if (bytes.size() < kHeaderBytes + kCrcBytes) {
    return bad("only " + std::to_string(bytes.size()) + " bytes; a snapshot has at least " +
               std::to_string(kHeaderBytes + kCrcBytes));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return bad("wrong magic; this is not a memory bank snapshot");
  }
  const size_t body = bytes.size() - kCrcBytes;
  uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, bytes.data() + body, kCrcBytes);
  if (crc32(bytes.data(), body) != stored_crc) {
    return bad("checksum mismatch (truncated or damaged file)");
  }
  Reader r(bytes.first(body));
  char magic[8];
  uint32_t version = 0, flags = 0, eviction = 0, dtype = 0;
  MemoryBankConfig c;
  uint64_t snap_next_seq = 0, n_entries = 0;
  bool ok = r.bytes(magic, 8) && r.get(&version) && r.get(&flags);
  if (ok && version != kVersion) {
    return unsupported("memory bank snapshot: version " + std::to_string(version) +
                       "; this build reads version " + std::to_string(kVersion));
  }
  ok = ok && r.get(&c.n_head_kv) && r.get(&c.head_dim) && r.get(&c.emb_dim) &&
       r.get(&c.entry_tokens) && r.get(&c.capacity_tokens) && r.get(&eviction) && r.get(&dtype) &&
       r.get(&snap_next_seq) && r.get(&n_entries);
  MEMLONG_ASSERT(ok);  // the size check above covers the header
  if (flags != 0 || eviction > 1 || dtype > 1) {
    return bad("unknown flags, eviction or dtype value in the header");
  }
  if (c.n_head_kv != config_.n_head_kv || c.head_dim != config_.head_dim ||
      c.emb_dim != config_.emb_dim || c.entry_tokens != config_.entry_tokens ||
      static_cast<MemoryDType>(dtype) != config_.dtype) {
    return invalid_argument(
        "memory bank snapshot: made for n_head_kv " + std::to_string(c.n_head_kv) + ", head_dim " +
        std::to_string(c.head_dim) + ", emb_dim " + std::to_string(c.emb_dim) + ", entry_tokens " +
        std::to_string(c.entry_tokens) + ", dtype " + std::to_string(dtype) + "; this bank has " +
        std::to_string(config_.n_head_kv) + ", " + std::to_string(config_.head_dim) + ", " +
        std::to_string(config_.emb_dim) + ", " + std::to_string(config_.entry_tokens) + ", " +
        std::to_string(static_cast<uint32_t>(config_.dtype)));
  }
  const size_t emb_bytes = static_cast<size_t>(config_.emb_dim) * 4;
  if (n_entries > r.remaining() / (kEntryFixedBytes + emb_bytes)) {
    return bad(std::to_string(n_entries) + " entries cannot fit in " +
               std::to_string(r.remaining()) + " bytes");
  }

  auto s = std::make_unique<BankState>(config_.emb_dim);
  std::vector<float> embedding(static_cast<size_t>(config_.emb_dim));
  uint64_t prev_seq = 0;
  try {
    s->flat.reserve(static_cast<size_t>(n_entries));
    for (uint64_t i = 0; i < n_entries; ++i) {
      const std::string where =
          "entry " + std::to_string(i) + " at offset " + std::to_string(r.pos()) + ": ";
      Entry e;
      uint32_t n_tokens = 0, text_bytes = 0;
      if (!(r.get(&e.info.seq) && r.get(&e.info.doc_id) && r.get(&e.info.token_offset) &&
            r.get(&n_tokens) && r.get(&e.info.hits) && r.get(&text_bytes))) {
        return bad(where + "ends inside its header");
      }
      if (e.info.seq <= prev_seq || e.info.seq >= snap_next_seq) {
        return bad(where + "seq " + std::to_string(e.info.seq) + " is not above " +
                   std::to_string(prev_seq) + " and below next_seq " +
                   std::to_string(snap_next_seq));
      }
      prev_seq = e.info.seq;
      if (n_tokens < 1 || n_tokens > static_cast<uint32_t>(config_.entry_tokens)) {
        return bad(where + std::to_string(n_tokens) + " tokens; expected 1.." +
                   std::to_string(config_.entry_tokens));
      }
      e.info.n_tokens = static_cast<int32_t>(n_tokens);
      const size_t elems = kv_elems(e.info.n_tokens);
      const uint64_t need = uint64_t{n_tokens} * 4 + text_bytes + emb_bytes + 2 * elems * 2;
      if (need > r.remaining()) {
        return bad(where + "needs " + std::to_string(need) + " bytes, " +
                   std::to_string(r.remaining()) + " left");
      }
      e.tokens.resize(n_tokens);
      e.text.resize(text_bytes);
      e.kv = std::make_unique_for_overwrite<uint16_t[]>(2 * elems);
      r.bytes(e.tokens.data(), size_t{n_tokens} * 4);
      r.bytes(e.text.data(), text_bytes);
      r.bytes(embedding.data(), emb_bytes);
      r.bytes(e.kv.get(), 2 * elems * 2);
      for (float x : embedding) {
        if (!std::isfinite(x)) return bad(where + "embedding is not finite");
      }
      if (s->eviction.used_tokens() + n_tokens > config_.capacity_tokens) {
        return invalid_argument("memory bank snapshot: holds more than this bank's capacity of " +
                                std::to_string(config_.capacity_tokens) + " tokens");
      }
      insert(s.get(), std::move(e), embedding);
    }
  } catch (const std::bad_alloc&) {
    return out_of_memory("memory bank snapshot: cannot allocate the restored entries");
  }
  if (r.remaining() != 0) {
    return bad(std::to_string(r.remaining()) + " unexpected bytes after the last entry");
  }
  maybe_build_ann(s.get());
  state_ = std::move(s);
  next_seq_ = std::max(next_seq_, snap_next_seq);  // invariant 1
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<MemoryBank>> MemoryBank::create(const MemoryBankConfig& c) {
  auto in_range = [](int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; };
  if (!in_range(c.n_head_kv, 1, kMaxHeadsKv) || !in_range(c.head_dim, 1, kMaxHeadDim) ||
      !in_range(c.emb_dim, 1, kMaxEmbDim) || !in_range(c.entry_tokens, 1, kMaxEntryTokens) ||
      c.capacity_tokens < 1 || c.ann_threshold < 0 || !in_range(c.ann_ef_search, 1, 1 << 20)) {
    return invalid_argument(
        "memory bank config: n_head_kv " + std::to_string(c.n_head_kv) + ", head_dim " +
        std::to_string(c.head_dim) + ", emb_dim " + std::to_string(c.emb_dim) + ", entry_tokens " +
        std::to_string(c.entry_tokens) + ", capacity_tokens " + std::to_string(c.capacity_tokens) +
        ", ann_threshold " + std::to_string(c.ann_threshold) + ", ann_ef_search " +
        std::to_string(c.ann_ef_search) +
        "; expected each >= 1 (ann_threshold >= 0) and within the limits in memory_bank.cpp");
  }
  if (c.eviction != EvictionPolicy::kCounter && c.eviction != EvictionPolicy::kFifoHalf) {
    return invalid_argument("memory bank config: unknown eviction policy");
  }
  if (c.dtype != MemoryDType::kBF16 && c.dtype != MemoryDType::kF16) {
    return invalid_argument("memory bank config: unknown dtype");
  }
  return std::unique_ptr<MemoryBank>(std::make_unique<MemoryBankImpl>(c));
}

}  // namespace memlong
