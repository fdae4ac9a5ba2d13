// Byte-level BPE against Hugging Face `tokenizers` (see scripts/gen_tokenizer_fixtures.py):
// the real SmolLM2 vocabulary from the default model's GGUF, and small trained tokenizer.json
// files for the gpt2, llama3 and qwen2 splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/common/paths.h"
#include "core/model/gguf_reader.h"
#include "core/model/model_file.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode.h"
#include "tests/core/tokenizer/fixtures.h"

namespace memlong {
namespace {

using testing::lines_fixture;
using testing::parse_ids;
using testing::printable;

// The SmolLM2 vocabulary as read from the default model's GGUF metadata.
Result<VocabData> smollm_vocab() {
  const std::string path = default_model_path();
  if (!std::filesystem::exists(path)) return not_found(missing_model_hint(path));
  MEMLONG_ASSIGN_OR_RETURN(auto f, GgufFile::open(path));
  VocabData v;
  v.model = f->get_string("tokenizer.ggml.model").value_or("");
  v.pre = f->get_string("tokenizer.ggml.pre").value_or("");
  if (const GgufValue* t = f->find("tokenizer.ggml.tokens")) v.tokens = t->strings;
  if (const GgufValue* m = f->find("tokenizer.ggml.merges")) v.merges = m->strings;
  if (const GgufValue* t = f->find("tokenizer.ggml.token_type")) {
    for (int64_t x : t->ints) v.token_types.push_back(static_cast<int32_t>(x));
  }
  v.bos_id = static_cast<int32_t>(f->get_int("tokenizer.ggml.bos_token_id").value_or(-1));
  v.eos_id = static_cast<int32_t>(f->get_int("tokenizer.ggml.eos_token_id").value_or(-1));
  v.unk_id = static_cast<int32_t>(f->get_int("tokenizer.ggml.unknown_token_id").value_or(-1));
  v.add_bos = f->get_bool("tokenizer.ggml.add_bos_token");
  return v;
}

const Tokenizer& smollm() {
  static std::unique_ptr<Tokenizer> tok = [] {
    auto v = smollm_vocab();
    if (!v.is_ok()) {
      ADD_FAILURE() << "default model needed (run scripts/setup): " << v.status().to_string();
      std::abort();
    }
    auto t = make_tokenizer(*v);
    if (!t.is_ok()) {
      ADD_FAILURE() << t.status().to_string();
      std::abort();
    }
    return std::move(t).value();
  }();
  return *tok;
}

TEST(BpeRealModel, DefaultModelPresent) {
  const std::string path = default_model_path();
  ASSERT_TRUE(std::filesystem::exists(path))
      << "the default model is missing; run scripts/setup. " << missing_model_hint(path);
}

TEST(BpeRealModel, MatchesHuggingFaceOnEveryLine) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  const auto& fx = lines_fixture();
  const auto& lines = fx["lines"];
  const auto& kinds = fx["kinds"];
  const auto& expected = fx["smollm"];
  ASSERT_EQ(lines.size(), expected.size());
  const Tokenizer& tok = smollm();
  EXPECT_EQ(tok.kind(), "bpe");
  EXPECT_EQ(tok.n_vocab(), 49152);
  size_t n_en = 0, n_ko = 0, n_fail = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = lines[i].get<std::string>();
    const std::vector<int32_t> want = parse_ids(expected[i].get<std::string>());
    // Hugging Face always splits added tokens out, so lines with special-token text parse them.
    const bool has_special = line.find("<|") != std::string::npos;
    const std::vector<int32_t> got = tok.encode(line, /*add_bos=*/false, has_special);
    if (got != want && n_fail++ < 10) {
      ADD_FAILURE() << "line " << i << " '" << printable(line) << "'\n  want "
                    << testing::ids_to_string(want) << "\n  got  " << testing::ids_to_string(got);
    }
    EXPECT_EQ(tok.decode(got, false), line) << "line " << i;
    n_en += kinds[i] == "en";
    n_ko += kinds[i] == "ko";
  }
  EXPECT_EQ(n_fail, 0u);
  EXPECT_GT(n_en, 1500u);
  EXPECT_GT(n_ko, 300u);
  std::printf("[ checked ] %zu lines (%zu English, %zu Korean)\n", lines.size(), n_en, n_ko);
}

