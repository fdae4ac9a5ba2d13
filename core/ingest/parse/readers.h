// The per-format readers behind parse_document (core/ingest/parse.h). Each takes the path (for
// messages and for formats that open the file themselves) and the limits, and returns a complete
// ParsedDocument (format, metadata, sections) or a Status naming the file.
// Thread-safety: reentrant.
#pragma once

#include <filesystem>
#include <string>

#include "core/common/status.h"
#include "core/ingest/document.h"
#include "core/ingest/parse.h"

namespace memlong {

// text_reader.cpp: encoding detection, Gutenberg header/boilerplate, chapter headings.
Result<ParsedDocument> read_text_document(const std::filesystem::path& path,
                                          const std::string& bytes, const ParseLimits& limits);
// markdown_reader.cpp: ATX/setext headings, inline markup stripped, code kept.
Result<ParsedDocument> read_markdown_document(const std::filesystem::path& path,
                                              const std::string& bytes, const ParseLimits& limits);
// html_reader.cpp: h1-h3 start sections; <title> is the title.
Result<ParsedDocument> read_html_document(const std::filesystem::path& path,
                                          const std::string& bytes, const ParseLimits& limits);
// epub_reader.cpp: OPF metadata, spine order, nav/NCX chapter titles.
Result<ParsedDocument> read_epub_document(const std::filesystem::path& path,
                                          const ParseLimits& limits);
// pdf_reader.cpp: one section per page (poppler-cpp).
Result<ParsedDocument> read_pdf_document(const std::filesystem::path& path,
                                         const ParseLimits& limits);
// docx_reader.cpp: word/document.xml paragraphs, heading styles, docProps/core.xml.
Result<ParsedDocument> read_docx_document(const std::filesystem::path& path,
                                          const ParseLimits& limits);

// Silences poppler's error printing once per process (pdf_reader.cpp); see init_xml_library.
void init_pdf_library();

// A file's name without its directory and extension, the title of last resort.
std::string title_from_file_name(const std::filesystem::path& path);

}  // namespace memlong
