// open_hf_model on the tiny fixtures of scripts/gen_tiny_llama.py (F32 single file; F16 + BF16
// shards with an index and tied embeddings), and on broken copies of them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/common/half.h"
#include "core/model/model_file.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;

const std::string kTiny = std::string(MEMLONG_TEST_DATA_DIR) + "/model/tiny_llama";
const std::string kSharded = std::string(MEMLONG_TEST_DATA_DIR) + "/model/tiny_llama_sharded";

// A temporary copy of a fixture folder, removed afterwards.
class FolderCopy {
 public:
  explicit FolderCopy(const std::string& from) {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("memlong_hf_test_" + std::to_string(rd()));
    fs::create_directories(path_);
    for (const auto& e : fs::directory_iterator(from))
      fs::copy(e.path(), path_ / e.path().filename());
  }
  ~FolderCopy() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string read(const std::string& name) const {
    std::ifstream in(file(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
    out << text;
  }
  // Replaces the first occurrence of `from` in a file.
  void patch(const std::string& name, const std::string& from, const std::string& to) const {
    std::string s = read(name);
    const size_t at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    write(name, s);
  }

 private:
  fs::path path_;
};

TEST(HfModel, TinyF32Folder) {
  auto m = open_model(kTiny);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  const ModelFile& f = *m.value();
  EXPECT_EQ(f.format, "safetensors");
  EXPECT_EQ(f.config.architecture, "llama");
  EXPECT_EQ(f.config.n_layer, 2);
  EXPECT_EQ(f.config.n_embd, 32);
  EXPECT_EQ(f.config.n_ff, 96);
  EXPECT_EQ(f.config.n_head, 4);
  EXPECT_EQ(f.config.n_head_kv, 2);
  EXPECT_EQ(f.config.head_dim, 8);
  EXPECT_EQ(f.config.n_vocab, 288);
  EXPECT_EQ(f.config.n_ctx_train, 256);
  EXPECT_FLOAT_EQ(f.config.rms_eps, 1e-5f);
  EXPECT_FLOAT_EQ(f.config.rope_theta, 10000.0f);
  EXPECT_EQ(f.config.rope_layout, RopeLayout::kHalf);  // HF weights are not permuted
  EXPECT_FALSE(f.config.tied_embeddings);
  // 2 globals + lm_head + 9 per layer
  EXPECT_EQ(f.tensors.size(), 3u + 2u * 9u);
  const TensorView* q = f.find("blk.1.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dtype, DType::kF32);
  EXPECT_EQ(q->ne, (std::array<int64_t, 4>{32, 32, 1, 1}));
  const TensorView* k = f.find("blk.0.attn_k.weight");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->ne, (std::array<int64_t, 4>{32, 16, 1, 1}));  // [out 16, in 32] -> ne {32, 16}
  EXPECT_EQ(f.find("blk.0.ffn_down.weight")->ne, (std::array<int64_t, 4>{96, 32, 1, 1}));
  EXPECT_NE(f.find("output.weight"), nullptr);
  EXPECT_NE(f.find("output_norm.weight"), nullptr);
  EXPECT_TRUE(f.tokenizer_model_path.empty());
  EXPECT_EQ(f.vocab.tokens.size(), 288u);
  EXPECT_NE(f.chat_template.find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(f.vocab.eos_id, 2);  // "<|im_end|>" from tokenizer_config.json
  EXPECT_EQ(f.metadata.at("model_type"), "llama");
}

TEST(HfModel, ShardedHalfPrecisionFolderWithTiedEmbeddings) {
  auto m = open_model(kSharded);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  const ModelFile& f = *m.value();
  EXPECT_EQ(f.config.n_embd, 64);
  EXPECT_EQ(f.config.n_ff, 128);
  EXPECT_EQ(f.config.head_dim, 16);
  EXPECT_TRUE(f.config.tied_embeddings);
  EXPECT_EQ(f.find("output.weight"), nullptr);
  EXPECT_EQ(f.maps.size(), 2u);
  EXPECT_EQ(f.find("token_embd.weight")->dtype, DType::kF16);  // first shard
  EXPECT_EQ(f.find("blk.0.attn_q.weight")->dtype, DType::kF16);
  EXPECT_EQ(f.find("blk.1.ffn_down.weight")->dtype, DType::kBF16);  // second shard
  // Norms are converted to F32 and owned by the ModelFile.
  const TensorView* norm = f.find("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->dtype, DType::kF32);
  EXPECT_EQ(norm->n_bytes, 64u * 4u);
  EXPECT_FALSE(f.owned.empty());
  float v;
  std::memcpy(&v, norm->data, 4);
  EXPECT_GT(v, 0.5f);  // generated as 1 + 0.1 * N(0, 1)
  EXPECT_LT(v, 1.5f);
}

TEST(HfModel, TokenizerFromTokenizerJsonMatchesHfTokenizers) {
  // expected_logits.json stores the ids the HF `tokenizers` library gave for the prompt.
  auto m = open_model(kTiny);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  auto tok = m.value()->make_tokenizer();
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  std::ifstream in(kTiny + "/expected_logits.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t a = text.find('['), b = text.find(']');
  ASSERT_NE(a, std::string::npos);
  std::vector<int32_t> want;
  std::stringstream ss(text.substr(a + 1, b - a - 1));
  for (std::string item; std::getline(ss, item, ',');) want.push_back(std::stoi(item));
  EXPECT_EQ(tok.value()->encode("hello memory, the quick brown fox", false, false), want);
  EXPECT_EQ(tok.value()->n_vocab(), 288);
}

TEST(HfModel, PickleOnlyFolderIsRefused) {
  FolderCopy dir(kTiny);
  fs::remove(dir.file("model.safetensors"));
  dir.write("pytorch_model.bin", std::string("\x80\x02}q\x00.", 6));
  const Status st = open_model(dir.str()).status();
  EXPECT_EQ(st.code(), StatusCode::kUnsupported);
  EXPECT_NE(st.message().find("pickled checkpoints are refused; convert to safetensors"),
            std::string::npos)
      << st.to_string();
}

TEST(HfModel, FolderWithoutWeightsOrTokenizer) {
  FolderCopy dir(kTiny);
  fs::remove(dir.file("tokenizer.json"));
  EXPECT_EQ(open_model(dir.str()).status().code(), StatusCode::kNotFound);
  fs::remove(dir.file("model.safetensors"));
  EXPECT_EQ(open_model(dir.str()).status().code(), StatusCode::kNotFound);
}

TEST(HfModel, BrokenConfigJson) {
  {
    FolderCopy dir(kTiny);
    dir.write("config.json", "{\"hidden_size\": 32,");
    const Status st = open_model(dir.str()).status();
    EXPECT_EQ(st.code(), StatusCode::kCorrupt);
    EXPECT_NE(st.message().find("config.json"), std::string::npos) << st.to_string();
  }
  {
    FolderCopy dir(kTiny);
    dir.patch("config.json", "\"hidden_size\": 32", "\"hidden_size\": \"32\"");
    const Status st = open_model(dir.str()).status();
    EXPECT_EQ(st.code(), StatusCode::kCorrupt);
    EXPECT_NE(st.message().find("hidden_size"), std::string::npos) << st.to_string();
  }
  {
    FolderCopy dir(kTiny);
    dir.patch("config.json", "LlamaForCausalLM", "MambaForCausalLM");
    EXPECT_EQ(open_model(dir.str()).status().code(), StatusCode::kUnsupported);
  }
  {
    FolderCopy dir(kTiny);
    dir.patch("config.json", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3");
    EXPECT_EQ(open_model(dir.str()).status().code(), StatusCode::kCorrupt);
  }
  {
    FolderCopy dir(kTiny);  // config disagrees with the tensors
    dir.patch("config.json", "\"intermediate_size\": 96", "\"intermediate_size\": 64");
    const Status st = open_model(dir.str()).status();
    EXPECT_EQ(st.code(), StatusCode::kCorrupt);
    EXPECT_NE(st.message().find("ffn_gate"), std::string::npos) << st.to_string();
  }
  {
    FolderCopy dir(kTiny);
    dir.write("config.json", "[]");
    EXPECT_EQ(open_model(dir.str()).status().code(), StatusCode::kCorrupt);
  }
}

TEST(HfModel, RopeScalingFromConfig) {
  FolderCopy dir(kTiny);
  dir.patch("config.json", "\"rope_theta\": 10000.0",
            "\"rope_theta\": 10000.0, \"rope_scaling\": {\"rope_type\": \"llama3\", "
            "\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
            "\"original_max_position_embeddings\": 64}");
  auto m = open_model(dir.str());
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m.value()->config.rope_scaling, RopeScaling::kLlama3);
  EXPECT_FLOAT_EQ(m.value()->config.rope_scale_factor, 8.0f);
  EXPECT_FLOAT_EQ(m.value()->config.rope_high_freq_factor, 4.0f);
  EXPECT_EQ(m.value()->config.rope_orig_ctx, 64);

  FolderCopy lin(kTiny);
  lin.patch("config.json", "\"rope_theta\": 10000.0",
            "\"rope_theta\": 10000.0, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}");
  auto ml = open_model(lin.str());
  ASSERT_TRUE(ml.is_ok()) << ml.status().to_string();
  EXPECT_EQ(ml.value()->config.rope_scaling, RopeScaling::kLinear);

  FolderCopy yarn(kTiny);
  yarn.patch("config.json", "\"rope_theta\": 10000.0",
             "\"rope_theta\": 10000.0, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 2}");
  EXPECT_EQ(open_model(yarn.str()).status().code(), StatusCode::kUnsupported);
}

TEST(HfModel, HostileShardIndex) {
  {
    FolderCopy dir(kSharded);
    dir.patch("model.safetensors.index.json", "\"model-00002-of-00002.safetensors\"",
              "\"../../etc/passwd\"");
    const Status st = open_model(dir.str()).status();
    EXPECT_EQ(st.code(), StatusCode::kCorrupt);
    EXPECT_NE(st.message().find("shard name"), std::string::npos) << st.to_string();
  }
  {
    FolderCopy dir(kSharded);  // a tensor listed in the wrong shard
    dir.patch("model.safetensors.index.json",
              "\"model.norm.weight\": \"model-00002-of-00002.safetensors\"",
              "\"model.norm.weight\": \"model-00001-of-00002.safetensors\"");
    const Status st = open_model(dir.str()).status();
    EXPECT_EQ(st.code(), StatusCode::kCorrupt);
    EXPECT_NE(st.message().find("model.norm.weight"), std::string::npos) << st.to_string();
  }
  {
    FolderCopy dir(kSharded);
    fs::remove(dir.file("model-00002-of-00002.safetensors"));
    EXPECT_EQ(open_model(dir.str()).status().code(), StatusCode::kNotFound);
  }
  {
    FolderCopy dir(kSharded);
    dir.write("model.safetensors.index.json", "{\"weight_map\": 5}");
    EXPECT_EQ(open_model(dir.str()).status().code(), StatusCode::kCorrupt);
  }
}

TEST(HfModel, TruncatedSafetensors) {
  FolderCopy dir(kTiny);
  std::string s = dir.read("model.safetensors");
  dir.write("model.safetensors", s.substr(0, s.size() - 7));
  const Status st = open_model(dir.str()).status();
  EXPECT_EQ(st.code(), StatusCode::kCorrupt);
  EXPECT_NE(st.message().find("model.safetensors"), std::string::npos) << st.to_string();
}

}  // namespace
}  // namespace memlong
