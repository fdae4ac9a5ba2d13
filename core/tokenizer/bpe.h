// BpeTokenizer: byte-level BPE (GPT-2 style) as used by SmolLM2, Llama 3, Qwen2 and GPT-2.
//
// Text is cut at special tokens, split into words by the vocabulary's pre-tokenizer, each word's
// bytes are mapped to GPT-2's printable byte alphabet, and adjacent symbols are merged lowest merge
// rank first (leftmost on ties) until no merge applies. Decoding maps the alphabet back to bytes.
// Invariants: every merge kept refers to three tokens of the vocabulary (left, right, left+right).
// Thread-safety: immutable after create(); encode keeps its word cache per call.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/special_tokens.h"
#include "core/tokenizer/tokenizer.h"

namespace memlong {

class BpeTokenizer final : public Tokenizer {
 public:
  // Errors: Unsupported (pre-tokenizer), Corrupt (empty vocabulary, sizes that disagree, ids out
  // of range).
  static Result<std::unique_ptr<BpeTokenizer>> create(const VocabData& vocab);

  std::vector<int32_t> encode(std::string_view text, bool add_bos,
                              bool parse_special) const override;
  std::string token_to_bytes(int32_t id, bool skip_special) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override;
  int32_t n_vocab() const override { return static_cast<int32_t>(tokens_.size()); }
  int32_t bos_id() const override { return bos_id_; }
  int32_t eos_id() const override { return eos_id_; }
  bool is_end_of_generation(int32_t id) const override;
  bool is_special(int32_t id) const override;
  int32_t piece_to_id(std::string_view piece) const override;
  std::string_view kind() const override { return "bpe"; }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  BpeTokenizer() = default;
  // Appends the ids of one pre-tokenized word given as raw bytes.
  void encode_word(std::string_view word_bytes, std::vector<int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::vector<std::string> token_bytes_;  // decoded bytes per id
  std::vector<int32_t> types_;
  std::unordered_map<std::string, int32_t> piece_ids_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left << 32 | right) -> rank, result
  std::array<int32_t, 256> byte_ids_{};
  std::vector<int32_t> eog_ids_;
  SpecialTokenSplitter specials_;
  PreTokenizer pre_ = PreTokenizer::kGpt2;
  bool ignore_merges_ = false;
  bool add_bos_ = false;
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  int32_t unk_id_ = -1;
};

}  // namespace memlong
