// LlamaConfig::validate: the hyperparameters of a checkpoint are untrusted input. The caps below
// are far above any model MemLong Desktop can run on a desktop (LLaMA-3 405B has 126 layers,
// hidden 16384, 128 heads, ff 53248, vocab 128256; Gemma 3 has 262144 tokens) and exist so that a
// hostile file cannot make us size buffers from absurd numbers.
#include "core/model/llama_config.h"

#include <cmath>
#include <string>

namespace memlong {
namespace {

constexpr int32_t kMaxLayers = 1024;
constexpr int32_t kMaxEmbd = 1 << 16;
constexpr int32_t kMaxFf = 1 << 18;
constexpr int32_t kMaxHeads = 1024;
constexpr int32_t kMaxHeadDim = 1024;
constexpr int32_t kMaxVocab = 1 << 20;
constexpr int32_t kMaxCtx = 1 << 24;

Status check_range(const char* field, int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) {
    return corrupt(std::string("model config: ") + field + " = " + std::to_string(v) +
                   " is outside the supported range [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "]");
  }
  return Status::ok();
}

}  // namespace

Status LlamaConfig::validate() const {
  MEMLONG_RETURN_IF_ERROR(check_range("n_layer", n_layer, 1, kMaxLayers));
  MEMLONG_RETURN_IF_ERROR(check_range("n_embd", n_embd, 1, kMaxEmbd));
  MEMLONG_RETURN_IF_ERROR(check_range("n_ff", n_ff, 1, kMaxFf));
  MEMLONG_RETURN_IF_ERROR(check_range("n_head", n_head, 1, kMaxHeads));
  MEMLONG_RETURN_IF_ERROR(check_range("n_head_kv", n_head_kv, 1, kMaxHeads));
  MEMLONG_RETURN_IF_ERROR(check_range("head_dim", head_dim, 2, kMaxHeadDim));
  MEMLONG_RETURN_IF_ERROR(check_range("n_vocab", n_vocab, 1, kMaxVocab));
  MEMLONG_RETURN_IF_ERROR(check_range("n_ctx_train", n_ctx_train, 1, kMaxCtx));
  if (n_head % n_head_kv != 0) {
    return corrupt("model config: n_head = " + std::to_string(n_head) +
                   " is not a multiple of n_head_kv = " + std::to_string(n_head_kv));
  }
  if (head_dim % 2 != 0) {
    return corrupt("model config: head_dim = " + std::to_string(head_dim) +
                   " is odd; RoPE rotates pairs of dimensions");
  }
  if (static_cast<int64_t>(n_head) * head_dim > 4 * static_cast<int64_t>(kMaxEmbd)) {
    return corrupt("model config: n_head * head_dim = " +
                   std::to_string(static_cast<int64_t>(n_head) * head_dim) + " is absurd");
  }
  if (!std::isfinite(rms_eps) || rms_eps <= 0.0f || rms_eps > 1e-1f) {
    return corrupt("model config: rms_eps = " + std::to_string(rms_eps) + " is not in (0, 0.1]");
  }
  if (!std::isfinite(rope_theta) || rope_theta <= 1.0f || rope_theta > 1e9f) {
    return corrupt("model config: rope_theta = " + std::to_string(rope_theta) +
                   " is not in (1, 1e9]");
  }
  if (rope_scaling != RopeScaling::kNone) {
    if (!std::isfinite(rope_scale_factor) || rope_scale_factor < 1.0f ||
        rope_scale_factor > 1024.0f) {
      return corrupt("model config: rope scaling factor = " + std::to_string(rope_scale_factor) +
                     " is not in [1, 1024]");
    }
  }
  if (rope_scaling == RopeScaling::kLlama3) {
    if (!std::isfinite(rope_low_freq_factor) || !std::isfinite(rope_high_freq_factor) ||
        rope_low_freq_factor <= 0.0f || rope_high_freq_factor <= rope_low_freq_factor) {
      return corrupt("model config: llama3 rope scaling needs 0 < low_freq_factor (" +
                     std::to_string(rope_low_freq_factor) + ") < high_freq_factor (" +
                     std::to_string(rope_high_freq_factor) + ")");
    }
    MEMLONG_RETURN_IF_ERROR(
        check_range("rope original_max_position_embeddings", rope_orig_ctx, 1, kMaxCtx));
  }
  if (architecture != "llama" && architecture != "qwen2") {
    return unsupported("model config: architecture '" + architecture +
                       "' is not supported (llama, qwen2)");
  }
  return Status::ok();
}

}  // namespace memlong
