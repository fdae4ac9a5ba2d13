// MemoryBank against its contract (memory_bank.h invariants 1-5, memory_bank.cpp 6-7) and
// MEMLONG.md §3/§4: eviction with unequal entry lengths and exact victims, hit counting,
// retrieval order/exclusion/ties against a naive reference written here, hnswlib against exact
// search, gather against bf16/f16-rounded originals, and hostile snapshots.
#include "core/memory/memory_bank.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "core/common/half.h"
#include "core/memory/eviction.h"

namespace memlong {
namespace {

// One entry's inputs, kept by the test as the reference.
struct TestEntry {
  int64_t doc_id = 0;
  int64_t token_offset = 0;
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<float> embedding;
  std::vector<float> k, v;

  MemoryEntryInput input() const {
    MemoryEntryInput in;
    in.doc_id = doc_id;
    in.token_offset = token_offset;
    in.tokens = tokens;
    in.text = text;
    in.embedding = embedding;
    in.k = k;
    in.v = v;
    return in;
  }
};

std::vector<float> unit_random(int dim, std::mt19937* rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(dim));
  double ss = 0.0;
  for (float& x : v) {
    x = nd(*rng);
    ss += double(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(ss));
  return v;
}

std::vector<float> one_hot(int dim, int i) {
  std::vector<float> v(static_cast<size_t>(dim), 0.0f);
  v[static_cast<size_t>(i % dim)] = 1.0f;
  return v;
}

TestEntry make_entry(const MemoryBankConfig& c, int n_tokens, std::vector<float> emb,
                     int64_t doc_id, int64_t token_offset, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> ud(-4.0f, 4.0f);
  TestEntry e;
  e.doc_id = doc_id;
  e.token_offset = token_offset;
  for (int i = 0; i < n_tokens; ++i) e.tokens.push_back(static_cast<int32_t>(seed * 100 + i));
  e.text = "entry " + std::to_string(seed) + " of " + std::to_string(n_tokens) + " tokens";
  e.embedding = std::move(emb);
  const size_t n = static_cast<size_t>(n_tokens) * c.n_head_kv * c.head_dim;
  for (size_t i = 0; i < n; ++i) e.k.push_back(ud(rng));
  for (size_t i = 0; i < n; ++i) e.v.push_back(ud(rng));
  return e;
}

MemoryBankConfig small_config() {
  MemoryBankConfig c;
  c.n_head_kv = 2;
  c.head_dim = 4;
  c.emb_dim = 16;
  c.entry_tokens = 8;
  c.capacity_tokens = 20;
  return c;
}

std::unique_ptr<MemoryBank> make_bank(const MemoryBankConfig& c) {
  auto r = MemoryBank::create(c);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return std::move(r).value();
}

uint64_t append_ok(MemoryBank* bank, const TestEntry& e) {
  auto r = bank->append(e.input());
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  // Invariant 2 after every append.
  int64_t sum = 0;
  for (const auto& info : bank->entries()) sum += info.n_tokens;
  EXPECT_EQ(sum, bank->used_tokens());
  EXPECT_LE(bank->used_tokens(), bank->config().capacity_tokens);
  return r.is_ok() ? r.value() : 0;
}

std::vector<uint64_t> seqs_of(const std::vector<MemoryEntryInfo>& infos) {
  std::vector<uint64_t> s;
  for (const auto& i : infos) s.push_back(i.seq);
  return s;
}

std::vector<uint64_t> seqs_of(const std::vector<RetrievedEntry>& r) {
  std::vector<uint64_t> s;
  for (const auto& e : r) s.push_back(e.info.seq);
  return s;
}

// Appends entries of the given lengths with one-hot embeddings (entry i -> axis i).
std::vector<uint64_t> fill(MemoryBank* bank, const std::vector<int>& lengths) {
  std::vector<uint64_t> seqs;
  for (size_t i = 0; i < lengths.size(); ++i) {
    seqs.push_back(append_ok(
        bank, make_entry(bank->config(), lengths[i], one_hot(bank->config().emb_dim, int(i)), 1,
                         int64_t(i) * 8, uint32_t(i + 1))));
  }
  return seqs;
}

// ---- create / append validation (invariant 3) ----

TEST(MemoryBank, CreateRejectsImpossibleSizes) {
  for (int field = 0; field < 7; ++field) {
    MemoryBankConfig c = small_config();
    if (field == 0) c.n_head_kv = 0;
    if (field == 1) c.head_dim = -1;
    if (field == 2) c.emb_dim = 0;
    if (field == 3) c.entry_tokens = 0;
    if (field == 4) c.capacity_tokens = 0;
    if (field == 5) c.ann_threshold = -1;
    if (field == 6) c.ann_ef_search = 0;
    auto r = MemoryBank::create(c);
    ASSERT_FALSE(r.is_ok()) << field;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(MemoryBank::create(small_config()).is_ok());
  EXPECT_EQ(eviction_policy_name(EvictionPolicy::kCounter), "counter");
  EXPECT_EQ(eviction_policy_name(EvictionPolicy::kFifoHalf), "fifo_half");
}

TEST(MemoryBank, AppendRejectsBadSizesAndChangesNothing) {
  MemoryBankConfig c = small_config();
  c.entry_tokens = 16;  // E > C: an entry can be larger than the capacity
  c.capacity_tokens = 10;
  auto bank = make_bank(c);
  fill(bank.get(), {4, 5});
  const auto before = bank->entries();
  const int64_t used = bank->used_tokens(), bytes = bank->memory_bytes();
  const uint64_t next = bank->next_seq();

  auto expect_invalid = [&](const TestEntry& e, const char* what) {
    auto r = bank->append(e.input());
    ASSERT_FALSE(r.is_ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << what;
    EXPECT_EQ(seqs_of(bank->entries()), seqs_of(before)) << what;
    EXPECT_EQ(bank->used_tokens(), used) << what;
    EXPECT_EQ(bank->memory_bytes(), bytes) << what;
    EXPECT_EQ(bank->next_seq(), next) << what;
  };
  // Larger than the capacity (12 > C = 10) though within E: nothing evicted.
  expect_invalid(make_entry(c, 12, one_hot(16, 0), 1, 0, 9), "larger than capacity");
  expect_invalid(make_entry(c, 17, one_hot(16, 0), 1, 0, 9), "larger than E");
  TestEntry e = make_entry(c, 3, one_hot(16, 0), 1, 0, 9);
  e.tokens.clear();
  e.k.clear();
  e.v.clear();
  expect_invalid(e, "empty");
  e = make_entry(c, 3, one_hot(16, 0), 1, 0, 9);
  e.k.pop_back();
  expect_invalid(e, "short K");
  e = make_entry(c, 3, one_hot(16, 0), 1, 0, 9);
  e.v.push_back(0.0f);
  expect_invalid(e, "long V");
  e = make_entry(c, 3, one_hot(15, 0), 1, 0, 9);
  expect_invalid(e, "embedding dim");
  e = make_entry(c, 3, one_hot(16, 0), 1, 0, 9);
  e.embedding[3] = std::nanf("");
  expect_invalid(e, "nan embedding");
  // An entry of exactly C tokens is fine and evicts everything else.
  append_ok(bank.get(), make_entry(c, 10, one_hot(16, 0), 1, 0, 9));
  EXPECT_EQ(bank->n_entries(), 1);
}

// ---- eviction (invariant 5) ----

TEST(MemoryEviction, OrderPlansCounterVictimsBySmallestHitsThenSeq) {
  EvictionOrder o;
  o.add(1, 0, 5);
  o.add(2, 2, 3);
  o.add(3, 0, 8);
  o.add(4, 1, 4);
  EXPECT_EQ(o.used_tokens(), 20);
  EXPECT_TRUE(o.plan(EvictionPolicy::kCounter, 30, 10).empty());
  EXPECT_EQ(o.plan(EvictionPolicy::kCounter, 20, 1), (std::vector<uint64_t>{1}));
  EXPECT_EQ(o.plan(EvictionPolicy::kCounter, 20, 6), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(o.plan(EvictionPolicy::kCounter, 20, 14), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(o.plan(EvictionPolicy::kCounter, 20, 20), (std::vector<uint64_t>{1, 3, 4, 2}));
  o.add_hit(1);
  o.add_hit(1);
  o.add_hit(1);  // (3, 1) now ranks after (2, 2)
  EXPECT_EQ(o.plan(EvictionPolicy::kCounter, 20, 20), (std::vector<uint64_t>{3, 4, 2, 1}));
  o.remove(3);
  EXPECT_EQ(o.used_tokens(), 12);
  EXPECT_EQ(o.size(), 3u);
}

TEST(MemoryEviction, OrderPlansFifoHalfRounds) {
  EvictionOrder o;
  const int lengths[] = {1, 1, 8, 8, 1};
  for (int i = 0; i < 5; ++i) o.add(uint64_t(i + 1), 7, lengths[i]);  // hits do not matter
  // U = 19, C = 20. incoming 2: n = 5 drops floor(5/2) = 2 -> U = 17, fits.
  EXPECT_EQ(o.plan(EvictionPolicy::kFifoHalf, 20, 2), (std::vector<uint64_t>{1, 2}));
  // incoming 8: round 1 drops 1, 2 (U = 17, 25 > 20); round 2, n = 3, drops 3 (U = 9, fits).
  EXPECT_EQ(o.plan(EvictionPolicy::kFifoHalf, 20, 8), (std::vector<uint64_t>{1, 2, 3}));
  // incoming 20: rounds of 2, 1, 1 (n = 1 drops that one) -> everything.
  EXPECT_EQ(o.plan(EvictionPolicy::kFifoHalf, 20, 20), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST(MemoryEviction, CounterDropsLeastHitThenOldestWithUnequalLengths) {
  auto bank = make_bank(small_config());  // C = 20
  const auto s = fill(bank.get(), {5, 3, 8, 4});
  ASSERT_EQ(bank->used_tokens(), 20);
  // One hit for entry 2 (axis 1) and one for entry 4 (axis 3).
  ASSERT_EQ(seqs_of(bank->retrieve(one_hot(16, 1), 1, {})), (std::vector<uint64_t>{s[1]}));
  ASSERT_EQ(seqs_of(bank->retrieve(one_hot(16, 3), 1, {})), (std::vector<uint64_t>{s[3]}));
  // Append 6 tokens: 20 + 6 > 20; victims (0, s0) of 5 tokens -> 21 > 20, then (0, s2) -> 13.
  const uint64_t s5 =
      append_ok(bank.get(), make_entry(bank->config(), 6, one_hot(16, 4), 1, 100, 50));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s[1], s[3], s5}));
  EXPECT_EQ(bank->used_tokens(), 13);
  // Append 8: 21 > 20 -> the new entry s5 (0 hits) goes, not a hit one.
  const uint64_t s6 =
      append_ok(bank.get(), make_entry(bank->config(), 8, one_hot(16, 5), 1, 200, 51));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s[1], s[3], s6}));
  // Append 7: 15 + 7 > 20: s6 is the only 0-hit one; 7 fits after it goes. The entry being
  // inserted is never a victim even though it has 0 hits too.
  const uint64_t s7 =
      append_ok(bank.get(), make_entry(bank->config(), 7, one_hot(16, 6), 1, 300, 52));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s[1], s[3], s7}));
  // Append 8 more: 14 + 8 > 20: s7 (0 hits) goes, 7 + 8 = 15 fits.
  const uint64_t s8 =
      append_ok(bank.get(), make_entry(bank->config(), 8, one_hot(16, 7), 1, 400, 53));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s[1], s[3], s8}));
  // Now hits tie at 1 for s1 and s3; give s8 two hits. Appending 8 (23 > 20) drops (1, s1)
  // first, the older of the tie: 12 + 8 = 20 fits.
  bank->retrieve(one_hot(16, 7), 1, {});
  bank->retrieve(one_hot(16, 7), 1, {});
  append_ok(bank.get(), make_entry(bank->config(), 8, one_hot(16, 8), 1, 500, 54));
  EXPECT_EQ(seqs_of(bank->entries()).front(), s[3]);
  EXPECT_EQ(bank->n_entries(), 3);
}

