// ParsedDocument: what a format parser hands to ingestion (issue 4): the document's metadata and
// its text as an ordered list of sections, each with its own provenance (chapter title, heading
// level, page). Text is UTF-8, NFC-normalised, with paragraphs separated by "\n\n" and no
// control characters other than '\n' and '\t'.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace memlong {

enum class DocumentFormat { kText, kMarkdown, kHtml, kEpub, kPdf, kDocx };

struct DocumentSection {
  std::string title;  // chapter / section heading ("" when the format has none)
  int32_t level = 1;  // 1 = chapter, 2 = section, ...
  int32_t page = 0;   // 1-based page where the section's text starts (PDF); 0 when unknown
  std::string text;   // the section's body (headings not repeated inside it)
};

struct ParsedDocument {
  DocumentFormat format = DocumentFormat::kText;
  std::string title;     // from the file's metadata, else the first heading, else the file name
  std::string author;    // "" when unknown
  std::string language;  // BCP 47 tag from the metadata ("en", "ko"), "" when unknown
  std::string source_encoding;  // plain text: the detected encoding ("UTF-8", "WINDOWS-1252", ...)
  int32_t n_pages = 0;          // PDF page count, 0 for other formats
  std::vector<DocumentSection> sections;  // reading order (EPUB spine order)
};

}  // namespace memlong
