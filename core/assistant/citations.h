// Citations for an answer: which passages to cite first, and which sentence(s) of each to quote.
//
// Ranking formula (documented here, used by the assistant):
//   r'_i   = r_i - min(0, min_j r_j)                (retrieval scores shifted to be >= 0)
//   share_i = r'_i / sum_j r'_j                     (1/n each when all r' are 0)
//   score_i = (1 - w) * share_i + w * a_i           (a_i: attention share, sum_i a_i = 1)
// with w = kAttentionWeight when attention shares are given and not all zero (memory mode), and
// w = 0 otherwise (text mode: retrieval order). Both terms are shares of 1, so w is the weight of
// "what the model attended to" against "what the retriever found". Ties: higher share_i, then the
// lower index (the caller's order).
//
// Quote: the passage's sentence with the highest overlap score
//   2 * |words(sentence) & words(answer)| + |words(sentence) & words(question)|
// over distinct content words (lowercased ASCII letters and digits, other bytes kept; words of
// one letter and a short list of English stop words dropped). Ties go to the earlier sentence. The
// next or previous sentence joins when it also overlaps and the quote stays within max_chars.
// Without any overlap the first sentence is quoted. Quotes longer than max_chars are cut at a
// word boundary and end in "...".
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace memlong {

// Weight of the attention share in the citation score (see above). 0.2: attention reorders only
// passages whose retrieval shares are close. Measured on SmolLM2-135M (qa.h, passage_mass_shares):
// its attention share put the planted passage first 7 of 8 times among 3 short passages, but only
// 1-3 of 10 times among a document's 128-token entries (chance ~2 of 10), so retrieval leads. A
// MemLong-tuned checkpoint whose attention finds the evidence can raise it.
inline constexpr float kAttentionWeight = 0.2f;

struct CitationRank {
  size_t index = 0;              // into the caller's passages
  float retrieval_share = 0.0f;  // share_i
  float attention_mass = 0.0f;   // a_i (0 without attention)
  float score = 0.0f;            // score_i
};

// Ranks passages by the formula above. attention_mass: empty, or one share per passage.
std::vector<CitationRank> rank_citations(std::span<const float> retrieval_scores,
                                         std::span<const float> attention_mass,
                                         float attention_weight = kAttentionWeight);

// Sentences of `text` (views into it), whitespace-trimmed: a sentence ends after '.', '!' or '?'
// (and any closing quotes or brackets) followed by whitespace, or at a blank line.
std::vector<std::string_view> split_sentences(std::string_view text);

// Distinct content words of `text`, sorted.
std::vector<std::string> content_words(std::string_view text);

std::string pick_quote(std::string_view passage, std::string_view answer, std::string_view question,
                       size_t max_chars = 300);

}  // namespace memlong