TEST(MemoryEviction, FifoHalfDropsOldestHalfAndRepeats) {
  MemoryBankConfig c = small_config();
  c.eviction = EvictionPolicy::kFifoHalf;
  auto bank = make_bank(c);
  auto s = fill(bank.get(), {2, 7, 3, 5, 1});  // U = 18
  // Hits do not protect under fifo_half.
  bank->retrieve(one_hot(16, 0), 1, {});
  // Append 8: n = 5 -> drop 2 oldest (9 tokens) -> 9 + 8 = 17 fits.
  const uint64_t s6 = append_ok(bank.get(), make_entry(c, 8, one_hot(16, 9), 1, 90, 60));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s[2], s[3], s[4], s6}));
  EXPECT_EQ(bank->used_tokens(), 17);
  // Append 8: 25 > 20; n = 4 -> drop s2, s3 (8 tokens): 9 + 8 = 17 fits.
  const uint64_t s7 = append_ok(bank.get(), make_entry(c, 8, one_hot(16, 10), 1, 98, 61));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s[4], s6, s7}));
  // Append 6: 23 > 20; n = 3 -> drop s4 (1 token): 22 > 20; n = 2 -> drop s6: 14 fits.
  const uint64_t s8 = append_ok(bank.get(), make_entry(c, 6, one_hot(16, 11), 1, 106, 62));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s7, s8}));
  EXPECT_EQ(bank->used_tokens(), 14);
}

