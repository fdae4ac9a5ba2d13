// Pre-tokenizers for byte-level BPE: split text into words before merging, exactly as the
// regexes that the model families were trained with (hand-written matchers, no std::regex).
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   smollm: every \p{N} is its own piece, then gpt2 inside the rest
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:  llama3 with \p{N} single instead of \p{N}{1,3}
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/status.h"

namespace memlong {

enum class PreTokenizer { kGpt2, kSmolLM, kLlama3, kQwen2 };

// Maps a GGUF `tokenizer.ggml.pre` name ("smollm", "llama-bpe", "gpt2", "default", "qwen2", "")
// to a pre-tokenizer. Unsupported for anything else.
Result<PreTokenizer> pre_tokenizer_from_name(std::string_view name);

// A piece as [begin, end) code point indices.
using CptRange = std::pair<uint32_t, uint32_t>;

// Appends the pieces of cpts[begin, end) to `out`; together they cover the range in order.
void pre_tokenize(PreTokenizer kind, std::span<const char32_t> cpts, uint32_t begin, uint32_t end,
                  std::vector<CptRange>& out);

}  // namespace memlong
