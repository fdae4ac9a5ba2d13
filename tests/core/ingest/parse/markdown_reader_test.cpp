// Markdown: headings to sections, inline markup to text, code kept, front matter metadata.
#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

using parse_test::fixture;

TEST(ParseMarkdown, HeadingsBecomeSectionsAndMarkupIsStripped) {
  auto doc = parse_document(fixture("sample.md"));
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->format, DocumentFormat::kMarkdown);
  EXPECT_EQ(doc->title, "Field Notes");  // front matter wins over the first heading
  EXPECT_EQ(doc->author, "Jo Writer");
  ASSERT_EQ(doc->sections.size(), 4u);

  EXPECT_EQ(doc->sections[0].title, "");
  EXPECT_EQ(doc->sections[0].text, "Intro paragraph with bold, italic, code_span and a link text.");

  EXPECT_EQ(doc->sections[1].title, "First Heading");
  EXPECT_EQ(doc->sections[1].level, 1);
  EXPECT_EQ(doc->sections[1].text,
            "An image a red fox sits here; snake_case_names stay intact. Second line of the "
            "same paragraph.\n\n"
            "item one\n\n"
            "item two\n\n"
            "int main() {\n    return 0;\n}");

  EXPECT_EQ(doc->sections[2].title, "Setext Heading");
  EXPECT_EQ(doc->sections[2].level, 2);
  EXPECT_EQ(doc->sections[2].text, "Quoted old text with https://example.org autolink.");

  EXPECT_EQ(doc->sections[3].title, "Closing");
  EXPECT_EQ(doc->sections[3].level, 2);
  EXPECT_EQ(doc->sections[3].text, "Last words.");
}

TEST(ParseMarkdown, TitleFallsBackToFirstHeadingThenFileName) {
  parse_test::ScratchDir dir;
  auto with_h1 = parse_document(dir.write("notes.md", "Some text.\n\n# Real Title\n\nBody.\n"));
  ASSERT_TRUE(with_h1.is_ok()) << with_h1.status().to_string();
  EXPECT_EQ(with_h1->title, "Real Title");
  auto without = parse_document(dir.write("plain-notes.md", "Only *text* here.\n"));
  ASSERT_TRUE(without.is_ok()) << without.status().to_string();
  EXPECT_EQ(without->title, "plain-notes");
  ASSERT_EQ(without->sections.size(), 1u);
  EXPECT_EQ(without->sections[0].text, "Only text here.");
}

}  // namespace
}  // namespace memlong