TEST(MemoryEviction, FifoHalfSingleEntryThatDoesNotFitIsDropped) {
  MemoryBankConfig c = small_config();
  c.eviction = EvictionPolicy::kFifoHalf;
  c.capacity_tokens = 10;
  auto bank = make_bank(c);
  fill(bank.get(), {8});
  const uint64_t s = append_ok(bank.get(), make_entry(c, 8, one_hot(16, 1), 1, 8, 70));
  EXPECT_EQ(seqs_of(bank->entries()), (std::vector<uint64_t>{s}));
}

// ---- seq (invariant 1) ----

TEST(MemoryBank, SeqIsNeverReusedAcrossEvictionClearAndRestore) {
  auto bank = make_bank(small_config());
  std::vector<uint64_t> all;
  for (int i = 0; i < 12; ++i) {  // evicts along the way
    all.push_back(append_ok(bank.get(), make_entry(bank->config(), 1 + i % 8, one_hot(16, i), 1,
                                                   i * 8, uint32_t(i + 1))));
  }
  const auto snap = bank->snapshot();
  bank->clear();
  EXPECT_EQ(bank->n_entries(), 0);
  EXPECT_EQ(bank->used_tokens(), 0);
  all.push_back(append_ok(bank.get(), make_entry(bank->config(), 3, one_hot(16, 0), 1, 0, 99)));
  all.push_back(append_ok(bank.get(), make_entry(bank->config(), 3, one_hot(16, 0), 1, 0, 98)));
  // Restoring an older snapshot keeps next_seq at the larger of the two.
  const uint64_t next = bank->next_seq();
  ASSERT_TRUE(bank->restore(snap).is_ok());
  EXPECT_EQ(bank->next_seq(), next);
  all.push_back(append_ok(bank.get(), make_entry(bank->config(), 3, one_hot(16, 0), 1, 0, 97)));
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i], all[i - 1]) << i;
  EXPECT_EQ(bank->next_seq(), all.back() + 1);
}

