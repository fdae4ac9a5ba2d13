// BertEncoder: the forward pass of a BERT / XLM-R style post-LN encoder, pooled to one vector per
// sequence (MEMLONG.md §4 retriever). Used by the E5S1 embedder (Q4_0 weights) and by Hugging Face
// folders (F32 / F16 / BF16 weights).
//
// Legend: T = tokens of all sequences in a call, packed back to back (no padding); H = hidden;
// F = ffn; n_head heads of head_dim = H / n_head; L_s = length of sequence s.
//   x = LayerNorm(word[id] + pos[position_offset + i] + type[0])        x: [T, H]
//   per layer: q, k, v = x Wq^T + bq, ...                                [T, H] each
//              attention per sequence and head, bidirectional, softmax(q k^T / sqrt(head_dim)) v,
//              restricted to the sequence's own tokens (packing replaces a padding mask)
//              x = LayerNorm(x + ctx Wao^T + bao)
//              x = LayerNorm(x + GELU_erf(x Wfi^T + bfi) Wfo^T + bfo)   GELU_erf(u) = u/2 (1 +
//              erf(u/√2))
//   pooled_s = mean over the L_s tokens of x (specials included, as sentence-transformers'
//              attention-mask mean) or x at the sequence's first token (CLS); then L2-normalised.
// Matrices are [n_out, n_in] in storage order (nn.Linear's weight).
// Runs on a Backend (core/backend/backend.h): get_rows + add for the embeddings, layer_norm,
// matmul_multi (q/k/v share one activation conversion), encoder_attention (all packed sequences
// in one call), gelu_erf, pool_sequences, l2_normalize. On the CPU backend the result is bit for
// bit that of the earlier host-only encoder (same quant::matmul_rows products on activations
// converted to the weight type's vec_dot_type, same loops); on CUDA it follows that backend's
// precision (docs/GPU.md).
// Ownership: create() makes the weights usable on the backend (the CPU backend uses the caller's
// bytes in place: keep the map or buffers alive; CUDA copies them), borrows the backend (it must
// outlive the encoder), and encode() keeps its activation buffers on the backend between calls
// (grown to the largest batch seen).
// Thread-safety: encode() from one thread at a time (the backend's driving thread).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/backend/backend.h"
#include "core/common/dtype.h"
#include "core/common/status.h"

namespace memlong {

struct BertMatrix {
  DType dtype = DType::kF32;
  const uint8_t* data = nullptr;  // row r at data + r * row_bytes
  size_t row_bytes = 0;
  int64_t n_rows = 0;
  int64_t n_cols = 0;
};

struct BertLayer {
  BertMatrix q, k, v, attn_out, ffn_in, ffn_out;
  const float *q_b = nullptr, *k_b = nullptr, *v_b = nullptr, *attn_out_b = nullptr;
  const float *ffn_in_b = nullptr, *ffn_out_b = nullptr;
  const float *attn_ln_w = nullptr, *attn_ln_b = nullptr, *out_ln_w = nullptr, *out_ln_b = nullptr;
};

struct BertConfig {
  int32_t hidden = 0;
  int32_t n_layers = 0;
  int32_t n_heads = 0;
  int32_t ffn = 0;
  int32_t vocab = 0;
  int32_t max_pos = 0;          // rows of the position table
  int32_t position_offset = 0;  // row of the first token (XLM-R in HF: padding_idx + 1 = 2)
  float eps = 1e-12f;
};

enum class Pooling { kMean, kCls };

struct BertWeights {
  BertMatrix word, pos, type;  // [vocab, H], [max_pos, H], [type_vocab, H]
  const float *emb_ln_w = nullptr, *emb_ln_b = nullptr;
  std::vector<BertLayer> layers;
};

class BertEncoder {
 public:
  // Checks shapes and dtypes, then uploads the weights to `backend`. Errors: Corrupt (shape
  // mismatch), Unsupported (dtype, or one the backend cannot compute with), OutOfMemory.
  static Result<BertEncoder> create(const BertConfig& config, const BertWeights& weights,
                                    Backend& backend);

  BertEncoder(BertEncoder&&) = default;
  BertEncoder& operator=(BertEncoder&&) = default;

  const BertConfig& config() const { return config_; }
  Backend& backend() const { return *backend_; }
  // Longest sequence encode() accepts: max_pos - position_offset.
  int32_t max_tokens() const { return config_.max_pos - config_.position_offset; }

  // ids: all sequences back to back; seq_offsets: n_seq + 1 offsets into ids (increasing, each
  // sequence 1..max_tokens() long, ids inside the vocabulary: asserted). out: [n_seq, H] (host).
  // Errors: the backend's (OutOfMemory for the activations, a GPU execution error).
  Status encode(std::span<const int32_t> ids, std::span<const int64_t> seq_offsets, Pooling pooling,
                float* out);

 private:
  struct Layer {
    WeightHandle q, k, v, attn_out, ffn_in, ffn_out;
    WeightHandle q_b, k_b, v_b, attn_out_b, ffn_in_b, ffn_out_b;
    WeightHandle attn_ln_w, attn_ln_b, out_ln_w, out_ln_b;
  };
  explicit BertEncoder(const BertConfig& config, Backend& backend)
      : config_(config), backend_(&backend) {}
  // Grows the activation buffers to n_tokens tokens and n_seq sequences.
  Status reserve(int64_t n_tokens, int64_t n_seq);

  BertConfig config_;
  Backend* backend_;
  WeightHandle word_, pos_, type_, emb_ln_w_, emb_ln_b_;
  std::vector<Layer> layers_;
  // Activations on the backend: [T, H] x, q, k, v, ctx, tmp; [T, F] mid; int32 ids, positions,
  // zeros (type ids) [T]; offsets [n_seq + 1]; pooled [n_seq, H].
  DeviceBuffer x_, q_, k_, v_, ctx_, tmp_, mid_, ids_, positions_, zeros_, offsets_, pooled_;
  int64_t capacity_tokens_ = 0;
  int64_t capacity_seq_ = 0;
};

}  // namespace memlong
