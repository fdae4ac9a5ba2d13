// HTML: libxml2's HTML parser (recovering, no network), blocks from html_blocks; h1-h3 start
// sections, h4-h6 stay in the text as paragraphs.
#include "core/ingest/parse/encoding.h"
#include "core/ingest/parse/html_blocks.h"
#include "core/ingest/parse/normalize.h"
#include "core/ingest/parse/readers.h"
#include "core/ingest/parse/xml_util.h"

namespace memlong {

Result<ParsedDocument> read_html_document(const std::filesystem::path& path,
                                          const std::string& bytes, const ParseLimits& limits) {
  const std::string file = path.string();
  std::string utf8_bytes;
  std::string_view input = bytes;
  // UTF-16 HTML is converted first; libxml2 handles UTF-8 and <meta charset> itself.
  if (bytes.size() >= 2 &&
      (bytes.compare(0, 2, "\xFF\xFE") == 0 || bytes.compare(0, 2, "\xFE\xFF") == 0)) {
    MEMLONG_ASSIGN_OR_RETURN(DecodedText decoded, decode_to_utf8(bytes, file));
    utf8_bytes = std::move(decoded.utf8);
    input = utf8_bytes;
  }
  MEMLONG_ASSIGN_OR_RETURN(XmlDocPtr doc, parse_html(input, file));
  const HtmlContent content = extract_html_blocks(doc.get());

  ParsedDocument out;
  out.format = DocumentFormat::kHtml;
  out.title = collapse_whitespace(normalize_text(content.title));
  if (xmlNode* root = xmlDocGetRootElement(doc.get())) {
    out.language = attribute(root, "lang");
  }
  SectionBuilder builder(limits.max_text_bytes);
  std::string first_heading;
  for (const HtmlBlock& block : content.blocks) {
    if (block.heading_level >= 1 && block.heading_level <= 3) {
      builder.start_section(block.text, block.heading_level);
      if (first_heading.empty()) first_heading = collapse_whitespace(normalize_text(block.text));
    } else {
      builder.add_paragraph(block.text, block.is_preformatted);
    }
  }
  MEMLONG_ASSIGN_OR_RETURN(out.sections, builder.finish(file));
  if (out.title.empty()) out.title = first_heading;
  if (out.title.empty()) out.title = title_from_file_name(path);
  return out;
}

}  // namespace memlong
