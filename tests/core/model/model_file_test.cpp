// open_model / open_gguf_model / check_llama_tensors / LlamaConfig::validate: synthetic GGUF
// models written with GgufWriter (one field wrong at a time), format dispatch and the refusal of
// pickles, and the real default model (tests named RealModel; a missing file fails with the
// setup hint).
#include "core/model/model_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "core/common/paths.h"
#include "core/model/gguf_reader.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;

// A fresh temporary folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("memlong_model_test_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::vector<uint8_t> f32_bytes(int64_t n, float value) {
  std::vector<uint8_t> b(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) std::memcpy(b.data() + 4 * i, &value, 4);
  return b;
}

struct TinySpec {
  std::string arch = "llama";
  int64_t n_layer = 2, n_embd = 64, n_ff = 96, n_head = 4, n_head_kv = 2, n_vocab = 40;
  bool tied = false;
  bool bias = false;
  // Called with the writer after the standard keys and before tensors, to add or break things.
  std::function<void(GgufWriter&)> extra_keys;
  // Tensor shape overrides by name.
  std::map<std::string, std::vector<int64_t>> shape_override;
  std::set<std::string> skip;       // tensors to leave out
  std::set<std::string> skip_keys;  // standard metadata keys to leave out (to replace them)
};

void add(GgufWriter& w, const TinySpec& s, const std::string& name, std::vector<int64_t> ne) {
  if (s.skip.count(name)) return;
  if (auto it = s.shape_override.find(name); it != s.shape_override.end()) ne = it->second;
  int64_t n = 1;
  for (int64_t x : ne) n *= x;
  w.add_tensor(name, DType::kF32, ne, f32_bytes(n, 0.5f));
}

std::string write_tiny_gguf(const TempDir& dir, const TinySpec& s) {
  GgufWriter w;
  const std::string a = s.arch + ".";
  auto keep = [&](const std::string& key) { return s.skip_keys.count(key) == 0; };
  auto u32 = [&](const std::string& key, int64_t v) {
    if (keep(key)) w.add_u32(key, static_cast<uint32_t>(v));
  };
  auto f32 = [&](const std::string& key, float v) {
    if (keep(key)) w.add_f32(key, v);
  };
  w.add_string("general.architecture", s.arch);
  w.add_string("general.name", "tiny");
  u32(a + "block_count", s.n_layer);
  u32(a + "embedding_length", s.n_embd);
  u32(a + "feed_forward_length", s.n_ff);
  u32(a + "attention.head_count", s.n_head);
  u32(a + "attention.head_count_kv", s.n_head_kv);
  u32(a + "context_length", 512);
  f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  f32(a + "rope.freq_base", 500000.0f);
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "default");
  std::vector<std::string> tokens;
  for (int64_t i = 0; i < s.n_vocab; ++i) tokens.push_back("t" + std::to_string(i));
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_string_array("tokenizer.ggml.merges", {"t 1"});
  w.add_u32("tokenizer.ggml.bos_token_id", 1);
  w.add_u32("tokenizer.ggml.eos_token_id", 2);
  w.add_string("tokenizer.chat_template", "{{ messages }}");
  if (s.extra_keys) s.extra_keys(w);
  const int64_t d = s.n_embd, hd = s.n_embd / s.n_head;
  add(w, s, "token_embd.weight", {d, s.n_vocab});
  add(w, s, "output_norm.weight", {d});
  if (!s.tied) add(w, s, "output.weight", {d, s.n_vocab});
  for (int64_t i = 0; i < s.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    add(w, s, p + "attn_norm.weight", {d});
    add(w, s, p + "attn_q.weight", {d, s.n_head * hd});
    add(w, s, p + "attn_k.weight", {d, s.n_head_kv * hd});
    add(w, s, p + "attn_v.weight", {d, s.n_head_kv * hd});
    if (s.bias) {
      add(w, s, p + "attn_q.bias", {s.n_head * hd});
      add(w, s, p + "attn_k.bias", {s.n_head_kv * hd});
      add(w, s, p + "attn_v.bias", {s.n_head_kv * hd});
    }
    add(w, s, p + "attn_output.weight", {s.n_head * hd, d});
    add(w, s, p + "ffn_norm.weight", {d});
    add(w, s, p + "ffn_gate.weight", {d, s.n_ff});
    add(w, s, p + "ffn_up.weight", {d, s.n_ff});
    add(w, s, p + "ffn_down.weight", {s.n_ff, d});
  }
  const std::string path = dir.file("tiny.gguf");
  EXPECT_TRUE(w.write_file(path).is_ok());
  return path;
}

