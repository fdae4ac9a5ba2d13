// The CUDA backend against the CPU backend (the reference: core/backend/cpu_backend.cpp with
// exact activations, i.e. f32 products on dequantized weights), op by op on random inputs and for
// whole synthetic models of real shapes, including a MemLong read with memory.
//
// memlong_tests links no CUDA: the backend comes from core/backend/backend_loader (the module
// this build made, MEMLONG_CUDA_MODULE_PATH). Where there is no GPU every test here is skipped
// with the loader's reason; BackendLoader.BuiltModuleGivesCudaOrAClearReasonAndAutoFallsBack
// checks that reason on such machines.
//
// Tolerances (each stated where used) follow from the arithmetic the GPU path does differently:
//   f32 paths (get_rows, rms_norm, rope, attention, mat-vec for n <= 8): summation order only,
//     ~1e-6 relative; we allow 1e-4 of the output's scale.
//   f16 GEMM (n > 8): activations rounded to f16 (2^-11 relative), f32 accumulation: error
//     ~ sqrt(k) * |w| * |x| * 2^-11; we allow 4e-3 of the output's scale.
//   Weights converted to f16 at upload (K-quants, BF16): 2^-11 relative per weight, as above.
// Each check prints its measured error ("[ parity ]" lines) so scripts/gpu-check records them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include "core/backend/backend.h"
#include "core/backend/backend_loader.h"
#include "core/model/model_file.h"
#include "core/model/synthetic_model.h"
#include "core/quant/quant.h"
#include "core/transformer/llama_model.h"
#include "cuda_test_support.h"

namespace memlong {
namespace {

using namespace cuda_test;

// A [n_out, k] weight of type t made from normal(0, scale) values, as a file would hold it.
struct HostWeight {
  std::vector<uint8_t> bytes;
  TensorView view;
};

HostWeight make_weight(DType t, int64_t k, int64_t n_out, uint32_t seed, float scale = 0.1f,
                       const char* name = "w") {
  HostWeight w;
  const std::vector<float> f = random_vec(static_cast<size_t>(k * n_out), seed, scale);
  const size_t rb = *dtype_row_bytes(t, static_cast<uint64_t>(k));
  w.bytes.resize(rb * static_cast<size_t>(n_out));
  for (int64_t r = 0; r < n_out; ++r) {
    quant::quantize_row(t, f.data() + r * k, w.bytes.data() + static_cast<size_t>(r) * rb, k);
  }
  w.view.name = name;
  w.view.dtype = t;
  w.view.n_dims = n_out == 1 ? 1 : 2;
  w.view.ne = {k, n_out, 1, 1};
  w.view.data = w.bytes.data();
  w.view.n_bytes = w.bytes.size();
  return w;
}

struct Pair {
  std::unique_ptr<Backend> cpu = make_cpu_backend(0, /*exact_activations=*/true);
};

constexpr float kTolF32 = 1e-4f;
constexpr float kTolF16 = 4e-3f;

TEST(CudaParity, GetRowsEveryWeightType) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  const int64_t k = 256, rows = 50;
  const std::vector<int32_t> ids = {0, 49, 7, 7, 23};
  for (DType t : {DType::kF32, DType::kF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                  DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kBF16}) {
    const HostWeight hw = make_weight(t, k, rows, 100 + static_cast<uint32_t>(t), 1.0f);
    std::vector<float> out[2];
    Backend* bs[2] = {p.cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      auto w = bs[i]->upload_weight(hw.view);
      ASSERT_TRUE(w.is_ok()) << w.status().to_string();
      DeviceBuffer d_ids = upload(*bs[i], ids);
      DeviceBuffer d_out = upload(*bs[i], std::vector<float>(ids.size() * k));
      bs[i]->get_rows(*w, d_ids.i32(), static_cast<int32_t>(ids.size()), d_out.f32());
      out[i] = download(*bs[i], d_out, ids.size() * k);
    }
    const bool converted =
        t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K || t == DType::kBF16;
    expect_close(out[0], out[1], converted ? 1e-3f : 1e-6f,
                 "get_rows " + std::string(dtype_name(t)));
  }
}

TEST(CudaParity, RmsNorm) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  const int n = 7, d = 576;
  const auto x = random_vec(n * d, 1, 3.0f);
  const HostWeight hw = make_weight(DType::kF32, d, 1, 2, 1.0f, "norm");
  std::vector<float> out[2];
  Backend* bs[2] = {p.cpu.get(), &gpu};
  for (int i = 0; i < 2; ++i) {
    auto w = bs[i]->upload_weight(hw.view);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    DeviceBuffer dx = upload(*bs[i], x);
    bs[i]->rms_norm(dx.f32(), *w, 1e-5f, n, d, dx.f32());  // in place, as the model may
    out[i] = download(*bs[i], dx, n * d);
  }
  expect_close(out[0], out[1], kTolF32, "rms_norm in place");
}

