// answer_question on the real default model (SmolLM2-135M-Instruct, tests named RealModel) with
// three short passages, one holding a planted fact. What it checks, and what was measured:
// - text mode copies planted facts from the prompt (4 of 4 facts here, greedy);
// - memory mode runs with the passages only in memory (not in the prompt), streams exactly the
//   text it returns, and reports per-passage attention shares that sum to 1. It does NOT answer:
//   0 of 4 facts in either position mode (an untuned model cannot read layer-15 memory, see
//   docs/EVALUATION.md passkey). With these three short passages the attention shares rank the
//   planted passage first for 7 of 8 (fact, position mode) cases; the test asserts it for the
//   blue-door fact in the default mode (0.49 against 0.37 and 0.14). Among a document's
//   128-token entries they do not (1-3 of 10, about chance; qa.h, passage_mass_shares).
// - cancellation, caller stop, history in the prompt, argument errors.
#include "core/assistant/qa.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "core/common/paths.h"

namespace memlong {
namespace {

class RealModelQa : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(default_model_path())) return;
    EngineOptions o;
    o.n_threads = 2;
    auto e = Engine::load(o);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(e).value().release();
    auto c = memlong_config_for(engine_->file());
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    config_ = new MemLongConfig(*c);
  }
  static void TearDownTestSuite() {
    delete engine_;
    delete config_;
    engine_ = nullptr;
    config_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(engine_, nullptr) << missing_model_hint(default_model_path()); }

  // Passage 1 (entry 11) holds the fact; 10 and 12 are book sentences.
  static std::vector<QaPassage> passages(const std::string& fact) {
    std::vector<QaPassage> out;
    const std::pair<const char*, std::string> texts[] = {
        {"Emma",
         "Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy "
         "disposition, seemed to unite some of the best blessings of existence."},
        {"Notes", "It was a quiet evening at the harbour. " + fact + " Nobody else knew it."},
        {"Persuasion",
         "Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who, for his own "
         "amusement, never took up any book but the Baronetage."},
    };
    const float scores[] = {0.3f, 0.5f, 0.2f};
    for (int i = 0; i < 3; ++i) {
      auto p = passage_with_memory(*engine_, *config_, 10 + i, texts[i].first, texts[i].second,
                                   scores[i]);
      EXPECT_TRUE(p.is_ok()) << p.status().to_string();
      out.push_back(std::move(p).value());
    }
    return out;
  }
  static QaOptions options(AnswerMode mode) {
    QaOptions o;
    o.mode = mode;
    o.max_tokens = 32;
    o.memlong = *config_;
    return o;
  }

  static Engine* engine_;
  static MemLongConfig* config_;
};
Engine* RealModelQa::engine_ = nullptr;
MemLongConfig* RealModelQa::config_ = nullptr;

struct Fact {
  const char* sentence;
  const char* question;
  const char* answer;
};
constexpr Fact kFacts[] = {
    {"The code of the blue door is 4721.", "What is the code of the blue door?", "4721"},
    {"Miriam keeps the silver key in the blue cabinet.", "Where does Miriam keep the silver key?",
     "blue cabinet"},
    {"The secret code of the lighthouse keeper Alaric is 73914.",
     "What is the secret code of the lighthouse keeper Alaric?", "73914"},
    {"The capital of the island of Veltra is Morrow.",
     "What is the capital of the island of Veltra?", "Morrow"},
};

TEST_F(RealModelQa, TextModeAnswersPlantedFacts) {
  int n_correct = 0;
  for (const Fact& f : kFacts) {
    const auto ps = passages(f.sentence);
    auto r = answer_question(*engine_, f.question, ps, options(AnswerMode::kText), nullptr);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_NE(r->prompt.find(f.sentence), std::string::npos);  // the passages are in the prompt
    EXPECT_NE(r->prompt.find("[2] Notes"), std::string::npos);
    EXPECT_TRUE(r->passage_attention_mass.empty());
    EXPECT_EQ(r->n_passages_used, 3);
    EXPECT_EQ(r->n_memory_tokens, 0);
    const bool ok = r->text.find(f.answer) != std::string::npos;
    n_correct += ok ? 1 : 0;
    if (std::string(f.answer) == "4721") {
      EXPECT_TRUE(ok) << r->text;
    }
  }
  EXPECT_GE(n_correct, 3);  // measured: 4 of 4
}