Status open_status(const TinySpec& s) {
  TempDir dir;
  return open_model(write_tiny_gguf(dir, s)).status();
}

TEST(GgufModel, TinyLlamaConfigVocabAndTensors) {
  TempDir dir;
  auto m = open_model(write_tiny_gguf(dir, TinySpec{}));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  const ModelFile& f = *m.value();
  EXPECT_EQ(f.format, "gguf");
  EXPECT_EQ(f.config.architecture, "llama");
  EXPECT_EQ(f.config.name, "tiny");
  EXPECT_EQ(f.config.n_layer, 2);
  EXPECT_EQ(f.config.n_embd, 64);
  EXPECT_EQ(f.config.n_ff, 96);
  EXPECT_EQ(f.config.n_head, 4);
  EXPECT_EQ(f.config.n_head_kv, 2);
  EXPECT_EQ(f.config.head_dim, 16);
  EXPECT_EQ(f.config.n_vocab, 40);
  EXPECT_EQ(f.config.n_ctx_train, 512);
  EXPECT_FLOAT_EQ(f.config.rms_eps, 1e-6f);
  EXPECT_FLOAT_EQ(f.config.rope_theta, 500000.0f);
  EXPECT_EQ(f.config.rope_layout, RopeLayout::kInterleaved);
  EXPECT_EQ(f.config.rope_scaling, RopeScaling::kNone);
  EXPECT_FALSE(f.config.tied_embeddings);
  EXPECT_FALSE(f.config.has_qkv_bias);
  EXPECT_EQ(f.vocab.model, "gpt2");
  EXPECT_EQ(f.vocab.tokens.size(), 40u);
  EXPECT_EQ(f.vocab.bos_id, 1);
  EXPECT_EQ(f.vocab.eos_id, 2);
  EXPECT_EQ(f.chat_template, "{{ messages }}");
  EXPECT_EQ(f.metadata.at("general.architecture"), "llama");
  EXPECT_EQ(f.tensors.size(), 3u + 2u * 9u);
  const TensorView* q = f.find("blk.1.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->ne, (std::array<int64_t, 4>{64, 64, 1, 1}));
  float first;
  std::memcpy(&first, q->data, 4);
  EXPECT_EQ(first, 0.5f);
}

TEST(GgufModel, Qwen2IsHalfRopeWithBiases) {
  TempDir dir;
  TinySpec s;
  s.arch = "qwen2";
  s.bias = true;
  s.tied = true;
  auto m = open_model(write_tiny_gguf(dir, s));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m.value()->config.rope_layout, RopeLayout::kHalf);
  EXPECT_TRUE(m.value()->config.has_qkv_bias);
  EXPECT_TRUE(m.value()->config.tied_embeddings);
}

TEST(GgufModel, RopeScalingKeys) {
  TinySpec s;
  s.extra_keys = [](GgufWriter& w) {
    w.add_string("llama.rope.scaling.type", "linear");
    w.add_f32("llama.rope.scaling.factor", 4.0f);
  };
  TempDir dir;
  auto m = open_model(write_tiny_gguf(dir, s));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m.value()->config.rope_scaling, RopeScaling::kLinear);
  EXPECT_FLOAT_EQ(m.value()->config.rope_scale_factor, 4.0f);

  s.extra_keys = [](GgufWriter& w) { w.add_string("llama.rope.scaling.type", "yarn"); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kUnsupported);
}

