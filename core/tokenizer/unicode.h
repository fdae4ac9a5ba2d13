// Unicode helpers for the tokenizers: UTF-8 <-> code points, the character classes the
// pre-tokenizer regexes use (\p{L}, \p{N}, \s) taken from utf8proc, and GPT-2's byte <-> unicode
// mapping for byte-level BPE.
// Thread-safety: pure functions; the lookup tables are built once, thread-safely, on first use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memlong {

// Decodes UTF-8 to code points. An invalid byte becomes the code point 0xDC00 + byte (a lone
// surrogate, never produced by valid UTF-8) so that encoding it back restores the byte exactly.
std::vector<char32_t> utf8_to_cpts(std::string_view text);
// Appends the UTF-8 form of `cpt`; lone-surrogate escapes from utf8_to_cpts become their byte.
void append_utf8(std::string& out, char32_t cpt);
// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for invalid lead bytes).
int utf8_seq_len(uint8_t lead);

// Replaces each invalid UTF-8 sequence (maximal invalid subpart, as Unicode recommends and
// Rust's from_utf8_lossy does) with U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

// Character classes for the regex pre-tokenizers.
enum CpFlags : uint8_t {
  kCpLetter = 1,      // \p{L}
  kCpNumber = 2,      // \p{N}
  kCpWhitespace = 4,  // \s (Unicode White_Space)
};
uint8_t cpt_flags(char32_t cpt);
inline bool is_letter(char32_t c) {
  return cpt_flags(c) & kCpLetter;
}
inline bool is_number(char32_t c) {
  return cpt_flags(c) & kCpNumber;
}
inline bool is_space(char32_t c) {
  return cpt_flags(c) & kCpWhitespace;
}
// Simple lowercase mapping (for case-insensitive contractions).
char32_t to_lower(char32_t cpt);

// GPT-2 byte-level mapping: each byte to a printable code point, and back (-1 if not a byte char).
char32_t byte_to_cpt(uint8_t byte);
int cpt_to_byte(char32_t cpt);
// Byte-level encodes raw bytes into the UTF-8 string of mapped code points.
std::string bytes_to_byte_level(std::string_view bytes);

}  // namespace memlong
