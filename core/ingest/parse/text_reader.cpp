// Plain text: decoded to UTF-8 (encoding.h), Project Gutenberg header read and its licence
// boilerplate stripped, paragraphs split at blank lines, and sections started at chapter
// headings: a paragraph of one short line such as "CHAPTER I", "Chapter 12.", "BOOK ONE",
// "Part 2: The Return", "VOLUME III" or "PROLOGUE". Books, parts and volumes are level 1; chapters
// are level 2 once a book/part/volume heading was seen, else level 1.
#include <array>
#include <cctype>
#include <string_view>
#include <vector>

#include "core/ingest/parse/encoding.h"
#include "core/ingest/parse/normalize.h"
#include "core/ingest/parse/readers.h"

namespace memlong {
namespace {

constexpr size_t kMaxHeadingChars = 80;
constexpr size_t kGutenbergHeaderLines = 400;  // the header sits above the START marker

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool is_roman(std::string_view w) {
  if (w.empty() || w.size() > 9) return false;
  for (char c : w) {
    if (std::string_view("ivxlcdm").find(static_cast<char>(std::tolower(c))) ==
        std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool is_number_word(std::string_view w) {
  static constexpr std::array<std::string_view, 40> kWords = {
      "one",       "two",      "three",    "four",   "five",     "six",      "seven",   "eight",
      "nine",      "ten",      "eleven",   "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
      "seventeen", "eighteen", "nineteen", "twenty", "thirty",   "forty",    "fifty",   "first",
      "second",    "third",    "fourth",   "fifth",  "sixth",    "seventh",  "eighth",  "ninth",
      "tenth",     "eleventh", "twelfth",  "last",   "the",      "hundred",  "sixty",   "seventy"};
  const std::string lw = lower(w);
  for (std::string_view k : kWords) {
    if (lw == k) return true;
  }
  // "twenty-one", "Thirty-Second"
  const size_t dash = lw.find('-');
  return dash != std::string::npos && dash > 0 && is_number_word(lw.substr(0, dash)) &&
         is_number_word(lw.substr(dash + 1));
}

bool is_number_token(std::string_view w) {
  while (!w.empty() && (w.back() == '.' || w.back() == ':' || w.back() == ',')) w.remove_suffix(1);
  if (w.empty()) return false;
  bool all_digits = true;
  for (char c : w) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  return (all_digits && w.size() <= 4) || is_roman(w) || is_number_word(w);
}

enum class HeadingKind { kNone, kPart, kChapter };

// Classifies a one-line paragraph.
HeadingKind classify_heading(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.size() > kMaxHeadingChars) return HeadingKind::kNone;
  const size_t space = line.find_first_of(" \t");
  std::string first = lower(line.substr(0, space));
  while (!first.empty() && (first.back() == '.' || first.back() == ':')) first.pop_back();
  if (space == std::string_view::npos) {
    return (first == "prologue" || first == "epilogue" || first == "preface")
               ? HeadingKind::kChapter
               : HeadingKind::kNone;
  }
  const std::string_view rest = trim(line.substr(space));
  const std::string_view second = rest.substr(0, rest.find_first_of(" \t"));
  if (!is_number_token(second)) return HeadingKind::kNone;
  if (first == "chapter") return HeadingKind::kChapter;
  if (first == "book" || first == "part" || first == "volume") return HeadingKind::kPart;
  return HeadingKind::kNone;
}

// "Title: Emma" -> "Emma" when `line` starts with `key` (case-sensitive, as Gutenberg writes it).
bool header_value(std::string_view line, std::string_view key, std::string* value) {
  if (line.substr(0, key.size()) != key) return false;
  *value = std::string(trim(line.substr(key.size())));
  return !value->empty();
}

}  // namespace

Result<ParsedDocument> read_text_document(const std::filesystem::path& path,
                                          const std::string& bytes, const ParseLimits& limits) {
  const std::string file = path.string();
  MEMLONG_ASSIGN_OR_RETURN(DecodedText decoded, decode_to_utf8(bytes, file));
  const std::string text = normalize_text(decoded.utf8);
  std::vector<std::string_view> lines = split_lines(text);

  ParsedDocument out;
  out.format = DocumentFormat::kText;
  out.source_encoding = decoded.encoding;

  // Project Gutenberg: metadata lines in the header, body between the START and END markers.
  size_t begin = 0;
  size_t end = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = trim(lines[i]);
    if (i < kGutenbergHeaderLines && begin == 0) {
      if (out.title.empty()) header_value(line, "Title:", &out.title);
      if (out.author.empty()) header_value(line, "Author:", &out.author);
      std::string language;
      if (out.language.empty() && header_value(line, "Language:", &language)) {
        out.language = lower(language) == "english" ? "en" : "";
      }
    }
    if (line.rfind("*** START OF", 0) == 0 || line.rfind("***START OF", 0) == 0) {
      if (begin == 0) begin = i + 1;
    } else if ((line.rfind("*** END OF", 0) == 0 || line.rfind("***END OF", 0) == 0) &&
               i >= begin) {
      end = i;
      break;
    }
  }

  SectionBuilder builder(limits.max_text_bytes);
  bool seen_part = false;
  std::string paragraph;
  size_t n_para_lines = 0;
  auto flush = [&]() {
    if (n_para_lines == 0) return;
    const HeadingKind kind = n_para_lines == 1 ? classify_heading(paragraph) : HeadingKind::kNone;
    if (kind == HeadingKind::kPart) {
      seen_part = true;
      builder.start_section(trim(paragraph), 1);
    } else if (kind == HeadingKind::kChapter) {
      builder.start_section(trim(paragraph), seen_part ? 2 : 1);
    } else {
      builder.add_paragraph(paragraph);
    }
    paragraph.clear();
    n_para_lines = 0;
  };
  for (size_t i = begin; i < end; ++i) {
    if (trim(lines[i]).empty()) {
      flush();
      continue;
    }
    if (n_para_lines > 0) paragraph += '\n';
    paragraph.append(lines[i]);
    ++n_para_lines;
  }
  flush();
  MEMLONG_ASSIGN_OR_RETURN(out.sections, builder.finish(file));
  if (out.sections.empty()) {
    return invalid_argument(file + ": expected text, found only whitespace");
  }
  out.title = collapse_whitespace(out.title);
  if (out.title.empty()) out.title = title_from_file_name(path);
  return out;
}

}  // namespace memlong
