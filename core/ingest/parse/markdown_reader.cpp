// Markdown (CommonMark's common subset): ATX ("## Title") and setext (underlined with === or
// ---) headings start sections; fenced (``` or ~~~) and indented code blocks are kept as
// preformatted paragraphs; list markers and blockquote markers are dropped; inline markup is
// stripped to its text: emphasis, `code`, links -> link text, images -> alt text, autolinks ->
// the URL, inline HTML tags removed, backslash escapes resolved. Reference definitions
// ("[id]: url") are dropped. A leading YAML front matter block may give "title:"/"author:".
#include <cctype>
#include <string_view>
#include <vector>

#include "core/ingest/parse/encoding.h"
#include "core/ingest/parse/normalize.h"
#include "core/ingest/parse/readers.h"

namespace memlong {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

size_t leading_spaces(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[n] == ' ') ++n;
  return n;
}

bool is_punct(char c) {
  return std::ispunct(static_cast<unsigned char>(c)) != 0;
}

// Finds the ']' that closes the '[' at `open`, honouring nesting and escapes.
size_t find_close_bracket(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '[') {
      ++depth;
    } else if (s[i] == ']' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Skips a link destination "(...)" or reference "[...]" right after a ']' at `i`; returns the
// index after it, or `i` when there is none.
size_t skip_link_target(std::string_view s, size_t i) {
  if (i < s.size() && s[i] == '(') {
    int depth = 0;
    for (size_t k = i; k < s.size(); ++k) {
      if (s[k] == '(') ++depth;
      if (s[k] == ')' && --depth == 0) return k + 1;
    }
  } else if (i < s.size() && s[i] == '[') {
    const size_t close = s.find(']', i);
    if (close != std::string_view::npos) return close + 1;
  }
  return i;
}

std::string strip_inline(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && is_punct(s[i + 1])) {
      out += s[i + 1];
      i += 2;
    } else if (c == '`') {
      size_t n_ticks = 0;
      while (i + n_ticks < s.size() && s[i + n_ticks] == '`') ++n_ticks;
      const std::string fence(n_ticks, '`');
      const size_t close = s.find(fence, i + n_ticks);
      if (close == std::string_view::npos) {
        out += fence;
        i += n_ticks;
      } else {
        out.append(trim(s.substr(i + n_ticks, close - i - n_ticks)));  // code: literal
        i = close + n_ticks;
      }
    } else if ((c == '!' && i + 1 < s.size() && s[i + 1] == '[') || c == '[') {
      const size_t open = c == '!' ? i + 1 : i;
      const size_t close = find_close_bracket(s, open);
      if (close == std::string_view::npos) {
        out += c;
        ++i;
        continue;
      }
      const size_t after = skip_link_target(s, close + 1);
      if (c == '!' && after == close + 1) {  // "![x]" without a target is text
        out += c;
        ++i;
        continue;
      }
      out += strip_inline(s.substr(open + 1, close - open - 1));
      i = after;
    } else if (c == '<') {
      const size_t close = s.find('>', i);
      const std::string_view inner =
          close == std::string_view::npos ? std::string_view() : s.substr(i + 1, close - i - 1);
      if (!inner.empty() && inner.find(' ') == std::string_view::npos &&
          (inner.find("://") != std::string_view::npos ||
           inner.find('@') != std::string_view::npos)) {
        out.append(inner.rfind("mailto:", 0) == 0 ? inner.substr(7) : inner);  // autolink
        i = close + 1;
      } else if (!inner.empty() && (std::isalpha(static_cast<unsigned char>(inner[0])) ||
                                    inner[0] == '/' || inner[0] == '!')) {
        i = close + 1;  // inline HTML tag
      } else {
        out += c;
        ++i;
      }
    } else if (c == '*' || c == '~' || c == '_') {
      // Emphasis delimiters; '_' between two word characters (snake_case) is text.
      size_t n = 0;
      while (i + n < s.size() && s[i + n] == c) ++n;
      const bool is_word_before = i > 0 && std::isalnum(static_cast<unsigned char>(s[i - 1]));
      const bool is_word_after =
          i + n < s.size() && std::isalnum(static_cast<unsigned char>(s[i + n]));
      if (c == '_' && is_word_before && is_word_after) {
        out.append(n, c);
      } else if (c == '*' && n == 1 && i + 1 < s.size() && s[i + 1] == ' ' &&
                 (i == 0 || s[i - 1] == ' ')) {
        out += c;  // a lone "*" between spaces is a literal asterisk
      } else if (c == '~' && n == 1) {
        out += c;
      }
      i += n;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

bool is_fence(std::string_view line, std::string_view* fence) {
  const std::string_view t = line.substr(std::min(leading_spaces(line), size_t{3}));
  if (t.size() < 3) return false;
  const char c = t[0];
  if (c != '`' && c != '~') return false;
  size_t n = 0;
  while (n < t.size() && t[n] == c) ++n;
  if (n < 3) return false;
  *fence = t.substr(0, n);
  return true;
}

bool is_rule_of(std::string_view line, char c) {
  line = trim(line);
  if (line.empty()) return false;
  for (char ch : line) {
    if (ch != c) return false;
  }
  return true;
}

bool is_thematic_break(std::string_view line) {
  std::string compact;
  for (char c : line) {
    if (c != ' ' && c != '\t') compact += c;
  }
  return compact.size() >= 3 &&
         (is_rule_of(compact, '-') || is_rule_of(compact, '*') || is_rule_of(compact, '_'));
}

// Strips a list marker ("- ", "* ", "+ ", "12. ", "3) "); returns true when there was one.
bool strip_list_marker(std::string_view* line) {
  const std::string_view t = trim(*line);
  if (t.size() >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
    *line = t.substr(2);
    return true;
  }
  size_t n = 0;
  while (n < t.size() && n < 9 && std::isdigit(static_cast<unsigned char>(t[n]))) ++n;
  if (n > 0 && n + 1 < t.size() && (t[n] == '.' || t[n] == ')') && t[n + 1] == ' ') {
    *line = t.substr(n + 2);
    return true;
  }
  return false;
}

bool is_reference_definition(std::string_view line) {
  const std::string_view t = trim(line);
  if (t.empty() || t[0] != '[') return false;
  const size_t close = t.find("]:");
  return close != std::string_view::npos && close > 1;
}

}  // namespace

Result<ParsedDocument> read_markdown_document(const std::filesystem::path& path,
                                              const std::string& bytes, const ParseLimits& limits) {
  const std::string file = path.string();
  MEMLONG_ASSIGN_OR_RETURN(DecodedText decoded, decode_to_utf8(bytes, file));
  const std::string text = normalize_text(decoded.utf8);
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.emplace_back(text.data() + start, end - start);
    start = end + 1;
  }

  ParsedDocument out;
  out.format = DocumentFormat::kMarkdown;
  out.source_encoding = decoded.encoding;
  size_t i = 0;
  // YAML front matter: "---" on the first line, "---" or "..." closing it.
  if (!lines.empty() && trim(lines[0]) == "---") {
    for (size_t k = 1; k < lines.size() && k < 200; ++k) {
      const std::string_view l = trim(lines[k]);
      if (l == "---" || l == "...") {
        for (size_t m = 1; m < k; ++m) {
          std::string_view kv = lines[m];
          auto value_of = [&](std::string_view key, std::string* dst) {
            if (kv.substr(0, key.size()) != key) return;
            std::string_view v = trim(kv.substr(key.size()));
            if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
              v = v.substr(1, v.size() - 2);
            }
            *dst = std::string(v);
          };
          value_of("title:", &out.title);
          value_of("author:", &out.author);
          value_of("lang:", &out.language);
        }
        i = k + 1;
        break;
      }
    }
  }

  SectionBuilder builder(limits.max_text_bytes);
  std::string first_h1;
  std::string paragraph;  // raw lines of the open paragraph
  auto flush = [&]() {
    if (!paragraph.empty()) builder.add_paragraph(strip_inline(paragraph));
    paragraph.clear();
  };
  auto heading = [&](std::string_view title, int level) {
    flush();
    const std::string stripped = strip_inline(title);
    builder.start_section(stripped, level);
    if (level == 1 && first_h1.empty()) first_h1 = collapse_whitespace(stripped);
  };

  for (; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::string_view fence;
    if (is_fence(line, &fence)) {  // fenced code block, up to the closing fence
      flush();
      std::string code;
      for (++i; i < lines.size(); ++i) {
        std::string_view close;
        if (is_fence(lines[i], &close) && close[0] == fence[0] && close.size() >= fence.size() &&
            trim(lines[i]).size() == close.size()) {
          break;
        }
        code.append(lines[i]);
        code += '\n';
      }
      builder.add_paragraph(code, /*is_preformatted=*/true);
      continue;
    }
    if (trim(line).empty()) {
      flush();
      continue;
    }
    if (paragraph.empty() && (leading_spaces(line) >= 4 || line[0] == '\t')) {
      std::string code;  // indented code block
      for (; i < lines.size(); ++i) {
        const std::string_view l = lines[i];
        if (!trim(l).empty() && leading_spaces(l) < 4 && l[0] != '\t') break;
        code.append(l.substr(l[0] == '\t' ? 1 : std::min(leading_spaces(l), size_t{4})));
        code += '\n';
      }
      --i;
      builder.add_paragraph(code, /*is_preformatted=*/true);
      continue;
    }
    const std::string_view t = trim(line);
    if (t[0] == '#' && leading_spaces(line) < 4) {
      size_t level = 0;
      while (level < t.size() && t[level] == '#') ++level;
      if (level <= 6 && (level == t.size() || t[level] == ' ' || t[level] == '\t')) {
        std::string_view title = trim(t.substr(level));
        while (!title.empty() && title.back() == '#') title.remove_suffix(1);  // closing #s
        heading(trim(title), static_cast<int>(level));
        continue;
      }
    }
    if (!paragraph.empty() && (is_rule_of(line, '=') || is_rule_of(line, '-'))) {
      const std::string title = paragraph;  // setext heading
      paragraph.clear();
      heading(title, is_rule_of(line, '=') ? 1 : 2);
      continue;
    }
    if (is_thematic_break(line)) {
      flush();
      continue;
    }
    if (is_reference_definition(line) && paragraph.empty()) continue;
    std::string_view content = t;
    while (!content.empty() && content[0] == '>') content = trim(content.substr(1));  // quote
    if (strip_list_marker(&content)) flush();  // each list item is its own paragraph
    if (!paragraph.empty()) paragraph += '\n';
    paragraph.append(content);
  }
  flush();
  MEMLONG_ASSIGN_OR_RETURN(out.sections, builder.finish(file));
  out.title = collapse_whitespace(normalize_text(out.title));
  if (out.title.empty()) out.title = first_h1;
  if (out.title.empty()) out.title = title_from_file_name(path);
  return out;
}

}  // namespace memlong
