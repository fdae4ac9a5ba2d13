// Hugging Face XLM-RoBERTa folders (hf_bert.cpp's SentencePiece path): a tiny random XLM-R with
// a unigram SentencePiece model trained on repository text, loaded through load_embedder and
// checked against scripts/gen_xlmr_fixture.py's reference: ids from the python sentencepiece
// package plus the fairseq shift, embeddings from a float64 numpy XLMRobertaModel forward pass
// (padded batch, position ids from padding_idx + 1, mean or CLS pooling).
// Bounds: ids equal; per text cosine >= 0.9999 and max |diff| < 2e-4 (measured on x86-64:
// 2.2e-7 mean, 3.5e-7 CLS, printed by the tests); batched and one-at-a-time results within 1e-6
// (measured: identical).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/retriever/encoder_embedder.h"
#include "tests/test_support.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
const std::string kXlmr = std::string(MEMLONG_TEST_DATA_DIR) + "/retriever/tiny_xlmr";

json load_json(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const json& cases() {
  static const json c = load_json(kXlmr + "/reference.json")["cases"];
  return c;
}

std::vector<std::string> texts_of(const json& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c["text"].get<std::string>());
  return out;
}

std::unique_ptr<EncoderEmbedder> load_ok(const std::string& dir, int n_threads) {
  auto e = load_embedder(dir, n_threads);
  EXPECT_TRUE(e.is_ok()) << e.status().to_string();
  if (!e.is_ok()) return nullptr;
  auto* enc = dynamic_cast<EncoderEmbedder*>(e.value().get());
  EXPECT_NE(enc, nullptr) << "an XLM-R folder must load as an EncoderEmbedder";
  if (enc == nullptr) return nullptr;
  e.value().release();
  return std::unique_ptr<EncoderEmbedder>(enc);
}

// A writable copy of the fixture folder.
class XlmrCopy {
 public:
  XlmrCopy() { fs::copy(kXlmr, dir_.path() / "m", fs::copy_options::recursive); }
  std::string str() const { return (dir_.path() / "m").string(); }
  fs::path path(const std::string& name) const { return dir_.path() / "m" / name; }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary | std::ios::trunc) << bytes;
  }
  void edit_config(const std::function<void(json&)>& f) const {
    json cfg = load_json(path("config.json").string());
    f(cfg);
    write("config.json", cfg.dump());
  }
  // Rewrites the safetensors header (the data section is kept; offsets are relative to it),
  // padded with spaces to a multiple of 8 bytes as the safetensors writer does unless `pad` is off.
  void edit_safetensors_header(const std::function<void(json&)>& f, bool pad = true) const {
    const std::string bytes = read_bytes(path("model.safetensors"));
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
    json header = json::parse(bytes.substr(8, n));
    f(header);
    std::string h = header.dump();
    while (pad && h.size() % 8 != 0) h += ' ';
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((h.size() >> (8 * i)) & 0xFF);
    write("model.safetensors", out + h + bytes.substr(8 + n));
  }

 private:
  test::TempDir dir_;
};

struct Comparison {
  double min_cos = 1.0;
  double max_abs = 0.0;
};

// Compares rows of `got` ([n, dim]) with the reference vectors cases[i][key].
Comparison compare(const std::vector<float>& got, const json& cs, const char* key, int dim) {
  Comparison r;
  EXPECT_EQ(got.size(), cs.size() * static_cast<size_t>(dim));
  for (size_t i = 0; i < cs.size(); ++i) {
    const auto want = cs[i][key].get<std::vector<double>>();
    EXPECT_EQ(static_cast<int>(want.size()), dim);
    if (static_cast<int>(want.size()) != dim) continue;
    double dot = 0, gn = 0, wn = 0, max_abs = 0;
    for (int d = 0; d < dim; ++d) {
      const double g = got[i * dim + d];
      dot += g * want[d];
      gn += g * g;
      wn += want[d] * want[d];
      max_abs = std::max(max_abs, std::fabs(g - want[d]));
    }
    const double cos = dot / std::sqrt(gn * wn);
    EXPECT_GE(cos, 0.9999) << key << ", text '" << cs[i]["text"].get<std::string>() << "'";
    EXPECT_LT(max_abs, 2e-4) << key << ", text '" << cs[i]["text"].get<std::string>() << "'";
    r.min_cos = std::min(r.min_cos, cos);
    r.max_abs = std::max(r.max_abs, max_abs);
  }
  std::printf("[ xlmr     ] %s: %zu texts, min cosine %.9f, max |diff| %.3g\n", key, cs.size(),
              r.min_cos, r.max_abs);
  return r;
}

