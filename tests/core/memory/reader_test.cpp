// MemLongReader end to end on synthetic one-layer models, checked against plain causal passes.
//
// Key identity (MEMLONG.md §5.3, contiguous mode): with one layer, memory layer m = 0 and
// R = {0}, the stored pre-RoPE K/V of earlier chunks rotated to positions 0..M-1 are exactly the
// K/V a single causal pass over [earlier chunks ; this chunk] would use. So reading a text chunk
// by chunk with every earlier chunk retrieved must reproduce the plain pass's log-likelihood.
#include "core/memory/reader.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "core/model/synthetic_model.h"

namespace memlong {
namespace {

// Deterministic stand-in retriever: a unit vector from the text's hash. Retrieval order does not
// matter for these tests because top_k covers the whole bank.
class HashEmbedder final : public Embedder {
 public:
  HashEmbedder() {
    info_.name = "hash";
    info_.dim = 8;
    info_.pooling = "none";
  }
  const EmbedderInfo& info() const override { return info_; }
  Result<std::vector<float>> embed(std::span<const std::string> texts, EmbedKind,
                                   const CancelToken&) override {
    std::vector<float> out;
    for (const std::string& t : texts) {
      uint64_t h = std::hash<std::string>{}(t);
      float norm = 0;
      std::vector<float> v(8);
      for (float& x : v) {
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        x = static_cast<float>((h >> 33) % 1000) / 1000.0f - 0.5f;
        norm += x * x;
      }
      for (float& x : v) out.push_back(x / std::sqrt(norm));
    }
    return out;
  }

 private:
  EmbedderInfo info_;
};

class ReaderTest : public ::testing::Test {
 protected:
  void load(int32_t n_layer) {
    path_ = ::testing::TempDir() + "/synthetic-" + std::to_string(n_layer) + ".gguf";
    SyntheticModelSpec spec;
    spec.n_layer = n_layer;
    spec.seed = 7 + n_layer;
    ASSERT_TRUE(write_synthetic_llama_gguf(path_, spec).is_ok());
    EngineOptions o;
    o.model_path = path_;
    o.n_threads = 2;
    auto e = Engine::load(o);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(e).value();
  }
  std::unique_ptr<MemoryBank> bank(const MemLongConfig& c) {
    MemoryBankConfig bc;
    bc.n_head_kv = engine_->model().config().n_head_kv;
    bc.head_dim = engine_->model().config().head_dim;
    bc.emb_dim = 8;
    bc.entry_tokens = c.entry_tokens;
    bc.capacity_tokens = c.capacity_tokens;
    bc.dtype = MemoryDType::kF16;  // closer to f32 than bf16: tighter parity bounds
    auto b = MemoryBank::create(bc);
    EXPECT_TRUE(b.is_ok()) << b.status().to_string();
    return std::move(b).value();
  }
  // Sum of -log p over positions [from, n) of one plain causal pass.
  double plain_nll(const std::vector<int32_t>& ids, size_t from) {
    auto ctx = engine_->new_context(static_cast<int32_t>(ids.size()));
    auto logits = (*ctx)->eval(ids, true);
    EXPECT_TRUE(logits.is_ok());
    const int32_t V = engine_->model().config().n_vocab;
    double nll = 0;
    for (size_t p = from; p < ids.size(); ++p) {
      nll += token_nll(std::span<const float>(*logits).subspan((p - 1) * V, V), ids[p]);
    }
    return nll;
  }
  std::vector<int32_t> text_ids(size_t n) {
    const std::string text =
        "It is a truth universally acknowledged, that a single man in possession of a good "
        "fortune, must be in want of a wife. However little known the feelings or views of such "
        "a man may be on his first entering a neighbourhood, this truth is so well fixed.";
    std::vector<int32_t> ids = engine_->tokenizer().encode(text, false, false);
    ids.resize(n);
    return ids;
  }

