// Hardened libxml2 parsing and the few DOM helpers the readers share.
//
// Every XML document is parsed with XML_PARSE_NONET (no network), without XML_PARSE_NOENT (no
// entity substitution), XML_PARSE_DTDLOAD or XML_PARSE_HUGE; a document that declares entities
// (<!ENTITY) is refused before parsing, so "billion laughs" never expands. Error output of
// libxml2 is silenced and its last error is turned into a Status. HTML uses libxml2's recovering
// HTML parser with the same network and error settings. Text helpers never expand entity
// references either.
// Thread-safety: free functions, reentrant (libxml2 is initialised once, thread-safely).
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/common/status.h"

namespace memlong {

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// Initialises libxml2 once per process (idempotent, thread-safe). Called by the parse functions.
void init_xml_library();

// `what` names the document in errors ("book.epub: OEBPS/content.opf"). Corrupt when the XML is
// malformed or declares entities.
Result<XmlDocPtr> parse_xml(std::string_view bytes, const std::string& what);
// Never fails on malformed markup (recovers), only when nothing can be parsed at all.
Result<XmlDocPtr> parse_html(std::string_view bytes, const std::string& what);

// The element's name without a namespace prefix ("dc:title" and "title" both give "title").
std::string_view local_name(const xmlNode* node);
bool is_element(const xmlNode* node, std::string_view name);  // by local name
// Attribute by local name, any namespace; "" when absent.
std::string attribute(const xmlNode* node, std::string_view name);
// Concatenated text of all descendant text and CDATA nodes (entity references are skipped).
std::string text_content(const xmlNode* node);
// First element with local name `name` in document order below `node` (node itself included).
xmlNode* find_element(xmlNode* node, std::string_view name);
xmlNode* first_child_element(const xmlNode* node, std::string_view name);

}  // namespace memlong
