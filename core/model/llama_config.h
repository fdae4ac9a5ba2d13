// LlamaConfig: the hyperparameters of a LLaMA-family decoder, however the model arrived (GGUF
// metadata `<arch>.*` keys or a Hugging Face config.json).
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>

#include "core/common/status.h"

namespace memlong {

// How RoPE pairs dimensions within a head (MEMLONG.md §10.1).
enum class RopeLayout {
  kInterleaved,  // pairs (2i, 2i+1): GGUF llama files (q/k rows permuted by the converter)
  kHalf,         // pairs (i, i + dh/2), "rotate_half": Hugging Face weights, GGUF qwen2/gemma
};

enum class RopeScaling { kNone, kLinear, kLlama3 };

struct LlamaConfig {
  std::string architecture;  // "llama", "qwen2", ...
  std::string name;          // general.name, for display
  int32_t n_layer = 0;
  int32_t n_embd = 0;  // hidden size d
  int32_t n_ff = 0;    // SwiGLU inner size
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;  // usually n_embd / n_head
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;  // native context
  float rms_eps = 1e-5f;
  float rope_theta = 10000.0f;
  RopeLayout rope_layout = RopeLayout::kInterleaved;
  RopeScaling rope_scaling = RopeScaling::kNone;
  float rope_scale_factor = 1.0f;      // linear / llama3 factor
  float rope_low_freq_factor = 1.0f;   // llama3
  float rope_high_freq_factor = 4.0f;  // llama3
  int32_t rope_orig_ctx = 0;           // llama3 original_max_position_embeddings
  bool has_qkv_bias = false;           // Qwen2
  bool tied_embeddings = false;        // no separate output.weight

  // Checks ranges and divisibility (heads divide, head_dim even, sane limits against hostile
  // files). Errors: Corrupt or Unsupported with the offending field named.
  Status validate() const;
};

}  // namespace memlong