  std::string path_;
  std::unique_ptr<Engine> engine_;
  HashEmbedder embedder_;
};

TEST_F(ReaderTest, ContiguousChunkedReadEqualsOneCausalPassOnOneLayer) {
  ASSERT_NO_FATAL_FAILURE(load(1));
  MemLongConfig c = default_memlong_config(1);
  c.memory_layer = 0;
  c.retrieval_layers = {0};
  c.entry_tokens = 16;
  c.last_context = 16;
  c.top_k = 8;
  c.position_mode = PositionMode::kContiguous;
  auto b = bank(c);
  auto reader = MemLongReader::create(*engine_, embedder_, *b, c);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  const std::vector<int32_t> ids = text_ids(64);
  ReadCallOptions ro;
  ro.score_last = 63;  // every token but the first
  auto r = (*reader)->read_call(ids, ro);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  // Three prefix chunks and a tail; pass j retrieves all j earlier entries, in order.
  ASSERT_EQ(r->passes.size(), 4u);
  for (size_t j = 0; j < r->passes.size(); ++j) {
    ASSERT_EQ(r->passes[j].retrieved.size(), j) << "pass " << j;
    for (size_t i = 0; i < j; ++i)
      EXPECT_EQ(r->passes[j].retrieved[i].info.token_offset, 16 * int64_t(i));
    EXPECT_EQ(r->passes[j].written.size(), 1u);
  }
  EXPECT_EQ(b->n_entries(), 4);
  EXPECT_EQ(r->n_scored, 63);
  const double want = plain_nll(ids, 1);
  // Memory K/V round through f16; the rest is f32. Measured: |diff| = 2e-5 (sum over 63 tokens
  // of ~5.9 nats each); zero mode, which puts all memory at position 0, differs by 0.09 here.
  EXPECT_NEAR(r->nll_sum, want, 1e-3) << "plain " << want;
}

// The same identity with a tail longer than one 256-token evaluation segment: every segment of
// the pass attends to the same memory block (uploaded once, reused by block id).
TEST_F(ReaderTest, ContiguousIdentityHoldsAcrossTailSegments) {
  ASSERT_NO_FATAL_FAILURE(load(1));
  MemLongConfig c = default_memlong_config(1);
  c.memory_layer = 0;
  c.retrieval_layers = {0};
  c.entry_tokens = 16;
  c.last_context = 300;
  c.top_k = 4;
  c.position_mode = PositionMode::kContiguous;
  auto b = bank(c);
  auto reader = MemLongReader::create(*engine_, embedder_, *b, c);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  std::string text;
  for (int i = 0; text.size() < 400; ++i)
    text += "Line " + std::to_string(i * 37 % 101) + " of Emma. ";
  std::vector<int32_t> ids = engine_->tokenizer().encode(text, false, false);
  ids.resize(332);  // two 16-token prefix chunks, then a 300-token tail (segments of 256 + 44)
  ReadCallOptions ro;
  ro.score_last = 331;
  auto r = (*reader)->read_call(ids, ro);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->passes.size(), 3u);
  ASSERT_EQ(r->passes[2].retrieved.size(), 2u);
  EXPECT_NEAR(r->nll_sum, plain_nll(ids, 1), 2e-3);
}

TEST_F(ReaderTest, ZeroModeWithoutMemoryLayersEqualsPlainPasses) {
  ASSERT_NO_FATAL_FAILURE(load(2));
  MemLongConfig c = default_memlong_config(2);
  c.retrieval_layers = {};  // memory is written and retrieved but no layer attends to it
  c.entry_tokens = 16;
  c.last_context = 32;
  auto b = bank(c);
  auto reader = MemLongReader::create(*engine_, embedder_, *b, c);
  ASSERT_TRUE(reader.is_ok());
  const std::vector<int32_t> ids = text_ids(64);
  ReadCallOptions ro;
  ro.score_last = 32;
  auto r = (*reader)->read_call(ids, ro);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->passes.size(), 3u);  // two 16-token prefix chunks, a 32-token tail
  EXPECT_TRUE(r->passes[2].is_tail);
  EXPECT_EQ(b->n_entries(), 4);  // the tail writes two entries of 16
  // The tail is a fresh causal pass over its own 32 tokens: its first token is predicted by the
  // last row of the second prefix chunk (a pass over tokens 16..31 alone).
  std::vector<int32_t> chunk2(ids.begin() + 16, ids.begin() + 32);
  chunk2.push_back(ids[32]);
  std::vector<int32_t> tail(ids.begin() + 32, ids.end());
  const double want = plain_nll(chunk2, 16) + plain_nll(tail, 1);
  EXPECT_NEAR(r->nll_sum, want, 1e-4 * std::fabs(want));
}