TEST(GgufModel, Llama3RopeFreqsTensorIsRecognised) {
  // The factors llama.cpp's converter writes for Llama 3.1 (factor 8, low 1, high 4, 8192),
  // computed here by the published formula for head_dim 16, theta 500000.
  const int hd = 16;
  std::vector<float> factors;
  for (int i = 0; i < hd / 2; ++i) {
    const double freq = std::pow(500000.0, -2.0 * i / hd);
    const double wavelen = 2 * 3.14159265358979323846 / freq;
    double f;
    if (wavelen < 8192.0 / 4)
      f = 1;
    else if (wavelen > 8192.0 / 1)
      f = 8;
    else {
      const double smooth = (8192.0 / wavelen - 1) / (4 - 1);
      f = 1 / ((1 - smooth) / 8 + smooth);
    }
    factors.push_back(static_cast<float>(f));
  }
  TinySpec s;
  s.extra_keys = [&](GgufWriter& w) {
    std::vector<uint8_t> b(factors.size() * 4);
    std::memcpy(b.data(), factors.data(), b.size());
    w.add_tensor("rope_freqs.weight", DType::kF32, {hd / 2}, b);
  };
  TempDir dir;
  auto m = open_model(write_tiny_gguf(dir, s));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m.value()->config.rope_scaling, RopeScaling::kLlama3);
  EXPECT_FLOAT_EQ(m.value()->config.rope_scale_factor, 8.0f);
  EXPECT_EQ(m.value()->config.rope_orig_ctx, 8192);

  factors[3] *= 1.5f;  // not what any published parameters give
  EXPECT_EQ(open_status(s).code(), StatusCode::kUnsupported);
}

TEST(GgufModel, HostileMetadataAndTensors) {
  TinySpec s;
  s.arch = "gpt2";
  EXPECT_EQ(open_status(s).code(), StatusCode::kUnsupported);

  s = TinySpec{};
  s.n_head_kv = 3;  // 4 % 3 != 0
  s.shape_override = {};
  {
    const Status st = open_status(s);
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << st.to_string();
    EXPECT_NE(st.message().find("n_head_kv"), std::string::npos) << st.to_string();
  }
  s = TinySpec{};
  s.skip = {"blk.1.ffn_down.weight"};
  {
    const Status st = open_status(s);
    EXPECT_EQ(st.code(), StatusCode::kCorrupt);
    EXPECT_NE(st.message().find("blk.1.ffn_down.weight"), std::string::npos) << st.to_string();
  }
  s = TinySpec{};
  s.shape_override = {{"blk.0.attn_k.weight", {64, 64}}};
  {
    const Status st = open_status(s);
    EXPECT_EQ(st.code(), StatusCode::kCorrupt);
    EXPECT_NE(st.message().find("blk.0.attn_k.weight"), std::string::npos) << st.to_string();
  }
  s = TinySpec{};
  s.skip = {"token_embd.weight"};
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);

  s = TinySpec{};  // absurd dimensions are refused before any buffer is sized from them
  s.skip_keys = {"llama.block_count"};
  s.extra_keys = [](GgufWriter& w) { w.add_u32("llama.block_count", 100000); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);
  s.extra_keys = [](GgufWriter& w) { w.add_u64("llama.block_count", ~uint64_t{0}); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);
  s.extra_keys = nullptr;  // missing required key
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);
  s.skip_keys = {"llama.context_length"};
  s.extra_keys = [](GgufWriter& w) { w.add_string("llama.context_length", "lots"); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);
  s.skip_keys = {"llama.attention.layer_norm_rms_epsilon"};
  s.extra_keys = [](GgufWriter& w) { w.add_f32("llama.attention.layer_norm_rms_epsilon", -1); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);
  s.skip_keys = {};
  s.extra_keys = [](GgufWriter& w) { w.add_u32("llama.vocab_size", 41); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);
  s.extra_keys = [](GgufWriter& w) { w.add_u32("tokenizer.ggml.unknown_token_id", 40); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);
  s.extra_keys = [](GgufWriter& w) { w.add_u32("llama.rope.dimension_count", 8); };
  EXPECT_EQ(open_status(s).code(), StatusCode::kUnsupported);
  s.extra_keys = [](GgufWriter& w) { w.add_string("general.name", "dup"); };  // duplicate key
  EXPECT_EQ(open_status(s).code(), StatusCode::kCorrupt);

  s = TinySpec{};
  s.shape_override = {{"output_norm.weight", {64, 1}}};  // 2-D form of a 1-D tensor: same ne
  EXPECT_TRUE(open_status(s).is_ok());
}

