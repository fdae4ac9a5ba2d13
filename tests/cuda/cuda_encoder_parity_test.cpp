// The retriever encoder on the CUDA backend against the CPU backend: each encoder op
// (layer_norm, encoder_attention, gelu_erf, pool_sequences, l2_normalize) on random inputs, and
// whole embeddings: a synthetic Q4_0 encoder (the E5S1 file's weight type) on both matmul paths,
// the tiny BERT fixture (tests/data/retriever/tiny_bert) on real sentences, and the
// real multilingual-e5-small file when it is installed.
//
// Where there is no GPU every test here is skipped with the loader's reason (as in
// cuda_parity_test.cpp). Tolerances:
//   f32 ops (layer_norm, attention, gelu, pooling, L2): summation order, erff / expf last bits:
//     1e-4 of the output's scale.
//   Whole embeddings: the CUDA GEMM rounds activations to f16 (n > 8 rows) where the CPU reference
//     (exact activations) keeps f32; unit vectors agree to 4e-3 per element, cosine >= 0.9999.
//   Real e5 file against the default CPU path (activations quantized to 8 bits there): cosine
//     >= 0.999.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include "core/backend/backend.h"
#include "core/backend/backend_loader.h"
#include "core/common/paths.h"
#include "core/model/model_file.h"
#include "core/quant/quant.h"
#include "core/retriever/bert_encoder.h"
#include "core/retriever/encoder_embedder.h"
#include "cuda_test_support.h"

namespace memlong {
namespace {

using namespace cuda_test;

// Smallest cosine between corresponding rows of two [n, dim] matrices.
double min_cosine(const std::vector<float>& a, const std::vector<float>& b, int dim) {
  double worst = 1.0;
  for (size_t r = 0; r * dim < a.size(); ++r) {
    double ab = 0, aa = 0, bb = 0;
    for (int c = 0; c < dim; ++c) {
      const double x = a[r * dim + c], y = b[r * dim + c];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    worst = std::min(worst, ab / std::sqrt(aa * bb));
  }
  return worst;
}

WeightHandle vector_weight(Backend& b, const std::vector<float>& v) {
  TensorView t;
  t.name = "vec";
  t.dtype = DType::kF32;
  t.n_dims = 1;
  t.ne = {static_cast<int64_t>(v.size()), 1, 1, 1};
  t.data = v.data();
  t.n_bytes = v.size() * sizeof(float);
  auto w = b.upload_weight(t);
  EXPECT_TRUE(w.is_ok()) << w.status().to_string();
  return std::move(w).value();
}

std::vector<int32_t> offsets_of(const std::vector<int32_t>& lengths) {
  std::vector<int32_t> off(1, 0);
  for (int32_t l : lengths) off.push_back(off.back() + l);
  return off;
}

constexpr float kTolF32 = 1e-4f;

TEST(CudaParityEncoder, LayerNormWithResidualInPlace) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto cpu = make_cpu_backend(0);
  for (int dim : {37, 384, 1024}) {
    const int n = 33;
    const auto x = random_vec(static_cast<size_t>(n) * dim, 1, 3.0f, 0.5f);
    const auto r = random_vec(static_cast<size_t>(n) * dim, 2);
    const auto wv = random_vec(static_cast<size_t>(dim), 3, 0.3f, 1.0f);
    const auto bv = random_vec(static_cast<size_t>(dim), 4, 0.1f);
    for (bool residual : {false, true}) {
      std::vector<float> out[2];
      Backend* bs[2] = {cpu.get(), &gpu};
      for (int i = 0; i < 2; ++i) {
        const WeightHandle w = vector_weight(*bs[i], wv), b = vector_weight(*bs[i], bv);
        DeviceBuffer dx = upload(*bs[i], x), dr = upload(*bs[i], r);
        bs[i]->layer_norm(dx.f32(), residual ? dr.f32() : nullptr, w, b, 1e-12f, n, dim, dx.f32());
        out[i] = download(*bs[i], dx, x.size());
      }
      expect_close(out[0], out[1], kTolF32,
                   "layer_norm dim " + std::to_string(dim) + (residual ? " + residual" : ""));
    }
  }
}

TEST(CudaParityEncoder, GeluErf) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto cpu = make_cpu_backend(0);
  const auto x = random_vec(100003, 5, 3.0f);
  std::vector<float> out[2];
  Backend* bs[2] = {cpu.get(), &gpu};
  for (int i = 0; i < 2; ++i) {
    DeviceBuffer dx = upload(*bs[i], x);
    bs[i]->gelu_erf(dx.f32(), static_cast<int64_t>(x.size()), dx.f32());
    out[i] = download(*bs[i], dx, x.size());
  }
  expect_close(out[0], out[1], 1e-6f, "gelu_erf");
}

TEST(CudaParityEncoder, EncoderAttentionPackedSequences) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto cpu = make_cpu_backend(0);
  struct Case {
    std::vector<int32_t> lengths;
    int n_head, head_dim;
  };
  const Case cases[] = {{{1}, 12, 32},
                        {{7, 1, 130, 3, 512, 64}, 12, 32},  // e5-small's heads; 512 = its window
                        {{9, 40, 2}, 4, 64},
                        {{17, 5}, 2, 256}};
  for (const Case& c : cases) {
    const std::vector<int32_t> off = offsets_of(c.lengths);
    const int rows = off.back(), stride = c.n_head * c.head_dim;
    const auto q = random_vec(static_cast<size_t>(rows) * stride, 10, 1.5f);
    const auto k = random_vec(static_cast<size_t>(rows) * stride, 11, 1.5f);
    const auto v = random_vec(static_cast<size_t>(rows) * stride, 12);
    std::vector<float> out[2];
    Backend* bs[2] = {cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      DeviceBuffer dq = upload(*bs[i], q), dk = upload(*bs[i], k), dv = upload(*bs[i], v);
      DeviceBuffer doff = upload(*bs[i], off);
      DeviceBuffer dout = upload(*bs[i], std::vector<float>(q.size(), NAN));
      Backend::EncoderAttentionParams p;
      p.seq_offsets = doff.i32();
      p.n_seq = static_cast<int32_t>(c.lengths.size());
      p.n_rows = rows;
      p.max_seq_len = *std::max_element(c.lengths.begin(), c.lengths.end());
      p.n_head = c.n_head;
      p.head_dim = c.head_dim;
      p.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
      bs[i]->encoder_attention(dq.f32(), dk.f32(), dv.f32(), p, dout.f32());
      out[i] = download(*bs[i], dout, q.size());
    }
    expect_close(out[0], out[1], kTolF32,
                 "encoder_attention " + std::to_string(c.lengths.size()) + " seqs, H " +
                     std::to_string(c.n_head) + " dh " + std::to_string(c.head_dim));
  }
}

