#include "core/tokenizer/special_tokens.h"

#include <algorithm>

namespace memlong {

void SpecialTokenSplitter::add(std::string piece, int32_t id, bool always) {
  if (piece.empty()) return;
  entries_.push_back({std::move(piece), id, always});
}

void SpecialTokenSplitter::finish() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.piece.size() > b.piece.size(); });
  for (const Entry& e : entries_) has_first_[static_cast<uint8_t>(e.piece[0])] = true;
}

std::vector<TextFragment> SpecialTokenSplitter::split(std::string_view text,
                                                      bool parse_special) const {
  std::vector<TextFragment> out;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const Entry* hit = nullptr;
    if (has_first_[static_cast<uint8_t>(text[i])]) {
      std::string_view rest = text.substr(i);
      for (const Entry& e : entries_) {
        if ((parse_special || e.always) && rest.starts_with(e.piece)) {
          hit = &e;
          break;
        }
      }
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    if (start < i) out.push_back({text.substr(start, i - start), -1});
    out.push_back({std::string_view(), hit->id});
    i += hit->piece.size();
    start = i;
  }
  if (start < text.size()) out.push_back({text.substr(start), -1});
  return out;
}

}  // namespace memlong
