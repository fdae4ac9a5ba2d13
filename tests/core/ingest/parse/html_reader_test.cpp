// HTML: title, h1-h3 sections, skipped script/style/nav, block elements as paragraphs.
#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

using parse_test::fixture;

TEST(ParseHtml, SectionsParagraphsAndSkippedElements) {
  auto doc = parse_document(fixture("sample.html"));
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->format, DocumentFormat::kHtml);
  EXPECT_EQ(doc->title, "Garden Guide");
  EXPECT_EQ(doc->language, "en");
  ASSERT_EQ(doc->sections.size(), 4u);
  EXPECT_EQ(doc->sections[0].title, "");
  EXPECT_EQ(doc->sections[0].text, "Welcome to the garden. Plants & flowers.");
  EXPECT_EQ(doc->sections[1].title, "Roses");
  EXPECT_EQ(doc->sections[1].level, 1);
  EXPECT_EQ(doc->sections[1].text, "Roses need sun.\n\nWater them weekly.");
  EXPECT_EQ(doc->sections[2].title, "Pruning");
  EXPECT_EQ(doc->sections[2].level, 2);
  EXPECT_EQ(doc->sections[2].text,
            "Cut dead wood\n\nShape the bush\n\nMinor note\n\nline one\n  line two\n\n"
            "A rose in bloom");
  EXPECT_EQ(doc->sections[3].title, "Pests");
  EXPECT_EQ(doc->sections[3].level, 3);
  EXPECT_EQ(doc->sections[3].text, "Aphids are common.\n\nUse soap.");
  const std::string all = parse_test::all_text(*doc);
  EXPECT_EQ(all.find("SCRIPT TEXT"), std::string::npos);
  EXPECT_EQ(all.find("color: red"), std::string::npos);
  EXPECT_EQ(all.find("NAV LINK"), std::string::npos);
}

TEST(ParseHtml, SniffedWithoutExtensionAndRecoversFromBrokenMarkup) {
  parse_test::ScratchDir dir;
  const auto path = dir.write("page",
                              "<!doctype html><html><body><h1>Title <b>bold</h1>"
                              "<p>unclosed <i>para<p>next &amp; last</body>");
  auto format = detect_format(path);
  ASSERT_TRUE(format.is_ok()) << format.status().to_string();
  EXPECT_EQ(*format, DocumentFormat::kHtml);
  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->title, "Title bold");  // no <title>: the first heading
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].text, "unclosed para\n\nnext & last");
}

}  // namespace
}  // namespace memlong
