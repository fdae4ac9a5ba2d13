// QA evaluation: the committed question set (scripts/gen_qa.py output) loads and points at real
// text; answer normalisation and matching; aggregation per mode and kind; table and JSON output.
#include "core/assistant/eval_qa.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/common/mapped_file.h"

namespace memlong {
namespace {

const std::string kQaDir = std::string(MEMLONG_TEST_DATA_DIR) + "/qa";

TEST(EvalQa, CommittedSetLoadsAndPlantedFactsSitAtTheirOffsets) {
  auto qs = load_questions(kQaDir + "/QUESTIONS.jsonl");
  ASSERT_TRUE(qs.is_ok()) << qs.status().to_string();
  int planted = 0, chapter = 0;
  for (const QaQuestion& q : *qs) {
    ASSERT_FALSE(q.answers.empty());
    if (q.kind == "planted") {
      ++planted;
      EXPECT_GE(q.depth, 0);
      EXPECT_LE(q.depth, 100);
      // The fact sentence starts at expected_offset of the generated document and holds the
      // answer (the question would be unanswerable otherwise).
      auto doc = read_text_file(kQaDir + "/docs/" + q.doc, 1 << 20);
      ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
      ASSERT_GE(q.expected_offset, 0);
      ASSERT_LT(static_cast<size_t>(q.expected_offset), doc->size());
      const std::string sentence = doc->substr(static_cast<size_t>(q.expected_offset), 120);
      EXPECT_TRUE(answer_matches(q, sentence.substr(0, sentence.find('.') + 1)))
          << q.id << ": " << sentence;
    } else {
      EXPECT_EQ(q.kind, "chapter");
      EXPECT_EQ(q.depth, -1);
      ++chapter;
    }
  }
  EXPECT_EQ(planted, 10);
  EXPECT_EQ(chapter, 6);
}

TEST(EvalQa, ChapterQuestionPhraseIsInTheNamedChapterOfTheBook) {
  auto qs = load_questions(kQaDir + "/QUESTIONS.jsonl");
  ASSERT_TRUE(qs.is_ok());
  const QaQuestion* q = nullptr;
  for (const QaQuestion& x : *qs) {
    if (x.doc == "persuasion.txt") q = &x;
  }
  ASSERT_NE(q, nullptr);
  auto book = read_text_file(std::string(MEMLONG_SOURCE_DIR) + "/../shared/data/books/" + q->doc,
                             size_t{1} << 24);
  ASSERT_TRUE(book.is_ok()) << book.status().to_string();
  const size_t open = q->question.find('"'), close = q->question.rfind('"');
  const std::string phrase = q->question.substr(open + 1, close - open - 1);
  EXPECT_EQ(book->find(phrase), static_cast<size_t>(q->expected_offset));
  // The last chapter heading before the phrase is the expected answer.
  const size_t heading = book->rfind("\nChapter ", static_cast<size_t>(q->expected_offset));
  ASSERT_NE(heading, std::string::npos);
  const std::string title = book->substr(heading + 1, book->find('\n', heading + 1) - heading - 1);
  EXPECT_TRUE(answer_matches(*q, "It appears in " + title + "."));
}

TEST(EvalQa, NormalisesAndMatchesWholeWords) {
  EXPECT_EQ(normalize_answer("  The Code: 73,914!  (blue-door) "), "the code 73914 blue door");
  EXPECT_EQ(normalize_answer("Élodie's café, 1,2"), "Élodie s café 12");
  QaQuestion q;
  q.answers = {"Blue cabinet", "73914"};
  EXPECT_TRUE(answer_matches(q, "She keeps it in the blue  cabinet."));
  EXPECT_TRUE(answer_matches(q, "The code is 73,914."));
  EXPECT_FALSE(answer_matches(q, "The code is 739140."));  // whole words only
  EXPECT_FALSE(answer_matches(q, "It is in the blue box."));
  EXPECT_FALSE(answer_matches(q, ""));
  QaQuestion chapter;
  chapter.answers = {"chapter 7", "chapter seven"};
  EXPECT_TRUE(answer_matches(chapter, "In Chapter Seven."));
  EXPECT_FALSE(answer_matches(chapter, "In chapter 17."));
}

TEST(EvalQa, LocationMatchesByFileNameAndOffset) {
  QaQuestion q;
  q.doc = "planted-003.txt";
  q.expected_offset = 2138;
  EXPECT_TRUE(location_matches(q, "/lib/docs/planted-003.txt", 2000, 2200));
  EXPECT_FALSE(location_matches(q, "/lib/docs/planted-003.txt", 2139, 2200));
  EXPECT_FALSE(location_matches(q, "/lib/docs/planted-004.txt", 2000, 2200));
  q.expected_offset = -1;
  EXPECT_FALSE(location_matches(q, "/lib/docs/planted-003.txt", 0, 1 << 30));
}

TEST(EvalQa, RejectsMalformedLinesNamingThem) {
  auto ok = parse_questions(
      "# comment\n\n{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"x\"]}\r\n", "t.jsonl");
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].expected_offset, -1);
  EXPECT_EQ((*ok)[0].depth, -1);
  const std::pair<const char*, const char*> bad[] = {
      {"{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[]}", "answers"},
      {"{\"id\":\"a\",\"answers\":[\"x\"]}", "question"},
      {"{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"x\"],\"depth\":101}", "depth"},
      {"{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"?!\"]}", "answer"},
      {"{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"x\"],\"expected_offset\":\"9\"}",
       "expected_offset"},
      {"[1, 2]", "object"},
      {"{\"id\":\"a\",", "not JSON"},
  };
  for (const auto& [line, what] : bad) {
    auto r = parse_questions(std::string("\n") + line + "\n", "t.jsonl");
    ASSERT_FALSE(r.is_ok()) << line;
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << line;
    EXPECT_NE(r.status().message().find("t.jsonl:2"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  }
  auto dup = parse_questions(
      "{\"id\":\"a\",\"question\":\"Q?\",\"answers\":[\"x\"]}\n"
      "{\"id\":\"a\",\"question\":\"R?\",\"answers\":[\"y\"]}\n",
      "t.jsonl");
  ASSERT_FALSE(dup.is_ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(load_questions(kQaDir + "/no-such-file.jsonl").is_ok());
}

TEST(EvalQa, AggregatesPerModeAndKindIntoTableAndJson) {
  std::vector<QaEvalRow> rows;
  auto add = [&](const char* mode, const char* kind, bool correct, double ttft, int loc) {
    QaEvalRow r;
    r.question_id = std::string(kind) + std::to_string(rows.size());
    r.mode = mode;
    r.kind = kind;
    r.correct = correct;
    r.ttft_s = ttft;
    r.tokens_per_s = 10.0;
    r.location_hit = loc;
    rows.push_back(r);
  };
  add("text", "planted", true, 1.0, -1);
  add("text", "planted", true, 3.0, -1);
  add("text", "chapter", false, 2.0, -1);
  add("memory", "planted", false, 0.5, 1);
  add("memory", "chapter", true, 0.5, 0);
  const auto s = summarize_eval(rows);
  ASSERT_EQ(s.size(), 6u);  // text: all, planted, chapter; memory: all, planted, chapter
  EXPECT_EQ(s[0].mode, "text");
  EXPECT_EQ(s[0].kind, "all");
  EXPECT_EQ(s[0].n, 3);
  EXPECT_EQ(s[0].n_correct, 2);
  EXPECT_NEAR(s[0].accuracy, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(s[0].mean_ttft_s, 2.0, 1e-12);
  EXPECT_EQ(s[1].kind, "planted");
  EXPECT_NEAR(s[1].accuracy, 1.0, 1e-12);
  EXPECT_EQ(s[2].kind, "chapter");
  EXPECT_EQ(s[2].n_correct, 0);
  EXPECT_EQ(s[3].mode, "memory");
  EXPECT_EQ(s[3].n_location_checked, 2);
  EXPECT_EQ(s[3].n_location_hit, 1);

  const std::string table = eval_table_text(rows);
  EXPECT_NE(table.find("| text | all | 3 | 2 | 66.7% | - | 2.00 | 10.0 |"), std::string::npos)
      << table;
  EXPECT_NE(table.find("| memory | all | 2 | 1 | 50.0% | 1/2 | 0.50 | 10.0 |"), std::string::npos)
      << table;
  const nlohmann::json j = eval_table_json(rows);
  ASSERT_EQ(j["summary"].size(), 6u);
  EXPECT_EQ(j["summary"][3]["mode"], "memory");
  EXPECT_EQ(j["summary"][3]["location_hits"], 1);
  ASSERT_EQ(j["rows"].size(), 5u);
  EXPECT_EQ(j["rows"][0]["correct"], true);
  EXPECT_TRUE(summarize_eval({}).empty());
}

}  // namespace
}  // namespace memlong
