// Issue 7 memory paths of the CUDA backend against the CPU backend: the per-memory-token
// attention mass (AttentionParams::mem_token_mass, which ranks citations) and the MemLong K/V slot
// pool (Backend::kv_pool_store / kv_pool_gather, core/memory/device_kv_pool.h), including its
// pinned host ("overflow") region. Skipped with the loader's reason where there is no GPU.
//
// Tolerances:
//   mem_token_mass, attention op: f32 everywhere; the GPU sums each token's n_query * H weights
//     with atomicAdd in a varying order and uses expf: ~1e-6 relative per term; we allow 1e-4 of
//     max(1, max mass), as the other f32 attention checks.
//   mem_token_mass, whole model: the weights depend on q and k from f16 GEMMs (prefill): allowed
//     3e-2 of the scale, as the model logits.
//   Pool store/gather: integer codec (kv_pool_codec.h) on both sides: bit for bit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <vector>

#include "core/backend/backend.h"
#include "core/backend/backend_loader.h"
#include "core/memory/device_kv_pool.h"
#include "core/memory/memory_bank.h"
#include "core/model/model_file.h"
#include "core/model/synthetic_model.h"
#include "core/transformer/llama_model.h"
#include "cuda_test_support.h"

namespace memlong {
namespace {

using namespace cuda_test;

TEST(CudaParityMemory, AttentionPerTokenMassGqa) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto cpu = make_cpu_backend(2, /*exact_activations=*/true);
  struct Case {
    int H, Hkv, dh, n_query, q_pos0, n_mem;
  };
  const Case cases[] = {
      {9, 3, 64, 1, 40, 48},      // SmolLM2 heads, decode
      {9, 3, 64, 5, 100, 48},     // continuation
      {8, 2, 64, 33, 0, 200},     // prefill, 4:1 groups, many memory tokens (several per warp)
      {32, 8, 128, 1, 500, 640},  // Llama 1B heads, top-5 x 128 memory
      {8, 1, 256, 3, 10, 5},      // largest head_dim, fewer memory tokens than warps
  };
  uint32_t seed = 700;
  for (const Case& c : cases) {
    const int n_kv = c.q_pos0 + c.n_query;
    const size_t kv_row = static_cast<size_t>(c.Hkv * c.dh);
    const auto q = random_vec(static_cast<size_t>(c.n_query * c.H * c.dh), ++seed, 2.0f);
    const auto kc = random_vec(n_kv * kv_row, ++seed);
    const auto vc = random_vec(n_kv * kv_row, ++seed);
    const auto mk = random_vec(c.n_mem * kv_row, ++seed);
    const auto mv = random_vec(c.n_mem * kv_row, ++seed);
    // Added to what is there: start from 0.5 everywhere.
    const std::vector<float> start(static_cast<size_t>(c.n_mem), 0.5f);
    std::vector<float> tm[2], mm[2];
    Backend* bs[2] = {cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      DeviceBuffer dq = upload(*bs[i], q), dk = upload(*bs[i], kc), dv = upload(*bs[i], vc);
      DeviceBuffer dmk = upload(*bs[i], mk), dmv = upload(*bs[i], mv);
      DeviceBuffer dout = upload(*bs[i], std::vector<float>(q.size(), 0.0f));
      DeviceBuffer dmass = upload(*bs[i], std::vector<float>(c.n_query * c.H, 0.0f));
      DeviceBuffer dtm = upload(*bs[i], start);
      AttentionParams ap;
      ap.n_head = c.H;
      ap.n_head_kv = c.Hkv;
      ap.head_dim = c.dh;
      ap.scale = 1.0f / std::sqrt(static_cast<float>(c.dh));
      ap.n_query = c.n_query;
      ap.q_pos0 = c.q_pos0;
      ap.n_kv = n_kv;
      ap.mem_k = dmk.f32();
      ap.mem_v = dmv.f32();
      ap.n_mem = c.n_mem;
      ap.mem_mass = dmass.f32();
      ap.mem_token_mass = dtm.f32();
      bs[i]->attention(dq.f32(), dk.f32(), dv.f32(), ap, dout.f32());
      tm[i] = download(*bs[i], dtm.data(), static_cast<size_t>(c.n_mem));
      mm[i] = download(*bs[i], dmass.data(), static_cast<size_t>(c.n_query * c.H));
    }
    const std::string what = "token mass H=" + std::to_string(c.H) + "/" + std::to_string(c.Hkv) +
                             " q=" + std::to_string(c.n_query) + " mem=" + std::to_string(c.n_mem);
    expect_close(tm[0], tm[1], 1e-4f, what);
    // Consistency on the GPU alone: the tokens' mass is the heads' memory mass.
    const double per_token = std::accumulate(tm[1].begin(), tm[1].end(), 0.0) - 0.5 * c.n_mem;
    const double per_head = std::accumulate(mm[1].begin(), mm[1].end(), 0.0);
    EXPECT_NEAR(per_token, per_head, 1e-4 * std::max(1.0, per_head)) << what;
    for (float m : tm[1]) EXPECT_GE(m, 0.5f) << what;
  }
}

// The citations' input end to end: InferenceContext::eval with want_token_mass on a synthetic
// model (GQA 8/2), batched prefill then decode steps, both position modes.
TEST(CudaParityMemory, ModelTokenMassBothPositionModes) {
  MEMLONG_REQUIRE_GPU(gpu);
  SyntheticModelSpec spec;
  spec.n_layer = 4;
  spec.n_embd = 256;
  spec.n_head = 8;
  spec.n_head_kv = 2;
  spec.n_ff = 512;
  spec.n_ctx = 1024;
  spec.matrix_type = DType::kQ8_0;
  const auto path = std::filesystem::temp_directory_path() /
                    ("memlong_cuda_mass_" + std::to_string(::getpid()) + ".gguf");
  ASSERT_TRUE(write_synthetic_llama_gguf(path.string(), spec).is_ok());
  auto file = open_model(path.string());
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  auto cpu = make_cpu_backend(2, /*exact_activations=*/true);
  const int32_t kv_row = spec.n_head_kv * (spec.n_embd / spec.n_head);
  const int32_t n_mem = 96;
  const auto mk = random_vec(static_cast<size_t>(n_mem * kv_row), 31);
  const auto mv = random_vec(static_cast<size_t>(n_mem * kv_row), 32);
  std::vector<int32_t> tokens;
  std::mt19937 rng(9);
  for (int i = 0; i < 24; ++i) tokens.push_back(static_cast<int32_t>(rng() % 256));
  const std::vector<int32_t> layers = {2, 3};
  for (const bool contiguous : {false, true}) {
    std::vector<std::vector<float>> masses[2];
    Backend* bs[2] = {cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      auto model = LlamaModel::create(**file, *bs[i]);
      ASSERT_TRUE(model.is_ok()) << model.status().to_string();
      auto ctx = InferenceContext::create(**model, 256, 64);
      ASSERT_TRUE(ctx.is_ok());
      MemoryAttention mem;
      mem.k = mk.data();
      mem.v = mv.data();
      mem.n_mem = n_mem;
      mem.contiguous_positions = contiguous;
      mem.retrieval_layers = layers;
      mem.block_id = 3;
      mem.want_token_mass = true;
      const std::span<const int32_t> all(tokens);
      for (size_t at = 0; at < tokens.size();) {
        const size_t n = at == 0 ? 20 : 1;  // prefill, then decode steps
        MemoryOutputs out;
        auto r = (*ctx)->eval(all.subspan(at, n), false, mem, &out);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        ASSERT_EQ(out.mem_token_mass.size(), static_cast<size_t>(n_mem));
        masses[i].push_back(out.mem_token_mass);
        at += n;
      }
    }
    ASSERT_EQ(masses[0].size(), masses[1].size());
    for (size_t s = 0; s < masses[0].size(); ++s) {
      expect_close(masses[0][s], masses[1][s], 3e-2f,
                   std::string(contiguous ? "contiguous" : "zero") + " token mass call " +
                       std::to_string(s));
      EXPECT_GT(*std::max_element(masses[1][s].begin(), masses[1][s].end()), 0.0f);
    }
  }
  std::filesystem::remove(path);
}

// Store into slots of both regions (device memory and mapped pinned host memory) and gather them
// in another order: the GPU's bits equal the CPU backend's, both types.
TEST(CudaParityMemory, KvPoolStoreGatherBitExactBothRegions) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto cpu = make_cpu_backend(1);
  constexpr int32_t kRow = 3 * 64;
  constexpr int64_t kDev = 40, kHost = 24;
  const auto k = random_vec(static_cast<size_t>(50 * kRow), 5, 10.0f);
  const auto v = random_vec(static_cast<size_t>(50 * kRow), 6, 10.0f);
  std::vector<int32_t> slots(kDev + kHost);
  std::iota(slots.begin(), slots.end(), 0);
  std::shuffle(slots.begin(), slots.end(), std::mt19937(7));
  slots.resize(50);  // 50 distinct slots of 64, spanning both regions
  std::vector<int32_t> order(slots.rbegin(), slots.rend());
  for (const DType t : {DType::kF16, DType::kBF16}) {
    std::vector<float> got_k[2], got_v[2];
    Backend* bs[2] = {cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      auto dev = bs[i]->alloc(kDev * 2 * kRow * 2);
      auto host = bs[i]->alloc_host_mapped(kHost * 2 * kRow * 2);
      ASSERT_TRUE(dev.is_ok() && host.is_ok()) << host.status().to_string();
      Backend::KvPoolView pv;
      pv.device = dev->data();
      pv.host = host->data();
      pv.n_device = kDev;
      pv.n_host = kHost;
      pv.dtype = t;
      pv.row_elems = kRow;
      DeviceBuffer dk = upload(*bs[i], k), dv = upload(*bs[i], v);
      DeviceBuffer ds = upload(*bs[i], slots), dorder = upload(*bs[i], order);
      DeviceBuffer ok = upload(*bs[i], std::vector<float>(k.size(), NAN));
      DeviceBuffer ov = upload(*bs[i], std::vector<float>(v.size(), NAN));
      bs[i]->kv_pool_store(pv, ds.i32(), 50, dk.f32(), dv.f32());
      bs[i]->kv_pool_gather(pv, dorder.i32(), 50, ok.f32(), ov.f32());
      got_k[i] = download(*bs[i], ok.data(), k.size());
      got_v[i] = download(*bs[i], ov.data(), v.size());
      ASSERT_TRUE(bs[i]->synchronize().is_ok());
    }
    EXPECT_EQ(std::memcmp(got_k[0].data(), got_k[1].data(), k.size() * 4), 0) << dtype_name(t);
    EXPECT_EQ(std::memcmp(got_v[0].data(), got_v[1].data(), v.size() * 4), 0) << dtype_name(t);
    // And it is the stored data: row j of the gather is row (position of order[j] in slots).
    const size_t j0 = std::find(slots.begin(), slots.end(), order[0]) - slots.begin();
    EXPECT_NEAR(got_k[1][0], k[j0 * kRow], 1e-2f * std::fabs(k[j0 * kRow]));  // 16-bit rounding
  }
}