// y = x W^T for every weight type the backend accepts, on both paths (mat-vec n <= 8, GEMM n > 8).
TEST(CudaParity, MatmulEveryTypeBothPaths) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  const int64_t k = 512, n_out = 203;  // n_out not a multiple of the 8 rows of a mat-vec block
  for (DType t : {DType::kF32, DType::kF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                  DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kBF16}) {
    const HostWeight hw = make_weight(t, k, n_out, 200 + static_cast<uint32_t>(t));
    for (int n : {1, 3, 8, 9, 64}) {
      const auto x = random_vec(static_cast<size_t>(n * k), 300 + n);
      std::vector<float> out[2];
      Backend* bs[2] = {p.cpu.get(), &gpu};
      for (int i = 0; i < 2; ++i) {
        auto w = bs[i]->upload_weight(hw.view);
        ASSERT_TRUE(w.is_ok()) << w.status().to_string();
        DeviceBuffer dx = upload(*bs[i], x);
        DeviceBuffer dy = upload(*bs[i], std::vector<float>(static_cast<size_t>(n * n_out), NAN));
        bs[i]->matmul(*w, dx.f32(), n, dy.f32());
        out[i] = download(*bs[i], dy, static_cast<size_t>(n * n_out));
      }
      const bool converted =
          t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K || t == DType::kBF16;
      // F32 weights stay f32 on both paths (cublasSgemm); others use f16 GEMM for n > 8.
      const bool f16_math = converted || (n > 8 && t != DType::kF32);
      expect_close(out[0], out[1], f16_math ? kTolF16 : kTolF32,
                   "matmul " + std::string(dtype_name(t)) + " n=" + std::to_string(n));
    }
  }
}

TEST(CudaParity, MatmulBiasAndOddShapes) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  struct Case {
    DType t;
    int64_t k, n_out;
    int n;
  };
  // k = 96 F32: not a mat-vec shape (3 blocks is fine, but 80 is not): both fall to cuBLAS.
  for (const Case& c : {Case{DType::kQ8_0, 576, 192, 1}, Case{DType::kQ8_0, 576, 192, 20},
                        Case{DType::kF32, 80, 33, 1}, Case{DType::kF16, 80, 33, 5}}) {
    const HostWeight hw = make_weight(c.t, c.k, c.n_out, 7);
    const HostWeight hb = make_weight(DType::kF32, c.n_out, 1, 8, 1.0f, "bias");
    const auto x = random_vec(static_cast<size_t>(c.n * c.k), 9);
    std::vector<float> out[2];
    Backend* bs[2] = {p.cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      auto w = bs[i]->upload_weight(hw.view);
      auto b = bs[i]->upload_weight(hb.view);
      ASSERT_TRUE(w.is_ok() && b.is_ok());
      DeviceBuffer dx = upload(*bs[i], x);
      DeviceBuffer dy = upload(*bs[i], std::vector<float>(static_cast<size_t>(c.n * c.n_out)));
      bs[i]->matmul(*w, dx.f32(), c.n, dy.f32(), &*b);
      out[i] = download(*bs[i], dy, static_cast<size_t>(c.n * c.n_out));
    }
    const bool f16_math = c.t == DType::kF16 || (c.n > 8 && c.t != DType::kF32);
    expect_close(out[0], out[1], f16_math ? kTolF16 : kTolF32,
                 "matmul+bias " + std::string(dtype_name(c.t)) + " k=" + std::to_string(c.k) +
                     " n=" + std::to_string(c.n));
  }
}

