// Citation ranking (the formula in citations.h, checked against values worked out by hand) and
// quote selection; per-passage attention shares (qa.h passage_mass_shares).
#include "core/assistant/citations.h"

#include <gtest/gtest.h>

#include "core/assistant/qa.h"

namespace memlong {
namespace {

TEST(CitationRank, RetrievalOnlyWithoutAttention) {
  const float r[] = {0.02f, 0.05f, 0.03f};
  const auto ranked = rank_citations(r, {});
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].index, 1u);
  EXPECT_EQ(ranked[1].index, 2u);
  EXPECT_EQ(ranked[2].index, 0u);
  EXPECT_NEAR(ranked[0].retrieval_share, 0.5f, 1e-6);  // 0.05 / 0.10
  EXPECT_NEAR(ranked[0].score, 0.5f, 1e-6);
  EXPECT_EQ(ranked[0].attention_mass, 0.0f);
  // All-zero attention (text mode reporting zeros) is the same as none.
  const float zeros[] = {0, 0, 0};
  EXPECT_EQ(rank_citations(r, zeros)[0].index, 1u);
}

TEST(CitationRank, AttentionCanReorderByTheDocumentedFormula) {
  // shares: 0.2, 0.5, 0.3; attention 0.7, 0.1, 0.2; w = 0.5:
  // score0 = 0.45, score1 = 0.30, score2 = 0.25.
  const float r[] = {0.02f, 0.05f, 0.03f};
  const float a[] = {0.7f, 0.1f, 0.2f};
  const auto ranked = rank_citations(r, a, 0.5f);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].index, 0u);
  EXPECT_NEAR(ranked[0].score, 0.45f, 1e-6);
  EXPECT_EQ(ranked[1].index, 1u);
  EXPECT_NEAR(ranked[1].score, 0.30f, 1e-6);
  EXPECT_EQ(ranked[2].index, 2u);
  EXPECT_NEAR(ranked[2].score, 0.25f, 1e-6);
  EXPECT_NEAR(ranked[0].attention_mass, 0.7f, 1e-6);
  // w = 0: retrieval order again.
  EXPECT_EQ(rank_citations(r, a, 0.0f)[0].index, 1u);
  // The default weight (0.2): 0.8 * share + 0.2 * attention = 0.30, 0.42, 0.28: retrieval's
  // first stays first, attention swaps nothing here.
  const auto by_default = rank_citations(r, a);
  EXPECT_EQ(by_default[0].index, 1u);
  EXPECT_NEAR(by_default[0].score, 0.42f, 1e-6);
  EXPECT_EQ(by_default[1].index, 0u);
  EXPECT_NEAR(by_default[1].score, 0.30f, 1e-6);
  // ... but it decides between close retrieval scores.
  const float close[] = {0.050f, 0.051f};
  const float att[] = {0.6f, 0.4f};
  EXPECT_EQ(rank_citations(close, att)[0].index, 0u);
}

TEST(CitationRank, NegativeScoresShiftAndTiesKeepOrder) {
  // Inner products may be negative: shifted by -(-0.2): 0, 0.3, 0.2 -> shares 0, 0.6, 0.4.
  const float r[] = {-0.2f, 0.1f, 0.0f};
  const auto ranked = rank_citations(r, {});
  EXPECT_EQ(ranked[0].index, 1u);
  EXPECT_NEAR(ranked[0].retrieval_share, 0.6f, 1e-6);
  EXPECT_NEAR(ranked[2].retrieval_share, 0.0f, 1e-6);
  // Equal scores: the caller's order; all zero: equal shares.
  const float same[] = {0.0f, 0.0f, 0.0f, 0.0f};
  const auto tied = rank_citations(same, {});
  for (size_t i = 0; i < tied.size(); ++i) {
    EXPECT_EQ(tied[i].index, i);
    EXPECT_NEAR(tied[i].retrieval_share, 0.25f, 1e-6);
  }
  EXPECT_TRUE(rank_citations({}, {}).empty());
}

