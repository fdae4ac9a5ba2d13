// PDF: real manuals from Debian packages against poppler-utils' pdfinfo (page count, metadata)
// run at test time, plus phrases verified with pdftotext; a tiny synthetic PDF.
#include <regex>
#include <sstream>
#include <vector>

#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

using parse_test::package_file;

const char* const kRFaq = "/usr/share/doc/r-doc-pdf/manual/R-FAQ.pdf";
const char* const kLiveManualPdf = "/usr/share/doc/live-manual/pdf/live-manual.landscape.en.a4.pdf";

// A field of `pdfinfo FILE` ("Pages", "Title", ...); "" when absent.
std::string pdfinfo_field(const std::string& file, const std::string& key) {
  const std::string out = parse_test::run_command("pdfinfo '" + file + "' 2>/dev/null");
  EXPECT_FALSE(out.empty()) << "pdfinfo gave nothing: install poppler-utils (scripts/setup)";
  std::smatch m;
  if (std::regex_search(out, m, std::regex("(^|\n)" + key + ":[ ]*([^\n]*)"))) return m[2];
  return "";
}

TEST(ParsePdf, RFaqPagesMatchPdfinfoAndCarryTheirText) {
  const auto path = package_file(kRFaq, "r-doc-pdf");
  const int expected_pages = std::stoi(pdfinfo_field(kRFaq, "Pages"));
  ASSERT_EQ(expected_pages, 52);  // also checked by hand
  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->format, DocumentFormat::kPdf);
  EXPECT_EQ(doc->n_pages, expected_pages);
  ASSERT_EQ(static_cast<int>(doc->sections.size()), expected_pages);
  for (int i = 0; i < expected_pages; ++i) EXPECT_EQ(doc->sections[i].page, i + 1);
  EXPECT_EQ(pdfinfo_field(kRFaq, "Title"), "");
  EXPECT_EQ(doc->title, "R-FAQ");  // no Title in the info dictionary: the file name
  // Phrases from `pdftotext -f 5 -l 5` and `-f 52 -l 52`.
  EXPECT_NE(doc->sections[4].text.find("This document contains answers to some of the most "
                                       "frequently asked questions about R."),
            std::string::npos)
      << doc->sections[4].text.substr(0, 400);
  EXPECT_NE(doc->sections[4].text.find("1.1 Legalese"), std::string::npos);
  EXPECT_NE(doc->sections[51].text.find("many many thanks to Robert and Ross for the R system"),
            std::string::npos)
      << doc->sections[51].text.substr(0, 400);
  EXPECT_EQ(doc->sections[4].text.find("Robert and Ross"), std::string::npos);
}

// Page titles against outline destinations read by qpdf (pdf_outline_reference.py): poppler-cpp
// gives the outline's titles but not its pages, so the reader finds each heading in the text.
TEST(ParsePdf, PageTitlesFollowTheOutline) {
  const std::string script =
      std::string(MEMLONG_SOURCE_DIR) + "/tests/core/ingest/parse/pdf_outline_reference.py";
  const std::pair<const char*, double> cases[] = {
      {kRFaq, 1.0},                                           // every page (52/52 when written)
      {"/usr/share/doc/r-doc-pdf/manual/R-intro.pdf", 0.95},  // 112/113 when written
  };
  for (const auto& [pdf, min_agreement] : cases) {
    SCOPED_TRACE(pdf);
    const auto path = package_file(pdf, "r-doc-pdf");
    std::vector<std::string> expected;
    std::istringstream in(parse_test::run_command("python3 '" + script + "' '" + pdf + "'"));
    for (std::string line; std::getline(in, line);) expected.push_back(line);
    ASSERT_FALSE(expected.empty()) << "no reference: install qpdf (scripts/setup)";
    auto doc = parse_document(path);
    ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
    ASSERT_EQ(doc->sections.size(), expected.size());
    size_t n_agree = 0;
    std::string mismatches;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (doc->sections[i].title == expected[i]) {
        ++n_agree;
      } else {
        mismatches += "\n  page " + std::to_string(i + 1) + ": expected '" + expected[i] +
                      "', got '" + doc->sections[i].title + "'";
      }
    }
    EXPECT_GE(static_cast<double>(n_agree), min_agreement * static_cast<double>(expected.size()))
        << n_agree << " of " << expected.size() << " pages agree:" << mismatches;
  }
}

TEST(ParsePdf, LiveManualInfoDictionaryGivesTitleAndAuthor) {
  const auto path = package_file(kLiveManualPdf, "live-manual-pdf");
  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->title, pdfinfo_field(kLiveManualPdf, "Title"));
  EXPECT_EQ(doc->title, "SiSU: - Live Systems Manual");
  EXPECT_EQ(doc->author, "Live Systems Project <debian-live@lists.debian.org>");
  EXPECT_EQ(doc->n_pages, std::stoi(pdfinfo_field(kLiveManualPdf, "Pages")));
}

TEST(ParsePdf, TinySyntheticPdf) {
  auto doc = parse_document(parse_test::fixture("tiny.pdf"));
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->title, "Tiny Secret");
  EXPECT_EQ(doc->author, "Pat Tester");
  EXPECT_EQ(doc->n_pages, 1);
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].text, "Hello from a tiny PDF");
}

}  // namespace
}  // namespace memlong