TEST_F(ReaderTest, MemoryChangesTheOutputAndStashIsPreRope) {
  ASSERT_NO_FATAL_FAILURE(load(2));
  MemLongConfig c = default_memlong_config(2);  // m = 1, R = {1}, zero mode
  c.entry_tokens = 16;
  c.last_context = 16;
  auto b = bank(c);
  auto reader = MemLongReader::create(*engine_, embedder_, *b, c);
  ASSERT_TRUE(reader.is_ok());
  const std::vector<int32_t> ids = text_ids(32);
  ReadCallOptions ro;
  ro.score_last = 16;
  auto with = (*reader)->read_call(ids, ro);
  ASSERT_TRUE(with.is_ok());
  ASSERT_EQ(with->passes[1].retrieved.size(), 1u);
  std::vector<int32_t> second(ids.begin() + 15, ids.end());
  // Without memory the second pass would score like a plain pass over its own tokens.
  EXPECT_GT(std::fabs(with->nll_sum - plain_nll(second, 1)), 1e-3);

  // The entry written for tokens 0..15 holds pre-RoPE keys: identical whatever position the
  // chunk had, so reading the same 16 tokens again (new pass, same local positions) gives the
  // same K as gathered from the bank.
  std::vector<float> k0, v0;
  const uint64_t first_seq = with->passes[0].written[0];
  ASSERT_TRUE(b->gather(std::vector<uint64_t>{first_seq}, &k0, &v0).is_ok());
  auto ctx = engine_->new_context(64);
  MemoryAttention none;
  none.memory_layer = 1;
  MemoryOutputs stash;
  ASSERT_TRUE(
      (*ctx)->eval(std::span<const int32_t>(ids).subspan(0, 16), false, none, &stash).is_ok());
  ASSERT_EQ(stash.stash_k.size(), k0.size());
  for (size_t i = 0; i < k0.size(); ++i)
    EXPECT_NEAR(stash.stash_k[i], k0[i], 2e-3f * (1 + std::fabs(k0[i])));
}

// §2.2 ingestion shortcut: stopping after the memory layer's projections gives exactly the stash
// of a full forward pass.
TEST_F(ReaderTest, IngestionShortcutStashEqualsFullForward) {
  ASSERT_NO_FATAL_FAILURE(load(3));
  const std::vector<int32_t> ids = text_ids(40);
  for (int32_t m : {0, 1, 2}) {
    MemoryAttention mem;
    mem.memory_layer = m;
    MemoryOutputs full, shortcut;
    auto ctx = engine_->new_context(64);
    ASSERT_TRUE((*ctx)->eval(ids, false, mem, &full).is_ok());
    (*ctx)->reset();
    mem.memory_only = true;
    ASSERT_TRUE((*ctx)->eval(ids, false, mem, &shortcut).is_ok());
    EXPECT_EQ(full.stash_k, shortcut.stash_k) << "layer " << m;
    EXPECT_EQ(full.stash_v, shortcut.stash_v) << "layer " << m;
  }
}

// A long input (>= 100k tokens) runs in bounded memory: the bank stays within its capacity and
// the process does not grow with the input.
TEST_F(ReaderTest, HundredThousandTokensRunInBoundedMemory) {
  ASSERT_NO_FATAL_FAILURE(load(1));
  // 100k byte tokens of varied text (the synthetic vocabulary is one token per byte).
  std::string text;
  for (int i = 0; text.size() < 100000; ++i) {
    text += "Chapter " + std::to_string(i) + ". Emma walked " + std::to_string(i * 7 % 13) +
            " miles to Highbury and back, thinking of letter " + std::to_string(i * 31 % 97) + ". ";
  }
  std::vector<int32_t> ids = engine_->tokenizer().encode(text, false, false);
  ASSERT_GE(ids.size(), 100000u);
  ids.resize(100000);
  MemLongConfig c = default_memlong_config(1);
  c.memory_layer = 0;
  c.retrieval_layers = {0};
  c.entry_tokens = 128;
  c.last_context = 128;
  c.capacity_tokens = 4096;
  auto b = bank(c);
  auto reader = MemLongReader::create(*engine_, embedder_, *b, c);
  ASSERT_TRUE(reader.is_ok());
  struct rusage before {};
  getrusage(RUSAGE_SELF, &before);
  int64_t max_used = 0;
  ReadCallOptions ro;
  auto r = (*reader)->read_call(
      ids, ro, [&](const PassReport&) { max_used = std::max(max_used, b->used_tokens()); });
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  struct rusage after {};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_EQ(r->passes.size(), 100000u / 128 + 1);
  EXPECT_LE(max_used, 4096);
  EXPECT_EQ(b->used_tokens(), 4096);
  // Peak RSS grows by far less than the K/V of 100k tokens would take (100k x 2 x 2 x 32 x 2 B
  // = 25.6 MB) plus the per-pass report list. AddressSanitizer keeps freed blocks in a
  // quarantine (256 MiB by default), so its builds are held to the capacity checks above only.
#if defined(__SANITIZE_ADDRESS__)
  const long kQuarantineKiB = 256 * 1024 + 64 * 1024;
#else
  const long kQuarantineKiB = 0;
#endif
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 20 * 1024 + kQuarantineKiB) << "KiB";
}