TEST(HfXlmr, FolderLoadsAsXlmRoberta) {
  auto e = load_ok(kXlmr, 2);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->info().dim, 32);
  EXPECT_EQ(e->info().pooling, "mean");
  // 130 positions, the first two (padding_idx 1 and the one before it) never used by tokens.
  EXPECT_EQ(e->info().max_tokens, 128);
  EXPECT_EQ(load_json(kXlmr + "/reference.json")["max_tokens"].get<int>(), 128);
  EXPECT_EQ(e->info().query_prefix, "");
  EXPECT_EQ(e->info().passage_prefix, "");
}

TEST(HfXlmr, IdsEqualSentencePiecePlusTheFairseqShift) {
  auto e = load_ok(kXlmr, 1);
  ASSERT_NE(e, nullptr);
  ASSERT_GE(cases().size(), 40u);
  int n_truncated = 0, n_unk = 0, mismatches = 0;
  for (const auto& c : cases()) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    if (e->token_ids(text, EmbedKind::kPassage) != want && ++mismatches <= 5)
      ADD_FAILURE() << "passage ids differ for '" << text << "'";
    if (c.contains("content")) {  // longer than the window: the start for passages, end for queries
      ++n_truncated;
      EXPECT_EQ(e->tokenizer().encode(text), c["content"].get<std::vector<int32_t>>()) << text;
      EXPECT_EQ(e->token_ids(text, EmbedKind::kQuery), c["query_ids"].get<std::vector<int32_t>>())
          << text;
      EXPECT_EQ(want.size(), 128u);
    } else {
      EXPECT_EQ(e->token_ids(text, EmbedKind::kQuery), want) << text;
    }
    n_unk += std::count(want.begin(), want.end(), 3) > 0;
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases().size() << " texts";
  // The reference exercises what it claims to: truncation and pieces outside the vocabulary.
  EXPECT_GE(n_truncated, 3);
  EXPECT_GE(n_unk, 5);
}

TEST(HfXlmr, MeanPooledEmbeddingsMatchNumpy) {
  auto e = load_ok(kXlmr, 2);
  ASSERT_NE(e, nullptr);
  const auto texts = texts_of(cases());
  auto out = e->embed(texts, EmbedKind::kPassage);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  compare(out.value(), cases(), "mean", e->info().dim);

  json long_cases = json::array();  // queries keep the end of texts longer than the window
  for (const auto& c : cases())
    if (c.contains("query_mean")) long_cases.push_back(c);
  ASSERT_GE(long_cases.size(), 3u);
  auto q = e->embed(texts_of(long_cases), EmbedKind::kQuery);
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  compare(q.value(), long_cases, "query_mean", e->info().dim);
}

TEST(HfXlmr, ClsPoolingFromTheSentenceTransformersConfig) {
  XlmrCopy dir;
  dir.write("1_Pooling/config.json",
            R"({"word_embedding_dimension": 32, "pooling_mode_cls_token": true,
                "pooling_mode_mean_tokens": false})");
  auto e = load_ok(dir.str(), 2);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->info().pooling, "cls");
  auto out = e->embed(texts_of(cases()), EmbedKind::kPassage);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  compare(out.value(), cases(), "cls", e->info().dim);
}

TEST(HfXlmr, RobertaPrefixedCheckpointLoadsTheSameWeights) {
  // XLMRobertaForMaskedLM checkpoints (xlm-roberta-base) name the encoder "roberta.*".
  XlmrCopy dir;
  dir.edit_safetensors_header([](json& h) {
    json renamed = json::object();
    for (auto& [name, t] : h.items())
      renamed[name == "__metadata__" ? name : "roberta." + name] = t;
    h = renamed;
  });
  auto e = load_ok(dir.str(), 2);
  ASSERT_NE(e, nullptr);
  auto out = e->embed(texts_of(cases()), EmbedKind::kPassage);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  compare(out.value(), cases(), "mean", e->info().dim);
}

