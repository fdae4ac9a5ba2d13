// WordPieceTokenizer: BERT's tokenizer from a vocab.txt (one piece per line, id = line number),
// as Hugging Face tokenizers' BertNormalizer + BertPreTokenizer + WordPiece:
//  1. clean: drop NUL, U+FFFD and control characters (category C* except \t \n \r); every
//     whitespace character becomes a space;
//  2. put spaces around CJK ideographs (the CJK Unified Ideograph blocks BERT lists);
//  3. if lowercase: strip accents (NFD, then drop category Mn) and lowercase;
//  4. split on whitespace, and make each punctuation character (ASCII punctuation or category
//     P*) a word of its own;
//  5. each word: greedy longest match first against the vocabulary, continuation pieces prefixed
//     "##"; a word with no full match, or longer than 100 characters, becomes [UNK].
// Unicode properties come from utf8proc. Thread-safety: immutable after creation.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/status.h"

namespace memlong {

class WordPieceTokenizer {
 public:
  // Errors: NotFound, IoError, Corrupt (empty vocabulary, duplicate piece, no [UNK]).
  static Result<std::unique_ptr<WordPieceTokenizer>> from_file(const std::string& vocab_path,
                                                               bool lowercase);
  static Result<std::unique_ptr<WordPieceTokenizer>> from_text(std::string_view vocab_text,
                                                               bool lowercase,
                                                               const std::string& origin);

  // Ids without [CLS] / [SEP].
  std::vector<int32_t> encode(std::string_view text) const;
  // -1 when absent.
  int32_t piece_to_id(std::string_view piece) const;
  int32_t n_vocab() const { return static_cast<int32_t>(pieces_.size()); }

 private:
  std::vector<std::string> pieces_;
  std::unordered_map<std::string, int32_t> ids_;
  int32_t unk_id_ = -1;
  bool lowercase_ = true;
};

}  // namespace memlong
