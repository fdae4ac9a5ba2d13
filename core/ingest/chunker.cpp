#include "core/ingest/chunker.h"

#include <algorithm>

namespace memlong {
namespace {

bool is_char_start(const std::string& text, int64_t offset) {
  if (offset <= 0 || offset >= static_cast<int64_t>(text.size())) return true;
  return (static_cast<unsigned char>(text[static_cast<size_t>(offset)]) & 0xC0) != 0x80;
}

// Moves a byte offset forward to the next UTF-8 character boundary of `text`.
int64_t snap_to_boundary(const std::string& text, int64_t offset) {
  offset = std::clamp<int64_t>(offset, 0, static_cast<int64_t>(text.size()));
  while (!is_char_start(text, offset)) ++offset;
  return offset;
}

// Byte offset in `text` where each token starts, plus the end (size n + 1), non-decreasing.
// Byte-level BPE reproduces the text exactly; SentencePiece adds a leading space and may normalise
// whitespace, so a decoded length that differs from the text is mapped onto it proportionally.
std::vector<int64_t> token_byte_offsets(const std::string& text, const Tokenizer& tokenizer,
                                        const std::vector<int32_t>& ids) {
  std::vector<int64_t> decoded(ids.size() + 1, 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    decoded[i + 1] =
        decoded[i] + static_cast<int64_t>(tokenizer.token_to_bytes(ids[i], true).size());
  }
  const auto n_text = static_cast<int64_t>(text.size());
  int64_t total = decoded.back();
  int64_t shift = 0;
  if (total == n_text + 1 && !ids.empty() && (text.empty() || text[0] != ' ') &&
      tokenizer.token_to_bytes(ids[0], true).starts_with(" ")) {
    shift = 1;  // SentencePiece's dummy prefix
    total -= 1;
  }
  std::vector<int64_t> offsets(ids.size() + 1, 0);
  for (size_t i = 0; i <= ids.size(); ++i) {
    int64_t o = std::max<int64_t>(0, decoded[i] - shift);
    if (total != n_text && total > 0) o = o * n_text / total;
    offsets[i] = std::min(o, n_text);
  }
  offsets.front() = 0;
  offsets.back() = n_text;
  for (size_t i = 1; i < offsets.size(); ++i) offsets[i] = std::max(offsets[i], offsets[i - 1]);
  return offsets;
}

}  // namespace

std::vector<Chunk> chunk_document(const ParsedDocument& doc, const Tokenizer& tokenizer,
                                  const ChunkerOptions& options) {
  const auto E = static_cast<size_t>(std::max(1, options.entry_tokens));
  std::vector<Chunk> chunks;
  int64_t doc_tokens = 0;
  for (size_t s = 0; s < doc.sections.size(); ++s) {
    const DocumentSection& section = doc.sections[s];
    if (section.text.empty()) continue;
    const std::vector<int32_t> ids =
        tokenizer.encode(section.text, /*add_bos=*/false, /*parse_special=*/false);
    if (ids.empty()) continue;
    const std::vector<int64_t> offsets = token_byte_offsets(section.text, tokenizer, ids);
    for (size_t b = 0, e = 0; b < ids.size(); b = e) {
      // A chunk ends where a character ends (byte-level tokens can split a multi-byte character
      // and a chunk's text must be whole characters), unless one token run is all there is.
      e = std::min(ids.size(), b + E);
      while (e < ids.size() && e > b + 1 && !is_char_start(section.text, offsets[e])) --e;
      if (e == b + 1 && !is_char_start(section.text, offsets[e])) e = std::min(ids.size(), b + E);
      Chunk c;
      c.ordinal = static_cast<int32_t>(chunks.size());
      c.section_ordinal = static_cast<int32_t>(s);
      c.page = section.page;
      c.token_begin = doc_tokens + static_cast<int64_t>(b);
      c.token_end = doc_tokens + static_cast<int64_t>(e);
      c.char_begin = snap_to_boundary(section.text, offsets[b]);
      c.char_end = snap_to_boundary(section.text, offsets[e]);
      c.tokens.assign(ids.begin() + static_cast<std::ptrdiff_t>(b),
                      ids.begin() + static_cast<std::ptrdiff_t>(e));
      c.text = section.text.substr(static_cast<size_t>(c.char_begin),
                                   static_cast<size_t>(c.char_end - c.char_begin));
      chunks.push_back(std::move(c));
    }
    doc_tokens += static_cast<int64_t>(ids.size());
  }
  return chunks;
}

}  // namespace memlong