TEST(GgufModel, UnsupportedWeightTypeIsNamed) {
  TinySpec s;
  s.skip = {"blk.0.ffn_up.weight"};
  s.extra_keys = [](GgufWriter& w) {
    // I32 has a known layout but no kernels.
    w.add_tensor("blk.0.ffn_up.weight", DType::kI32, {64, 96}, std::vector<uint8_t>(64 * 96 * 4));
  };
  const Status st = open_status(s);
  EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.to_string();
  EXPECT_NE(st.message().find("blk.0.ffn_up.weight"), std::string::npos) << st.to_string();
}

TEST(LlamaConfig, ValidateRanges) {
  LlamaConfig c;
  c.architecture = "llama";
  c.n_layer = 2;
  c.n_embd = 64;
  c.n_ff = 128;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.head_dim = 16;
  c.n_vocab = 100;
  c.n_ctx_train = 128;
  EXPECT_TRUE(c.validate().is_ok());
  LlamaConfig bad = c;
  bad.head_dim = 15;
  EXPECT_EQ(bad.validate().code(), StatusCode::kCorrupt);
  bad = c;
  bad.n_layer = 0;
  EXPECT_EQ(bad.validate().code(), StatusCode::kCorrupt);
  bad = c;
  bad.n_embd = 1 << 30;
  EXPECT_EQ(bad.validate().code(), StatusCode::kCorrupt);
  bad = c;
  bad.rope_theta = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(bad.validate().code(), StatusCode::kCorrupt);
  bad = c;
  bad.rope_scaling = RopeScaling::kLlama3;
  bad.rope_scale_factor = 8;
  EXPECT_EQ(bad.validate().code(), StatusCode::kCorrupt);  // no original context
  bad.rope_orig_ctx = 8192;
  EXPECT_TRUE(bad.validate().is_ok());
  bad = c;
  bad.architecture = "mamba";
  EXPECT_EQ(bad.validate().code(), StatusCode::kUnsupported);
}

TEST(OpenModel, DispatchAndPickleRefusal) {
  TempDir dir;
  EXPECT_EQ(open_model(dir.file("missing.gguf")).status().code(), StatusCode::kNotFound);

  // A pickle, whatever its name.
  const std::string pickle = std::string("\x80\x02}q\x00.", 6);
  write_bytes(dir.file("model.gguf.bak"), pickle);
  Status st = open_model(dir.file("model.gguf.bak")).status();
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("pickled checkpoints are refused; convert to safetensors"),
            std::string::npos)
      << st.to_string();
  write_bytes(dir.file("weights.pt"), "anything");
  EXPECT_EQ(open_model(dir.file("weights.pt")).status().code(), StatusCode::kUnsupported);
  write_bytes(dir.file("torch.ckpt"), std::string("PK\x03\x04", 4));
  EXPECT_EQ(open_model(dir.file("torch.ckpt")).status().code(), StatusCode::kUnsupported);

  // .gguf with the wrong magic: the GGUF reader's error.
  write_bytes(dir.file("fake.gguf"), "not a gguf file at all");
  st = open_model(dir.file("fake.gguf")).status();
  EXPECT_EQ(st.code(), StatusCode::kCorrupt);
  EXPECT_NE(st.message().find("magic"), std::string::npos);

  // GGUF magic with another extension still opens as GGUF.
  const std::string gguf_path = write_tiny_gguf(dir, TinySpec{});
  fs::rename(gguf_path, dir.file("renamed.model"));
  EXPECT_TRUE(open_model(dir.file("renamed.model")).is_ok());

  write_bytes(dir.file("notes.txt"), "hello");
  EXPECT_EQ(open_model(dir.file("notes.txt")).status().code(), StatusCode::kUnsupported);
}