// DeviceKVPool on the GPU with a device budget of 16 slots (the rest in pinned host memory):
// gather equals MemoryBank::gather bit for bit; entries appended from device memory
// (append_device, the stash path) and from the host; and an InferenceContext attending to the
// pool's block gives the same logits as the same block uploaded from the host.
TEST(CudaParityMemory, DeviceKvPoolEqualsBankWithOverflowAndInModel) {
  MEMLONG_REQUIRE_GPU(gpu);
  SyntheticModelSpec spec;
  spec.n_layer = 2;
  spec.n_embd = 128;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 256;
  spec.matrix_type = DType::kF16;
  const int32_t dh = spec.n_embd / spec.n_head;
  const int32_t row = spec.n_head_kv * dh;
  MemoryBankConfig bc;
  bc.n_head_kv = spec.n_head_kv;
  bc.head_dim = dh;
  bc.emb_dim = 4;
  bc.entry_tokens = 8;
  bc.capacity_tokens = 64;
  bc.dtype = MemoryDType::kBF16;
  auto bank = MemoryBank::create(bc);
  ASSERT_TRUE(bank.is_ok());
  auto pool = DeviceKVPool::create(gpu, DeviceKVPool::config_for(bc, 16 * 2 * row * 2));
  ASSERT_TRUE(pool.is_ok()) << pool.status().to_string();
  EXPECT_EQ((*pool)->n_device_slots(), 16);
  EXPECT_EQ((*pool)->n_host_slots(), 48);
  std::vector<uint64_t> seqs;
  for (int e = 0; e < 6; ++e) {
    const auto k = random_vec(static_cast<size_t>(8 * row), 100 + e, 3.0f);
    const auto v = random_vec(static_cast<size_t>(8 * row), 200 + e, 3.0f);
    MemoryEntryInput in;
    in.token_offset = e * 8;
    in.tokens.assign(8, 1);
    in.embedding = {1, 0, 0, 0};
    in.k = k;
    in.v = v;
    auto seq = (*bank)->append(in);
    ASSERT_TRUE(seq.is_ok());
    seqs.push_back(*seq);
    if (e % 2 == 0) {
      ASSERT_TRUE((*pool)->append_host(*seq, k, v).is_ok());
    } else {
      DeviceBuffer dk = upload(gpu, k), dv = upload(gpu, v);
      ASSERT_TRUE((*pool)->append_device(*seq, dk.f32(), dv.f32(), 8).is_ok());
      ASSERT_TRUE(gpu.synchronize().is_ok());
    }
  }
  const std::vector<uint64_t> pick = {seqs[5], seqs[0], seqs[3], seqs[2]};
  std::vector<float> want_k, want_v;
  auto m = (*bank)->gather(pick, &want_k, &want_v);
  ASSERT_TRUE(m.is_ok());
  DeviceBuffer ok = upload(gpu, std::vector<float>(want_k.size(), NAN));
  DeviceBuffer ov = upload(gpu, std::vector<float>(want_v.size(), NAN));
  auto got = (*pool)->gather(pick, ok.f32(), ov.f32(), *m);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  ASSERT_EQ(*got, *m);
  const auto gk = download(gpu, ok.data(), want_k.size());
  const auto gv = download(gpu, ov.data(), want_v.size());
  EXPECT_EQ(std::memcmp(gk.data(), want_k.data(), gk.size() * 4), 0);
  EXPECT_EQ(std::memcmp(gv.data(), want_v.data(), gv.size() * 4), 0);

  const auto path = std::filesystem::temp_directory_path() /
                    ("memlong_cuda_pool_" + std::to_string(::getpid()) + ".gguf");
  ASSERT_TRUE(write_synthetic_llama_gguf(path.string(), spec).is_ok());
  auto file = open_model(path.string());
  ASSERT_TRUE(file.is_ok());
  auto model = LlamaModel::create(**file, gpu);
  ASSERT_TRUE(model.is_ok());
  const std::vector<int32_t> tokens = {5, 9, 17, 3, 200, 41};
  const std::vector<int32_t> layers = {1};
  for (const bool contiguous : {false, true}) {
    std::vector<float> logits[2];
    for (int use_pool = 0; use_pool < 2; ++use_pool) {
      auto ctx = InferenceContext::create(**model, 64, 16);
      ASSERT_TRUE(ctx.is_ok());
      MemoryAttention mem;
      mem.n_mem = static_cast<int32_t>(*m);
      mem.contiguous_positions = contiguous;
      mem.retrieval_layers = layers;
      mem.block_id = 1;
      if (use_pool) {
        mem.pool = pool->get();
        mem.pool_seqs = pick;
      } else {
        mem.k = want_k.data();
        mem.v = want_v.data();
      }
      auto r = (*ctx)->eval(tokens, true, mem, nullptr);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      logits[use_pool] = *r;
    }
    ASSERT_EQ(logits[0].size(), logits[1].size());
    EXPECT_EQ(std::memcmp(logits[0].data(), logits[1].data(), logits[0].size() * 4), 0)
        << (contiguous ? "contiguous" : "zero");
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace memlong
