// Normalisation and encoding helpers (core/ingest/parse/normalize.h, encoding.h), checked against
// hand-written expectations.
#include "core/ingest/parse/normalize.h"

#include <gtest/gtest.h>

#include "core/ingest/parse/encoding.h"

namespace memlong {
namespace {

TEST(ParseNormalize, InvalidUtf8ControlsNewlinesAndNfc) {
  EXPECT_TRUE(is_valid_utf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xE2\x82"));       // truncated
  // Bad byte -> U+FFFD; CRLF and CR -> LF; BOM, BEL, DEL and C1 (U+0085) dropped; tab kept;
  // "A" + combining ring (U+030A) -> U+00C5.
  EXPECT_EQ(normalize_text("\xEF\xBB\xBFx\xFFy\r\nz\rw\x07\x7F\xC2\x85\tA\xCC\x8A"),
            "x\xEF\xBF\xBDy\nz\nw\t\xC3\x85");
  EXPECT_EQ(collapse_whitespace("  a \t\n b\n\n  c  "), "a b c");
  EXPECT_EQ(collapse_whitespace("no\xC2\xA0"
                                "break"),
            "no\xC2\xA0"
            "break");  // NBSP kept
}

TEST(ParseNormalize, SectionBuilderParagraphsAndLimit) {
  SectionBuilder b(1000);
  b.add_paragraph("  front   matter ");  // opens an untitled section
  b.start_section("  Chapter\n One ", 1);
  b.add_paragraph("first\nline");
  b.add_paragraph("   ");  // dropped
  b.add_paragraph("code:\n  indented  \n\n\nend", /*is_preformatted=*/true);
  b.start_section("", 2);  // empty and untitled: dropped
  b.start_section("Empty but titled", 2);
  auto sections = b.finish("f");
  ASSERT_TRUE(sections.is_ok());
  ASSERT_EQ(sections->size(), 3u);
  EXPECT_EQ((*sections)[0].text, "front matter");
  EXPECT_EQ((*sections)[1].title, "Chapter One");
  EXPECT_EQ((*sections)[1].text, "first line\n\ncode:\n  indented\nend");
  EXPECT_EQ((*sections)[2].title, "Empty but titled");
  EXPECT_EQ((*sections)[2].level, 2);

  SectionBuilder small(10);
  small.add_paragraph("0123456789abcdef");
  auto over = small.finish("big.txt");
  ASSERT_FALSE(over.is_ok());
  EXPECT_EQ(over.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(over.status().message().find("big.txt"), std::string::npos);
}

TEST(ParseEncoding, BomsBinaryAndConversion) {
  auto be = decode_to_utf8(std::string("\xFE\xFF\x00h\x00\xE9", 6), "f");
  ASSERT_TRUE(be.is_ok());
  EXPECT_EQ(be->encoding, "UTF-16BE");
  EXPECT_EQ(be->utf8, "h\xC3\xA9");
  auto bom8 = decode_to_utf8("\xEF\xBB\xBFok", "f");
  ASSERT_TRUE(bom8.is_ok());
  EXPECT_EQ(bom8->utf8, "ok");
  EXPECT_TRUE(looks_binary(std::string("text\0more", 9)));
  EXPECT_FALSE(looks_binary("ordinary text\twith tabs\r\n"));
  auto bad = decode_to_utf8(std::string("ab\0cd", 5), "junk.bin");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(bad.status().message().find("junk.bin"), std::string::npos);
  // An invalid byte in the source encoding becomes U+FFFD instead of failing the document.
  auto sjis = convert_to_utf8(
      "a\x81"
      "b",
      "UTF-8", "f");
  ASSERT_TRUE(sjis.is_ok());
  EXPECT_EQ(*sjis,
            "a\xEF\xBF\xBD"
            "b");
  auto unknown = convert_to_utf8("x", "NO-SUCH-CHARSET", "f.txt");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace memlong