TEST(OpenModel, FolderWithOnlyPytorchBinIsRefused) {
  TempDir dir;
  write_bytes(dir.file("config.json"), R"({"architectures": ["LlamaForCausalLM"]})");
  write_bytes(dir.file("pytorch_model.bin"), std::string("\x80\x02}q\x00.", 6));
  const Status st = open_model(dir.path().string()).status();
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("pickled checkpoints are refused; convert to safetensors"),
            std::string::npos)
      << st.to_string();
}

// ---- the real default model ----

std::string real_model_path_or_fail() {
  const std::string path = default_model_path();
  if (!fs::exists(path)) ADD_FAILURE() << missing_model_hint(path);
  return path;
}

TEST(GgufModel, RealModelSmolLM2Metadata) {
  const std::string path = real_model_path_or_fail();
  auto m = open_model(path);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  const ModelFile& f = *m.value();
  EXPECT_EQ(f.format, "gguf");
  EXPECT_EQ(f.config.architecture, "llama");
  EXPECT_EQ(f.config.n_layer, 30);
  EXPECT_EQ(f.config.n_embd, 576);
  EXPECT_EQ(f.config.n_ff, 1536);
  EXPECT_EQ(f.config.n_head, 9);
  EXPECT_EQ(f.config.n_head_kv, 3);
  EXPECT_EQ(f.config.head_dim, 64);
  EXPECT_EQ(f.config.n_vocab, 49152);
  EXPECT_EQ(f.config.n_ctx_train, 8192);
  EXPECT_FLOAT_EQ(f.config.rope_theta, 100000.0f);
  EXPECT_FLOAT_EQ(f.config.rms_eps, 1e-5f);
  EXPECT_EQ(f.config.rope_layout, RopeLayout::kInterleaved);
  EXPECT_EQ(f.config.rope_scaling, RopeScaling::kNone);
  EXPECT_TRUE(f.config.tied_embeddings);
  EXPECT_FALSE(f.config.has_qkv_bias);
  EXPECT_EQ(f.tensors.size(), 272u);
  EXPECT_EQ(f.find("output.weight"), nullptr);
  EXPECT_EQ(f.find("token_embd.weight")->dtype, DType::kQ8_0);
  EXPECT_EQ(f.find("blk.0.attn_q.weight")->dtype, DType::kQ4_1);
  EXPECT_EQ(f.find("blk.29.ffn_down.weight")->dtype, DType::kQ4_1);
  EXPECT_EQ(f.find("blk.29.ffn_down.weight")->ne, (std::array<int64_t, 4>{1536, 576, 1, 1}));
  EXPECT_EQ(f.find("output_norm.weight")->dtype, DType::kF32);
  EXPECT_EQ(f.vocab.model, "gpt2");
  EXPECT_EQ(f.vocab.pre, "smollm");
  EXPECT_EQ(f.vocab.tokens.size(), 49152u);
  EXPECT_EQ(f.vocab.merges.size(), 48900u);
  EXPECT_EQ(f.vocab.bos_id, 1);
  EXPECT_EQ(f.vocab.eos_id, 2);
  EXPECT_EQ(f.vocab.add_bos, false);
  EXPECT_EQ(f.vocab.tokens[1], "<|im_start|>");
  EXPECT_NE(f.chat_template.find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(f.metadata.at("llama.block_count"), "30");
}

TEST(GgufModel, RealModelTruncatedCopyIsCorrupt) {
  const std::string path = real_model_path_or_fail();
  auto map = MappedFile::open(path);
  ASSERT_TRUE(map.is_ok()) << map.status().to_string();
  TempDir dir;
  // Cut inside the tensor data: the directory parses, the last tensors run past the end.
  const std::string cut = dir.file("cut.gguf");
  {
    std::ofstream out(cut, std::ios::binary);
    out.write(reinterpret_cast<const char*>(map.value().data()),
              static_cast<std::streamsize>(map.value().size() - 1000));
  }
  const Status st = open_model(cut).status();
  EXPECT_EQ(st.code(), StatusCode::kCorrupt) << st.to_string();
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.to_string();
}

}  // namespace
}  // namespace memlong
