// Flattens a parsed HTML/XHTML document into blocks of text in reading order: headings,
// paragraphs and preformatted text. Shared by the HTML and EPUB readers.
// Skipped: script, style, head (except <title>), nav, noscript, template, iframe, object, svg,
// and elements with role="navigation". Block elements (p, div, li, h1-h6, pre, tr, ...) and <br>
// end a paragraph; inline text is concatenated. <img alt> contributes its alt text.
// Thread-safety: pure function of the document.
#pragma once

#include <libxml/tree.h>

#include <string>
#include <vector>

namespace memlong {

struct HtmlBlock {
  int heading_level = 0;  // 1-6 for h1-h6, 0 for body text
  bool is_preformatted = false;
  std::string text;  // raw (not normalised); whitespace collapsing is SectionBuilder's job
};

struct HtmlContent {
  std::string title;  // <title>, "" when absent
  std::vector<HtmlBlock> blocks;
};

HtmlContent extract_html_blocks(xmlDoc* doc);

}  // namespace memlong