TEST_F(RealModelQa, MemoryModeStreamsItsTextAndRanksPassagesByAttention) {
  const auto ps = passages(kFacts[0].sentence);
  std::string streamed;
  int n_pieces = 0;
  auto r = answer_question(*engine_, kFacts[0].question, ps, options(AnswerMode::kMemory),
                           [&](std::string_view piece) {
                             streamed += piece;
                             ++n_pieces;
                             return true;
                           });
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(streamed, r->text);
  EXPECT_GT(n_pieces, 1);
  EXPECT_GT(r->n_tokens, 0);
  EXPECT_FALSE(r->cancelled);
  EXPECT_GT(r->ttft_s, 0.0);
  // Only the question is in the prompt; the passages are memory.
  EXPECT_EQ(r->prompt.find("4721"), std::string::npos);
  EXPECT_NE(r->prompt.find(kFacts[0].question), std::string::npos);
  size_t n_mem = 0;
  for (const QaPassage& p : ps) n_mem += p.tokens.size();
  EXPECT_EQ(r->n_memory_tokens, static_cast<int32_t>(n_mem));
  EXPECT_GT(r->memory_attention_share, 0.0f);
  EXPECT_LE(r->memory_attention_share, 1.0f);
  ASSERT_EQ(r->passage_attention_mass.size(), 3u);
  const float sum =
      std::accumulate(r->passage_attention_mass.begin(), r->passage_attention_mass.end(), 0.0f);
  EXPECT_NEAR(sum, 1.0f, 1e-5);
  for (float m : r->passage_attention_mass) EXPECT_GT(m, 0.0f);
  const auto top =
      std::max_element(r->passage_attention_mass.begin(), r->passage_attention_mass.end()) -
      r->passage_attention_mass.begin();
  EXPECT_EQ(top, 1) << "shares " << r->passage_attention_mass[0] << " "
                    << r->passage_attention_mass[1] << " " << r->passage_attention_mass[2];

  // The order of the passages given does not matter: memory is chronological (entry_id), and
  // shares come back in the caller's order.
  std::vector<QaPassage> reversed(ps.rbegin(), ps.rend());
  auto r2 = answer_question(*engine_, kFacts[0].question, reversed, options(AnswerMode::kMemory),
                            nullptr);
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->text, r->text);
  ASSERT_EQ(r2->passage_attention_mass.size(), 3u);
  EXPECT_NEAR(r2->passage_attention_mass[2], r->passage_attention_mass[0], 1e-6);
  EXPECT_NEAR(r2->passage_attention_mass[1], r->passage_attention_mass[1], 1e-6);

  // The memory changes what the model says: the same prompt without passages differs.
  auto empty =
      answer_question(*engine_, kFacts[0].question, {}, options(AnswerMode::kMemory), nullptr);
  ASSERT_TRUE(empty.is_ok());
  EXPECT_NE(empty->text, r->text);
  EXPECT_TRUE(empty->passage_attention_mass.empty());
}

TEST_F(RealModelQa, ZeroPositionModeAndNoneModeRun) {
  const auto ps = passages(kFacts[1].sentence);
  QaOptions zero = options(AnswerMode::kMemory);
  zero.memlong.position_mode = zero.memlong.position_mode == PositionMode::kZero
                                   ? PositionMode::kContiguous
                                   : PositionMode::kZero;
  auto z = answer_question(*engine_, kFacts[1].question, ps, zero, nullptr);
  ASSERT_TRUE(z.is_ok()) << z.status().to_string();
  EXPECT_GT(z->n_tokens, 0);
  EXPECT_NEAR(
      std::accumulate(z->passage_attention_mass.begin(), z->passage_attention_mass.end(), 0.0f),
      1.0f, 1e-5);
  auto none =
      answer_question(*engine_, kFacts[1].question, ps, options(AnswerMode::kNone), nullptr);
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->prompt.find("silver key in"), std::string::npos);
  EXPECT_EQ(none->n_passages_used, 0);
  EXPECT_TRUE(none->passage_attention_mass.empty());
  EXPECT_GT(none->n_tokens, 0);
}