TEST(CudaParityEncoder, PoolSequencesAndL2Normalize) {
  MEMLONG_REQUIRE_GPU(gpu);
  auto cpu = make_cpu_backend(0);
  const std::vector<int32_t> off = offsets_of({5, 1, 128, 33});
  const int dim = 384, n_seq = 4;
  const auto x = random_vec(static_cast<size_t>(off.back()) * dim, 20, 1.0f, 0.2f);
  for (auto mode : {Backend::SequencePooling::kMean, Backend::SequencePooling::kFirst}) {
    std::vector<float> out[2];
    Backend* bs[2] = {cpu.get(), &gpu};
    for (int i = 0; i < 2; ++i) {
      DeviceBuffer dx = upload(*bs[i], x), doff = upload(*bs[i], off);
      DeviceBuffer dout = upload(*bs[i], std::vector<float>(static_cast<size_t>(n_seq) * dim));
      bs[i]->pool_sequences(dx.f32(), doff.i32(), n_seq, dim, mode, dout.f32());
      bs[i]->l2_normalize(dout.f32(), n_seq, dim);
      out[i] = download(*bs[i], dout, static_cast<size_t>(n_seq) * dim);
    }
    expect_close(out[0], out[1], 1e-6f,
                 mode == Backend::SequencePooling::kMean ? "mean pool + l2" : "first pool + l2");
  }
}

// A BERT encoder with random weights in the E5S1 file's formats (Q4_0 matrices and embeddings,
// F32 vectors); the BertWeights point into this object.
struct SyntheticEncoder {
  BertConfig config;
  BertWeights weights;
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<std::vector<float>> vectors;
  uint32_t seed = 1000;