TEST(CitationQuote, SplitsSentencesAndWords) {
  const auto s = split_sentences(
      "Mr. Knightley came. \"Is it so?\" she asked!  Yes\n\nA new paragraph without a stop");
  // Rough sentences are enough for quotes: abbreviations and quoted questions split too.
  const std::vector<std::string_view> want_s = {"Mr.",           "Knightley came.",
                                                "\"Is it so?\"", "she asked!",
                                                "Yes",           "A new paragraph without a stop"};
  EXPECT_EQ(s, want_s);
  const auto w = content_words("The code of the Blue door is 4721, and 7 is a number.");
  const std::vector<std::string> want = {"4721", "7", "blue", "code", "door", "number"};
  EXPECT_EQ(w, want);
}

TEST(CitationQuote, PicksTheSentenceThatOverlapsTheAnswer) {
  const std::string passage =
      "It was a quiet evening at the harbour. The gulls were loud. The code of the blue door is "
      "4721. Nobody else knew it, and the keeper went home.";
  // The answer's words count twice: "4721" and "blue door" pick the third sentence; its
  // neighbours share no content word with answer or question, so it stands alone.
  EXPECT_EQ(pick_quote(passage, "The code is 4721.", "What is the code of the blue door?"),
            "The code of the blue door is 4721.");
  // A neighbour that overlaps too joins when it fits.
  EXPECT_EQ(pick_quote(passage, "The keeper went home after the code 4721.", "Who knew?", 200),
            "The code of the blue door is 4721. Nobody else knew it, and the keeper went home.");
  // Here the best sentence is the last one (3 answer words and 1 question word): with room for
  // one sentence only, it stands alone.
  EXPECT_EQ(pick_quote(passage, "The keeper went home after the code 4721.", "Who knew?", 60),
            "Nobody else knew it, and the keeper went home.");
  // No overlap at all: the first sentence.
  EXPECT_EQ(pick_quote(passage, "zzz", "qqq"), "It was a quiet evening at the harbour.");
  // Too long: cut at a word boundary, marked, line breaks flattened.
  const std::string q = pick_quote("alpha beta\ngamma delta epsilon zeta.", "gamma", "", 20);
  EXPECT_EQ(q, "alpha beta gamma...");
  EXPECT_EQ(pick_quote("", "a", "b"), "");
}

TEST(PassageMassShares, MeanWithoutSinkNormalisedToOne) {
  // Two passages: [0, 3) and [3, 5). Sinks (first tokens) 10 and 20 are left out; means:
  // p0 = (1 + 3) / 2 = 2, p1 = 2 / 1 = 2 -> shares 0.5 / 0.5.
  const float mass[] = {10, 1, 3, 20, 2};
  const int32_t begin[] = {0, 3}, len[] = {3, 2};
  auto s = passage_mass_shares(mass, begin, len, 1);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_NEAR(s[0], 0.5f, 1e-6);
  EXPECT_NEAR(s[1], 0.5f, 1e-6);
  // Without sink removal: means 14/3 and 11 -> 14/47 and 33/47.
  s = passage_mass_shares(mass, begin, len, 0);
  EXPECT_NEAR(s[0], 14.0f / 47.0f, 1e-6);
  EXPECT_NEAR(s[1], 33.0f / 47.0f, 1e-6);
  // A one-token passage keeps its only token; no mass at all gives zeros.
  const float one[] = {4, 1, 1};
  const int32_t b1[] = {0, 1}, l1[] = {1, 2};
  s = passage_mass_shares(one, b1, l1, 1);
  EXPECT_NEAR(s[0], 0.8f, 1e-6);  // 4 / (4 + 1)
  const float zero[] = {0, 0, 0};
  s = passage_mass_shares(zero, b1, l1, 1);
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[1], 0.0f);
}

}  // namespace
}  // namespace memlong
