#include "core/tokenizer/unicode.h"

#include <utf8proc.h>

#include <array>

namespace memlong {
namespace {

constexpr char32_t kEscapeBase = 0xDC00;  // invalid byte b -> U+DC00 + b

bool is_white_space_prop(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

uint8_t compute_flags(char32_t c) {
  uint8_t f = 0;
  if (is_white_space_prop(c)) f |= kCpWhitespace;
  if (c > 0x10FFFF) return f;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      f |= kCpLetter;
      break;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      f |= kCpNumber;
      break;
    default:
      break;
  }
  return f;
}

struct BmpTable {
  std::array<uint8_t, 0x10000> flags{};
  BmpTable() {
    for (char32_t c = 0; c < 0x10000; ++c) flags[c] = compute_flags(c);
  }
};

const BmpTable& bmp_table() {
  static const BmpTable table;
  return table;
}

struct ByteMap {
  std::array<char32_t, 256> to_cpt{};
  std::array<int16_t, 512> from_cpt{};  // every mapped code point is below 0x200
  ByteMap() {
    from_cpt.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cpt[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      from_cpt[to_cpt[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

// Length of the valid UTF-8 sequence at s[i..], or 0 when invalid; `max_valid` gets the length of
// the longest valid prefix of an invalid sequence (at least 1).
int valid_seq(std::string_view s, size_t i, int* max_valid) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  *max_valid = 1;
  if (c < 0x80) return 1;
  int len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (int k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    uint8_t t = b(i + k);
    uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (t < l || t > h) return 0;
    *max_valid = k + 1;
  }
  return len;
}

}  // namespace

int utf8_seq_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

std::vector<char32_t> utf8_to_cpts(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    int max_valid = 0;
    int len = valid_seq(text, i, &max_valid);
    auto b = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
    if (len == 0) {
      out.push_back(kEscapeBase + b(i));
      ++i;
      continue;
    }
    char32_t c;
    switch (len) {
      case 1:
        c = b(i);
        break;
      case 2:
        c = ((b(i) & 0x1F) << 6) | (b(i + 1) & 0x3F);
        break;
      case 3:
        c = ((b(i) & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
        break;
      default:
        c = ((b(i) & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) |
            (b(i + 3) & 0x3F);
    }
    out.push_back(c);
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c >= kEscapeBase + 0x80 && c <= kEscapeBase + 0xFF) {
    out.push_back(static_cast<char>(c - kEscapeBase));
  } else if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    int max_valid = 0;
    int len = valid_seq(s, i, &max_valid);
    if (len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      i += max_valid;
    }
  }
  return out;
}

uint8_t cpt_flags(char32_t c) {
  if (c < 0x10000) return bmp_table().flags[c];
  return compute_flags(c);
}

char32_t to_lower(char32_t c) {
  if (c > 0x10FFFF) return c;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

char32_t byte_to_cpt(uint8_t byte) {
  return byte_map().to_cpt[byte];
}

int cpt_to_byte(char32_t cpt) {
  if (cpt >= 512) return -1;
  return byte_map().from_cpt[cpt];
}

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) append_utf8(out, byte_to_cpt(static_cast<uint8_t>(ch)));
  return out;
}

}  // namespace memlong
