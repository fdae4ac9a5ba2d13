// summarize_document on the real default model and retriever with two or three tiny chapters:
// progress in order, non-empty chapter and book summaries, memory actually read in memory mode,
// and a cancel mid-way giving the finished part with cancelled = true.
//
// What SmolLM2-135M wrote for the first two chapters of Persuasion (6,329 tokens; chapter mode
// text, 768 lead tokens, vs. memory, the untuned profile; an exploration run, not a test):
//   text   ch. 1: "... Sir Walter Elliot of Kellynch Hall was born March 29, 1760, married
//          Elizabeth, daughter of James Stevenson ..."   ch. 2: "... Mr Shepherd, was faced with a
//          difficult decision involving Lady Russell's judgment and Elizabeth's own feelings ..."
//   memory ch. 1: "the author introduces the concept of persuasion and its role as an effective
//          tool for shaping public opinion ..."  ch. 2: "the main character, Sarah, is faced with a
//          difficult decision involving her best friend ..."
// Text mode names the chapters' people and places; memory mode writes from the title alone. Hence
// kDefaultChapterMode = text.
#include "core/assistant/summarize.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/common/paths.h"

namespace memlong {
namespace {

class RealModelSummarize : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(default_model_path()) ||
        !std::filesystem::exists(default_retriever_path())) {
      return;
    }
    EngineOptions o;
    o.n_threads = 2;
    auto e = Engine::load(o);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    engine_ = std::move(e).value().release();
    auto emb = load_embedder(default_retriever_path(), 2);
    ASSERT_TRUE(emb.is_ok()) << emb.status().to_string();
    embedder_ = std::move(emb).value().release();
  }
  static void TearDownTestSuite() {
    delete embedder_;
    delete engine_;
    embedder_ = nullptr;
    engine_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(engine_, nullptr) << missing_model_hint(default_model_path()) << " / "
                                << missing_model_hint(default_retriever_path());
  }
  static std::vector<DocumentText::Section> chapters(int n) {
    const char* texts[] = {
        "Anna lived in a small house by the sea with her old dog Brutus. Every morning she "
        "walked along the beach and collected shells for her grandmother.",
        "One day a storm destroyed the pier of the village. Anna and the fishermen worked for "
        "a week to rebuild it, and the mayor thanked them at a feast.",
        "In autumn Anna left the village to study medicine in the capital. She promised "
        "Brutus and her grandmother to come back every summer.",
    };
    std::vector<DocumentText::Section> out;
    for (int i = 0; i < n; ++i) {
      DocumentText::Section s;
      s.title = "Chapter " + std::to_string(i + 1);
      s.text = texts[i];
      out.push_back(s);
    }
    return out;
  }
  static SummarizeOptions options(ChapterSummaryMode mode) {
    SummarizeOptions o;
    o.chapter_mode = mode;
    auto c = memlong_config_for(engine_->file());
    EXPECT_TRUE(c.is_ok());
    o.memlong = *c;
    // Tiny chapters: small entries so each chapter writes several, and short outputs.
    o.memlong.entry_tokens = 16;
    o.memlong.last_context = 16;
    o.chapter_max_tokens = 24;
    o.book_max_tokens = 24;
    o.doc_id = 42;
    o.first_chapter_index = 3;
    return o;
  }

  static Engine* engine_;
  static Embedder* embedder_;
};
Engine* RealModelSummarize::engine_ = nullptr;
Embedder* RealModelSummarize::embedder_ = nullptr;

