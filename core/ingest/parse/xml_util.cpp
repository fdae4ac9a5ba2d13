#include "core/ingest/parse/xml_util.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include <cctype>
#include <climits>
#include <mutex>

#include "core/ingest/parse/normalize.h"

namespace memlong {
namespace {

struct ParserCtxtFree {
  void operator()(xmlParserCtxt* ctxt) const { xmlFreeParserCtxt(ctxt); }
};
struct HtmlCtxtFree {
  void operator()(htmlParserCtxt* ctxt) const { htmlFreeParserCtxt(ctxt); }
};

std::string last_error(xmlParserCtxt* ctxt) {
  const xmlError* err = xmlCtxtGetLastError(ctxt);
  if (err == nullptr || err->message == nullptr) return "unknown XML error";
  std::string msg = err->message;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return "line " + std::to_string(err->line) + ": " + msg;
}

void append_text(const xmlNode* node, std::string& out) {
  for (const xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
      if (c->content != nullptr) out += reinterpret_cast<const char*>(c->content);
    } else if (c->type == XML_ELEMENT_NODE) {
      append_text(c, out);
    }
    // XML_ENTITY_REF_NODE is skipped: expanding it is how entity bombs explode.
  }
}

}  // namespace

void init_xml_library() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

Result<XmlDocPtr> parse_xml(std::string_view bytes, const std::string& what) {
  init_xml_library();
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return corrupt(what + ": XML part larger than 2 GiB");
  }
  if (bytes.find("<!ENTITY") != std::string_view::npos) {
    return corrupt(what +
                   ": expected plain XML, found entity declarations (<!ENTITY); refused "
                   "because they can expand without bound");
  }
  std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(xmlNewParserCtxt());
  if (!ctxt) return out_of_memory(what + ": cannot allocate an XML parser");
  constexpr int kOptions =
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  XmlDocPtr doc(xmlCtxtReadMemory(ctxt.get(), bytes.data(), static_cast<int>(bytes.size()), nullptr,
                                  nullptr, kOptions));
  if (!doc || !ctxt->wellFormed) {
    return corrupt(what + ": malformed XML (" + last_error(ctxt.get()) + ")");
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) {
    return corrupt(what + ": expected an XML document, found no root element");
  }
  return doc;
}

Result<XmlDocPtr> parse_html(std::string_view bytes, const std::string& what) {
  init_xml_library();
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return corrupt(what + ": HTML part larger than 2 GiB");
  }
  std::unique_ptr<htmlParserCtxt, HtmlCtxtFree> ctxt(htmlNewParserCtxt());
  if (!ctxt) return out_of_memory(what + ": cannot allocate an HTML parser");
  constexpr int kOptions = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                           HTML_PARSE_RECOVER | HTML_PARSE_NOIMPLIED;
  // libxml2 assumes Latin-1 unless a <meta charset> says otherwise; bytes that are well-formed
  // UTF-8 are UTF-8 (a legacy 8-bit text with accents is almost never valid UTF-8), otherwise
  // libxml2 follows the document's own declaration.
  const bool is_utf8 = is_valid_utf8(bytes);
  XmlDocPtr doc(htmlCtxtReadMemory(ctxt.get(), bytes.data(), static_cast<int>(bytes.size()),
                                   nullptr, is_utf8 ? "UTF-8" : nullptr, kOptions));
  if (!doc || xmlDocGetRootElement(doc.get()) == nullptr) {
    return corrupt(what + ": expected HTML, found nothing parseable (" + last_error(ctxt.get()) +
                   ")");
  }
  return doc;
}

std::string_view local_name(const xmlNode* node) {
  if (node == nullptr || node->name == nullptr) return {};
  std::string_view name(reinterpret_cast<const char*>(node->name));
  const size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool is_element(const xmlNode* node, std::string_view name) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && local_name(node) == name;
}

std::string attribute(const xmlNode* node, std::string_view name) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE) return {};
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    std::string_view an(reinterpret_cast<const char*>(a->name));
    const size_t colon = an.rfind(':');  // the HTML parser keeps "epub:type" as one name
    if (colon != std::string_view::npos) an = an.substr(colon + 1);
    if (an != name) continue;
    std::string value;
    for (const xmlNode* c = a->children; c != nullptr; c = c->next) {
      if (c->type == XML_TEXT_NODE && c->content != nullptr) {
        value += reinterpret_cast<const char*>(c->content);
      }
    }
    return value;
  }
  return {};
}

std::string text_content(const xmlNode* node) {
  std::string out;
  if (node != nullptr) append_text(node, out);
  return out;
}

xmlNode* find_element(xmlNode* node, std::string_view name) {
  if (node == nullptr) return nullptr;
  if (is_element(node, name)) return node;
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (xmlNode* found = find_element(c, name)) return found;
  }
  return nullptr;
}

xmlNode* first_child_element(const xmlNode* node, std::string_view name) {
  if (node == nullptr) return nullptr;
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (is_element(c, name)) return c;
  }
  return nullptr;
}

}  // namespace memlong
