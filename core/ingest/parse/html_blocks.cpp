#include "core/ingest/parse/html_blocks.h"

#include <array>
#include <cctype>
#include <string_view>

#include "core/ingest/parse/xml_util.h"

namespace memlong {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_skipped(const std::string& name, const xmlNode* node) {
  static constexpr std::array<std::string_view, 12> kSkipped = {
      "script", "style",  "head", "nav",  "noscript", "template",
      "iframe", "object", "svg",  "math", "button",   "label"};
  for (std::string_view s : kSkipped) {
    if (name == s) return true;
  }
  return lower(attribute(node, "role")) == "navigation";
}

bool is_block(const std::string& name) {
  static constexpr std::array<std::string_view, 32> kBlocks = {
      "p",     "div", "section", "article", "aside",   "header",   "footer",     "main",
      "li",    "ul",  "ol",      "dl",      "dt",      "dd",       "blockquote", "pre",
      "table", "tr",  "td",      "th",      "caption", "figure",   "figcaption", "address",
      "hr",    "br",  "body",    "html",    "form",    "fieldset", "details",    "summary"};
  for (std::string_view s : kBlocks) {
    if (name == s) return true;
  }
  return false;
}

class Walker {
 public:
  explicit Walker(HtmlContent* out) : out_(out) {}

  void walk(const xmlNode* node) {
    for (const xmlNode* c = node; c != nullptr; c = c->next) visit(c);
  }

  void flush() {
    if (!current_.empty()) {
      HtmlBlock block;
      block.heading_level = heading_level_;
      block.is_preformatted = pre_depth_ > 0;
      block.text = std::move(current_);
      out_->blocks.push_back(std::move(block));
    }
    current_.clear();
  }

 private:
  void visit(const xmlNode* node) {
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      if (node->content != nullptr) current_ += reinterpret_cast<const char*>(node->content);
      return;
    }
    if (node->type != XML_ELEMENT_NODE) return;
    const std::string name = lower(local_name(node));
    if (name == "title" && out_->title.empty()) {
      out_->title = text_content(node);
      return;
    }
    if (is_skipped(name, node)) return;
    if (name == "img") {
      const std::string alt = attribute(node, "alt");
      if (!alt.empty()) current_ += " " + alt + " ";
      return;
    }
    int level = 0;
    if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6')
      level = name[1] - '0';
    const bool is_pre = name == "pre";
    if (level > 0 || is_pre || is_block(name)) {
      flush();
      const int saved_level = heading_level_;
      if (level > 0) heading_level_ = level;
      if (is_pre) ++pre_depth_;
      for (const xmlNode* c = node->children; c != nullptr; c = c->next) visit(c);
      flush();
      if (is_pre) --pre_depth_;
      heading_level_ = saved_level;
      return;
    }
    for (const xmlNode* c = node->children; c != nullptr; c = c->next) visit(c);
  }

  HtmlContent* out_;
  std::string current_;
  int heading_level_ = 0;
  int pre_depth_ = 0;
};

}  // namespace

HtmlContent extract_html_blocks(xmlDoc* doc) {
  HtmlContent content;
  xmlNode* root = xmlDocGetRootElement(doc);
  if (root == nullptr) return content;
  // The <title> lives in <head>, which the walker skips for body text.
  if (xmlNode* title = find_element(root, "title")) content.title = text_content(title);
  Walker walker(&content);
  walker.walk(root);
  walker.flush();
  return content;
}

}  // namespace memlong