// matmul_multi: one fused mat-vec launch for same-type targets (q/k/v with a bias on one), the
// one-at-a-time fallback for mixed types and for the GEMM path.
TEST(CudaParity, MatmulMultiFusedAndFallback) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  const int64_t k = 576;
  struct Case {
    DType types[3];
    int n;
  };
  for (const Case& c : {Case{{DType::kQ8_0, DType::kQ8_0, DType::kQ8_0}, 1},
                        Case{{DType::kQ4_1, DType::kQ4_1, DType::kQ4_1}, 4},
                        Case{{DType::kQ4_0, DType::kQ8_0, DType::kQ4_0}, 1},
                        Case{{DType::kQ8_0, DType::kQ8_0, DType::kQ8_0}, 20}}) {
    const int64_t n_out[3] = {576, 192, 197};
    HostWeight hw[3];
    for (int t = 0; t < 3; ++t) hw[t] = make_weight(c.types[t], k, n_out[t], 400 + t);
    const HostWeight hb = make_weight(DType::kF32, n_out[1], 1, 410, 1.0f, "bias");
    const auto x = random_vec(static_cast<size_t>(c.n * k), 411);
    std::vector<float> out[2][3];
    Backend* bs[2] = {p.cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      WeightHandle w[3];
      for (int t = 0; t < 3; ++t) {
        auto r = bs[i]->upload_weight(hw[t].view);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        w[t] = std::move(r).value();
      }
      auto b = bs[i]->upload_weight(hb.view);
      ASSERT_TRUE(b.is_ok());
      DeviceBuffer dx = upload(*bs[i], x);
      DeviceBuffer dy[3];
      Backend::MatmulTarget targets[3];
      for (int t = 0; t < 3; ++t) {
        dy[t] = upload(*bs[i], std::vector<float>(static_cast<size_t>(c.n * n_out[t]), NAN));
        targets[t] = {&w[t], dy[t].f32(), t == 1 ? &*b : nullptr};
      }
      bs[i]->matmul_multi(targets, dx.f32(), c.n);
      for (int t = 0; t < 3; ++t) {
        out[i][t] = download(*bs[i], dy[t], static_cast<size_t>(c.n * n_out[t]));
      }
    }
    for (int t = 0; t < 3; ++t) {
      expect_close(out[0][t], out[1][t], c.n > 8 ? kTolF16 : kTolF32,
                   "matmul_multi " + std::string(dtype_name(c.types[t])) + " target " +
                       std::to_string(t) + " n=" + std::to_string(c.n));
    }
  }
}

// A quantized weight larger than the GEMM scratch is dequantized in several row chunks.
TEST(CudaParity, MatmulGemmOverSeveralScratchChunks) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  const int64_t k = 4096, n_out = 8192 + 72;  // 64 MiB scratch holds 8192 rows of 4096
  const int n = 16;
  const HostWeight hw = make_weight(DType::kQ4_0, k, n_out, 31);
  const auto x = random_vec(static_cast<size_t>(n * k), 32);
  std::vector<float> out[2];
  Backend* bs[2] = {p.cpu.get(), &gpu};
  for (int i = 0; i < 2; ++i) {
    auto w = bs[i]->upload_weight(hw.view);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    DeviceBuffer dx = upload(*bs[i], x);
    DeviceBuffer dy = upload(*bs[i], std::vector<float>(static_cast<size_t>(n * n_out)));
    bs[i]->matmul(*w, dx.f32(), n, dy.f32());
    out[i] = download(*bs[i], dy, static_cast<size_t>(n * n_out));
  }
  expect_close(out[0], out[1], kTolF16, "matmul Q4_0 4096x8264 n=16 (2 chunks)");
}

TEST(CudaParity, RopeBothLayoutsWithAndWithoutFrequencies) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  const int n = 13, heads = 5, dh = 64;
  std::vector<int32_t> pos(n);
  for (int i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = i * 611 + (i % 3);  // up to ~7300
  std::vector<float> inv(dh / 2);
  for (int j = 0; j < dh / 2; ++j) {
    inv[static_cast<size_t>(j)] = static_cast<float>(std::pow(500000.0, -2.0 * j / dh) / 8.0);
  }
  const auto x = random_vec(static_cast<size_t>(n * heads * dh), 41);
  for (bool interleaved : {true, false}) {
    for (bool with_freq : {false, true}) {
      std::vector<float> out[2];
      Backend* bs[2] = {p.cpu.get(), &gpu};
      for (int i = 0; i < 2; ++i) {
        DeviceBuffer dx = upload(*bs[i], x);
        DeviceBuffer dp = upload(*bs[i], pos);
        DeviceBuffer df = upload(*bs[i], inv);
        RopeParams rp;
        rp.head_dim = dh;
        rp.n_rot = dh;
        rp.theta = 10000.0f;
        rp.interleaved = interleaved;
        rp.inv_freq = with_freq ? df.f32() : nullptr;
        bs[i]->rope(dx.f32(), n, heads, dp.i32(), rp);
        out[i] = download(*bs[i], dx, x.size());
      }
      expect_close(out[0], out[1], 1e-5f,
                   std::string("rope ") + (interleaved ? "interleaved" : "neox") +
                       (with_freq ? " inv_freq" : " theta"));
    }
  }
}

