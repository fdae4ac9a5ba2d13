// Generation on the real default model (short inputs): determinism, streaming, stop rules,
// cancellation, KV-cache consistency and chat prefix reuse. Also the UTF-8 stream splitter.
#include "core/generate/generator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/common/paths.h"
#include "core/engine/engine.h"
#include "core/generate/chat_session.h"

namespace memlong {
namespace {

TEST(Utf8Prefix, HoldsBackIncompleteSequences) {
  EXPECT_EQ(complete_utf8_prefix("abc"), 3u);
  EXPECT_EQ(complete_utf8_prefix(""), 0u);
  EXPECT_EQ(complete_utf8_prefix("a\xe2\x82\xac"), 4u);
  EXPECT_EQ(complete_utf8_prefix("a\xe2\x82"), 1u);
  EXPECT_EQ(complete_utf8_prefix("a\xe2"), 1u);
  EXPECT_EQ(complete_utf8_prefix("\xed\x95\x9c\xed\x95"), 3u);  // 한 + two bytes of 한
  const std::string emoji = "\xf0\x9f\x98\x80";
  EXPECT_EQ(complete_utf8_prefix(emoji.substr(0, 3)), 0u);
  EXPECT_EQ(complete_utf8_prefix(emoji), 4u);
  EXPECT_EQ(complete_utf8_prefix("\xff"), 1u);  // invalid byte never blocks the stream
}

class RealModelGenerate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = default_model_path();
    if (!std::filesystem::exists(path)) return;
    EngineOptions o;
    o.n_threads = 2;
    auto e = Engine::load(o);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(engine_, nullptr) << missing_model_hint(default_model_path()); }
  std::unique_ptr<InferenceContext> context(int32_t n_ctx = 512) {
    auto c = engine_->new_context(n_ctx);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return std::move(c).value();
  }
  std::vector<int32_t> encode(const std::string& s) {
    return engine_->tokenizer().encode(s, true, false);
  }
  static Engine* engine_;
};
Engine* RealModelGenerate::engine_ = nullptr;

TEST_F(RealModelGenerate, GreedyIsDeterministicAndStreamsTheWholeText) {
  GenerateOptions o;
  o.max_tokens = 24;
  std::string streamed;
  auto ctx = context();
  auto a = generate(
      *ctx, engine_->tokenizer(), encode("The history of the printing press"), o,
      [&](std::string_view p) {
        streamed += p;
        return true;
      },
      {}, nullptr);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(streamed, a->text);
  EXPECT_EQ(a->tokens.size(), 24u);
  EXPECT_EQ(a->stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(engine_->tokenizer().decode(a->tokens, false), a->text);
  auto ctx2 = context();
  auto b = generate(*ctx2, engine_->tokenizer(), encode("The history of the printing press"), o,
                    nullptr, {}, nullptr);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(a->tokens, b->tokens);
}

TEST_F(RealModelGenerate, SeededSamplingIsReproducibleAndSeedsDiffer) {
  GenerateOptions o;
  o.max_tokens = 16;
  o.sampling.temperature = 1.0f;
  o.sampling.top_k = 0;
  o.sampling.top_p = 1.0f;
  o.sampling.min_p = 0.0f;
  std::vector<std::vector<int32_t>> runs;
  for (uint64_t seed : {1, 1, 2}) {
    o.sampling.seed = seed;
    auto ctx = context();
    auto r =
        generate(*ctx, engine_->tokenizer(), encode("Once upon a time"), o, nullptr, {}, nullptr);
    ASSERT_TRUE(r.is_ok());
    runs.push_back(r->tokens);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0], runs[2]);
}

TEST_F(RealModelGenerate, StopStringEndsTextBeforeIt) {
  GenerateOptions o;
  o.max_tokens = 40;
  o.stop_strings = {" 7"};
  auto ctx = context();
  auto r = generate(*ctx, engine_->tokenizer(), encode("Counting: 1, 2, 3, 4,"), o, nullptr, {},
                    nullptr);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->stop_reason, StopReason::kStopString) << r->text;
  EXPECT_EQ(r->text.find(" 7"), std::string::npos);
  EXPECT_NE(r->text.find("6"), std::string::npos) << r->text;
}

