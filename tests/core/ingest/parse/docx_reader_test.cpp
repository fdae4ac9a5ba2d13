// DOCX: paragraphs in order (tables included), heading styles as sections, core properties.
#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

TEST(ParseDocx, StylesBecomeSectionsAndCorePropertiesGiveMetadata) {
  auto doc = parse_document(parse_test::fixture("sample.docx"));
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->format, DocumentFormat::kDocx);
  EXPECT_EQ(doc->title, "Q3 Report");  // docProps/core.xml wins over the Title paragraph
  EXPECT_EQ(doc->author, "Dana Analyst");
  EXPECT_EQ(doc->language, "en-GB");
  ASSERT_EQ(doc->sections.size(), 4u);
  EXPECT_EQ(doc->sections[0].title, "Quarterly Report");
  EXPECT_EQ(doc->sections[0].text, "Prepared for the board.");
  EXPECT_EQ(doc->sections[1].title, "Summary");
  EXPECT_EQ(doc->sections[1].level, 1);
  EXPECT_EQ(doc->sections[1].text, "Revenue grew by twelve percent.");
  EXPECT_EQ(doc->sections[2].title, "Details");
  EXPECT_EQ(doc->sections[2].level, 2);
  EXPECT_EQ(doc->sections[2].text, "Costs fell.\n\nCell A\n\nCell B");
  EXPECT_EQ(doc->sections[3].title, "Outlook");
  EXPECT_EQ(doc->sections[3].text, "Stable.");
}

}  // namespace
}  // namespace memlong