TEST(CudaParity, AttentionCausalGqaAndMemory) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  struct Case {
    int H, Hkv, dh, n_query, q_pos0, n_mem;
    bool want_mass;
  };
  const Case cases[] = {
      {8, 2, 64, 37, 0, 0, false},       // prefill, GQA 4:1
      {8, 2, 64, 1, 300, 0, false},      // decode
      {9, 3, 64, 5, 100, 48, true},      // SmolLM2 heads, continuation, memory
      {32, 8, 128, 1, 1000, 128, true},  // Llama 1B heads, decode with memory
      {4, 4, 96, 17, 3, 20, true},       // no grouping, head_dim not a power of two
      {8, 1, 256, 3, 10, 5, true},       // largest head_dim, one KV head
  };
  uint32_t seed = 50;
  for (const Case& c : cases) {
    const int n_kv = c.q_pos0 + c.n_query;
    const size_t kv_row = static_cast<size_t>(c.Hkv * c.dh);
    const auto q = random_vec(static_cast<size_t>(c.n_query * c.H * c.dh), ++seed);
    const auto kc = random_vec((n_kv + 3) * kv_row, ++seed);  // rows past n_kv must be ignored
    const auto vc = random_vec((n_kv + 3) * kv_row, ++seed);
    const auto mk = random_vec(std::max(c.n_mem, 1) * kv_row, ++seed);
    const auto mv = random_vec(std::max(c.n_mem, 1) * kv_row, ++seed);
    std::vector<float> out[2], mass[2];
    Backend* bs[2] = {p.cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      DeviceBuffer dq = upload(*bs[i], q), dk = upload(*bs[i], kc), dv = upload(*bs[i], vc);
      DeviceBuffer dmk = upload(*bs[i], mk), dmv = upload(*bs[i], mv);
      DeviceBuffer dout = upload(*bs[i], std::vector<float>(q.size(), NAN));
      DeviceBuffer dmass = upload(*bs[i], std::vector<float>(c.n_query * c.H, NAN));
      AttentionParams ap;
      ap.n_head = c.H;
      ap.n_head_kv = c.Hkv;
      ap.head_dim = c.dh;
      ap.scale = 1.0f / std::sqrt(static_cast<float>(c.dh));
      ap.n_query = c.n_query;
      ap.q_pos0 = c.q_pos0;
      ap.n_kv = n_kv;
      if (c.n_mem > 0) {
        ap.mem_k = dmk.f32();
        ap.mem_v = dmv.f32();
        ap.n_mem = c.n_mem;
      }
      ap.mem_mass = c.want_mass ? dmass.f32() : nullptr;
      bs[i]->attention(dq.f32(), dk.f32(), dv.f32(), ap, dout.f32());
      out[i] = download(*bs[i], dout, q.size());
      if (c.want_mass) mass[i] = download(*bs[i], dmass, static_cast<size_t>(c.n_query * c.H));
    }
    const std::string what = "attention H=" + std::to_string(c.H) + "/" + std::to_string(c.Hkv) +
                             " dh=" + std::to_string(c.dh) + " q=" + std::to_string(c.n_query) +
                             "@" + std::to_string(c.q_pos0) + " mem=" + std::to_string(c.n_mem);
    expect_close(out[0], out[1], kTolF32, what);
    if (c.want_mass) {
      expect_close(mass[0], mass[1], kTolF32, what + " mem_mass");
      for (float m : mass[1]) {
        EXPECT_GT(m, 0.0f);
        EXPECT_LT(m, 1.0f);
      }
    }
  }
}

TEST(CudaParity, SwigluAndAdd) {
  MEMLONG_REQUIRE_GPU(gpu);
  Pair p;
  const size_t n = 10007;
  const auto g = random_vec(n, 61, 4.0f), u = random_vec(n, 62), y = random_vec(n, 63);
  std::vector<float> sw[2], ad[2];
  Backend* bs[2] = {p.cpu.get(), &gpu};
  for (int i = 0; i < 2; ++i) {
    DeviceBuffer dg = upload(*bs[i], g), du = upload(*bs[i], u), dy = upload(*bs[i], y);
    bs[i]->swiglu(dg.f32(), du.f32(), static_cast<int64_t>(n), dg.f32());  // out aliases gate
    bs[i]->add(dy.f32(), du.f32(), static_cast<int64_t>(n));
    sw[i] = download(*bs[i], dg, n);
    ad[i] = download(*bs[i], dy, n);
  }
  expect_close(sw[0], sw[1], 1e-6f, "swiglu (in place)");
  expect_close(ad[0], ad[1], 0.0f, "add");
}