// ---- retrieval (invariant 4) ----

// Naive reference: all eligible entries scored in double, sorted by (score desc, seq asc).
std::vector<uint64_t> reference_top_k(const std::vector<std::pair<uint64_t, TestEntry>>& held,
                                      const std::vector<float>& q, int k, const ExcludeRange& ex) {
  std::vector<std::pair<double, uint64_t>> scored;
  for (const auto& [seq, e] : held) {
    const int64_t n = static_cast<int64_t>(e.tokens.size());
    if (ex.doc_id != -1 && e.doc_id == ex.doc_id && e.token_offset < ex.token_end &&
        e.token_offset + n > ex.token_begin) {
      continue;
    }
    double s = 0.0;
    for (size_t i = 0; i < q.size(); ++i) s += double(q[i]) * e.embedding[i];
    scored.push_back({-s, seq});
  }
  std::sort(scored.begin(), scored.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < scored.size() && int(i) < k; ++i) out.push_back(scored[i].second);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(MemoryRetrieval, EmptyBankAndZeroKGiveNothing) {
  auto bank = make_bank(small_config());
  EXPECT_TRUE(bank->retrieve(one_hot(16, 0), 8, {}).empty());
  fill(bank.get(), {2, 2});
  EXPECT_TRUE(bank->retrieve(one_hot(16, 0), 0, {}).empty());
  for (const auto& info : bank->entries()) EXPECT_EQ(info.hits, 0u);
}

TEST(MemoryRetrieval, ReturnsMinKEligibleInSeqOrderAndCountsOneHitPerCall) {
  MemoryBankConfig c = small_config();
  c.capacity_tokens = 1000;
  auto bank = make_bank(c);
  const auto s = fill(bank.get(), {1, 2, 3, 4, 5});
  // Query closest to entry 4, then 1, then 2 (scores 0.9, 0.5, 0.3; others 0).
  std::vector<float> q(16, 0.0f);
  q[3] = 0.9f;
  q[0] = 0.5f;
  q[1] = 0.3f;
  auto r = bank->retrieve(q, 3, {});
  ASSERT_EQ(seqs_of(r), (std::vector<uint64_t>{s[0], s[1], s[3]}));  // chronological
  EXPECT_FLOAT_EQ(r[0].score, 0.5f);
  EXPECT_FLOAT_EQ(r[2].score, 0.9f);
  EXPECT_EQ(r[0].info.n_tokens, 1);
  EXPECT_EQ(r[0].info.hits, 1u);
  // k larger than the bank: the whole bank, once each.
  r = bank->retrieve(q, 50, {});
  EXPECT_EQ(seqs_of(r), s);
  const auto infos = bank->entries();
  const uint32_t expected_hits[] = {2, 2, 1, 2, 1};
  for (size_t i = 0; i < infos.size(); ++i) EXPECT_EQ(infos[i].hits, expected_hits[i]) << i;
}

TEST(MemoryRetrieval, EqualScoresGoToTheLowerSeq) {
  MemoryBankConfig c = small_config();
  c.capacity_tokens = 1000;
  auto bank = make_bank(c);
  std::vector<uint64_t> s;
  for (int i = 0; i < 6; ++i) {  // six identical keys
    s.push_back(append_ok(bank.get(), make_entry(c, 2, one_hot(16, 2), 1, i * 2, uint32_t(i))));
  }
  EXPECT_EQ(seqs_of(bank->retrieve(one_hot(16, 2), 3, {})),
            (std::vector<uint64_t>{s[0], s[1], s[2]}));
  // Excluding the first two moves the choice to the next lowest seqs.
  EXPECT_EQ(seqs_of(bank->retrieve(one_hot(16, 2), 3, {1, 0, 4})),
            (std::vector<uint64_t>{s[2], s[3], s[4]}));
}

TEST(MemoryRetrieval, ExcludesEntriesOverlappingTheRangeOfTheSameDoc) {
  MemoryBankConfig c = small_config();
  c.capacity_tokens = 1000;
  auto bank = make_bank(c);
  // doc 7: [0,8) [8,16) [16,24) [24,32); doc 9 at the same offsets.
  std::vector<uint64_t> d7, d9;
  for (int i = 0; i < 4; ++i) {
    d7.push_back(append_ok(bank.get(), make_entry(c, 8, one_hot(16, 0), 7, i * 8, uint32_t(i))));
    d9.push_back(
        append_ok(bank.get(), make_entry(c, 8, one_hot(16, 0), 9, i * 8, uint32_t(10 + i))));
  }
  // [10, 17) overlaps [8,16) and [16,24) of doc 7 only.
  auto r = bank->retrieve(one_hot(16, 0), 100, {7, 10, 17});
  EXPECT_EQ(seqs_of(r), (std::vector<uint64_t>{d7[0], d9[0], d9[1], d9[2], d7[3], d9[3]}));
  // Touching but not overlapping ranges stay eligible: [16, 16) is empty, [8,16) ends at 16.
  EXPECT_EQ(bank->retrieve(one_hot(16, 0), 100, {7, 16, 16}).size(), 8u);
  EXPECT_EQ(bank->retrieve(one_hot(16, 0), 100, {7, 32, 40}).size(), 8u);
  EXPECT_EQ(bank->retrieve(one_hot(16, 0), 100, {7, 31, 40}).size(), 7u);
  // Everything of doc 7 excluded, k = 6 -> the 4 of doc 9 (k' = min(k, eligible)).
  EXPECT_EQ(seqs_of(bank->retrieve(one_hot(16, 0), 6, {7, -100, 1000})), d9);
  // Excluded entries get no hits.
  // Hits: d7[0] was returned by calls 1-4, d7[1] and d7[2] by 2-4, d7[3] by 1-3, doc 9 by all.
  const auto infos = bank->entries();
  ASSERT_EQ(infos.size(), 8u);
  const uint32_t expected_hits[] = {4, 5, 3, 5, 3, 5, 3, 5};
  for (size_t i = 0; i < infos.size(); ++i) EXPECT_EQ(infos[i].hits, expected_hits[i]) << i;
}

TEST(MemoryRetrieval, ExactSearchMatchesNaiveReferenceOnRandomData) {
  MemoryBankConfig c = small_config();
  c.capacity_tokens = 100000;
  c.emb_dim = 24;
  auto bank = make_bank(c);
  std::mt19937 rng(5);
  std::vector<std::pair<uint64_t, TestEntry>> held;
  for (int i = 0; i < 300; ++i) {
    TestEntry e = make_entry(c, 1 + i % 8, unit_random(24, &rng), i % 3, (i / 3) * 4, uint32_t(i));
    held.push_back({append_ok(bank.get(), e), e});
  }
  for (int qi = 0; qi < 40; ++qi) {
    const auto q = unit_random(24, &rng);
    const ExcludeRange ex{qi % 3, qi * 10, qi * 10 + 30};
    const int k = 1 + qi % 12;
    EXPECT_EQ(seqs_of(bank->retrieve(q, k, ex)), reference_top_k(held, q, k, ex)) << qi;
  }
}

// ---- hnswlib path (memory_bank.cpp invariant 6) ----

MemoryBankConfig ann_config(int dim, int64_t ann_threshold) {
  MemoryBankConfig c;
  c.n_head_kv = 1;
  c.head_dim = 1;
  c.emb_dim = dim;
  c.entry_tokens = 4;
  c.capacity_tokens = 1 << 30;
  c.ann_threshold = ann_threshold;
  return c;
}

TEST(MemoryRetrieval, AnnAgreesWithExactOnSmallBanksWithExclusionAndEviction) {
  const int dim = 16;
  MemoryBankConfig exact_c = ann_config(dim, 1 << 30);
  MemoryBankConfig ann_c = ann_config(dim, 0);
  exact_c.capacity_tokens = ann_c.capacity_tokens = 600;  // evicts (markDelete) along the way
  auto exact = make_bank(exact_c);
  auto ann = make_bank(ann_c);
  std::mt19937 rng(11);
  for (int i = 0; i < 400; ++i) {
    const TestEntry e =
        make_entry(exact_c, 1 + i % 4, unit_random(dim, &rng), i % 2, i * 4, uint32_t(i));
    ASSERT_EQ(append_ok(exact.get(), e), append_ok(ann.get(), e));
    if (i % 50 == 49) {  // interleave searches, which also change hits and so eviction
      const auto q = unit_random(dim, &rng);
      ASSERT_EQ(seqs_of(exact->retrieve(q, 8, {})), seqs_of(ann->retrieve(q, 8, {})));
    }
  }
  ASSERT_EQ(seqs_of(exact->entries()), seqs_of(ann->entries()));
  ASSERT_LT(exact->n_entries(), 400);
  for (int qi = 0; qi < 50; ++qi) {
    const auto q = unit_random(dim, &rng);
    const ExcludeRange ex{qi % 2, qi * 20, qi * 20 + 64};
    const auto a = exact->retrieve(q, 8, ex);
    const auto b = ann->retrieve(q, 8, ex);
    ASSERT_EQ(seqs_of(a), seqs_of(b)) << qi;
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].score, b[i].score);
  }
}