TEST_F(RealModelQa, CancelAndCallerStopEndGenerationEarly) {
  const auto ps = passages(kFacts[0].sentence);
  auto full =
      answer_question(*engine_, kFacts[0].question, ps, options(AnswerMode::kMemory), nullptr);
  ASSERT_TRUE(full.is_ok());
  ASSERT_GT(full->n_tokens, 4);

  CancelSource source;
  auto cancelled = answer_question(
      *engine_, kFacts[0].question, ps, options(AnswerMode::kMemory),
      [&](std::string_view) {
        source.cancel();
        return true;
      },
      source.token());
  ASSERT_TRUE(cancelled.is_ok()) << cancelled.status().to_string();
  EXPECT_TRUE(cancelled->cancelled);
  EXPECT_LT(cancelled->n_tokens, full->n_tokens);
  EXPECT_FALSE(cancelled->text.empty());
  EXPECT_EQ(full->text.rfind(cancelled->text, 0), 0u);  // a prefix of the full answer

  int calls = 0;
  auto stopped = answer_question(*engine_, kFacts[0].question, ps, options(AnswerMode::kText),
                                 [&](std::string_view) { return ++calls < 2; });
  ASSERT_TRUE(stopped.is_ok());
  EXPECT_FALSE(stopped->cancelled);
  EXPECT_EQ(calls, 2);

  CancelSource before;
  before.cancel();
  auto none = answer_question(*engine_, kFacts[0].question, ps, options(AnswerMode::kText), nullptr,
                              before.token());
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->cancelled);
  EXPECT_EQ(none->n_tokens, 0);
}

TEST_F(RealModelQa, HistoryGoesIntoThePromptBeforeTheQuestion) {
  const auto ps = passages(kFacts[0].sentence);
  QaOptions with = options(AnswerMode::kMemory);
  with.max_tokens = 4;
  auto plain = answer_question(*engine_, "And the code?", ps, with, nullptr);
  with.history = {{"user", "Tell me about the blue door."},
                  {"assistant", "The blue door is in the harbour."}};
  auto followup = answer_question(*engine_, "And the code?", ps, with, nullptr);
  ASSERT_TRUE(plain.is_ok());
  ASSERT_TRUE(followup.is_ok());
  EXPECT_EQ(followup->n_history_turns_used, 2);
  EXPECT_GT(followup->n_prompt_tokens, plain->n_prompt_tokens);
  const size_t u = followup->prompt.find("Tell me about the blue door.");
  const size_t a = followup->prompt.find("The blue door is in the harbour.");
  const size_t q = followup->prompt.find("And the code?");
  ASSERT_NE(u, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  EXPECT_LT(u, a);
  EXPECT_LT(a, q);
  EXPECT_EQ(plain->prompt.find("Tell me about"), std::string::npos);
}

TEST_F(RealModelQa, RejectsEmptyQuestionsAndMisshapenMemory) {
  auto ps = passages(kFacts[0].sentence);
  EXPECT_EQ(
      answer_question(*engine_, " \n", ps, options(AnswerMode::kText), nullptr).status().code(),
      StatusCode::kInvalidArgument);
  ps[1].k.pop_back();
  auto bad = answer_question(*engine_, "Q?", ps, options(AnswerMode::kMemory), nullptr);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("passage 11"), std::string::npos);
  // Text mode ignores K/V.
  EXPECT_TRUE(answer_question(*engine_, "Q?", ps, options(AnswerMode::kNone), nullptr).is_ok());
  EXPECT_EQ(parse_answer_mode("memory").value(), AnswerMode::kMemory);
  EXPECT_EQ(parse_answer_mode("text").value(), AnswerMode::kText);
  EXPECT_EQ(parse_answer_mode("none").value(), AnswerMode::kNone);
  EXPECT_FALSE(parse_answer_mode("rag").is_ok());
}

}  // namespace
}  // namespace memlong
