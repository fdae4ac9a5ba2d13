#include "core/tokenizer/pre_tokenizer.h"

#include <string>

#include "core/tokenizer/unicode.h"

namespace memlong {
namespace {

bool is_lnsp(char32_t c) {
  return cpt_flags(c) & (kCpLetter | kCpNumber | kCpWhitespace);
}
bool is_nl(char32_t c) {
  return c == '\r' || c == '\n';
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
uint32_t contraction_len(std::span<const char32_t> c, uint32_t i, uint32_t end, bool ignore_case) {
  if (c[i] != '\'' || i + 1 >= end) return 0;
  auto low = [&](uint32_t k) { return ignore_case ? to_lower(c[k]) : c[k]; };
  char32_t a = low(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 < end) {
    char32_t b = low(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  return 0;
}

// \s+(?!\S)|\s+ at i (c[i] is whitespace).
uint32_t whitespace_len(std::span<const char32_t> c, uint32_t i, uint32_t end) {
  uint32_t k = i;
  while (k < end && is_space(c[k])) ++k;
  if (k < end && k - i > 1) return k - i - 1;  // leave the last space to the next word
  return k - i;
}

void split_gpt2(std::span<const char32_t> c, uint32_t begin, uint32_t end,
                std::vector<CptRange>& out) {
  uint32_t i = begin;
  while (i < end) {
    uint32_t len = contraction_len(c, i, end, false);
    if (len == 0) {
      uint32_t j = i + (c[i] == ' ' ? 1 : 0);
      if (j < end && is_letter(c[j])) {
        while (j < end && is_letter(c[j])) ++j;
        len = j - i;
      } else if (j < end && is_number(c[j])) {
        while (j < end && is_number(c[j])) ++j;
        len = j - i;
      } else if (j < end && !is_lnsp(c[j])) {
        while (j < end && !is_lnsp(c[j])) ++j;
        len = j - i;
      } else if (is_space(c[i])) {
        len = whitespace_len(c, i, end);
      } else {
        len = 1;  // unreachable: every code point falls in one class
      }
    }
    out.emplace_back(i, i + len);
    i += len;
  }
}

void split_llama3(std::span<const char32_t> c, uint32_t begin, uint32_t end, uint32_t max_digits,
                  std::vector<CptRange>& out) {
  uint32_t i = begin;
  while (i < end) {
    uint32_t len = contraction_len(c, i, end, true);
    if (len == 0) {
      char32_t ch = c[i];
      // [^\r\n\p{L}\p{N}]?\p{L}+
      uint32_t j = i;
      if (!is_nl(ch) && !is_letter(ch) && !is_number(ch)) ++j;
      if (j < end && is_letter(c[j])) {
        while (j < end && is_letter(c[j])) ++j;
        len = j - i;
      }
    }
    if (len == 0 && is_number(c[i])) {  // \p{N}{1,max}
      uint32_t j = i;
      while (j < end && j - i < max_digits && is_number(c[j])) ++j;
      len = j - i;
    }
    if (len == 0) {  //  ?[^\s\p{L}\p{N}]+[\r\n]*
      uint32_t j = i + (c[i] == ' ' ? 1 : 0);
      if (j < end && !is_lnsp(c[j])) {
        while (j < end && !is_lnsp(c[j])) ++j;
        while (j < end && is_nl(c[j])) ++j;
        len = j - i;
      }
    }
    if (len == 0 && is_space(c[i])) {
      // \s*[\r\n]+ : up to and including the last newline of the whitespace run.
      uint32_t k = i, last_nl = end;
      while (k < end && is_space(c[k])) {
        if (is_nl(c[k])) last_nl = k;
        ++k;
      }
      len = last_nl != end ? last_nl + 1 - i : whitespace_len(c, i, end);
    }
    if (len == 0) len = 1;  // unreachable
    out.emplace_back(i, i + len);
    i += len;
  }
}

}  // namespace

Result<PreTokenizer> pre_tokenizer_from_name(std::string_view name) {
  if (name == "smollm") return PreTokenizer::kSmolLM;
  if (name == "gpt2" || name == "gpt-2" || name == "default" || name.empty()) {
    return PreTokenizer::kGpt2;
  }
  if (name == "llama3" || name == "llama-bpe" || name == "llama-v3") return PreTokenizer::kLlama3;
  if (name == "qwen2") return PreTokenizer::kQwen2;
  return unsupported("pre-tokenizer '" + std::string(name) +
                     "' is not supported (known: smollm, gpt2, default, llama3, llama-bpe, qwen2)");
}

void pre_tokenize(PreTokenizer kind, std::span<const char32_t> cpts, uint32_t begin, uint32_t end,
                  std::vector<CptRange>& out) {
  switch (kind) {
    case PreTokenizer::kGpt2:
      split_gpt2(cpts, begin, end, out);
      break;
    case PreTokenizer::kSmolLM: {
      uint32_t start = begin;
      for (uint32_t i = begin; i < end; ++i) {
        if (!is_number(cpts[i])) continue;
        if (start < i) split_gpt2(cpts, start, i, out);
        out.emplace_back(i, i + 1);
        start = i + 1;
      }
      if (start < end) split_gpt2(cpts, start, end, out);
      break;
    }
    case PreTokenizer::kLlama3:
      split_llama3(cpts, begin, end, 3, out);
      break;
    case PreTokenizer::kQwen2:
      split_llama3(cpts, begin, end, 1, out);
      break;
  }
}

}  // namespace memlong