TEST(MemoryRetrieval, AnnStaysExactAcrossManyEvictionsAndGraphRebuilds) {
  // One-token entries, capacity 150: 3000 appends evict ~2850 entries, so the graph is rebuilt
  // once deleted points outnumber live ones and 1024 (memory_bank.cpp invariant 6).
  const int dim = 16;
  MemoryBankConfig exact_c = ann_config(dim, 1 << 30);
  MemoryBankConfig ann_c = ann_config(dim, 100);
  exact_c.capacity_tokens = ann_c.capacity_tokens = 150;
  auto exact = make_bank(exact_c);
  auto ann = make_bank(ann_c);
  std::mt19937 rng(21);
  for (int i = 0; i < 3000; ++i) {
    const TestEntry e = make_entry(exact_c, 1, unit_random(dim, &rng), 0, i, uint32_t(i));
    ASSERT_EQ(append_ok(exact.get(), e), append_ok(ann.get(), e));
    if (i % 100 == 99) {
      const auto q = unit_random(dim, &rng);
      ASSERT_EQ(seqs_of(exact->retrieve(q, 4, {0, i - 20, i + 1})),
                seqs_of(ann->retrieve(q, 4, {0, i - 20, i + 1})))
          << i;
    }
  }
  EXPECT_EQ(seqs_of(exact->entries()), seqs_of(ann->entries()));
  // The graph was compacted: it holds far fewer than the 3000 points ever added.
  EXPECT_LT(ann->memory_bytes(), exact->memory_bytes() + 2500 * (dim * 4 + 32 * 4));
}

