// Hugging Face encoder folders: a random 2-layer BERT (F16 / BF16 / F32 tensors, "bert." prefix)
// against a float64 numpy forward pass, and WordPiece ids against Hugging Face tokenizers on the
// real all-MiniLM-L6-v2 vocabulary (scripts/gen_retriever_fixtures.py tiny, wordpiece).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/retriever/encoder_embedder.h"
#include "core/retriever/wordpiece.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;
const std::string kDir = std::string(MEMLONG_TEST_DATA_DIR) + "/retriever";
const std::string kTiny = kDir + "/tiny_bert";

nlohmann::json load_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

class FolderCopy {
 public:
  FolderCopy() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("memlong_hf_bert_" + std::to_string(rd()));
    fs::copy(kTiny, path_, fs::copy_options::recursive);
  }
  ~FolderCopy() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

void expect_matches(Embedder& e, const nlohmann::json& cases, const char* key) {
  std::vector<std::string> texts;
  for (const auto& c : cases) texts.push_back(c["text"].get<std::string>());
  auto out = e.embed(texts, EmbedKind::kPassage);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  const int dim = e.info().dim;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto want = cases[i][key].get<std::vector<float>>();
    ASSERT_EQ(static_cast<int>(want.size()), dim);
    double max_err = 0;
    for (int d = 0; d < dim; ++d)
      max_err = std::max(max_err, std::fabs(double(out.value()[i * dim + d]) - want[d]));
    EXPECT_LT(max_err, 2e-4) << key << " pooling, text '" << texts[i] << "'";
  }
}

TEST(HfBert, TinyBertMatchesNumpy) {
  auto e = load_embedder(kTiny, 2);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->info().dim, 32);
  EXPECT_EQ(e.value()->info().pooling, "mean");
  EXPECT_EQ(e.value()->info().max_tokens, 40);
  EXPECT_EQ(e.value()->info().query_prefix, "");
  const auto cases = load_json(kTiny + "/expected.json")["cases"];
  auto* enc = dynamic_cast<EncoderEmbedder*>(e.value().get());
  ASSERT_NE(enc, nullptr);
  for (const auto& c : cases) {
    EXPECT_EQ(enc->token_ids(c["text"].get<std::string>(), EmbedKind::kPassage),
              c["ids"].get<std::vector<int32_t>>())
        << c["text"];
  }
  expect_matches(*e.value(), cases, "mean");
}

TEST(HfBert, ClsPoolingFromTheSentenceTransformersConfig) {
  FolderCopy dir;
  dir.write("1_Pooling/config.json",
            R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false})");
  auto e = load_embedder(dir.str(), 1);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->info().pooling, "cls");
  expect_matches(*e.value(), load_json(kTiny + "/expected.json")["cases"], "cls");
}

TEST(HfBert, PromptsAndWindowFromSentenceTransformersFiles) {
  FolderCopy dir;
  dir.write("config_sentence_transformers.json",
            R"({"prompts": {"query": "query: ", "passage": "passage: "}})");
  dir.write("sentence_bert_config.json", R"({"max_seq_length": 8})");
  auto e = load_hf_bert_embedder(dir.str(), 1);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->info().query_prefix, "query: ");
  EXPECT_EQ(e.value()->info().max_tokens, 8);
  EXPECT_EQ(e.value()->token_ids("a b c d e f g h i j", EmbedKind::kPassage).size(), 8u);
}

TEST(HfBert, BrokenFoldersAreErrorsNotCrashes) {
  {
    FolderCopy dir;
    dir.write("config.json", "{not json");
    EXPECT_EQ(load_embedder(dir.str(), 1).status().code(), StatusCode::kCorrupt);
  }
  {
    FolderCopy dir;
    dir.write("config.json", R"({"model_type": "gpt2"})");
    EXPECT_EQ(load_embedder(dir.str(), 1).status().code(), StatusCode::kUnsupported);
  }
  {
    FolderCopy dir;
    auto cfg = load_json(kTiny + "/config.json");
    cfg["hidden_act"] = "relu";
    dir.write("config.json", cfg.dump());
    EXPECT_EQ(load_embedder(dir.str(), 1).status().code(), StatusCode::kUnsupported);
    cfg["hidden_act"] = "gelu";
    cfg["hidden_size"] = 64;
    dir.write("config.json", cfg.dump());
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("shape"), std::string::npos) << r.status().to_string();
  }
  {
    FolderCopy dir;
    dir.write("modules.json", R"([{"type": 5, "path": 7}])");
    EXPECT_EQ(load_embedder(dir.str(), 1).status().code(), StatusCode::kCorrupt);
  }
  {
    FolderCopy dir;
    fs::remove(fs::path(dir.str()) / "vocab.txt");
    EXPECT_EQ(load_embedder(dir.str(), 1).status().code(), StatusCode::kUnsupported);
  }
  {
    FolderCopy dir;  // a truncated safetensors file
    std::ifstream in(kTiny + "/model.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    dir.write("model.safetensors", bytes.substr(0, bytes.size() / 2));
    EXPECT_FALSE(load_embedder(dir.str(), 1).is_ok());
  }
}

TEST(WordPiece, MatchesHuggingFaceOnTheMiniLmVocabulary) {
  auto wp = WordPieceTokenizer::from_file(kDir + "/minilm_vocab.txt", /*lowercase=*/true);
  ASSERT_TRUE(wp.is_ok()) << wp.status().to_string();
  EXPECT_EQ(wp.value()->n_vocab(), 30522);
  const auto lines = load_json(kDir + "/minilm_wordpiece.json")["lines"];
  ASSERT_GE(lines.size(), 300u);
  int mismatches = 0;
  for (const auto& l : lines) {
    const std::string text = l["text"].get<std::string>();
    if (wp.value()->encode(text) != l["ids"].get<std::vector<int32_t>>() && ++mismatches <= 5)
      ADD_FAILURE() << "WordPiece ids differ from tokenizers for '" << text << "'";
  }
  EXPECT_EQ(mismatches, 0) << "of " << lines.size() << " lines";
}

TEST(WordPiece, RejectsVocabulariesWithoutUnk) {
  EXPECT_EQ(WordPieceTokenizer::from_text("a\nb\n", true, "v").status().code(),
            StatusCode::kCorrupt);
  EXPECT_EQ(WordPieceTokenizer::from_text("", true, "v").status().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace memlong