TEST(BpeRealModel, SpecialTokens) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  const Tokenizer& tok = smollm();
  for (const auto& c : lines_fixture()["smollm_special"]) {
    const std::string text = c["text"].get<std::string>();
    std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(text, false, true), want) << printable(text);
  }
  EXPECT_EQ(tok.piece_to_id("<|im_start|>"), 1);
  EXPECT_EQ(tok.piece_to_id("<|im_end|>"), 2);
  EXPECT_EQ(tok.piece_to_id("no such piece"), -1);
  // Without parse_special the text of a special token is plain text.
  auto plain = tok.encode("<|im_end|>", false, false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(tok.decode(plain, false), "<|im_end|>");
  EXPECT_TRUE(tok.is_special(2));
  EXPECT_FALSE(tok.is_special(plain[0]));
  EXPECT_TRUE(tok.is_end_of_generation(2));  // <|im_end|> (EOS)
  EXPECT_TRUE(tok.is_end_of_generation(0));  // <|endoftext|>
  EXPECT_FALSE(tok.is_end_of_generation(1));
  EXPECT_EQ(tok.token_to_bytes(1, false), "<|im_start|>");
  EXPECT_EQ(tok.token_to_bytes(1, true), "");
  std::vector<int32_t> ids = {1, tok.encode("user", false, false)[0], 2};
  EXPECT_EQ(tok.decode(ids, true), "user");
  EXPECT_EQ(tok.decode(ids, false), "<|im_start|>user<|im_end|>");
}

TEST(BpeRealModel, BosRule) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  const Tokenizer& tok = smollm();
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  // SmolLM2 states add_bos_token = false: no BOS even when the caller allows one.
  EXPECT_EQ(tok.encode("Hi", true, false), tok.encode("Hi", false, false));
}

TEST(BpeRealModel, InvalidUtf8DecodesToReplacement) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  const Tokenizer& tok = smollm();
  // "한" is three bytes; byte tokens alone leave incomplete sequences.
  auto ids = tok.encode("한", false, false);
  std::string bytes;
  for (int32_t id : ids) bytes += tok.token_to_bytes(id, false);
  EXPECT_EQ(bytes, "한");
  // Single-byte tokens: 0xED alone, then 'a'.
  std::vector<int32_t> bad = {tok.piece_to_id(bytes_to_byte_level("\xED")),
                              tok.encode("a", false, false)[0]};
  ASSERT_GE(bad[0], 0);
  EXPECT_EQ(tok.decode(bad, false),
            "\xEF\xBF\xBD"
            "a");
  // Raw invalid input survives a round trip through the byte alphabet.
  const std::string raw = "ok \xC3( \x80\x80 end \xE2\x82";
  auto raw_ids = tok.encode(raw, false, false);
  std::string back;
  for (int32_t id : raw_ids) back += tok.token_to_bytes(id, false);
  EXPECT_EQ(back, raw);
  EXPECT_EQ(tok.decode(raw_ids, false),
            "ok \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD");
}

// A whole novel round-trips losslessly (its speed is printed; speed targets live in bench/).
TEST(BpeRealModel, EncodesANovelLosslessly) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  const std::string path = std::string(MEMLONG_SOURCE_DIR) + "/../shared/data/books/emma.txt";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path << " is missing: the books of shared/ sit beside the checkout";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Tokenizer& tok = smollm();
  auto t0 = std::chrono::steady_clock::now();
  auto ids = tok.encode(text, false, false);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ speed   ] %zu bytes -> %zu tokens in %.3f s (%.1f MB/s)\n", text.size(),
              ids.size(), s, text.size() / s / 1e6);
  EXPECT_GT(ids.size(), text.size() / 8);
  EXPECT_EQ(tok.decode(ids, false), text);
}

// The model reader's VocabData and chat template, end to end with this tokenizer.
TEST(TokenizerRealModel, ModelFileVocabAndChatTemplate) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  auto model = open_model(default_model_path());
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  auto tok = (*model)->make_tokenizer();
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  const auto& fx = lines_fixture();
  for (size_t i = 0; i < fx["lines"].size(); i += 7) {
    const std::string line = fx["lines"][i].get<std::string>();
    const bool has_special = line.find("<|") != std::string::npos;
    EXPECT_EQ((*tok)->encode(line, false, has_special),
              parse_ids(fx["smollm"][i].get<std::string>()))
        << "line " << i;
  }
  ChatTemplate t =
      detect_chat_template((*model)->chat_template, (*model)->config.architecture, tok->get());
  EXPECT_EQ(t.family, ChatFamily::kChatML);
  EXPECT_EQ(t.default_system,
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  std::vector<ChatMessage> msgs = {{"user", "Hi"}};
  const std::string prompt = apply_chat_template(t, msgs, true);
  auto ids = (*tok)->encode(prompt, true, true);
  EXPECT_EQ(ids.front(), 1);  // <|im_start|>, from the template text (no extra BOS)
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 2);  // two <|im_end|>
  EXPECT_EQ((*tok)->decode(ids, false), prompt);
}

