// detect_format and parse_document: sniff the format, then hand the file to its reader
// (readers.h). Exceptions from third-party code (poppler-cpp, allocation) stop here.
#include "core/ingest/parse.h"

#include <cctype>
#include <new>
#include <stdexcept>

#include "core/ingest/parse/encoding.h"
#include "core/ingest/parse/readers.h"
#include "core/ingest/parse/source_file.h"
#include "core/ingest/parse/zip_archive.h"

namespace memlong {
namespace {

constexpr int64_t kSniffBytes = 8192;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool sniff_html(std::string_view head) {
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  while (!head.empty() && std::isspace(static_cast<unsigned char>(head.front()))) {
    head.remove_prefix(1);
  }
  const std::string h = lower(head.substr(0, 1024));
  if (h.rfind("<!doctype html", 0) == 0 || h.rfind("<html", 0) == 0) return true;
  return (h.rfind("<?xml", 0) == 0 || h.rfind("<!--", 0) == 0) &&
         h.find("<html") != std::string::npos;
}

}  // namespace

const char* document_format_name(DocumentFormat format) {
  switch (format) {
    case DocumentFormat::kText:
      return "text";
    case DocumentFormat::kMarkdown:
      return "markdown";
    case DocumentFormat::kHtml:
      return "html";
    case DocumentFormat::kEpub:
      return "epub";
    case DocumentFormat::kPdf:
      return "pdf";
    case DocumentFormat::kDocx:
      return "docx";
  }
  return "unknown";
}

std::string title_from_file_name(const std::filesystem::path& path) {
  return path.stem().string();
}

Result<DocumentFormat> detect_format(const std::filesystem::path& path, const ParseLimits& limits) {
  const std::string file = path.string();
  MEMLONG_RETURN_IF_ERROR(check_input_file(path, limits.max_file_bytes).status());
  MEMLONG_ASSIGN_OR_RETURN(const std::string head, read_file_head(path, kSniffBytes));
  const std::string ext = lower(path.extension().string());

  if (head.substr(0, 1024).find("%PDF-") != std::string::npos) return DocumentFormat::kPdf;
  if (head.rfind("PK\x03\x04", 0) == 0 || head.rfind("PK\x05\x06", 0) == 0) {
    MEMLONG_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::open(path, limits));
    if (zip.contains("META-INF/container.xml")) return DocumentFormat::kEpub;
    if (zip.contains("mimetype")) {
      Result<std::string> mimetype = zip.read("mimetype", 256);
      if (mimetype.is_ok() && mimetype->rfind("application/epub+zip", 0) == 0) {
        return DocumentFormat::kEpub;
      }
    }
    if (zip.contains("word/document.xml")) return DocumentFormat::kDocx;
    return unsupported(file +
                       ": a zip archive that is neither an EPUB (no META-INF/container.xml) nor "
                       "a DOCX (no word/document.xml)");
  }
  if (ext == ".pdf") {
    return corrupt(file + ": expected a PDF header (%PDF-) in the first 1024 bytes, found none");
  }
  if (ext == ".epub" || ext == ".docx") {
    return corrupt(file + ": expected a zip archive (PK signature) for a " + ext.substr(1) +
                   " file, found other bytes");
  }
  if (ext == ".md" || ext == ".markdown") return DocumentFormat::kMarkdown;
  if (ext == ".html" || ext == ".htm" || ext == ".xhtml") return DocumentFormat::kHtml;
  if (sniff_html(head)) return DocumentFormat::kHtml;
  if (looks_binary(head)) {
    return unsupported(file +
                       ": expected a document (text, Markdown, HTML, EPUB, PDF, DOCX), found "
                       "binary data");
  }
  return DocumentFormat::kText;
}

Result<ParsedDocument> parse_document(const std::filesystem::path& path,
                                      const ParseLimits& limits) {
  const std::string file = path.string();
  try {
    MEMLONG_ASSIGN_OR_RETURN(const DocumentFormat format, detect_format(path, limits));
    switch (format) {
      case DocumentFormat::kEpub:
        return read_epub_document(path, limits);
      case DocumentFormat::kPdf:
        return read_pdf_document(path, limits);
      case DocumentFormat::kDocx:
        return read_docx_document(path, limits);
      case DocumentFormat::kText:
      case DocumentFormat::kMarkdown:
      case DocumentFormat::kHtml:
        break;
    }
    MEMLONG_ASSIGN_OR_RETURN(const std::string bytes, read_input_file(path, limits.max_file_bytes));
    if (format == DocumentFormat::kMarkdown) return read_markdown_document(path, bytes, limits);
    if (format == DocumentFormat::kHtml) return read_html_document(path, bytes, limits);
    return read_text_document(path, bytes, limits);
  } catch (const std::bad_alloc&) {
    return out_of_memory(file + ": ran out of memory while parsing");
  } catch (const std::exception& e) {
    return internal_error(file + ": the parser threw: " + e.what());
  }
}

}  // namespace memlong