void expect_progress_in_order(const std::vector<SummaryProgress>& seen, int n_chapters) {
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].chapter_index, seen[i - 1].chapter_index);
    EXPECT_GE(seen[i].tokens_done, seen[i - 1].tokens_done);
    EXPECT_EQ(seen[i].tokens_total, seen[0].tokens_total);
    EXPECT_EQ(seen[i].n_chapters, n_chapters);
  }
  for (int c = 0; c <= n_chapters; ++c) {
    EXPECT_TRUE(std::any_of(seen.begin(), seen.end(),
                            [&](const SummaryProgress& p) { return p.chapter_index == c; }))
        << "no progress for chapter " << c;
  }
  EXPECT_EQ(seen.front().chapter_index, 0);
  EXPECT_EQ(seen.front().chapter_title, "Chapter 1");
  EXPECT_EQ(seen.back().chapter_index, n_chapters);  // the book summary
  EXPECT_EQ(seen.back().tokens_done, seen.back().tokens_total);
  EXPECT_GT(seen.back().tokens_per_s, 0.0);
}

TEST_F(RealModelSummarize, TextModeSummarisesEachChapterThenTheBook) {
  const auto ch = chapters(2);
  std::vector<SummaryProgress> seen;
  auto r = summarize_document(*engine_, *embedder_, "Anna by the Sea", ch,
                              options(ChapterSummaryMode::kText),
                              [&](const SummaryProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_FALSE(r->cancelled);
  EXPECT_EQ(r->doc_id, 42);
  EXPECT_EQ(r->doc_title, "Anna by the Sea");
  ASSERT_EQ(r->chapters.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r->chapters[i].chapter_index, 3 + static_cast<int32_t>(i));
    EXPECT_EQ(r->chapters[i].title, ch[i].title);
    EXPECT_FALSE(r->chapters[i].text.empty());
  }
  EXPECT_FALSE(r->book_summary.empty());
  expect_progress_in_order(seen, 2);
}

TEST_F(RealModelSummarize, MemoryModeReadsEveryPassAndSummarises) {
  const auto ch = chapters(2);
  std::vector<SummaryProgress> seen;
  auto r = summarize_document(*engine_, *embedder_, "Anna by the Sea", ch,
                              options(ChapterSummaryMode::kMemory),
                              [&](const SummaryProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->chapters.size(), 2u);
  for (const ChapterSummary& c : r->chapters) EXPECT_FALSE(c.text.empty());
  EXPECT_FALSE(r->book_summary.empty());
  expect_progress_in_order(seen, 2);
  // Reading reports after each pass: a chapter of > 16 tokens takes several, so there are more
  // reports for chapter 0 than the two (start, summary) that text mode makes.
  const auto n0 = std::count_if(seen.begin(), seen.end(),
                                [](const SummaryProgress& p) { return p.chapter_index == 0; });
  EXPECT_GT(n0, 3);
}

TEST_F(RealModelSummarize, CancelMidwayKeepsFinishedChapters) {
  const auto ch = chapters(3);
  CancelSource source;
  std::vector<SummaryProgress> seen;
  auto r = summarize_document(
      *engine_, *embedder_, "Anna by the Sea", ch, options(ChapterSummaryMode::kMemory),
      [&](const SummaryProgress& p) {
        seen.push_back(p);
        // Cancel while chapter 2 (index 1) is being read, after its first pass.
        if (p.chapter_index == 1 && p.tokens_done > seen.front().tokens_done &&
            std::count_if(seen.begin(), seen.end(),
                          [](const SummaryProgress& q) { return q.chapter_index == 1; }) == 2) {
          source.cancel();
        }
      },
      source.token());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(r->cancelled);
  ASSERT_EQ(r->chapters.size(), 1u);
  EXPECT_EQ(r->chapters[0].chapter_index, 3);
  EXPECT_FALSE(r->chapters[0].text.empty());
  EXPECT_TRUE(r->book_summary.empty());
  EXPECT_LT(seen.back().chapter_index, 3);

  // Cancelled before starting: nothing done, not an error.
  CancelSource early;
  early.cancel();
  auto none = summarize_document(*engine_, *embedder_, "Anna", ch,
                                 options(ChapterSummaryMode::kText), nullptr, early.token());
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->cancelled);
  EXPECT_TRUE(none->chapters.empty());
  // No chapters is an argument error.
  EXPECT_EQ(summarize_document(*engine_, *embedder_, "Anna", {}, options(ChapterSummaryMode::kText),
                               nullptr)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memlong
