// EPUB 2 and 3: META-INF/container.xml names the OPF package; the OPF gives the metadata
// (dc:title, dc:creator, dc:language), the manifest and the spine. Each linear spine item (an
// XHTML content document; items repeating an already-read file, as with fragment-only manifest
// entries, are read once) becomes one section. Its title is the label of the first table-of-
// contents entry pointing into it: the EPUB 3 nav document (<nav epub:type="toc">), else the
// EPUB 2 NCX; else the item's first heading. TOC entries whose target is missing are matched by
// file name when exactly one spine item has that name (some generators write hrefs relative to
// the wrong folder). A table of contents that cannot be read is ignored (it only names chapters).
// Spine items marked linear="no" (auxiliary content; in ubuntu-packaging-guide.epub, the
// translations) are skipped.
//
// Hrefs are resolved against the folder of the file that contains them, percent-decoded, and
// refused when absolute (leading '/', or a scheme such as file:) or when ".." climbs out of the
// archive root. Such a spine item, or one whose file is missing, makes the whole EPUB Corrupt:
// a book with holes would be ingested silently incomplete.
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "core/ingest/parse/html_blocks.h"
#include "core/ingest/parse/normalize.h"
#include "core/ingest/parse/readers.h"
#include "core/ingest/parse/xml_util.h"
#include "core/ingest/parse/zip_archive.h"

namespace memlong {
namespace {

constexpr int64_t kMaxXmlPartBytes = int64_t{64} << 20;  // container, OPF, nav, NCX

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Resolves `href` (relative to `base_dir`, a folder inside the archive ending in '/' or "") to
// an archive path. Fails with a reason when the href is absolute or escapes the root.
Result<std::string> resolve_href(const std::string& base_dir, std::string_view href) {
  const size_t hash = href.find('#');
  if (hash != std::string_view::npos) href = href.substr(0, hash);
  std::string decoded;
  for (size_t i = 0; i < href.size(); ++i) {
    if (href[i] == '%' && i + 2 < href.size() && hex_value(href[i + 1]) >= 0 &&
        hex_value(href[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_value(href[i + 1]) * 16 + hex_value(href[i + 2]));
      i += 2;
    } else {
      decoded += href[i];
    }
  }
  if (decoded.empty()) return invalid_argument("empty href");
  if (decoded.find('\0') != std::string::npos) return invalid_argument("NUL in href");
  if (decoded[0] == '/' || decoded[0] == '\\') return invalid_argument("absolute path");
  const size_t colon = decoded.find(':');
  const size_t first_slash = decoded.find('/');
  if (colon != std::string::npos && (first_slash == std::string::npos || colon < first_slash)) {
    return invalid_argument("absolute URL (has a scheme)");
  }
  std::vector<std::string> parts;
  const std::string joined = base_dir + decoded;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t end = joined.find_first_of("/\\", start);
    if (end == std::string::npos) end = joined.size();
    const std::string seg = joined.substr(start, end - start);
    if (seg == "..") {
      if (parts.empty()) return invalid_argument("escapes the archive root");
      parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    start = end + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  if (out.empty()) return invalid_argument("names no file");
  return out;
}

struct ManifestItem {
  std::string href;
  std::string media_type;
  std::string properties;
};

struct TocEntry {
  std::string label;
  int depth = 1;
};

bool has_token(const std::string& list, std::string_view token) {
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(' ', start);
    if (end == std::string::npos) end = list.size();
    if (std::string_view(list).substr(start, end - start) == token) return true;
    start = end + 1;
  }
  return false;
}

void add_toc_entry(std::map<std::string, TocEntry>* toc, const std::string& base_dir,
                   const std::string& href, const std::string& label, int depth) {
  Result<std::string> target = resolve_href(base_dir, href);
  const std::string text = collapse_whitespace(normalize_text(label));
  if (!target.is_ok() || text.empty()) return;   // the TOC is advisory: a bad entry is ignored
  toc->emplace(*target, TocEntry{text, depth});  // the first entry for a file wins
}

// EPUB 3 nav: <nav epub:type="toc"> ... <ol><li><a href>label</a><ol>...</ol></li></ol>.
void walk_nav(const xmlNode* node, int depth, const std::string& base_dir,
              std::map<std::string, TocEntry>* toc) {
  for (const xmlNode* c = node; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (is_element(c, "a")) {
      add_toc_entry(toc, base_dir, attribute(c, "href"), text_content(c), depth);
      continue;
    }
    walk_nav(c->children, is_element(c, "ol") || is_element(c, "ul") ? depth + 1 : depth, base_dir,
             toc);
  }
}

// EPUB 2 NCX: <navPoint><navLabel><text>label</text></navLabel><content src/> <navPoint>...
void walk_ncx(const xmlNode* node, int depth, const std::string& base_dir,
              std::map<std::string, TocEntry>* toc) {
  for (const xmlNode* c = node; c != nullptr; c = c->next) {
    if (!is_element(c, "navPoint")) continue;
    const xmlNode* label = first_child_element(c, "navLabel");
    const xmlNode* content = first_child_element(c, "content");
    if (label != nullptr && content != nullptr) {
      add_toc_entry(toc, base_dir, attribute(content, "src"),
                    text_content(first_child_element(label, "text")), depth);
    }
    walk_ncx(c->children, depth + 1, base_dir, toc);
  }
}

const xmlNode* find_toc_nav(const xmlNode* node) {
  for (const xmlNode* c = node; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (is_element(c, "nav") &&
        (has_token(attribute(c, "type"), "toc") || attribute(c, "role") == "doc-toc")) {
      return c;
    }
    if (const xmlNode* found = find_toc_nav(c->children)) return found;
  }
  return nullptr;
}

bool is_content_document(const std::string& media_type) {
  return media_type == "application/xhtml+xml" || media_type == "text/html" ||
         media_type == "application/xml" || media_type.empty();
}

}  // namespace

Result<ParsedDocument> read_epub_document(const std::filesystem::path& path,
                                          const ParseLimits& limits) {
  const std::string file = path.string();
  MEMLONG_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::open(path, limits));

