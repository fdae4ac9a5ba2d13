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

TEST(ParseHtml, LegacyCharsetFromMetaAndUtf8WithoutOne) {
  parse_test::ScratchDir dir;
  // windows-1252 bytes: 0xE9 e-acute, 0x93/0x94 curly quotes, 0x80 euro sign.
  auto legacy =
      parse_document(dir.write("old.html",
                               "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                               "charset=windows-1252\"></head><body><p>Caf\xE9 \x93"
                               "costs\x94 \x80"
                               "3</p></body></html>"));
  ASSERT_TRUE(legacy.is_ok()) << legacy.status().to_string();
  ASSERT_EQ(legacy->sections.size(), 1u);
  EXPECT_EQ(legacy->sections[0].text,
            "Caf\u00e9 \u201ccosts\u201d \u20ac"
            "3");
  // No declaration at all: well-formed UTF-8 is read as UTF-8, not Latin-1.
  auto modern =
      parse_document(dir.write("new.html", "<p>K\xC3\xB6ln \xE2\x80\x94 \xE6\x97\xA5</p>"));
  ASSERT_TRUE(modern.is_ok()) << modern.status().to_string();
  ASSERT_EQ(modern->sections.size(), 1u);
  EXPECT_EQ(modern->sections[0].text, "K\u00f6ln \u2014 \u65e5");
}

}  // namespace
}  // namespace memlong
