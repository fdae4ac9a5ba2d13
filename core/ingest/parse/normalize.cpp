#include "core/ingest/parse/normalize.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace memlong {
namespace {

// Decodes one code point at `i`; returns its length, or 0 when the sequence is invalid.
size_t decode_utf8(std::string_view s, size_t i, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t n = 0;
  char32_t c = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, c = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, c = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, c = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return n;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  char32_t cp = 0;
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = decode_utf8(bytes, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string normalize_text(std::string_view utf8) {
  std::string clean;
  clean.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    size_t n = decode_utf8(utf8, i, &cp);
    if (n == 0) {
      cp = 0xFFFD;
      n = 1;
    }
    i += n;
    if (cp == '\r') {
      if (i < utf8.size() && utf8[i] == '\n') continue;  // CRLF: the LF follows
      cp = '\n';
    }
    if (cp == 0xFEFF) continue;
    if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      continue;
    }
    append_utf8(clean, cp);
  }
  // NFC. utf8proc_map allocates the result with malloc; `clean` is valid UTF-8 by construction.
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n_mapped =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(clean.data()),
                   static_cast<utf8proc_ssize_t>(clean.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n_mapped < 0) return clean;  // only on allocation failure; the text is still clean
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n_mapped));
}

std::string collapse_whitespace(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  for (char c : utf8) {
    if (is_ascii_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

void SectionBuilder::start_section(std::string_view title, int32_t level, int32_t page,
                                   bool keep_if_empty) {
  close_section();
  keep_if_empty_ = keep_if_empty;
  current_ = DocumentSection{};
  current_.title = collapse_whitespace(normalize_text(title));
  current_.level = level < 1 ? 1 : level;
  current_.page = page;
  has_open_ = true;
}

void SectionBuilder::add_paragraph(std::string_view text, bool is_preformatted) {
  if (is_over_limit_) return;
  std::string para = normalize_text(text);
  if (is_preformatted) {
    // Keep the lines; trim their ends and drop blank ones so "\n\n" stays a paragraph break.
    std::string kept;
    size_t start = 0;
    while (start <= para.size()) {
      size_t end = para.find('\n', start);
      if (end == std::string::npos) end = para.size();
      std::string_view line(para.data() + start, end - start);
      while (!line.empty() && is_ascii_space(line.back())) line.remove_suffix(1);
      bool is_blank = true;
      for (char c : line) is_blank = is_blank && is_ascii_space(c);
      if (!is_blank) {
        if (!kept.empty()) kept += '\n';
        kept.append(line);
      }
      start = end + 1;
    }
    para = std::move(kept);
  } else {
    para = collapse_whitespace(para);
  }
  if (para.empty()) return;
  if (!has_open_) start_section("", 1);
  n_text_bytes_ += static_cast<int64_t>(para.size()) + 2;
  if (n_text_bytes_ > max_text_bytes_) {
    is_over_limit_ = true;
    return;
  }
  if (!current_.text.empty()) current_.text += "\n\n";
  current_.text += para;
}

const std::string& SectionBuilder::current_text() const {
  static const std::string kEmpty;
  return has_open_ ? current_.text : kEmpty;
}

void SectionBuilder::close_section() {
  if (!has_open_) return;
  if (keep_if_empty_ || !current_.text.empty() || !current_.title.empty())
    sections_.push_back(std::move(current_));
  has_open_ = false;
}

Result<std::vector<DocumentSection>> SectionBuilder::finish(const std::string& file) {
  close_section();
  if (is_over_limit_) {
    return unsupported(file + ": the extracted text is larger than the limit of " +
                       std::to_string(max_text_bytes_ >> 20) +
                       " MiB (ParseLimits::max_text_bytes); split the document");
  }
  return std::move(sections_);
}

}  // namespace memlong
