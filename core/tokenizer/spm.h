// SpmTokenizer: SentencePiece tokenizers (Llama 1/2, Mistral, Gemma) through the sentencepiece
// library, loaded from a tokenizer.model file or rebuilt from GGUF pieces, scores and types.
//
// The rebuilt model is a serialized ModelProto written here by hand (the library ships no
// protobuf headers): identity normalisation, "▁" for spaces, the dummy prefix when the vocabulary
// asks for it, and byte fallback when all 256 <0xNN> pieces exist.
// Ownership: owns its SentencePieceProcessor. Thread-safety: immutable after creation; the
// library's Encode is const and safe to call concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/special_tokens.h"
#include "core/tokenizer/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace memlong {

// Builds the serialized SentencePiece ModelProto for `vocab` (model "llama").
// Errors: Corrupt when sizes disagree or no unknown piece exists.
Result<std::string> build_spm_model_proto(const VocabData& vocab);

class SpmTokenizer final : public Tokenizer {
 public:
  ~SpmTokenizer() override;
  static Result<std::unique_ptr<SpmTokenizer>> from_file(const std::string& path);
  static Result<std::unique_ptr<SpmTokenizer>> from_vocab(const VocabData& vocab);

  std::vector<int32_t> encode(std::string_view text, bool add_bos,
                              bool parse_special) const override;
  std::string token_to_bytes(int32_t id, bool skip_special) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override;
  int32_t n_vocab() const override { return static_cast<int32_t>(pieces_.size()); }
  int32_t bos_id() const override { return bos_id_; }
  int32_t eos_id() const override { return eos_id_; }
  bool is_end_of_generation(int32_t id) const override;
  bool is_special(int32_t id) const override;
  int32_t piece_to_id(std::string_view piece) const override;
  std::string_view kind() const override { return "spm"; }

 private:
  SpmTokenizer();
  // Loads the serialized proto and fills the tables. `vocab` (may be null) overrides ids/types.
  Status init(std::string_view serialized, const VocabData* vocab, const std::string& origin);

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::vector<std::string> pieces_;
  std::vector<int32_t> types_;
  std::vector<int32_t> eog_ids_;
  SpecialTokenSplitter specials_;
  bool add_bos_ = true;
  bool add_dummy_prefix_ = true;
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
};

}  // namespace memlong
