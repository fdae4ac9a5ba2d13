// Turns free user text into a safe FTS5 MATCH expression: each whitespace-separated word becomes
// a quoted string (embedded quotes doubled), so FTS5 operators and syntax characters in the text
// (AND, OR, NOT, NEAR, *, ^, :, parentheses, quotes) are matched literally, never parsed. Words
// with no letter or digit are dropped; the rest are OR'ed (BM25 ranks chunks that hold more of
// them first). At most kMaxFtsTerms words are kept.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace memlong {

inline constexpr size_t kMaxFtsTerms = 32;

// "" when the text has no searchable word.
std::string fts5_match_expression(std::string_view user_text);

}  // namespace memlong