// Small byte-level BPE tokenizers trained by the generator, loaded from tokenizer.json.
class BpeTokenizerJson : public ::testing::TestWithParam<const char*> {};

TEST_P(BpeTokenizerJson, MatchesHuggingFace) {
  const std::string kind = GetParam();
  auto vocab =
      vocab_from_tokenizer_json(testing::tokenizer_data("bpe_" + kind + ".tokenizer.json"));
  ASSERT_TRUE(vocab.is_ok()) << vocab.status().to_string();
  EXPECT_EQ(vocab->pre, kind);
  auto tok = make_tokenizer(*vocab);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  const auto& fx = lines_fixture();
  const auto& lines = fx["lines"];
  const auto& expected = fx["bpe_" + kind];
  const size_t stride = kind == "gpt2" ? 1 : fx["subset_stride"].get<size_t>();
  ASSERT_EQ(expected.size(), (lines.size() + stride - 1) / stride);
  size_t n_fail = 0;
  for (size_t k = 0; k < expected.size(); ++k) {
    const std::string line = lines[k * stride].get<std::string>();
    const bool has_special = line.find("<|") != std::string::npos;
    auto got = (*tok)->encode(line, false, has_special);
    auto want = parse_ids(expected[k].get<std::string>());
    if (got != want && n_fail++ < 10) {
      ADD_FAILURE() << kind << " line " << k * stride << " '" << printable(line) << "'\n  want "
                    << testing::ids_to_string(want) << "\n  got  " << testing::ids_to_string(got);
    }
    EXPECT_EQ((*tok)->decode(got, false), line);
  }
  EXPECT_EQ(n_fail, 0u);
}

INSTANTIATE_TEST_SUITE_P(Kinds, BpeTokenizerJson, ::testing::Values("gpt2", "llama3", "qwen2"));

TEST(BpeTokenizerJson, Errors) {
  EXPECT_EQ(vocab_from_tokenizer_json("/nonexistent/tokenizer.json").status().code(),
            StatusCode::kNotFound);
  const std::string bad = ::testing::TempDir() + "/bad_tokenizer.json";
  std::ofstream(bad) << "{ not json";
  EXPECT_EQ(vocab_from_tokenizer_json(bad).status().code(), StatusCode::kCorrupt);
  std::ofstream(bad) << R"({"model": {"type": "WordPiece", "vocab": {}}})";
  EXPECT_EQ(vocab_from_tokenizer_json(bad).status().code(), StatusCode::kUnsupported);
}

TEST(BpeVocab, RejectsBadData) {
  VocabData v;
  v.model = "gpt2";
  EXPECT_EQ(make_tokenizer(v).status().code(), StatusCode::kCorrupt);
  v.tokens = {"a", "b"};
  v.pre = "no-such-pre";
  EXPECT_EQ(make_tokenizer(v).status().code(), StatusCode::kUnsupported);
  v.pre = "gpt2";
  v.token_types = {1};
  EXPECT_EQ(make_tokenizer(v).status().code(), StatusCode::kCorrupt);
  v.token_types = {};
  v.bos_id = 7;
  EXPECT_EQ(make_tokenizer(v).status().code(), StatusCode::kCorrupt);
  v.model = "bert";
  EXPECT_EQ(make_tokenizer(v).status().code(), StatusCode::kUnsupported);
}

// Hand-checked splits of the regexes themselves.
std::vector<std::string> split(PreTokenizer kind, const std::string& text) {
  auto cpts = utf8_to_cpts(text);
  std::vector<CptRange> ranges;
  pre_tokenize(kind, cpts, 0, static_cast<uint32_t>(cpts.size()), ranges);
  std::vector<std::string> out;
  for (auto [b, e] : ranges) {
    std::string s;
    for (uint32_t i = b; i < e; ++i) append_utf8(s, cpts[i]);
    out.push_back(s);
  }
  return out;
}

TEST(BpePreTokenizer, Splits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split(PreTokenizer::kGpt2, "Hello  world's 123!!\n"),
            (V{"Hello", " ", " world", "'s", " 123", "!!", "\n"}));
  EXPECT_EQ(split(PreTokenizer::kSmolLM, "year 2024."), (V{"year", " ", "2", "0", "2", "4", "."}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "IT'S 12345 x\n\n  y"),
            (V{"IT", "'S", " ", "123", "45", " x", "\n\n", " ", " y"}));
  EXPECT_EQ(split(PreTokenizer::kQwen2, "a12"), (V{"a", "1", "2"}));
  EXPECT_EQ(split(PreTokenizer::kGpt2, "안녕 세상"), (V{"안녕", " 세상"}));
}

}  // namespace
}  // namespace memlong