TEST_F(RealModelGenerate, CancelFromCallbackStopsPromptly) {
  CancelSource cancel;
  GenerateOptions o;
  o.max_tokens = 100;
  int pieces = 0;
  auto ctx = context();
  auto r = generate(
      *ctx, engine_->tokenizer(), encode("Once upon a time, in a land far away,"), o,
      [&](std::string_view) {
        if (++pieces == 1) cancel.cancel();
        return true;
      },
      cancel.token(), nullptr);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->stop_reason, StopReason::kCancelled);
  EXPECT_LE(r->tokens.size(), 3u);
  EXPECT_GE(r->tokens.size(), 1u);
}

TEST_F(RealModelGenerate, PromptTooLongIsAnErrorNotACrash) {
  auto ctx = context(16);
  std::vector<int32_t> prompt(40, 100);
  auto r = generate(*ctx, engine_->tokenizer(), prompt, {}, nullptr, {}, nullptr);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  std::vector<int32_t> bad = {1, 999999};
  auto e = ctx->eval(bad, false);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

// The KV cache must make token-by-token evaluation equal one batched pass, and truncate() must
// let a context re-run a suffix as if it had never seen it.
TEST_F(RealModelGenerate, IncrementalEvalMatchesBatchAndTruncateRewinds) {
  const std::vector<int32_t> ids = encode("Emma Woodhouse, handsome, clever, and rich");
  const int32_t V = engine_->model().config().n_vocab;
  auto batch_ctx = context();
  auto all = batch_ctx->eval(ids, true);
  ASSERT_TRUE(all.is_ok());
  auto inc_ctx = context();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto l = inc_ctx->eval(std::span<const int32_t>(&ids[i], 1), false);
    ASSERT_TRUE(l.is_ok());
    float max_diff = 0;
    for (int32_t v = 0; v < V; ++v) {
      max_diff = std::max(max_diff, std::fabs((*l)[v] - (*all)[i * V + v]));
    }
    EXPECT_LT(max_diff, 2e-3f) << "position " << i;
  }
  const size_t half = ids.size() / 2;
  inc_ctx->truncate(static_cast<int32_t>(half));
  auto again = inc_ctx->eval(std::span<const int32_t>(ids).subspan(half), false);
  ASSERT_TRUE(again.is_ok());
  float max_diff = 0;
  for (int32_t v = 0; v < V; ++v) {
    max_diff = std::max(max_diff, std::fabs((*again)[v] - (*all)[(ids.size() - 1) * V + v]));
  }
  EXPECT_LT(max_diff, 2e-3f);
}

TEST_F(RealModelGenerate, ChatAnswersAndReusesTheCachedPrefix) {
  auto ctx = context(2048);
  ChatSession chat(*ctx, engine_->tokenizer(), engine_->chat_template());
  GenerateOptions o;
  o.max_tokens = 48;
  auto first = chat.send("Who wrote the play Romeo and Juliet?", o, nullptr, {});
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_NE(first->text.find("Shakespeare"), std::string::npos) << first->text;
  const int32_t first_prompt = first->n_prompt_tokens;
  auto second = chat.send("When was he born?", o, nullptr, {});
  ASSERT_TRUE(second.is_ok());
  // The second turn evaluates only the new tokens, not the whole conversation again.
  EXPECT_LT(second->n_prompt_tokens, first_prompt);
  EXPECT_EQ(chat.messages().size(), 4u);
  EXPECT_EQ(chat.messages()[3].role, "assistant");
}

TEST(Engine, MissingDefaultModelNamesTheSetupCommand) {
  const std::string dir = ::testing::TempDir() + "/memlong-empty-models";
  std::filesystem::create_directories(dir);
  const char* old = std::getenv("MEMLONG_MODELS_DIR");
  const std::string saved = old != nullptr ? old : "";
  setenv("MEMLONG_MODELS_DIR", dir.c_str(), 1);
  auto e = Engine::load({});
  if (old != nullptr)
    setenv("MEMLONG_MODELS_DIR", saved.c_str(), 1);
  else
    unsetenv("MEMLONG_MODELS_DIR");
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_NE(e.status().message().find("scripts/setup"), std::string::npos);
}

}  // namespace
}  // namespace memlong
