#include "core/assistant/citations.h"

#include <algorithm>
#include <iterator>
#include <numeric>

namespace memlong {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Frequent English function words: they overlap everywhere and say nothing about relevance.
constexpr std::string_view kStopWords[] = {
    "an",   "and",   "are",   "as",   "at",    "be",   "but",   "by",  "did", "do",  "does", "for",
    "from", "had",   "has",   "have", "he",    "her",  "him",   "his", "how", "in",  "into", "is",
    "it",   "its",   "me",    "my",   "no",    "not",  "of",    "on",  "or",  "she", "so",   "that",
    "the",  "their", "them",  "then", "there", "they", "this",  "to",  "was", "we",  "were", "what",
    "when", "where", "which", "who",  "why",   "with", "would", "you"};

bool is_stop_word(std::string_view w) {
  return std::find(std::begin(kStopWords), std::end(kStopWords), w) != std::end(kStopWords);
}

size_t overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = 0;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++n;
      ++i;
      ++j;
    }
  }
  return n;
}

}  // namespace

std::vector<CitationRank> rank_citations(std::span<const float> retrieval_scores,
                                         std::span<const float> attention_mass,
                                         float attention_weight) {
  const size_t n = retrieval_scores.size();
  std::vector<CitationRank> out(n);
  if (n == 0) return out;
  const bool has_attention =
      attention_mass.size() == n &&
      std::any_of(attention_mass.begin(), attention_mass.end(), [](float a) { return a > 0; });
  const float w = has_attention ? attention_weight : 0.0f;
  const float shift =
      std::min(0.0f, *std::min_element(retrieval_scores.begin(), retrieval_scores.end()));
  double sum = 0;
  for (float r : retrieval_scores) sum += static_cast<double>(r - shift);
  for (size_t i = 0; i < n; ++i) {
    CitationRank& c = out[i];
    c.index = i;
    c.retrieval_share = sum > 0 ? static_cast<float>((retrieval_scores[i] - shift) / sum)
                                : 1.0f / static_cast<float>(n);
    c.attention_mass = has_attention ? attention_mass[i] : 0.0f;
    c.score = (1.0f - w) * c.retrieval_share + w * c.attention_mass;
  }
  std::stable_sort(out.begin(), out.end(), [](const CitationRank& a, const CitationRank& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.retrieval_share != b.retrieval_share) return a.retrieval_share > b.retrieval_share;
    return a.index < b.index;
  });
  return out;
}

std::vector<std::string_view> split_sentences(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  auto emit = [&](size_t end) {
    const std::string_view s = trim(text.substr(start, end - start));
    if (!s.empty()) out.push_back(s);
    start = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' && i + 1 < text.size() && text[i + 1] == '\n') {
      emit(i);  // blank line: paragraph end
      continue;
    }
    if (c != '.' && c != '!' && c != '?') continue;
    size_t j = i + 1;
    while (j < text.size() &&
           (text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']' ||
            text[j] == '.' || text[j] == '!' || text[j] == '?')) {
      ++j;
    }
    if (j == text.size() || is_space(text[j])) {
      emit(j);
      i = j - 1;
    }
  }
  emit(text.size());
  return out;
}

std::vector<std::string> content_words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  auto finish = [&] {
    const bool is_number = !cur.empty() && std::all_of(cur.begin(), cur.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
    if ((cur.size() >= 2 || is_number) && !is_stop_word(cur)) words.push_back(cur);
    cur.clear();
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') {
      cur.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      cur.push_back(ch);  // bytes of non-ASCII letters stay part of the word
    } else {
      finish();
    }
  }
  finish();
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

std::string pick_quote(std::string_view passage, std::string_view answer, std::string_view question,
                       size_t max_chars) {
  const std::vector<std::string_view> sentences = split_sentences(passage);
  if (sentences.empty()) return {};
  const std::vector<std::string> a = content_words(answer), q = content_words(question);
  std::vector<size_t> score(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    const std::vector<std::string> w = content_words(sentences[i]);
    score[i] = 2 * overlap(w, a) + overlap(w, q);
  }
  const size_t best = static_cast<size_t>(std::max_element(score.begin(), score.end()) -
                                          score.begin());  // first of the maxima
  size_t first = best, last = best;
  if (score[best] > 0) {
    // One neighbour may join: the better-scoring one (the next on ties), if it overlaps too.
    const size_t prev_score = best > 0 ? score[best - 1] : 0;
    const size_t next_score = best + 1 < sentences.size() ? score[best + 1] : 0;
    size_t cand = next_score >= prev_score ? best + 1 : best - 1;
    if (std::max(prev_score, next_score) > 0) {
      const size_t lo = std::min(best, cand), hi = std::max(best, cand);
      const size_t len =
          static_cast<size_t>(sentences[hi].data() + sentences[hi].size() - sentences[lo].data());
      if (len <= max_chars) {
        first = lo;
        last = hi;
      }
    }
  }
  std::string_view quote(sentences[first].data(),
                         static_cast<size_t>(sentences[last].data() + sentences[last].size() -
                                             sentences[first].data()));
  std::string out;
  if (quote.size() <= max_chars) {
    out.assign(quote);
  } else {
    size_t cut = max_chars;
    while (cut > 0 && !is_space(quote[cut])) --cut;  // a word boundary (never mid-UTF-8)
    if (cut == 0) {
      cut = max_chars;
      while (cut > 0 && (static_cast<unsigned char>(quote[cut]) & 0xc0) == 0x80) --cut;
    }
    out.assign(trim(quote.substr(0, cut)));
    out += "...";
  }
  // Line breaks inside a quote come from the source's wrapping: show it as one line.
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

}  // namespace memlong