  BertMatrix matrix(int64_t rows, int64_t cols, float scale) {
    const auto f = random_vec(static_cast<size_t>(rows * cols), seed++, scale);
    const size_t rb = *dtype_row_bytes(DType::kQ4_0, static_cast<uint64_t>(cols));
    std::vector<uint8_t>& b = bytes.emplace_back(rb * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r)
      quant::quantize_row(DType::kQ4_0, f.data() + r * cols, b.data() + r * rb, cols);
    return BertMatrix{DType::kQ4_0, b.data(), rb, rows, cols};
  }
  const float* vec(int64_t n, float scale, float shift) {
    return vectors.emplace_back(random_vec(static_cast<size_t>(n), seed++, scale, shift)).data();
  }

  SyntheticEncoder(int hidden, int n_layers, int n_heads, int ffn, int vocab, int max_pos) {
    config = BertConfig{hidden, n_layers, n_heads, ffn, vocab, max_pos, 0, 1e-12f};
    vectors.reserve(static_cast<size_t>(2 + 10 * n_layers));
    const float ws = 1.0f / std::sqrt(static_cast<float>(hidden));
    weights.word = matrix(vocab, hidden, 0.5f);
    weights.pos = matrix(max_pos, hidden, 0.2f);
    weights.type = matrix(2, hidden, 0.1f);
    weights.emb_ln_w = vec(hidden, 0.1f, 1.0f);
    weights.emb_ln_b = vec(hidden, 0.05f, 0.0f);
    for (int l = 0; l < n_layers; ++l) {
      BertLayer L;
      L.q = matrix(hidden, hidden, ws);
      L.k = matrix(hidden, hidden, ws);
      L.v = matrix(hidden, hidden, ws);
      L.attn_out = matrix(hidden, hidden, ws);
      L.ffn_in = matrix(ffn, hidden, ws);
      L.ffn_out = matrix(hidden, ffn, 1.0f / std::sqrt(static_cast<float>(ffn)));
      L.q_b = vec(hidden, 0.02f, 0.0f);
      L.k_b = vec(hidden, 0.02f, 0.0f);
      L.v_b = vec(hidden, 0.02f, 0.0f);
      L.attn_out_b = vec(hidden, 0.02f, 0.0f);
      L.ffn_in_b = vec(ffn, 0.02f, 0.0f);
      L.ffn_out_b = vec(hidden, 0.02f, 0.0f);
      L.attn_ln_w = vec(hidden, 0.1f, 1.0f);
      L.attn_ln_b = vec(hidden, 0.05f, 0.0f);
      L.out_ln_w = vec(hidden, 0.1f, 1.0f);
      L.out_ln_b = vec(hidden, 0.05f, 0.0f);
      weights.layers.push_back(L);
    }
  }
};

TEST(CudaParityEncoder, SyntheticQ4EncoderEmbeddingsBothMatmulPaths) {
  MEMLONG_REQUIRE_GPU(gpu);
  // e5-small's widths (384 hidden, 12 heads of 32, 1536 ffn), 3 layers, a small vocabulary.
  SyntheticEncoder se(384, 3, 12, 1536, 2000, 200);
  auto cpu = make_cpu_backend(0, /*exact_activations=*/true);
  auto cpu_enc = BertEncoder::create(se.config, se.weights, *cpu);
  auto gpu_enc = BertEncoder::create(se.config, se.weights, gpu);
  ASSERT_TRUE(cpu_enc.is_ok()) << cpu_enc.status().to_string();
  ASSERT_TRUE(gpu_enc.is_ok()) << gpu_enc.status().to_string();
  std::mt19937 rng(3);
  // One 6-token sequence (mat-vec path, n <= 8), then a packed batch (GEMM path).
  for (const std::vector<int32_t>& lengths :
       {std::vector<int32_t>{6}, std::vector<int32_t>{3, 150, 1, 64, 17, 200}}) {
    std::vector<int64_t> offsets(1, 0);
    std::vector<int32_t> ids;
    for (int32_t len : lengths) {
      for (int32_t i = 0; i < len; ++i) ids.push_back(static_cast<int32_t>(rng() % 2000));
      offsets.push_back(static_cast<int64_t>(ids.size()));
    }
    for (Pooling pooling : {Pooling::kMean, Pooling::kCls}) {
      std::vector<float> out[2];
      BertEncoder* encs[2] = {&cpu_enc.value(), &gpu_enc.value()};
      for (int i = 0; i < 2; ++i) {
        out[i].resize(lengths.size() * 384);
        const Status s = encs[i]->encode(ids, offsets, pooling, out[i].data());
        ASSERT_TRUE(s.is_ok()) << s.to_string();
      }
      const std::string what = "synthetic q4_0 encoder, " + std::to_string(lengths.size()) +
                               " seqs, " + (pooling == Pooling::kMean ? "mean" : "cls");
      expect_close(out[0], out[1], 4e-3f, what);
      const double cos = min_cosine(out[0], out[1], 384);
      std::printf("[ parity   ] %-48s min cosine %.6f\n", what.c_str(), cos);
      EXPECT_GE(cos, 0.9999) << what;
    }
  }
}