TEST(CudaParity, AllocIsZeroedAndCopiesRoundTrip) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto a = gpu.alloc(4000);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(download(gpu, *a, 1000), std::vector<float>(1000, 0.0f));
  const auto x = random_vec(1000, 71);
  DeviceBuffer dx = upload(gpu, x);
  gpu.copy(a->data(), dx.data(), 4000);
  EXPECT_EQ(download(gpu, *a, 1000), x);
  // A freed block comes back zeroed too (the caching allocator reuses it).
  *a = DeviceBuffer();
  auto b = gpu.alloc(4000);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(download(gpu, *b, 1000), std::vector<float>(1000, 0.0f));
}

TEST(CudaParity, ErrorsAreStickyAndReportedBySynchronize) {
  MEMLONG_REQUIRE_GPU(unused);
  (void)unused;
  auto fresh = open_cuda();  // its own stream and error state
  ASSERT_TRUE(fresh.is_ok()) << fresh.status().to_string();
  Backend& b = **fresh;
  const HostWeight hw = make_weight(DType::kQ8_0, 64, 16, 81);
  const HostWeight bad_bias = make_weight(DType::kF32, 15, 1, 82, 1.0f, "bias");  // 15 != 16
  auto w = b.upload_weight(hw.view);
  auto bias = b.upload_weight(bad_bias.view);
  ASSERT_TRUE(w.is_ok() && bias.is_ok());
  DeviceBuffer dx = upload(b, std::vector<float>(64, 1.0f));
  DeviceBuffer dy = upload(b, std::vector<float>(16, 0.0f));
  b.matmul(*w, dx.f32(), 1, dy.f32(), &*bias);
  const Status s = b.synchronize();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find("bias"), std::string::npos) << s.message();
  std::vector<float> host(16);
  EXPECT_EQ(b.copy_to_host(host.data(), dy.data(), 64).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(b.alloc(16).is_ok());
}

// ---- whole models ----

struct ModelRun {
  std::vector<std::vector<float>> step_logits;
  std::vector<float> stash_k, stash_v;
};

// Runs `tokens` on `backend`: a batched prefill of the first n_prefill tokens (f16 GEMM on the
// GPU), then one token at a time (mat-vec), with MemLong memory when mem is given.
ModelRun run_model(const ModelFile& file, Backend& backend, const std::vector<int32_t>& tokens,
                   int n_prefill, const MemoryAttention* mem) {
  ModelRun run;
  auto model = LlamaModel::create(file, backend);
  EXPECT_TRUE(model.is_ok()) << model.status().to_string();
  if (!model.is_ok()) return run;
  auto ctx = InferenceContext::create(**model, 256, 64);
  EXPECT_TRUE(ctx.is_ok()) << ctx.status().to_string();
  if (!ctx.is_ok()) return run;
  MemoryOutputs mo;
  auto eval = [&](std::span<const int32_t> toks) {
    auto r = mem != nullptr ? (*ctx)->eval(toks, false, *mem, &mo) : (*ctx)->eval(toks, false);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (r.is_ok()) run.step_logits.push_back(std::move(r).value());
    if (mem != nullptr && run.stash_k.empty()) {
      run.stash_k = mo.stash_k;
      run.stash_v = mo.stash_v;
    }
  };
  const std::span<const int32_t> all(tokens);
  if (n_prefill > 0) eval(all.subspan(0, static_cast<size_t>(n_prefill)));
  for (size_t i = static_cast<size_t>(n_prefill); i < tokens.size(); ++i) eval(all.subspan(i, 1));
  return run;
}

