// Tokenizer: text <-> token ids for the model families MemLong Desktop runs.
//
// Implementations: byte-level BPE (GPT-2 style, `core/tokenizer/bpe`) built from GGUF metadata
// (`tokenizer.ggml.model = gpt2`) or a Hugging Face tokenizer.json; SentencePiece through the
// sentencepiece library (`core/tokenizer/spm`) from a tokenizer.model file or rebuilt from GGUF
// metadata (`tokenizer.ggml.model = llama`). VocabData is the format-neutral description that the
// model readers fill in.
// Thread-safety: a built Tokenizer is immutable; encode/decode may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"

namespace memlong {

// Token types as GGUF stores them (tokenizer.ggml.token_type; llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Everything needed to build a tokenizer, whatever file it came from.
struct VocabData {
  std::string model;  // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string pre;    // pre-tokenizer name for BPE: "smollm", "llama3", "gpt2", "qwen2", "default"
  std::vector<std::string> tokens;   // id -> piece (byte-level encoded for BPE)
  std::vector<float> scores;         // SentencePiece scores (may be empty for BPE)
  std::vector<int32_t> token_types;  // TokenType per id (may be empty: all normal)
  std::vector<std::string> merges;   // BPE merges, "a b" in rank order
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  std::vector<int32_t> eog_ids;  // extra end-of-generation ids (e.g. <|im_end|>, <|eot_id|>)
  std::optional<bool> add_bos;   // tokenizer.ggml.add_bos_token, if stated
  std::optional<bool> add_eos;
  std::optional<bool> add_space_prefix;  // SentencePiece "▁" prefix
  // SentencePiece algorithm when rebuilding from pieces: "bpe" (score-ordered merges, what GGUF
  // `llama` vocabularies use and llama.cpp assumes) or "unigram" (Viterbi over scores).
  std::string spm_model_type = "bpe";
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Encodes UTF-8 text. add_bos: prepend BOS when the model wants one (add_bos rule of the
  // vocabulary). parse_special: text such as "<|im_start|>" becomes its special token id rather
  // than being split as plain text (chat templates need this; user documents do not).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos,
                                      bool parse_special) const = 0;

  // The raw bytes a token stands for (byte-level decoded for BPE, "▁" -> " " for SentencePiece).
  // Special/control tokens return their text unless skip_special. Bytes may be an incomplete
  // UTF-8 sequence; streaming callers buffer them.
  virtual std::string token_to_bytes(int32_t id, bool skip_special) const = 0;

  // Decodes ids to UTF-8; invalid sequences become U+FFFD, never an error.
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special) const = 0;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  // True for tokens that end generation (EOS and the template's end-of-turn tokens).
  virtual bool is_end_of_generation(int32_t id) const = 0;
  // True for control / special tokens.
  virtual bool is_special(int32_t id) const = 0;
  // Looks a piece up exactly ("<|im_end|>"); -1 if absent.
  virtual int32_t piece_to_id(std::string_view piece) const = 0;
  // "bpe" or "spm".
  virtual std::string_view kind() const = 0;
};

// Builds the tokenizer described by `vocab` (model "gpt2" -> BPE, "llama" -> SentencePiece).
// Errors: Unsupported for an unknown model or pre-tokenizer, Corrupt for inconsistent data.
Result<std::unique_ptr<Tokenizer>> make_tokenizer(const VocabData& vocab);

// Loads a SentencePiece tokenizer.model file through the sentencepiece library.
Result<std::unique_ptr<Tokenizer>> load_sentencepiece_file(const std::string& path);

// Reads a Hugging Face tokenizer.json (BPE with byte-level pre-tokenizer) into VocabData.
Result<VocabData> vocab_from_tokenizer_json(const std::string& path);

}  // namespace memlong
