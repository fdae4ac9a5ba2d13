// Plain text: encodings, Gutenberg header and boilerplate, chapter headings on a real novel.
#include <regex>
#include <sstream>
#include <vector>

#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

using parse_test::book;
using parse_test::fixture;
using parse_test::read_all;
using parse_test::ScratchDir;

// Independent reference: heading lines found by a regex over the raw file, requiring a blank
// line (or the file edge) on both sides.
std::vector<std::string> heading_lines(const std::string& text, const std::regex& re) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<std::string> found;
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool blank_before = i == 0 || lines[i - 1].empty();
    const bool blank_after = i + 1 == lines.size() || lines[i + 1].empty();
    if (blank_before && blank_after && std::regex_match(lines[i], re)) found.push_back(lines[i]);
  }
  return found;
}

TEST(ParseText, PersuasionChaptersMatchAnIndependentScan) {
  const auto path = book("persuasion.txt");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const auto expected = heading_lines(read_all(path), std::regex("Chapter [0-9]+"));
  ASSERT_GE(expected.size(), 20u);  // the novel has 24 chapters
  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->format, DocumentFormat::kText);
  EXPECT_EQ(doc->source_encoding, "UTF-8");
  EXPECT_EQ(doc->title, "persuasion");  // no Gutenberg header: the file name
  std::vector<std::string> titles;
  for (const auto& s : doc->sections) {
    if (s.title.rfind("Chapter", 0) == 0) titles.push_back(s.title);
  }
  EXPECT_EQ(titles, expected);
  // Front matter first, then Chapter 1 whose body starts with the novel's first sentence.
  ASSERT_GE(doc->sections.size(), 2u);
  EXPECT_EQ(doc->sections[0].title, "");
  EXPECT_NE(doc->sections[0].text.find("Jane Austen"), std::string::npos);
  EXPECT_EQ(doc->sections[1].title, "Chapter 1");
  EXPECT_EQ(
      doc->sections[1].text.rfind("Sir Walter Elliot, of Kellynch Hall, in Somersetshire,", 0), 0u);
  // Lines of a paragraph are joined with single spaces; paragraphs by "\n\n".
  EXPECT_NE(doc->sections[1].text.find("was a man who, for his own amusement, never took up any "
                                       "book but the Baronetage;"),
            std::string::npos);
  EXPECT_NE(doc->sections[1].text.find("\n\n"), std::string::npos);
}

TEST(ParseText, EmmaVolumesAreLevelOneAndChaptersLevelTwo) {
  const auto path = book("emma.txt");
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const std::string raw = read_all(path);
  const auto chapters = heading_lines(raw, std::regex("CHAPTER [IVXLC]+"));
  const auto volumes = heading_lines(raw, std::regex("VOLUME [IVX]+"));
  ASSERT_EQ(chapters.size(), 55u);  // grep -c '^CHAPTER' emma.txt
  ASSERT_EQ(volumes.size(), 3u);
  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  std::vector<std::string> got_chapters, got_volumes;
  for (const auto& s : doc->sections) {
    if (s.title.rfind("CHAPTER", 0) == 0) {
      got_chapters.push_back(s.title);
      EXPECT_EQ(s.level, 2) << s.title;
      EXPECT_FALSE(s.text.empty()) << s.title;
    } else if (s.title.rfind("VOLUME", 0) == 0) {
      got_volumes.push_back(s.title);
      EXPECT_EQ(s.level, 1) << s.title;
    }
  }
  EXPECT_EQ(got_chapters, chapters);
  EXPECT_EQ(got_volumes, volumes);
}

TEST(ParseText, GutenbergHeaderGivesMetadataAndBoilerplateIsStripped) {
  auto doc = parse_document(fixture("gutenberg.txt"));
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->title, "A Tiny Tale");
  EXPECT_EQ(doc->author, "Ann Example");
  EXPECT_EQ(doc->language, "en");
  ASSERT_EQ(doc->sections.size(), 2u);
  EXPECT_EQ(doc->sections[0].title, "CHAPTER I.");
  EXPECT_EQ(doc->sections[0].text, "It was a dark night. The wind blew.");
  EXPECT_EQ(doc->sections[1].title, "CHAPTER II.");
  EXPECT_EQ(doc->sections[1].text, "Morning came at last.");
  EXPECT_EQ(parse_test::all_text(*doc).find("license"), std::string::npos);
  EXPECT_EQ(parse_test::all_text(*doc).find("Title:"), std::string::npos);
}

struct EncodingCase {
  const char* file;
  std::vector<std::string> encodings;  // acceptable detector answers
  const char* expected_text;           // UTF-8, written here independently of the fixture
};

TEST(ParseText, LegacyEncodingsDecodeToTheRightText) {
  const EncodingCase cases[] = {
      {"latin1.txt",
       {"ISO-8859-1", "WINDOWS-1252", "ISO-8859-15"},
       "Les élèves français étaient très fâchés: « Où est le garçon? » demanda l'hôtesse."},
      {"cp1252.txt",
       {"WINDOWS-1252"},
       "\u201cSmart quotes\u201d cost \u20ac5 \u2014 or so the na\u00efve caf\u00e9 owner said "
       "\u2018twice\u2019."},
      {"utf16le_bom.txt", {"UTF-16LE"}, "Grüße aus Köln — Ελληνικά και 日本語のテキスト."},
      {"euckr.txt",
       {"EUC-KR", "UHC", "CP949"},
       "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고,"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto doc = parse_document(fixture(c.file));
    ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
    EXPECT_NE(std::find(c.encodings.begin(), c.encodings.end(), doc->source_encoding),
              c.encodings.end())
        << "detected " << doc->source_encoding;
    ASSERT_FALSE(doc->sections.empty());
    EXPECT_NE(doc->sections[0].text.find(c.expected_text), std::string::npos)
        << doc->sections[0].text.substr(0, 200);
    EXPECT_EQ(doc->sections[0].text.find("\xEF\xBF\xBD"), std::string::npos);  // no U+FFFD
  }
}

TEST(ParseText, NormalisesToNfcLfAndDropsControlCharacters) {
  ScratchDir dir;
  // "e" + combining acute (NFD), CRLF line ends, a bell and a NUL-free escape sequence, a tab
  // run inside a paragraph.
  const auto path = dir.write("nfd.txt",
                              "Cafe\xCC\x81 au lait\r\nsecond\x07 line\t\t here\r\n\r\n"
                              "Next paragraph.\r\n");
  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  ASSERT_EQ(doc->sections.size(), 1u);
  EXPECT_EQ(doc->sections[0].text, "Caf\xC3\xA9 au lait second line here\n\nNext paragraph.");
}

}  // namespace
}  // namespace memlong
