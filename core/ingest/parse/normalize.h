// Text normalisation shared by every format reader, and SectionBuilder, which assembles sections
// from paragraphs so that every reader produces the same shape of text (core/ingest/document.h):
// UTF-8, NFC, LF line ends, no control characters other than '\n' and '\t', whitespace runs
// collapsed inside a paragraph, paragraphs separated by "\n\n".
// Thread-safety: free functions are pure; a SectionBuilder belongs to one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/ingest/document.h"

namespace memlong {

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

// Invalid UTF-8 -> U+FFFD; CRLF and lone CR -> LF; U+FEFF and C0/C1 controls other than '\n' and
// '\t' removed; then NFC (utf8proc).
std::string normalize_text(std::string_view utf8);

// Runs of whitespace (ASCII whitespace, NBSP excluded) become one space; ends trimmed.
std::string collapse_whitespace(std::string_view utf8);

// Collects paragraphs into sections. Text beyond `max_text_bytes` makes finish() fail.
class SectionBuilder {
 public:
  explicit SectionBuilder(int64_t max_text_bytes) : max_text_bytes_(max_text_bytes) {}

  // Starts a new section; the previous one is kept even when its text is empty only if it had a
  // title (a heading-only section such as "VOLUME I" before "CHAPTER I") or `keep_if_empty` is
  // set (PDF pages, so that section i is page i + 1).
  void start_section(std::string_view title, int32_t level, int32_t page = 0,
                     bool keep_if_empty = false);
  // Normalises and appends one paragraph to the current section (a section with an empty title is
  // opened first when none is). A preformatted paragraph (code) keeps its line breaks; others are
  // collapsed to one line. Empty paragraphs are dropped.
  void add_paragraph(std::string_view text, bool is_preformatted = false);
  bool has_open_section() const { return has_open_; }
  // The current section's text so far ("" when none).
  const std::string& current_text() const;

  // The sections; Unsupported naming `file` when the text outgrew max_text_bytes.
  Result<std::vector<DocumentSection>> finish(const std::string& file);

 private:
  void close_section();

  int64_t max_text_bytes_;
  int64_t n_text_bytes_ = 0;
  bool is_over_limit_ = false;
  bool has_open_ = false;
  bool keep_if_empty_ = false;
  DocumentSection current_;
  std::vector<DocumentSection> sections_;
};

}  // namespace memlong
