// DeviceKVPool on the CPU backend against MemoryBank's own gather (the reference: the bank's
// host copy), bit for bit, for both 16-bit types, with the device region large enough and with a
// tiny device budget that sends most slots to the host ("overflow") region; plus eviction
// bookkeeping, ensure() after a restore, errors, and the reader end to end with and without the
// pool.
#include "core/memory/device_kv_pool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/backend/backend.h"

namespace memlong {
namespace {

constexpr int32_t kHkv = 2, kDh = 8, kRow = kHkv * kDh, kE = 8;

MemoryBankConfig bank_config(MemoryDType t, int64_t capacity) {
  MemoryBankConfig c;
  c.n_head_kv = kHkv;
  c.head_dim = kDh;
  c.emb_dim = 4;
  c.entry_tokens = kE;
  c.capacity_tokens = capacity;
  c.dtype = t;
  return c;
}

struct HostEntry {
  std::vector<float> k, v;
  std::vector<float> emb;
  int32_t n = 0;
};

HostEntry random_entry(std::mt19937* rng, int32_t n) {
  std::normal_distribution<float> d(0.0f, 3.0f);
  HostEntry e;
  e.n = n;
  e.k.resize(static_cast<size_t>(n * kRow));
  e.v.resize(e.k.size());
  for (float& x : e.k) x = d(*rng);
  for (float& x : e.v) x = d(*rng);
  // Values that exercise rounding: ties, subnormals in f16, large magnitudes.
  e.k[0] = 1.0f + 1.0f / 2048.0f;  // f16 tie
  e.v[0] = 3.0e-6f;                // f16 subnormal
  if (e.k.size() > 1) e.k[1] = 60000.0f;
  e.emb = {d(*rng), d(*rng), d(*rng), d(*rng)};
  float nn = 0;
  for (float x : e.emb) nn += x * x;
  for (float& x : e.emb) x /= std::sqrt(nn);
  return e;
}

// Appends to the bank and (from the host copy) to the pool, keeping the pool in step with the
// bank's evictions; returns the seq.
uint64_t append_both(MemoryBank& bank, DeviceKVPool& pool, const HostEntry& e, int64_t offset) {
  MemoryEntryInput in;
  in.doc_id = 1;
  in.token_offset = offset;
  in.tokens.assign(static_cast<size_t>(e.n), 5);
  in.text = "t";
  in.embedding = e.emb;
  in.k = e.k;
  in.v = e.v;
  auto seq = bank.append(in);
  EXPECT_TRUE(seq.is_ok()) << seq.status().to_string();
  if (pool.free_tokens() < e.n) pool.retain_only(bank.entries());
  const Status s = pool.append_host(*seq, e.k, e.v);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return *seq;
}

void expect_same_as_bank(Backend& b, MemoryBank& bank, DeviceKVPool& pool,
                         const std::vector<uint64_t>& seqs) {
  std::vector<float> want_k, want_v;
  auto m = bank.gather(seqs, &want_k, &want_v);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  auto ko = b.alloc(static_cast<size_t>(std::max<int64_t>(*m, 1) * kRow * 4));
  auto vo = b.alloc(static_cast<size_t>(std::max<int64_t>(*m, 1) * kRow * 4));
  ASSERT_TRUE(ko.is_ok() && vo.is_ok());
  auto got = pool.gather(seqs, ko->f32(), vo->f32(), *m);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(*got, *m);
  std::vector<float> gk(want_k.size()), gv(want_v.size());
  ASSERT_TRUE(b.copy_to_host(gk.data(), ko->data(), gk.size() * 4).is_ok());
  ASSERT_TRUE(b.copy_to_host(gv.data(), vo->data(), gv.size() * 4).is_ok());
  EXPECT_EQ(std::memcmp(gk.data(), want_k.data(), gk.size() * 4), 0) << "K differs";
  EXPECT_EQ(std::memcmp(gv.data(), want_v.data(), gv.size() * 4), 0) << "V differs";
}

class DeviceKVPoolTest : public ::testing::TestWithParam<std::tuple<MemoryDType, int64_t>> {};

// Budget -1: every slot on the "device"; 40 slots' worth: most of the bank overflows to the host
// region, and entries straddle the boundary.
TEST_P(DeviceKVPoolTest, GatherEqualsTheBanksGatherBitForBitThroughEvictions) {
  const auto [dtype, budget] = GetParam();
  auto backend = make_cpu_backend(1);
  const int64_t capacity = 20 * kE;
  auto bank = MemoryBank::create(bank_config(dtype, capacity));
  ASSERT_TRUE(bank.is_ok());
  auto pool = DeviceKVPool::create(*backend, DeviceKVPool::config_for((*bank)->config(), budget));
  ASSERT_TRUE(pool.is_ok()) << pool.status().to_string();
  DeviceKVPool& p = **pool;
  if (budget < 0) {
    EXPECT_EQ(p.n_device_slots(), capacity);
    EXPECT_EQ(p.n_host_slots(), 0);
  } else {
    EXPECT_EQ(p.n_device_slots(), budget / (2 * kRow * 2));
    EXPECT_EQ(p.n_device_slots() + p.n_host_slots(), capacity);
  }
  std::mt19937 rng(11);
  std::vector<uint64_t> seqs;
  // 45 entries of 3..8 tokens into a 160-token bank: the counter policy evicts many times.
  for (int i = 0; i < 45; ++i) {
    const auto n = static_cast<int32_t>(3 + rng() % 6);
    seqs.push_back(append_both(**bank, p, random_entry(&rng, n), i * kE));
    EXPECT_LE(p.used_tokens(), capacity);
  }
  p.retain_only((*bank)->entries());
  EXPECT_EQ(p.n_entries(), (*bank)->n_entries());
  EXPECT_EQ(p.used_tokens(), (*bank)->used_tokens());
  // Retrieved-like selections: every held entry, reversed, and a few repeated.
  std::vector<uint64_t> held;
  for (const MemoryEntryInfo& e : (*bank)->entries()) held.push_back(e.seq);
  ASSERT_FALSE(held.empty());
  ASSERT_NO_FATAL_FAILURE(expect_same_as_bank(*backend, **bank, p, held));
  std::vector<uint64_t> rev(held.rbegin(), held.rend());
  rev.push_back(held.front());
  ASSERT_NO_FATAL_FAILURE(expect_same_as_bank(*backend, **bank, p, rev));
  if (budget >= 0) {
    // The overflow path was used: some held entry owns a host slot.
    bool any_host = false;
    for (uint64_t s : held) {
      for (int32_t slot : p.slots_of(s)) any_host |= slot >= p.n_device_slots();
    }
    EXPECT_TRUE(any_host);
  }
}

INSTANTIATE_TEST_SUITE_P(
    TypesAndBudgets, DeviceKVPoolTest,
    ::testing::Combine(::testing::Values(MemoryDType::kBF16, MemoryDType::kF16),
                       ::testing::Values(int64_t{-1}, int64_t{40 * 2 * kRow * 2})));

TEST(DeviceKVPool, DeviceSlotsGoFirstAndFreedOnesAreReused) {
  auto backend = make_cpu_backend(1);
  DeviceKVPoolConfig c;
  c.n_head_kv = kHkv;
  c.head_dim = kDh;
  c.capacity_tokens = 10;
  c.device_budget_bytes = 4 * 2 * kRow * 2;  // 4 device slots
  auto pool = DeviceKVPool::create(*backend, c);
  ASSERT_TRUE(pool.is_ok());
  DeviceKVPool& p = **pool;
  EXPECT_EQ(p.n_device_slots(), 4);
  EXPECT_EQ(p.n_host_slots(), 6);
  std::mt19937 rng(3);
  const HostEntry a = random_entry(&rng, 3), b = random_entry(&rng, 3);
  ASSERT_TRUE(p.append_host(1, a.k, a.v).is_ok());
  ASSERT_TRUE(p.append_host(2, b.k, b.v).is_ok());
  EXPECT_EQ(std::vector<int32_t>(p.slots_of(1).begin(), p.slots_of(1).end()),
            (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(std::vector<int32_t>(p.slots_of(2).begin(), p.slots_of(2).end()),
            (std::vector<int32_t>{3, 4, 5}));  // straddles device and host
  p.erase(1);
  EXPECT_EQ(p.free_tokens(), 7);
  ASSERT_TRUE(p.append_host(3, a.k, a.v).is_ok());
  EXPECT_EQ(std::vector<int32_t>(p.slots_of(3).begin(), p.slots_of(3).end()),
            (std::vector<int32_t>{0, 1, 2}));
  // Errors.
  EXPECT_EQ(p.append_host(3, a.k, a.v).code(), StatusCode::kInvalidArgument);  // held
  const HostEntry big = random_entry(&rng, 5);
  EXPECT_EQ(p.append_host(9, big.k, big.v).code(), StatusCode::kOutOfMemory);  // 4 free
  EXPECT_EQ(p.free_tokens(), 4);  // nothing leaked by the failure
  auto out = backend->alloc(16 * kRow * 4);
  ASSERT_TRUE(out.is_ok());
  const uint64_t unknown[1] = {77};
  EXPECT_EQ(p.gather(unknown, out->f32(), out->f32(), 16).status().code(), StatusCode::kNotFound);
  const uint64_t two[2] = {2, 3};
  EXPECT_EQ(p.gather(two, out->f32(), out->f32(), 5).status().code(),
            StatusCode::kInvalidArgument);  // 6 tokens into room for 5
  p.clear();
  EXPECT_EQ(p.free_tokens(), 10);
  EXPECT_EQ(p.n_entries(), 0);
}

TEST(DeviceKVPool, EnsureCopiesMissingEntriesFromTheBank) {
  auto backend = make_cpu_backend(1);
  auto bank = MemoryBank::create(bank_config(MemoryDType::kBF16, 64));
  ASSERT_TRUE(bank.is_ok());
  std::mt19937 rng(5);
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 6; ++i) {
    const HostEntry e = random_entry(&rng, kE);
    MemoryEntryInput in;
    in.doc_id = 2;
    in.token_offset = i * kE;
    in.tokens.assign(kE, 1);
    in.embedding = e.emb;
    in.k = e.k;
    in.v = e.v;
    auto s = (*bank)->append(in);
    ASSERT_TRUE(s.is_ok());
    seqs.push_back(*s);  // 48 tokens: all fit
  }
  // A pool made after the fact (or after restore()) holds nothing; ensure() fills it in.
  auto pool =
      DeviceKVPool::create(*backend, DeviceKVPool::config_for((*bank)->config(), 2 * 2 * kRow * 2));
  ASSERT_TRUE(pool.is_ok());
  const std::vector<uint64_t> want = {seqs[4], seqs[1], seqs[5]};
  ASSERT_TRUE((*pool)->ensure(**bank, want).is_ok());
  EXPECT_EQ((*pool)->n_entries(), 3);
  ASSERT_NO_FATAL_FAILURE(expect_same_as_bank(*backend, **bank, **pool, want));
  const uint64_t missing[1] = {9999};
  EXPECT_EQ((*pool)->ensure(**bank, missing).code(), StatusCode::kNotFound);
}

TEST(CpuBackendKvPool, SlotOutsideThePoolIsAStickyInvalidArgument) {
  auto backend = make_cpu_backend(1);
  std::vector<uint16_t> region(4 * 2 * kRow);
  Backend::KvPoolView v;
  v.device = region.data();
  v.n_device = 4;
  v.dtype = DType::kF16;
  v.row_elems = kRow;
  const int32_t slots[1] = {4};
  std::vector<float> k(kRow, 1.0f);
  backend->kv_pool_store(v, slots, 1, k.data(), k.data());
  EXPECT_EQ(backend->synchronize().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memlong