TEST(MemoryRetrieval, AnnRecallAt10IsAtLeast95Percent) {
  // 10k random unit vectors of dim 32, built through append (kept small for the sanitizer build;
  // bench/memory_bench.cpp measures 20k of dim 384).
  const int dim = 32, n = 10000, n_queries = 200, k = 10;
  auto bank = make_bank(ann_config(dim, 1000));
  std::mt19937 rng(3);
  std::vector<std::vector<float>> data;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    data.push_back(unit_random(dim, &rng));
    MemoryEntryInput in;
    in.tokens = {i};
    in.embedding = data.back();
    const float kv = 0.0f;
    in.k = {&kv, 1};
    in.v = {&kv, 1};
    in.doc_id = 1;
    in.token_offset = i;
    ASSERT_TRUE(bank->append(in).is_ok());
  }
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int found = 0;
  for (int qi = 0; qi < n_queries; ++qi) {
    const auto q = unit_random(dim, &rng);
    std::vector<std::pair<float, uint64_t>> all;  // exact, by brute force here
    for (int i = 0; i < n; ++i) {
      float s = 0.0f;
      for (int j = 0; j < dim; ++j) s += q[size_t(j)] * data[size_t(i)][size_t(j)];
      all.push_back({-s, uint64_t(i + 1)});  // seqs start at 1
    }
    std::partial_sort(all.begin(), all.begin() + k, all.end());
    std::set<uint64_t> truth;
    for (int i = 0; i < k; ++i) truth.insert(all[size_t(i)].second);
    for (const auto& r : bank->retrieve(q, k, {})) found += truth.count(r.info.seq) ? 1 : 0;
  }
  const double recall = double(found) / (n_queries * k);
  std::printf("[ recall ] hnswlib recall@10 = %.4f (n = %d, dim = %d, build %.2f s)\n", recall, n,
              dim, build_s);
  EXPECT_GE(recall, 0.95);
}

// ---- gather ----

TEST(MemoryBank, GatherConcatenatesInTheGivenOrderAsRoundedF32) {
  for (MemoryDType dtype : {MemoryDType::kBF16, MemoryDType::kF16}) {
    MemoryBankConfig c = small_config();
    c.dtype = dtype;
    c.capacity_tokens = 100;
    auto bank = make_bank(c);
    std::vector<TestEntry> es;
    std::vector<uint64_t> s;
    for (int i = 0; i < 4; ++i) {
      es.push_back(make_entry(c, 1 + 2 * i, one_hot(16, i), 1, i * 8, uint32_t(i + 3)));
      s.push_back(append_ok(bank.get(), es.back()));
    }
    auto round = [&](float x) {
      return dtype == MemoryDType::kBF16 ? bf16_to_f32(f32_to_bf16(x)) : f16_to_f32(f32_to_f16(x));
    };
    const std::vector<int> order = {2, 0, 3, 0};  // any order, repeats allowed
    std::vector<uint64_t> seqs;
    std::vector<float> k_ref, v_ref;
    for (int i : order) {
      seqs.push_back(s[size_t(i)]);
      for (float x : es[size_t(i)].k) k_ref.push_back(round(x));
      for (float x : es[size_t(i)].v) v_ref.push_back(round(x));
    }
    std::vector<float> k_out, v_out;
    auto m = bank->gather(seqs, &k_out, &v_out);
    ASSERT_TRUE(m.is_ok());
    EXPECT_EQ(m.value(), 5 + 1 + 7 + 1);
    EXPECT_EQ(k_out, k_ref);
    EXPECT_EQ(v_out, v_ref);
    const uint64_t unknown[] = {s[0], 12345};
    auto bad = bank->gather(unknown, &k_out, &v_out);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
    auto none = bank->gather({}, &k_out, &v_out);
    ASSERT_TRUE(none.is_ok());
    EXPECT_EQ(none.value(), 0);
    EXPECT_TRUE(k_out.empty());
  }
}