  // 1. container.xml -> the OPF package.
  MEMLONG_ASSIGN_OR_RETURN(std::string container_bytes,
                           zip.read("META-INF/container.xml", kMaxXmlPartBytes));
  MEMLONG_ASSIGN_OR_RETURN(XmlDocPtr container,
                           parse_xml(container_bytes, file + ": META-INF/container.xml"));
  const xmlNode* rootfile = find_element(xmlDocGetRootElement(container.get()), "rootfile");
  const std::string opf_href = rootfile ? attribute(rootfile, "full-path") : "";
  if (opf_href.empty()) {
    return corrupt(file +
                   ": META-INF/container.xml: expected a <rootfile full-path=...>, found none");
  }
  Result<std::string> opf_path = resolve_href("", opf_href);
  if (!opf_path.is_ok()) {
    return corrupt(file + ": META-INF/container.xml: rootfile '" + opf_href + "' " +
                   opf_path.status().message());
  }
  MEMLONG_ASSIGN_OR_RETURN(std::string opf_bytes, zip.read(*opf_path, kMaxXmlPartBytes));
  const std::string opf_what = file + ": " + *opf_path;
  MEMLONG_ASSIGN_OR_RETURN(XmlDocPtr opf, parse_xml(opf_bytes, opf_what));
  const std::string opf_dir = dir_of(*opf_path);
  xmlNode* package = xmlDocGetRootElement(opf.get());

  // 2. Metadata.
  ParsedDocument out;
  out.format = DocumentFormat::kEpub;
  if (xmlNode* metadata = find_element(package, "metadata")) {
    auto first_text = [&](std::string_view name) {
      const xmlNode* n = first_child_element(metadata, name);
      return n ? collapse_whitespace(normalize_text(text_content(n))) : std::string();
    };
    out.title = first_text("title");
    out.author = first_text("creator");
    out.language = first_text("language");
  }

  // 3. Manifest and spine.
  std::map<std::string, ManifestItem> manifest;
  xmlNode* manifest_node = find_element(package, "manifest");
  xmlNode* spine_node = find_element(package, "spine");
  if (manifest_node == nullptr || spine_node == nullptr) {
    return corrupt(opf_what + ": expected <manifest> and <spine>, found " +
                   (manifest_node ? "no <spine>" : "no <manifest>"));
  }
  for (xmlNode* c = manifest_node->children; c != nullptr; c = c->next) {
    if (!is_element(c, "item")) continue;
    manifest.emplace(
        attribute(c, "id"),
        ManifestItem{attribute(c, "href"), attribute(c, "media-type"), attribute(c, "properties")});
  }
  struct SpineItem {
    std::string idref;
    std::string path;
  };
  std::vector<SpineItem> spine;
  std::set<std::string> seen;
  for (xmlNode* c = spine_node->children; c != nullptr; c = c->next) {
    if (!is_element(c, "itemref") || attribute(c, "linear") == "no") continue;
    const std::string idref = attribute(c, "idref");
    const auto it = manifest.find(idref);
    if (it == manifest.end()) {
      return corrupt(opf_what + ": spine item '" + idref + "' is not in the manifest");
    }
    if (!is_content_document(it->second.media_type)) continue;
    Result<std::string> item_path = resolve_href(opf_dir, it->second.href);
    if (!item_path.is_ok()) {
      return corrupt(opf_what + ": spine item '" + idref + "' has href '" + it->second.href +
                     "', which is refused: " + item_path.status().message());
    }
    if (!zip.contains(*item_path)) {
      return corrupt(opf_what + ": spine item '" + idref + "' names '" + *item_path +
                     "', which is missing from the archive");
    }
    if (seen.insert(*item_path).second) spine.push_back({idref, *item_path});
  }
  if (spine.empty()) {
    return corrupt(opf_what + ": expected at least one readable spine item, found none");
  }