TEST_F(ReaderTest, ContiguousConfigMustFitTheContext) {
  ASSERT_NO_FATAL_FAILURE(load(1));
  MemLongConfig c = default_memlong_config(1);
  c.position_mode = PositionMode::kContiguous;
  c.top_k = 8;
  c.entry_tokens = 64;
  c.last_context = 100;  // 8*64 + 100 > 512
  auto b = bank(c);
  auto reader = MemLongReader::create(*engine_, embedder_, *b, c);
  ASSERT_FALSE(reader.is_ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memlong

namespace memlong {
namespace {

// The device bank (DeviceKVPool on the engine's backend, here the CPU with a budget so small
// that most entries overflow to the host region) gives the host path's results exactly: same
// retrievals, same log-likelihood bit for bit, same greedy continuation; evictions keep it in step.
TEST_F(ReaderTest, DevicePoolReadEqualsHostBankRead) {
  ASSERT_NO_FATAL_FAILURE(load(2));
  for (const PositionMode mode : {PositionMode::kZero, PositionMode::kContiguous}) {
    MemLongConfig c = default_memlong_config(2);
    c.memory_layer = 0;
    c.retrieval_layers = {1};
    c.entry_tokens = 16;
    c.last_context = 16;
    c.top_k = 3;
    c.capacity_tokens = 64;  // 4 entries: a 112-token read evicts
    c.position_mode = mode;
    const std::vector<int32_t> ids = text_ids(112);
    ReadCallOptions ro;
    ro.score_last = 111;
    ReadCallResult res[2];
    std::vector<int32_t> gen[2];
    for (int with_pool = 0; with_pool < 2; ++with_pool) {
      auto b = bank(c);
      auto reader = MemLongReader::create(*engine_, embedder_, *b, c);
      ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
      if (with_pool) {
        const int64_t slot_bytes = 2 * int64_t{b->config().n_head_kv} * b->config().head_dim * 2;
        ASSERT_TRUE((*reader)->enable_device_pool(20 * slot_bytes).is_ok());
        ASSERT_NE((*reader)->device_pool(), nullptr);
        EXPECT_EQ((*reader)->device_pool()->n_device_slots(), 20);
      }
      auto r = (*reader)->read_call(ids, ro);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      res[with_pool] = *r;
      auto g = (*reader)->generate_greedy(6);
      ASSERT_TRUE(g.is_ok()) << g.status().to_string();
      gen[with_pool] = *g;
      if (with_pool) {
        EXPECT_EQ((*reader)->device_pool()->used_tokens(), b->used_tokens());
      }
    }
    ASSERT_EQ(res[0].passes.size(), res[1].passes.size());
    for (size_t j = 0; j < res[0].passes.size(); ++j) {
      ASSERT_EQ(res[0].passes[j].retrieved.size(), res[1].passes[j].retrieved.size());
      for (size_t i = 0; i < res[0].passes[j].retrieved.size(); ++i) {
        EXPECT_EQ(res[0].passes[j].retrieved[i].info.seq, res[1].passes[j].retrieved[i].info.seq);
      }
    }
    EXPECT_GT(res[0].passes.back().retrieved.size(), 0u);
    EXPECT_EQ(res[0].n_scored, res[1].n_scored);
    EXPECT_EQ(res[0].nll_sum, res[1].nll_sum) << "mode " << static_cast<int>(mode);
    EXPECT_EQ(gen[0], gen[1]);
  }
}

}  // namespace
}  // namespace memlong