// MEMLONG_SOURCE_DIR: defined for memlong_tests and for MEMLONG_CUDA_ONLY's memlong_cuda_tests.
const std::string kTiny = std::string(MEMLONG_SOURCE_DIR) + "/tests/data/retriever/tiny_bert";

std::vector<std::string> real_sentences() {
  return {
      "It is a truth universally acknowledged, that a single man in possession of a good "
      "fortune, must be in want of a wife.",
      "Where did Elizabeth walk while her sister lay ill?",
      "The memory bank keeps past chunks and their embeddings.",
      "Hello, world!",
      "x",
      "",
      "Elizabeth walked to Netherfield through the muddy fields, crossing field after field "
      "at a quick pace, jumping over stiles and springing over puddles with impatient "
      "activity, and finding herself at last within view of the house, with weary ankles, "
      "dirty stockings, and a face glowing with the warmth of exercise."};
}

TEST(CudaParityEncoder, TinyBertFixtureOnRealSentences) {
  MEMLONG_REQUIRE_GPU(gpu);
  (void)gpu;
  auto own = open_cuda();
  ASSERT_TRUE(own.is_ok()) << own.status().to_string();
  auto on_gpu = load_hf_bert_embedder(kTiny, std::move(own).value());
  ASSERT_TRUE(on_gpu.is_ok()) << on_gpu.status().to_string();
  EXPECT_NE(on_gpu.value()->info().backend.find("cuda"), std::string::npos);
  auto on_cpu = load_hf_bert_embedder(kTiny, make_cpu_backend(0, /*exact_activations=*/true));
  ASSERT_TRUE(on_cpu.is_ok()) << on_cpu.status().to_string();
  const auto texts = real_sentences();
  for (EmbedKind kind : {EmbedKind::kPassage, EmbedKind::kQuery}) {
    auto a = on_cpu.value()->embed(texts, kind);
    auto b = on_gpu.value()->embed(texts, kind);
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    expect_close(*a, *b, 4e-3f, "tiny bert, real sentences");
    EXPECT_GE(min_cosine(*a, *b, on_cpu.value()->info().dim), 0.9999);
  }
}

TEST(CudaParityEncoder, RealE5SmallWhenInstalled) {
  MEMLONG_REQUIRE_GPU(gpu);
  (void)gpu;
  const std::string path = default_retriever_path();
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "skipped: no e5 model file at " << path;
  }
  auto on_cpu = load_e5_embedder(path, 0);
  if (on_cpu.status().code() ==
      StatusCode::kUnsupported) {  // MEMLONG_CUDA_ONLY's SentencePiece stub
    GTEST_SKIP() << "skipped: " << on_cpu.status().to_string();
  }
  ASSERT_TRUE(on_cpu.is_ok()) << on_cpu.status().to_string();
  auto own = open_cuda();
  ASSERT_TRUE(own.is_ok()) << own.status().to_string();
  auto on_gpu = load_e5_embedder(path, std::move(own).value());
  ASSERT_TRUE(on_gpu.is_ok()) << on_gpu.status().to_string();
  const auto texts = real_sentences();
  auto a = on_cpu.value()->embed(texts, EmbedKind::kPassage);
  auto b = on_gpu.value()->embed(texts, EmbedKind::kPassage);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  const double cos = min_cosine(*a, *b, 384);
  std::printf("[ parity   ] %-48s min cosine %.6f\n", "e5-small, real sentences", cos);
  EXPECT_GE(cos, 0.999);
}

}  // namespace
}  // namespace memlong
