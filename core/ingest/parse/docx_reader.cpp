// DOCX (Office Open XML): word/document.xml is read paragraph by paragraph (<w:p>, in document
// order, tables included); the text of a paragraph is its <w:t> runs, <w:tab> as a tab and
// <w:br>/<w:cr> as a line break. Paragraph styles Title and Heading1..Heading3 (by style id,
// case and spaces ignored, or an <w:outlineLvl>) start sections; docProps/core.xml gives
// dc:title, dc:creator and dc:language.
#include <cctype>
#include <string_view>

#include "core/ingest/parse/normalize.h"
#include "core/ingest/parse/readers.h"
#include "core/ingest/parse/xml_util.h"
#include "core/ingest/parse/zip_archive.h"

namespace memlong {
namespace {

constexpr int64_t kMaxCorePropsBytes = int64_t{1} << 20;

void append_runs(const xmlNode* node, std::string* out) {
  for (const xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    const std::string_view name = local_name(c);
    if (name == "t") {
      *out += text_content(c);
    } else if (name == "tab") {
      *out += '\t';
    } else if (name == "br" || name == "cr") {
      *out += '\n';
    } else if (name == "pPr" || name == "rPr" || name == "instrText" || name == "delText") {
      continue;  // properties, field codes and deleted text are not content
    } else {
      append_runs(c, out);
    }
  }
}

// 0 for body text, 1.. for a heading level.
int heading_level(const xmlNode* p) {
  const xmlNode* ppr = first_child_element(p, "pPr");
  if (ppr == nullptr) return 0;
  std::string style;
  for (char c : attribute(first_child_element(ppr, "pStyle"), "val")) {
    if (c != ' ') style += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (style == "title") return 1;
  if (style.rfind("heading", 0) == 0 && style.size() == 8 && style[7] >= '1' && style[7] <= '3') {
    return style[7] - '0';
  }
  const std::string outline = attribute(first_child_element(ppr, "outlineLvl"), "val");
  if (outline.size() == 1 && outline[0] >= '0' && outline[0] <= '2') return outline[0] - '0' + 1;
  return 0;
}

void walk_body(const xmlNode* node, SectionBuilder* builder, std::string* first_heading) {
  for (const xmlNode* c = node; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (is_element(c, "p")) {
      std::string text;
      append_runs(c, &text);
      const int level = heading_level(c);
      if (level > 0 && !collapse_whitespace(text).empty()) {
        builder->start_section(text, level);
        if (first_heading->empty()) *first_heading = collapse_whitespace(normalize_text(text));
      } else {
        builder->add_paragraph(text);
      }
      continue;
    }
    walk_body(c->children, builder, first_heading);
  }
}

}  // namespace

Result<ParsedDocument> read_docx_document(const std::filesystem::path& path,
                                          const ParseLimits& limits) {
  const std::string file = path.string();
  MEMLONG_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::open(path, limits));
  MEMLONG_ASSIGN_OR_RETURN(std::string body_bytes, zip.read("word/document.xml"));
  MEMLONG_ASSIGN_OR_RETURN(XmlDocPtr body, parse_xml(body_bytes, file + ": word/document.xml"));
  body_bytes.clear();

  ParsedDocument out;
  out.format = DocumentFormat::kDocx;
  if (zip.contains("docProps/core.xml")) {
    MEMLONG_ASSIGN_OR_RETURN(std::string core_bytes,
                             zip.read("docProps/core.xml", kMaxCorePropsBytes));
    MEMLONG_ASSIGN_OR_RETURN(XmlDocPtr core, parse_xml(core_bytes, file + ": docProps/core.xml"));
    xmlNode* root = xmlDocGetRootElement(core.get());
    auto field = [&](std::string_view name) {
      return collapse_whitespace(normalize_text(text_content(first_child_element(root, name))));
    };
    out.title = field("title");
    out.author = field("creator");
    out.language = field("language");
  }
  const xmlNode* document = xmlDocGetRootElement(body.get());
  const xmlNode* body_node = first_child_element(document, "body");
  if (!is_element(document, "document") || body_node == nullptr) {
    return corrupt(file + ": word/document.xml: expected <w:document><w:body>, found <" +
                   std::string(local_name(document)) + ">");
  }
  SectionBuilder builder(limits.max_text_bytes);
  std::string first_heading;
  walk_body(body_node->children, &builder, &first_heading);
  MEMLONG_ASSIGN_OR_RETURN(out.sections, builder.finish(file));
  if (out.title.empty()) out.title = first_heading;
  if (out.title.empty()) out.title = title_from_file_name(path);
  return out;
}

}  // namespace memlong
