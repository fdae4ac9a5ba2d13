// fts5_match_expression (see fts_query.h).
#include "core/store/fts_query.h"

#include <vector>

namespace memlong {

namespace {

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// ASCII letters and digits, or any byte of a multi-byte UTF-8 sequence (letters of other
// scripts; unicode61 decides what is a token inside the quoted string).
bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

}  // namespace

std::string fts5_match_expression(std::string_view text) {
  std::string out;
  size_t n_terms = 0;
  size_t i = 0;
  while (i < text.size() && n_terms < kMaxFtsTerms) {
    while (i < text.size() && is_space(static_cast<unsigned char>(text[i]))) ++i;
    const size_t b = i;
    while (i < text.size() && !is_space(static_cast<unsigned char>(text[i]))) ++i;
    const std::string_view word = text.substr(b, i - b);
    bool has_word_byte = false;
    for (char c : word)
      has_word_byte = has_word_byte || is_word_byte(static_cast<unsigned char>(c));
    if (!has_word_byte) continue;
    if (!out.empty()) out += " OR ";
    out.push_back('"');
    for (char c : word) {
      if (c == '"') out.push_back('"');
      if (c == '\0') continue;  // never pass NUL into the expression
      out.push_back(c);
    }
    out.push_back('"');
    ++n_terms;
  }
  return out;
}

}  // namespace memlong