TEST(MemoryBank, KeepsTokensTextAndCountsBytes) {
  MemoryBankConfig c = small_config();
  c.capacity_tokens = 100;
  auto bank = make_bank(c);
  EXPECT_EQ(bank->memory_bytes(), 0);
  int64_t expected = 0;
  std::vector<TestEntry> es;
  std::vector<uint64_t> s;
  for (int i = 0; i < 3; ++i) {
    es.push_back(make_entry(c, 3 + i, one_hot(16, i), 4, i * 8, uint32_t(i + 20)));
    s.push_back(append_ok(bank.get(), es.back()));
    // K and V in 2 bytes each, token ids, text, embedding.
    expected += int64_t(2 * es.back().k.size() * 2 + es.back().tokens.size() * 4 +
                        es.back().text.size() + 16 * 4);
  }
  EXPECT_EQ(bank->memory_bytes(), expected);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_NE(bank->entry_text(s[i]), nullptr);
    EXPECT_EQ(*bank->entry_text(s[i]), es[i].text);
    EXPECT_EQ(*bank->entry_tokens(s[i]), es[i].tokens);
    EXPECT_EQ(bank->entries()[i].doc_id, 4);
    EXPECT_EQ(bank->entries()[i].token_offset, int64_t(i) * 8);
  }
  EXPECT_EQ(bank->entry_text(999), nullptr);
  EXPECT_EQ(bank->entry_tokens(999), nullptr);
  bank->clear();
  EXPECT_EQ(bank->memory_bytes(), 0);
}

// ---- snapshot / restore ----

// Independent bitwise CRC-32 (IEEE, reflected), to re-seal edited snapshots.
uint32_t test_crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int b = 0; b < 8; ++b) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void reseal(std::vector<uint8_t>* b) {
  const uint32_t crc = test_crc32(b->data(), b->size() - 4);
  std::memcpy(b->data() + b->size() - 4, &crc, 4);
}

struct BankDump {
  std::vector<MemoryEntryInfo> infos;
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> tokens;
  std::vector<float> k, v;
  uint64_t next_seq;
  int64_t used, bytes;
};

BankDump dump(const MemoryBank& b) {
  BankDump d;
  d.infos = b.entries();
  std::vector<uint64_t> seqs = seqs_of(d.infos);
  for (uint64_t s : seqs) {
    d.texts.push_back(*b.entry_text(s));
    d.tokens.push_back(*b.entry_tokens(s));
  }
  EXPECT_TRUE(b.gather(seqs, &d.k, &d.v).is_ok());
  d.next_seq = b.next_seq();
  d.used = b.used_tokens();
  d.bytes = b.memory_bytes();
  return d;
}

void expect_same(const BankDump& a, const BankDump& b) {
  ASSERT_EQ(a.infos.size(), b.infos.size());
  for (size_t i = 0; i < a.infos.size(); ++i) {
    EXPECT_EQ(a.infos[i].seq, b.infos[i].seq);
    EXPECT_EQ(a.infos[i].doc_id, b.infos[i].doc_id);
    EXPECT_EQ(a.infos[i].token_offset, b.infos[i].token_offset);
    EXPECT_EQ(a.infos[i].n_tokens, b.infos[i].n_tokens);
    EXPECT_EQ(a.infos[i].hits, b.infos[i].hits);
  }
  EXPECT_EQ(a.texts, b.texts);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.v, b.v);
  EXPECT_EQ(a.next_seq, b.next_seq);
  EXPECT_EQ(a.used, b.used);
}

std::unique_ptr<MemoryBank> small_filled_bank(const MemoryBankConfig& c, int n, uint32_t seed) {
  auto bank = make_bank(c);
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    append_ok(bank.get(), make_entry(c, 1 + i % c.entry_tokens, unit_random(c.emb_dim, &rng), i % 2,
                                     i * 8, uint32_t(seed + i)));
  }
  for (int i = 0; i < n; ++i) bank->retrieve(unit_random(c.emb_dim, &rng), 2, {});
  return bank;
}

TEST(MemorySnapshot, RoundTripPreservesEntriesHitsNextSeqAndSearch) {
  for (int64_t threshold : {int64_t{1} << 30, int64_t{0}}) {  // exact, and hnswlib rebuilt
    MemoryBankConfig c = small_config();
    c.ann_threshold = threshold;
    c.capacity_tokens = 60;  // some evictions happen
    auto a = small_filled_bank(c, 20, 1);
    const auto snap = a->snapshot();
    auto b = make_bank(c);
    ASSERT_TRUE(b->restore(snap).is_ok());
    expect_same(dump(*a), dump(*b));
    if (threshold > 0) {  // no hnswlib graph, whose size depends on its history
      EXPECT_EQ(a->memory_bytes(), b->memory_bytes());
    }
    EXPECT_EQ(b->snapshot(), snap);
    std::mt19937 rng(77);
    for (int qi = 0; qi < 20; ++qi) {
      const auto q = unit_random(16, &rng);
      const ExcludeRange ex{qi % 2, qi * 8, qi * 8 + 16};
      const auto ra = a->retrieve(q, 3, ex);
      const auto rb = b->retrieve(q, 3, ex);
      ASSERT_EQ(seqs_of(ra), seqs_of(rb));
      for (size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i].score, rb[i].score);
    }
    // Both continue identically: same next seq and the same eviction choices.
    const TestEntry e = make_entry(c, 8, one_hot(16, 1), 5, 0, 1234);
    EXPECT_EQ(append_ok(a.get(), e), append_ok(b.get(), e));
    EXPECT_EQ(seqs_of(a->entries()), seqs_of(b->entries()));
  }
  // The empty bank round-trips too.
  auto empty = make_bank(small_config());
  auto other = small_filled_bank(small_config(), 3, 2);
  ASSERT_TRUE(other->restore(empty->snapshot()).is_ok());
  EXPECT_EQ(other->n_entries(), 0);
}

