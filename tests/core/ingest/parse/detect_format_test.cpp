// detect_format: magic bytes beat extensions; HTML is sniffed; binary data is refused.
#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

using parse_test::fixture;
using parse_test::ScratchDir;

TEST(ParseDetectFormat, FixturesAndRealBooks) {
  const std::pair<std::filesystem::path, DocumentFormat> cases[] = {
      {fixture("sample.md"), DocumentFormat::kMarkdown},
      {fixture("sample.html"), DocumentFormat::kHtml},
      {fixture("sample.docx"), DocumentFormat::kDocx},
      {fixture("mini.epub"), DocumentFormat::kEpub},
      {fixture("tiny.pdf"), DocumentFormat::kPdf},
      {fixture("latin1.txt"), DocumentFormat::kText},
      {fixture("utf16le_bom.txt"), DocumentFormat::kText},
      {parse_test::book("emma.txt"), DocumentFormat::kText},
  };
  for (const auto& [path, format] : cases) {
    auto got = detect_format(path);
    ASSERT_TRUE(got.is_ok()) << path << ": " << got.status().to_string();
    EXPECT_EQ(*got, format) << path << " detected as " << document_format_name(*got);
  }
}

TEST(ParseDetectFormat, MagicBeatsTheExtension) {
  ScratchDir dir;
  const auto pdf_as_txt = dir.write("really-a-pdf.txt", parse_test::read_all(fixture("tiny.pdf")));
  const auto epub_as_bin = dir.write("book.bin", parse_test::read_all(fixture("mini.epub")));
  const auto docx_as_zip = dir.write("doc.zip", parse_test::read_all(fixture("sample.docx")));
  const auto html_as_txt = dir.write("page.txt", "\xEF\xBB\xBF  <!DOCTYPE html><p>x</p>");
  EXPECT_EQ(*detect_format(pdf_as_txt), DocumentFormat::kPdf);
  EXPECT_EQ(*detect_format(epub_as_bin), DocumentFormat::kEpub);
  EXPECT_EQ(*detect_format(docx_as_zip), DocumentFormat::kDocx);
  EXPECT_EQ(*detect_format(html_as_txt), DocumentFormat::kHtml);
  // And the reader follows the detected format, not the name.
  auto doc = parse_document(pdf_as_txt);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->format, DocumentFormat::kPdf);
  EXPECT_EQ(doc->n_pages, 1);
}

TEST(ParseDetectFormat, ZipThatIsNeitherEpubNorDocxIsUnsupported) {
  const auto path = fixture("plain.zip");
  auto got = detect_format(path);
  ASSERT_FALSE(got.is_ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnsupported) << got.status().to_string();
  EXPECT_NE(got.status().message().find(path.string()), std::string::npos);
  EXPECT_NE(got.status().message().find("neither an EPUB"), std::string::npos)
      << got.status().to_string();
}

}  // namespace
}  // namespace memlong
