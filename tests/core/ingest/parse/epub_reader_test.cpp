// EPUB: real books from Debian packages (EPUB 2 with an NCX; EPUB 3 with a nav document whose
// hrefs point to the wrong folder) and a small synthetic EPUB 3. Expectations are computed here
// independently of the reader: the archive is read with Python's zipfile and the OPF, NCX and
// nav are scanned with regular expressions instead of libxml2.
#include <map>
#include <regex>
#include <set>
#include <vector>

#include "tests/core/ingest/parse/parse_test_util.h"

namespace memlong {
namespace {

using parse_test::package_file;

const char* const kLiveManual = "/usr/share/doc/live-manual/epub/live-manual.en.epub";
const char* const kPackagingGuide =
    "/usr/share/doc/ubuntu-packaging-guide-epub/ubuntu-packaging-guide.epub";

std::string zip_entry(const std::string& archive, const std::string& entry) {
  return parse_test::run_command(
      "python3 -c 'import sys, zipfile; "
      "sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' '" +
      archive + "' '" + entry + "'");
}

std::string decode_entities(std::string s) {
  const std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + 1)) {
      s.replace(p, std::string(from).size(), to);
    }
  }
  return s;
}

std::string basename_of(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Spine files (fragment dropped, repeats and linear="no" skipped), in order, relative to the OPF.
std::vector<std::string> spine_files(const std::string& opf) {
  std::map<std::string, std::string> hrefs;
  const std::regex item_re(R"re(<item id="([^"]+)" href="([^"#]+)[^"]*")re");
  for (std::sregex_iterator it(opf.begin(), opf.end(), item_re), end; it != end; ++it) {
    hrefs[(*it)[1]] = (*it)[2];
  }
  std::vector<std::string> files;
  const std::regex ref_re(R"re(<itemref idref="([^"]+)"([^>]*)>)re");
  for (std::sregex_iterator it(opf.begin(), opf.end(), ref_re), end; it != end; ++it) {
    if (std::string((*it)[2]).find("linear=\"no\"") != std::string::npos) continue;
    const std::string f = hrefs.at((*it)[1]);
    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  }
  return files;
}

TEST(ParseEpub, LiveManualMetadataSpineAndNcxTitles) {
  const auto path = package_file(kLiveManual, "live-manual-epub");
  const std::string opf = zip_entry(kLiveManual, "OEBPS/content.opf");
  const std::string ncx = zip_entry(kLiveManual, "OEBPS/toc.ncx");
  ASSERT_FALSE(opf.empty());
  ASSERT_FALSE(ncx.empty());
  const std::vector<std::string> files = spine_files(opf);
  std::map<std::string, std::string> label_of;  // first NCX label per file
  const std::regex nav_re(
      R"re(<navLabel>\s*<text>([^<]*)</text>\s*</navLabel>\s*<content src="([^"#]+)[^"]*")re");
  for (std::sregex_iterator it(ncx.begin(), ncx.end(), nav_re), end; it != end; ++it) {
    label_of.emplace((*it)[2], decode_entities((*it)[1]));
  }
  std::vector<std::string> expected;
  for (const auto& f : files) expected.push_back(label_of.count(f) ? label_of[f] : "?");
  ASSERT_EQ(expected.size(), 47u);

  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->format, DocumentFormat::kEpub);
  EXPECT_EQ(doc->title, "Live Systems Manual");
  EXPECT_EQ(doc->author, "Live Systems Project <debian-live@lists.debian.org>");
  EXPECT_EQ(doc->language, "en");
  std::vector<std::string> titles;
  for (const auto& s : doc->sections) titles.push_back(s.title);
  EXPECT_EQ(titles, expected);
  // Spot checks: the chapter "4. The basics" carries its own text (from the-basics.xhtml).
  const auto it = std::find(titles.begin(), titles.end(), "4. The basics");
  ASSERT_NE(it, titles.end());
  const std::string& basics = doc->sections[it - titles.begin()].text;
  EXPECT_NE(basics.find("lb config"), std::string::npos) << basics.substr(0, 500);
  EXPECT_EQ(basics.find("<p"), std::string::npos);
}

TEST(ParseEpub, PackagingGuideNavLabelsInSpineOrder) {
  const auto path = package_file(kPackagingGuide, "ubuntu-packaging-guide-epub");
  const std::string opf = zip_entry(kPackagingGuide, "content.opf");
  const std::string nav = zip_entry(kPackagingGuide, "nav.xhtml");
  ASSERT_FALSE(opf.empty());
  ASSERT_FALSE(nav.empty());
  const std::vector<std::string> files = spine_files(opf);
  ASSERT_EQ(files.size(), 17u);  // the English chapters; translations are linear="no"
  // nav.xhtml's hrefs lack the "ubuntu-packaging-guide/" folder: match labels by file name.
  std::map<std::string, std::string> label_of;
  const std::regex a_re(R"re(<a href="([^"#]+)[^"]*">([^<]*)</a>)re");
  for (std::sregex_iterator it(nav.begin(), nav.end(), a_re), end; it != end; ++it) {
    label_of.emplace(basename_of((*it)[1]), decode_entities((*it)[2]));
  }
  std::vector<std::string> expected;
  for (const auto& f : files) expected.push_back(label_of.at(basename_of(f)));
  EXPECT_EQ(expected.front(), "Ubuntu Packaging Guide");
  EXPECT_EQ(expected.back(), "KDE Packaging");

  auto doc = parse_document(path);
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->title, "Ubuntu Packaging Guide");
  EXPECT_EQ(doc->author, "Ubuntu Developers");
  EXPECT_EQ(doc->language, "en");
  std::vector<std::string> titles;
  for (const auto& s : doc->sections) titles.push_back(s.title);
  EXPECT_EQ(titles, expected);
  // "Getting Set Up" (third in the spine) explains GPG keys; Sphinx's navigation bar is skipped.
  ASSERT_GE(doc->sections.size(), 3u);
  EXPECT_NE(doc->sections[2].text.find("GPG"), std::string::npos);
  EXPECT_EQ(doc->sections[2].text.find("Navigation"), std::string::npos);
}

TEST(ParseEpub, SyntheticEpub3NavDecodedHrefsAndHeadingFallback) {
  auto doc = parse_document(parse_test::fixture("mini.epub"));
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  EXPECT_EQ(doc->title, "Mini Book");
  EXPECT_EQ(doc->author, "Eve Author");
  EXPECT_EQ(doc->language, "fr");
  ASSERT_EQ(doc->sections.size(), 3u);
  // "text/chapter%201.xhtml" in the OPF and nav is the entry "text/chapter 1.xhtml".
  EXPECT_EQ(doc->sections[0].title, "The Beginning");
  EXPECT_EQ(doc->sections[0].level, 1);
  EXPECT_EQ(doc->sections[0].text, "Chapter One\n\nIl était une fois.");
  EXPECT_EQ(doc->sections[1].title, "The Middle");  // its heading equals the label: not repeated
  EXPECT_EQ(doc->sections[1].text, "Then things happened.\n\nA Detail\n\nSmall but important.");
  EXPECT_EQ(doc->sections[2].title, "Unlisted End");  // not in the nav: first heading
  EXPECT_EQ(doc->sections[2].text, "The end.");
}

TEST(ParseEpub, UnreadableTocFallsBackToHeadings) {
  auto doc = parse_document(parse_test::fixture("bad_toc.epub"));
  ASSERT_TRUE(doc.is_ok()) << doc.status().to_string();
  ASSERT_EQ(doc->sections.size(), 3u);
  EXPECT_EQ(doc->sections[0].title, "Chapter One");
  EXPECT_EQ(doc->sections[0].text, "Il était une fois.");
  EXPECT_EQ(doc->sections[1].title, "The Middle");
  EXPECT_EQ(doc->sections[2].title, "Unlisted End");
}

}  // namespace
}  // namespace memlong