TEST(MemorySnapshot, TruncationAtEveryOffsetIsCorruptAndChangesNothing) {
  auto a = small_filled_bank(small_config(), 4, 3);
  const auto snap = a->snapshot();
  auto b = small_filled_bank(small_config(), 2, 9);
  const BankDump before = dump(*b);
  for (size_t len = 0; len < snap.size(); ++len) {
    const Status st = b->restore(std::span<const uint8_t>(snap.data(), len));
    ASSERT_EQ(st.code(), StatusCode::kCorrupt) << len;
  }
  expect_same(before, dump(*b));
}

TEST(MemorySnapshot, FlippedByteAtEveryOffsetIsCorrupt) {
  auto a = small_filled_bank(small_config(), 3, 4);
  const auto snap = a->snapshot();
  auto b = make_bank(small_config());
  for (size_t i = 0; i < snap.size(); ++i) {
    auto bad = snap;
    bad[i] ^= 0x10;
    ASSERT_EQ(b->restore(bad).code(), StatusCode::kCorrupt) << i;
  }
  EXPECT_EQ(b->n_entries(), 0);
  auto longer = snap;
  longer.push_back(0);
  EXPECT_EQ(b->restore(longer).code(), StatusCode::kCorrupt);
}

TEST(MemorySnapshot, HostileFieldsWithAValidChecksumAreRejected) {
  MemoryBankConfig c = small_config();
  auto a = small_filled_bank(c, 2, 5);
  const auto snap = a->snapshot();
  auto b = make_bank(c);
  // Header: magic 8, version 4, flags 4, 4 x i32, i64 capacity, eviction 4, dtype 4,
  // next_seq 8 (offset 48), n_entries 8 (offset 56); first entry at 64: seq 8, doc 8,
  // offset 8, n_tokens 4 (offset 88), hits 4, text_bytes 4 (offset 96).
  auto edit = [&](size_t off, const void* v, size_t n) {
    auto e = snap;
    std::memcpy(e.data() + off, v, n);
    reseal(&e);
    return b->restore(e).code();
  };
  const uint32_t version = 2, one = 1, zero = 0, huge32 = 0xFFFFFFF0u, nine = 9;
  const uint64_t huge64 = ~uint64_t{0} / 2, three = 3, small_next = 1, one64 = 1, zero64 = 0;
  EXPECT_EQ(edit(8, &version, 4), StatusCode::kUnsupported);
  EXPECT_EQ(edit(12, &one, 4), StatusCode::kCorrupt);         // flags
  EXPECT_EQ(edit(40, &huge32, 4), StatusCode::kCorrupt);      // eviction value
  EXPECT_EQ(edit(56, &huge64, 8), StatusCode::kCorrupt);      // n_entries
  EXPECT_EQ(edit(56, &three, 8), StatusCode::kCorrupt);       // one entry too many
  EXPECT_EQ(edit(56, &one64, 8), StatusCode::kCorrupt);       // trailing bytes
  EXPECT_EQ(edit(48, &small_next, 8), StatusCode::kCorrupt);  // seq >= next_seq
  EXPECT_EQ(edit(88, &zero, 4), StatusCode::kCorrupt);        // n_tokens 0
  EXPECT_EQ(edit(88, &nine, 4), StatusCode::kCorrupt);        // n_tokens > E
  EXPECT_EQ(edit(96, &huge32, 4), StatusCode::kCorrupt);      // text_bytes
  EXPECT_EQ(edit(64, &zero64, 8), StatusCode::kCorrupt);      // seq 0
  // Config mismatch: a bank of another shape refuses the snapshot.
  for (int field = 0; field < 4; ++field) {
    MemoryBankConfig other = c;
    if (field == 0) other.head_dim = 8;
    if (field == 1) other.n_head_kv = 1;
    if (field == 2) other.dtype = MemoryDType::kF16;
    if (field == 3) other.capacity_tokens = 2;  // the snapshot holds 3 tokens
    auto o = make_bank(other);
    EXPECT_EQ(o->restore(snap).code(), StatusCode::kInvalidArgument) << field;
    EXPECT_EQ(o->n_entries(), 0);
  }
  EXPECT_TRUE(b->restore(snap).is_ok());
}

}  // namespace
}  // namespace memlong
