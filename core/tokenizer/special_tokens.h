// SpecialTokenSplitter: cuts text at special-token pieces ("<|im_start|>") so that they become
// single ids. Control tokens are recognised only when the caller asks (parse_special); user-defined
// tokens always are (as llama.cpp and Hugging Face do). At each position the longest piece wins.
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memlong {

struct TextFragment {
  std::string_view text;  // plain text when id < 0
  int32_t id = -1;        // special token id, else -1
};

class SpecialTokenSplitter {
 public:
  // `always` tokens are matched even when parse_special is false.
  void add(std::string piece, int32_t id, bool always);
  // Sorts the pieces; call once after the last add().
  void finish();
  std::vector<TextFragment> split(std::string_view text, bool parse_special) const;

 private:
  struct Entry {
    std::string piece;
    int32_t id;
    bool always;
  };
  std::vector<Entry> entries_;  // longest first
  bool has_first_[256] = {};
};

}  // namespace memlong
