// Chunker: cuts a parsed document into the units that become memory entries (MEMLONG.md §3): runs
// of at most E tokens of the model's tokenizer, never crossing a section boundary, each with its
// provenance (section, page, token span in the document, byte span in its section's text).
//
// Invariants (tests check them):
//  1. chunks are in reading order; ordinal i is the i-th chunk; 1 <= n_tokens <= entry_tokens.
//  2. token spans tile the document: chunk i+1 starts where chunk i ends (token_begin of the
//     first chunk is 0), and the document's token count is the last token_end.
//  3. the concatenation of a section's chunk token ids equals the tokenizer's encoding of that
//     section's text (no BOS); byte spans tile the section text and lie on UTF-8 boundaries.
// Thread-safety: a pure function of its inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ingest/document.h"
#include "core/tokenizer/tokenizer.h"

namespace memlong {

struct Chunk {
  int32_t ordinal = 0;
  int32_t section_ordinal = 0;
  int32_t page = 0;
  int64_t token_begin = 0;  // span in the document's token stream
  int64_t token_end = 0;
  int64_t char_begin = 0;  // byte span in sections[section_ordinal].text
  int64_t char_end = 0;
  std::vector<int32_t> tokens;
  std::string text;  // the section text's bytes [char_begin, char_end)
};

struct ChunkerOptions {
  int32_t entry_tokens = 128;  // E
};

std::vector<Chunk> chunk_document(const ParsedDocument& doc, const Tokenizer& tokenizer,
                                  const ChunkerOptions& options);

}  // namespace memlong
