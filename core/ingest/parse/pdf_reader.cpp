// PDF through poppler-cpp: one section per page (section i is page i + 1, empty pages included,
// so page numbers survive), text in poppler's physical layout, blank-line-separated blocks as
// paragraphs. poppler-cpp exposes the outline's titles but not their target pages, so pages are
// not merged into sections; instead each page is titled with the outline entry whose heading
// starts on it (a line of the page equal to the entry's title, optionally after a section
// number), else the entry that runs on from earlier pages. Entries are searched in outline order,
// a few ahead, so a table of contents or a running head cannot move the titles backwards. Title and
// author come from the info dictionary. A PDF that needs a password is Unsupported; one poppler
// cannot open is Corrupt. poppler's own error printing is silenced (it would go to the app's
// stderr).
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>
#include <poppler/cpp/poppler-toc.h>

#include <cctype>
#include <memory>
#include <mutex>
#include <vector>

#include "core/ingest/parse/normalize.h"
#include "core/ingest/parse/readers.h"
#include "core/ingest/parse/source_file.h"

namespace memlong {
void init_pdf_library() {
  static std::once_flag once;
  std::call_once(
      once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

namespace {

// Cap on outline entries looked at (a hostile outline can be huge; real books have hundreds).
constexpr size_t kMaxOutlineEntries = 20000;
// How far ahead in the outline a heading may be found when earlier entries were not (titles
// that wrap over two lines, or that the page text spells differently).
constexpr size_t kOutlineLookahead = 8;

std::string to_utf8(const poppler::ustring& s) {
  const poppler::byte_array bytes = s.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

struct OutlineEntry {
  std::string title;  // normalised, whitespace collapsed
  int32_t level = 1;
};

void flatten_outline(const poppler::toc_item* item, int32_t level, std::vector<OutlineEntry>* out) {
  for (const poppler::toc_item* child : item->children()) {
    if (out->size() >= kMaxOutlineEntries) return;
    std::string title = collapse_whitespace(normalize_text(to_utf8(child->title())));
    if (!title.empty()) out->push_back({std::move(title), level});
    flatten_outline(child, level + 1, out);
  }
}

// True when a line of page text is the heading `title`: equal to it, or preceded by a section
// number ("2", "2.1", "A.3.", "IV"), a word such as "Appendix" or "Chapter", or both.
// Table-of-contents lines ("1 Introduction . . . 5") and running heads ("Chapter 2: R Basics 4")
// are not headings.
bool is_heading_line(std::string_view line, const std::string& title) {
  if (line.size() < title.size() || line.substr(line.size() - title.size()) != title) return false;
  std::string_view prefix = line.substr(0, line.size() - title.size());
  if (prefix.empty()) return true;
  if (prefix.back() != ' ' || prefix.size() > 24) return false;
  prefix.remove_suffix(1);
  bool has_number = false;
  bool has_word = false;
  while (!prefix.empty()) {
    const size_t space = prefix.find(' ');
    const std::string_view word = prefix.substr(0, space);
    prefix = space == std::string_view::npos ? std::string_view() : prefix.substr(space + 1);
    if (word == "Appendix" || word == "Chapter" || word == "Part" || word == "Section") {
      if (has_number || has_word) return false;  // one word, before the number
      has_word = true;
      continue;
    }
    if (word.empty() || has_number) return false;  // one number only
    for (char c : word) {
      if (!std::isdigit(static_cast<unsigned char>(c)) &&
          !std::isupper(static_cast<unsigned char>(c)) && c != '.') {
        return false;
      }
    }
    has_number = true;
  }
  return has_number || has_word;  // "Appendix A A sample session": the letter is in the title
}

}  // namespace

Result<ParsedDocument> read_pdf_document(const std::filesystem::path& path,
                                         const ParseLimits& limits) {
  const std::string file = path.string();
  MEMLONG_ASSIGN_OR_RETURN(const std::string head, read_file_head(path, 1024));
  if (head.find("%PDF-") == std::string::npos) {
    return corrupt(file + ": expected a PDF header (%PDF-) in the first 1024 bytes, found none");
  }
  init_pdf_library();
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(file));
  if (!doc) {
    return corrupt(file + ": poppler cannot open this PDF (damaged or truncated file)");
  }
  if (doc->is_locked()) {
    return unsupported(file +
                       ": the PDF is encrypted and needs a password to open; save an "
                       "unprotected copy to ingest it");
  }
  ParsedDocument out;
  out.format = DocumentFormat::kPdf;
  out.title = collapse_whitespace(normalize_text(to_utf8(doc->info_key("Title"))));
  out.author = collapse_whitespace(normalize_text(to_utf8(doc->info_key("Author"))));
  const int n_pages = doc->pages();
  if (n_pages <= 0) return corrupt(file + ": expected at least one page, found none");
  out.n_pages = n_pages;

  std::vector<OutlineEntry> outline;
  if (std::unique_ptr<poppler::toc> toc(doc->create_toc()); toc && toc->root()) {
    flatten_outline(toc->root(), 1, &outline);
  }
  size_t next_entry = 0;                  // outline entries before it have been found
  const OutlineEntry* current = nullptr;  // the entry whose text runs on

  SectionBuilder builder(limits.max_text_bytes);
  for (int i = 0; i < n_pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    const std::string text =
        page ? normalize_text(to_utf8(page->text(poppler::rectf(), poppler::page::physical_layout)))
             : std::string();
    // Title: the first outline entry whose heading starts on this page, else the one running on.
    const OutlineEntry* first_here = nullptr;
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = collapse_whitespace(std::string_view(text).substr(start, end - start));
      if (!line.empty()) lines.push_back(std::move(line));
      start = end + 1;
    }
    for (size_t l = 0; l < lines.size() && next_entry < outline.size(); ++l) {
      // A long heading wraps: try the line alone, then joined with the next one.
      const std::string joined = l + 1 < lines.size() ? lines[l] + " " + lines[l + 1] : "";
      const size_t last = std::min(outline.size(), next_entry + kOutlineLookahead);
      for (size_t j = next_entry; j < last; ++j) {
        if (!is_heading_line(lines[l], outline[j].title) &&
            (joined.empty() || !is_heading_line(joined, outline[j].title))) {
          continue;
        }
        current = &outline[j];
        if (first_here == nullptr) first_here = current;
        next_entry = j + 1;
        break;
      }
    }
    const OutlineEntry* titled = first_here ? first_here : current;
    builder.start_section(titled ? titled->title : "", titled ? titled->level : 1, i + 1,
                          /*keep_if_empty=*/true);
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