TEST(HfXlmr, BatchedEqualsOneAtATime) {
  // The batch on two threads, each text alone on one thread (one thread keeps the 42 small calls
  // fast on a busy machine; the row split across threads must not change results either).
  auto batched = load_ok(kXlmr, 2);
  auto single = load_ok(kXlmr, 1);
  ASSERT_NE(batched, nullptr);
  ASSERT_NE(single, nullptr);
  const auto texts = texts_of(cases());
  auto all = batched->embed(texts, EmbedKind::kPassage);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  const size_t dim = static_cast<size_t>(batched->info().dim);
  double max_abs = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto one = single->embed(std::span<const std::string>(&texts[i], 1), EmbedKind::kPassage);
    ASSERT_TRUE(one.is_ok()) << one.status().to_string();
    for (size_t d = 0; d < dim; ++d)
      max_abs = std::max(max_abs, std::fabs(double(one.value()[d]) - all.value()[i * dim + d]));
  }
  std::printf("[ xlmr     ] batched vs one at a time: max |diff| %.3g\n", max_abs);
  EXPECT_LE(max_abs, 1e-6);
}

TEST(HfXlmr, HostileFoldersGiveClearErrors) {
  {
    XlmrCopy dir;
    fs::remove(dir.path("sentencepiece.bpe.model"));
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(r.status().message().find("sentencepiece.bpe.model"), std::string::npos)
        << r.status().to_string();
  }
  {
    XlmrCopy dir;
    dir.write("sentencepiece.bpe.model", "this is not a protobuf");
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << r.status().to_string();
    EXPECT_NE(r.status().message().find("sentencepiece.bpe.model"), std::string::npos)
        << r.status().to_string();
  }
  {
    XlmrCopy dir;  // a decoder model's config
    dir.edit_config([](json& c) {
      c["model_type"] = "gpt2";
      c["architectures"] = {"GPT2LMHeadModel"};
    });
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(r.status().message().find("gpt2"), std::string::npos) << r.status().to_string();
  }
  {
    XlmrCopy dir;  // a BERT config beside a SentencePiece model: never read as XLM-R ids
    dir.edit_config([](json& c) {
      c["model_type"] = "bert";
      c["architectures"] = {"BertModel"};
    });
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported) << r.status().to_string();
    EXPECT_NE(r.status().message().find("vocab.txt"), std::string::npos) << r.status().to_string();
  }
  {
    XlmrCopy dir;  // relative position embeddings would be silently wrong
    dir.edit_config([](json& c) { c["position_embedding_type"] = "relative_key"; });
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(r.status().message().find("relative_key"), std::string::npos)
        << r.status().to_string();
  }
  {
    XlmrCopy dir;  // positions past the table
    dir.edit_config([](json& c) { c["pad_token_id"] = 200; });
    EXPECT_EQ(load_embedder(dir.str(), 1).status().code(), StatusCode::kCorrupt);
  }
  {
    XlmrCopy dir;  // same bytes, transposed shape: [64, 32] stored as [32, 64]
    dir.edit_safetensors_header([](json& h) {
      h["encoder.layer.1.intermediate.dense.weight"]["shape"] = {32, 64};
    });
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("encoder.layer.1.intermediate.dense.weight"),
              std::string::npos)
        << r.status().to_string();
    EXPECT_NE(r.status().message().find("shape"), std::string::npos) << r.status().to_string();
  }
  {
    XlmrCopy dir;  // a position table of another width
    dir.edit_safetensors_header([](json& h) {
      h["embeddings.position_embeddings.weight"]["shape"] = {65, 64};
    });
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("position_embeddings"), std::string::npos)
        << r.status().to_string();
  }
  {
    XlmrCopy dir;  // a header of odd length: every tensor misaligned
    dir.edit_safetensors_header(
        [](json& h) {
          h["__metadata__"] = {{"format", "pt"}};
          if (h.dump().size() % 2 == 0) h["__metadata__"]["x"] = "yy";  // 9 more bytes
        },
        /*pad=*/false);
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("aligned"), std::string::npos) << r.status().to_string();
  }
  {
    XlmrCopy dir;  // a missing tensor
    dir.edit_safetensors_header([](json& h) {
      h["encoder.layer.0.output.LayerNorm.gamma"] = h["encoder.layer.0.output.LayerNorm.weight"];
      h.erase("encoder.layer.0.output.LayerNorm.weight");
    });
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("encoder.layer.0.output.LayerNorm.weight"),
              std::string::npos)
        << r.status().to_string();
  }
  {
    XlmrCopy dir;  // fewer embeddings than SentencePiece pieces + the fairseq shift
    dir.edit_safetensors_header([](json& h) {
      json& t = h["embeddings.word_embeddings.weight"];
      t["shape"] = {300, 32};
      t["data_offsets"][1] = t["data_offsets"][0].get<int64_t>() + 300 * 32 * 2;
    });
    auto r = load_embedder(dir.str(), 1);
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(r.status().message().find("more pieces"), std::string::npos)
        << r.status().to_string();
  }
}

}  // namespace
}  // namespace memlong