void check_model(const SyntheticModelSpec& spec, const std::string& label, Backend& gpu) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("memlong_cuda_parity_" + label + "_" + std::to_string(::getpid()) + ".gguf");
  ASSERT_TRUE(write_synthetic_llama_gguf(path.string(), spec).is_ok());
  auto file = open_model(path.string());
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  auto cpu = make_cpu_backend(0, /*exact_activations=*/true);
  std::vector<int32_t> tokens;
  std::mt19937 rng(5);
  for (int i = 0; i < 44; ++i) tokens.push_back(static_cast<int32_t>(rng() % 256));

  // 1. Token by token: every product is a mat-vec (f32 on both sides).
  {
    const std::vector<int32_t> head(tokens.begin(), tokens.begin() + 12);
    const ModelRun a = run_model(**file, *cpu, head, 0, nullptr);
    const ModelRun b = run_model(**file, gpu, head, 0, nullptr);
    ASSERT_EQ(a.step_logits.size(), b.step_logits.size());
    for (size_t s = 0; s < a.step_logits.size(); ++s) {
      expect_close(a.step_logits[s], b.step_logits[s], 2e-3f,
                   label + " decode-only step " + std::to_string(s));
    }
  }
  // 2. Batched prefill (f16 GEMM) then decode steps.
  {
    const ModelRun a = run_model(**file, *cpu, tokens, 40, nullptr);
    const ModelRun b = run_model(**file, gpu, tokens, 40, nullptr);
    ASSERT_EQ(a.step_logits.size(), b.step_logits.size());
    for (size_t s = 0; s < a.step_logits.size(); ++s) {
      expect_close(a.step_logits[s], b.step_logits[s], 3e-2f,
                   label + " prefill+decode step " + std::to_string(s));
    }
  }
  // 3. A MemLong read: memory K/V joint with local attention in the upper layers, the stash taken
  //    at the memory layer; both position modes.
  const int32_t kv_row = spec.n_head_kv * (spec.n_embd / spec.n_head);
  const int32_t n_mem = 64;
  const auto mem_k = random_vec(static_cast<size_t>(n_mem * kv_row), 91);
  const auto mem_v = random_vec(static_cast<size_t>(n_mem * kv_row), 92);
  std::vector<int32_t> layers;
  for (int32_t l = spec.n_layer / 2; l < spec.n_layer; l += 2) layers.push_back(l);
  for (bool contiguous : {false, true}) {
    MemoryAttention mem;
    mem.k = mem_k.data();
    mem.v = mem_v.data();
    mem.n_mem = n_mem;
    mem.contiguous_positions = contiguous;
    mem.retrieval_layers = layers;
    mem.memory_layer = spec.n_layer / 2 - 1;
    mem.block_id = 17;
    const ModelRun a = run_model(**file, *cpu, tokens, 40, &mem);
    const ModelRun b = run_model(**file, gpu, tokens, 40, &mem);
    ASSERT_EQ(a.step_logits.size(), b.step_logits.size());
    const std::string mode = contiguous ? " memory(contiguous)" : " memory(zero)";
    for (size_t s = 0; s < a.step_logits.size(); ++s) {
      expect_close(a.step_logits[s], b.step_logits[s], 3e-2f,
                   label + mode + " step " + std::to_string(s));
    }
    expect_close(a.stash_k, b.stash_k, 3e-2f, label + mode + " stash K");
    expect_close(a.stash_v, b.stash_v, 3e-2f, label + mode + " stash V");
  }
  std::filesystem::remove(path);
}

// SmolLM2-135M's shapes (30 layers, d 576, 9/3 heads of 64, ffn 1536), Q8_0 weights, tied head.
TEST(CudaParity, SyntheticSmolLM2ShapesLogits) {
  MEMLONG_REQUIRE_GPU(gpu);
  SyntheticModelSpec spec;
  spec.n_layer = 30;
  spec.n_embd = 576;
  spec.n_head = 9;
  spec.n_head_kv = 3;
  spec.n_ff = 1536;
  spec.n_ctx = 2048;
  spec.rope_theta = 100000.0f;
  spec.matrix_type = DType::kQ8_0;
  spec.tied_embeddings = true;
  check_model(spec, "smollm2-135m", gpu);
}

// A ~1B LLaMA's widths (d 2048, 32/8 heads of 64, ffn 8192) on 4 layers (the full 16 would only
// repeat them and cost the CPU reference minutes), Q4_0 weights.
TEST(CudaParity, Synthetic1BShapesLogits) {
  MEMLONG_REQUIRE_GPU(gpu);
  SyntheticModelSpec spec;
  spec.n_layer = 4;
  spec.n_embd = 2048;
  spec.n_head = 32;
  spec.n_head_kv = 8;
  spec.n_ff = 8192;
  spec.n_ctx = 4096;
  spec.rope_theta = 500000.0f;
  spec.matrix_type = DType::kQ4_0;
  spec.weight_scale = 0.02f;
  check_model(spec, "llama-1b-widths", gpu);
}

}  // namespace
}  // namespace memlong