  // 4. Table of contents: EPUB 3 nav first, else the NCX.
  std::map<std::string, TocEntry> toc;
  for (const auto& [id, item] : manifest) {
    if (!has_token(item.properties, "nav")) continue;
    Result<std::string> nav_path = resolve_href(opf_dir, item.href);
    if (!nav_path.is_ok() || !zip.contains(*nav_path)) break;
    // The TOC only names chapters: when it cannot be read, titles come from the headings.
    Result<std::string> nav_bytes = zip.read(*nav_path, kMaxXmlPartBytes);
    if (!nav_bytes.is_ok()) break;
    Result<XmlDocPtr> nav = parse_html(*nav_bytes, file + ": " + *nav_path);
    if (!nav.is_ok()) break;
    if (const xmlNode* toc_nav = find_toc_nav(xmlDocGetRootElement(nav->get()))) {
      walk_nav(toc_nav->children, 0, dir_of(*nav_path), &toc);
    }
    break;
  }
  if (toc.empty()) {
    std::string ncx_id = attribute(spine_node, "toc");
    for (const auto& [id, item] : manifest) {
      if (!ncx_id.empty() ? id != ncx_id : item.media_type != "application/x-dtbncx+xml") continue;
      Result<std::string> ncx_path = resolve_href(opf_dir, item.href);
      if (!ncx_path.is_ok() || !zip.contains(*ncx_path)) break;
      Result<std::string> ncx_bytes = zip.read(*ncx_path, kMaxXmlPartBytes);
      if (!ncx_bytes.is_ok()) break;
      Result<XmlDocPtr> ncx = parse_xml(*ncx_bytes, file + ": " + *ncx_path);
      if (!ncx.is_ok()) break;
      if (xmlNode* nav_map = find_element(xmlDocGetRootElement(ncx->get()), "navMap")) {
        walk_ncx(nav_map->children, 1, dir_of(*ncx_path), &toc);
      }
      break;
    }
  }
  // Entries aimed at files that do not exist: match by file name when that is unambiguous.
  std::map<std::string, std::vector<std::string>> spine_by_name;
  for (const SpineItem& s : spine) spine_by_name[base_name(s.path)].push_back(s.path);
  std::map<std::string, TocEntry> repaired;
  for (const auto& [target, entry] : toc) {
    if (zip.contains(target)) continue;
    const auto it = spine_by_name.find(base_name(target));
    if (it != spine_by_name.end() && it->second.size() == 1 && toc.count(it->second[0]) == 0) {
      repaired.emplace(it->second[0], entry);
    }
  }
  toc.merge(repaired);

  // 5. Content, in spine order.
  SectionBuilder builder(limits.max_text_bytes);
  for (const SpineItem& item : spine) {
    MEMLONG_ASSIGN_OR_RETURN(std::string bytes, zip.read(item.path));
    MEMLONG_ASSIGN_OR_RETURN(XmlDocPtr doc, parse_html(bytes, file + ": " + item.path));
    const HtmlContent content = extract_html_blocks(doc.get());
    std::string title;
    int level = 1;
    if (const auto it = toc.find(item.path); it != toc.end()) {
      title = it->second.label;
      level = it->second.depth;
    }
    size_t first = 0;
    for (; first < content.blocks.size(); ++first) {
      if (!collapse_whitespace(normalize_text(content.blocks[first].text)).empty()) break;
    }
    if (first < content.blocks.size() && content.blocks[first].heading_level > 0) {
      const std::string heading = collapse_whitespace(normalize_text(content.blocks[first].text));
      if (title.empty()) title = heading;
      if (heading == title) ++first;  // the chapter heading is the title, not body text
    }
    builder.start_section(title, level);
    for (size_t b = first; b < content.blocks.size(); ++b) {
      builder.add_paragraph(content.blocks[b].text, content.blocks[b].is_preformatted);
    }
  }
  MEMLONG_ASSIGN_OR_RETURN(out.sections, builder.finish(file));
  if (out.title.empty() && !out.sections.empty()) out.title = out.sections.front().title;
  if (out.title.empty()) out.title = title_from_file_name(path);
  return out;
}

}  // namespace memlong
