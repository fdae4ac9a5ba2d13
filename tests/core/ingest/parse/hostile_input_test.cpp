// Hostile and broken inputs: each gives the documented Status code and a message naming the
// file, both in process and through the isolated child (whose parent must survive).
#include <random>

#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

using parse_test::fixture;
using parse_test::ScratchDir;

struct HostileCase {
  std::filesystem::path path;
  StatusCode code;
  std::string message_part;  // besides the file name
  ParseLimits limits;
};

void expect_failure(const HostileCase& c) {
  SCOPED_TRACE(c.path.string());
  for (const bool is_isolated : {false, true}) {
    SCOPED_TRACE(is_isolated ? "isolated" : "in process");
    auto doc =
        is_isolated ? parse_document_isolated(c.path, c.limits) : parse_document(c.path, c.limits);
    ASSERT_FALSE(doc.is_ok());
    EXPECT_EQ(doc.status().code(), c.code) << doc.status().to_string();
    EXPECT_NE(doc.status().message().find(c.path.string()), std::string::npos)
        << doc.status().to_string();
    EXPECT_NE(doc.status().message().find(c.message_part), std::string::npos)
        << doc.status().to_string();
  }
}

TEST(ParseHostile, EpubHrefsEscapingOrMissingAreRefused) {
  expect_failure({fixture("traversal.epub"),
                  StatusCode::kCorrupt,
                  "href '../../../etc/passwd', which is refused: escapes the archive root",
                  {}});
  expect_failure(
      {fixture("traversal_encoded.epub"), StatusCode::kCorrupt, "escapes the archive root", {}});
  expect_failure({fixture("absolute.epub"), StatusCode::kCorrupt, "absolute path", {}});
  expect_failure({fixture("file_url.epub"), StatusCode::kCorrupt, "absolute URL", {}});
  expect_failure({fixture("missing_item.epub"),
                  StatusCode::kCorrupt,
                  "'OPS/text/not-there.xhtml', which is missing from the archive",
                  {}});
}

TEST(ParseHostile, MalformedXmlAndBillionLaughs) {
  expect_failure(
      {fixture("malformed_opf.epub"), StatusCode::kCorrupt, "OPS/book.opf: malformed XML", {}});
  expect_failure({fixture("billion_laughs.epub"), StatusCode::kCorrupt, "<!ENTITY", {}});
  expect_failure({fixture("billion_laughs.docx"), StatusCode::kCorrupt, "<!ENTITY", {}});
}

TEST(ParseHostile, ZipBombsByRatioAndByTotal) {
  expect_failure({fixture("bomb_ratio.epub"), StatusCode::kCorrupt, "zip bomb", {}});
  ParseLimits small_total;
  small_total.max_uncompressed_bytes = int64_t{1} << 20;
  expect_failure(
      {fixture("bomb_total.epub"), StatusCode::kCorrupt, "max_uncompressed_bytes", small_total});
  ParseLimits few_entries;
  few_entries.max_entries = 10;
  expect_failure({fixture("bomb_total.epub"), StatusCode::kCorrupt, "max_entries", few_entries});
}

TEST(ParseHostile, EncryptedAndBrokenPdf) {
  expect_failure({fixture("encrypted.pdf"), StatusCode::kUnsupported, "encrypted", {}});
  expect_failure({fixture("truncated.pdf"), StatusCode::kCorrupt, "poppler cannot open", {}});
  ScratchDir dir;
  expect_failure({dir.write("not-a.pdf", "just some words, no PDF header at all\n"),
                  StatusCode::kCorrupt,
                  "%PDF-",
                  {}});
  expect_failure({dir.write("not-a.epub", "plain text pretending to be an EPUB\n"),
                  StatusCode::kCorrupt,
                  "expected a zip archive",
                  {}});
}

TEST(ParseHostile, BinaryJunkEmptyMissingAndHugeFiles) {
  ScratchDir dir;
  std::mt19937 rng(1234);
  std::string junk(64 * 1024, '\0');
  for (char& c : junk) c = static_cast<char>(rng() & 0xFF);
  expect_failure({dir.write("junk.txt", junk), StatusCode::kUnsupported, "binary data", {}});
  expect_failure({dir.write("empty.txt", ""), StatusCode::kInvalidArgument, "empty", {}});
  expect_failure({dir.path() / "does-not-exist.txt", StatusCode::kNotFound, "no such file", {}});
  expect_failure({dir.path(), StatusCode::kIoError, "not a regular file", {}});

  // A sparse file one byte over the default 1 GiB limit: refused from its size, never read.
  const auto huge = dir.path() / "huge.txt";
  std::ofstream(huge).put('x');
  std::filesystem::resize_file(huge, ParseLimits{}.max_file_bytes + 1);
  expect_failure({huge, StatusCode::kUnsupported, "max_file_bytes", {}});
}

TEST(ParseHostile, TextOverTheExtractedTextLimit) {
  ParseLimits limits;
  limits.max_text_bytes = 100 * 1024;
  expect_failure(
      {parse_test::book("persuasion.txt"), StatusCode::kUnsupported, "max_text_bytes", limits});
}

TEST(ParseHostile, TruncatedArchivesAreCorrupt) {
  ScratchDir dir;
  for (const char* name : {"mini.epub", "sample.docx"}) {
    const std::string bytes = parse_test::read_all(fixture(name));
    const auto cut = dir.write(std::string("cut-") + name, bytes.substr(0, bytes.size() / 2));
    expect_failure({cut, StatusCode::kCorrupt, "zip", {}});
  }
}

// Damaged copies of every fixture format: whatever the parser makes of them, the isolated parse
// returns a result or a Status naming the file, and this process carries on.
TEST(ParseHostile, ByteFlipsNeverTakeTheParentDown) {
  ScratchDir dir;
  std::mt19937 rng(99);
  int n_failed = 0;
  for (const char* name : {"mini.epub", "sample.docx", "tiny.pdf", "sample.html", "sample.md"}) {
    const std::string original = parse_test::read_all(fixture(name));
    for (int trial = 0; trial < 6; ++trial) {
      std::string bytes = original;
      for (int k = 0; k < 8; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
      const auto path = dir.write(std::to_string(trial) + "-" + name, bytes);
      auto doc = parse_document_isolated(path);
      if (!doc.is_ok()) {
        ++n_failed;
        EXPECT_NE(doc.status().code(), StatusCode::kInternal) << doc.status().to_string();
        EXPECT_NE(doc.status().message().find(path.string()), std::string::npos)
            << doc.status().to_string();
      }
    }
  }
  EXPECT_GT(n_failed, 0);  // damaged zips fail their CRC checks
}

}  // namespace
}  // namespace memlong
