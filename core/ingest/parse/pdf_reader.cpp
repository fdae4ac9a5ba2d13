// PDF through poppler-cpp: one section per page (section i is page i + 1, empty pages included,
// so page numbers survive), text in poppler's physical layout, blank-line-separated blocks as
// paragraphs. poppler-cpp exposes the outline's titles but not their target pages, so sections
// are not merged by outline. Title and author come from the info dictionary. A PDF that needs a
// password is Unsupported; one poppler cannot open is Corrupt. poppler's own error printing is
// silenced (it would go to the app's stderr).
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <memory>
#include <mutex>

#include "core/ingest/parse/normalize.h"
#include "core/ingest/parse/readers.h"
#include "core/ingest/parse/source_file.h"

namespace memlong {
namespace {

void silence_poppler() {
  static std::once_flag once;
  std::call_once(once, [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  });
}

std::string to_utf8(const poppler::ustring& s) {
  const poppler::byte_array bytes = s.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

Result<ParsedDocument> read_pdf_document(const std::filesystem::path& path,
                                         const ParseLimits& limits) {
  const std::string file = path.string();
  MEMLONG_ASSIGN_OR_RETURN(const std::string head, read_file_head(path, 1024));
  if (head.find("%PDF-") == std::string::npos) {
    return corrupt(file + ": expected a PDF header (%PDF-) in the first 1024 bytes, found none");
  }
  silence_poppler();
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(file));
  if (!doc) {
    return corrupt(file + ": poppler cannot open this PDF (damaged or truncated file)");
  }
  if (doc->is_locked()) {
    return unsupported(file + ": the PDF is encrypted and needs a password to open; save an "
                              "unprotected copy to ingest it");
  }
  ParsedDocument out;
  out.format = DocumentFormat::kPdf;
  out.title = collapse_whitespace(normalize_text(to_utf8(doc->info_key("Title"))));
  out.author = collapse_whitespace(normalize_text(to_utf8(doc->info_key("Author"))));
  const int n_pages = doc->pages();
  if (n_pages <= 0) return corrupt(file + ": expected at least one page, found none");
  out.n_pages = n_pages;

  SectionBuilder builder(limits.max_text_bytes);
  for (int i = 0; i < n_pages; ++i) {
    builder.start_section("", 1, i + 1, /*keep_if_empty=*/true);
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;  // an unreadable page stays an empty section
    const std::string text =
        normalize_text(to_utf8(page->text(poppler::rectf(), poppler::page::physical_layout)));
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find("\n\n", start);
      if (end == std::string::npos) end = text.size();
      builder.add_paragraph(std::string_view(text).substr(start, end - start));
      start = end + 2;
    }
  }
  MEMLONG_ASSIGN_OR_RETURN(out.sections, builder.finish(file));
  if (out.title.empty()) out.title = title_from_file_name(path);
  return out;
}

}  // namespace memlong
