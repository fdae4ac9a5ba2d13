// LlamaModel and InferenceContext: the LLaMA-family decoder on a Backend.
//
// Legend: n = tokens in this call, d = n_embd, H / Hkv = query / KV heads, dh = head_dim,
// V = vocab, C = context capacity of the KV cache.
// LlamaModel owns the weights as uploaded to its backend (quantized types kept quantized) and is
// immutable after create(); several InferenceContexts may share one model, each used by one thread
// at a time. InferenceContext owns a KV cache [n_layer][C, Hkv, dh] (f32) and scratch buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/backend/backend.h"
#include "core/common/status.h"
#include "core/model/model_file.h"

namespace memlong {

class LlamaModel {
 public:
  // Uploads the weights of `file` to `backend`. `file` must outlive the model when the backend
  // uses host memory in place (the CPU backend does: weights stay in the mmap).
  // Errors: Unsupported (tensor type the backend cannot use), OutOfMemory, Corrupt (shapes).
  static Result<std::unique_ptr<LlamaModel>> create(const ModelFile& file, Backend& backend);

  const LlamaConfig& config() const { return config_; }
  Backend& backend() const { return *backend_; }

  struct Layer {
    WeightHandle attn_norm, wq, wk, wv, wo, bq, bk, bv, ffn_norm, w_gate, w_up, w_down;
  };
  const std::vector<Layer>& layers() const { return layers_; }
  const WeightHandle& token_embd() const { return token_embd_; }
  const WeightHandle& output_norm() const { return output_norm_; }
  const WeightHandle& output() const { return output_; }
  // RoPE settings with the per-pair frequencies (scaling applied) in backend memory.
  RopeParams rope_params() const;

 private:
  LlamaModel() = default;
  LlamaConfig config_;
  Backend* backend_ = nullptr;
  WeightHandle token_embd_, output_norm_, output_;
  std::vector<Layer> layers_;
  DeviceBuffer rope_inv_freq_;  // [dh/2] f32
};

class InferenceContext {
 public:
  // n_ctx: KV cache capacity in tokens (<= 0: the model's native context). max_batch: most tokens
  // per eval() call, sizing scratch buffers (longer inputs are split internally).
  static Result<std::unique_ptr<InferenceContext>> create(const LlamaModel& model, int32_t n_ctx,
                                                          int32_t max_batch = 512);

  // Runs `tokens` at positions n_past() .. n_past()+n-1, appending their K/V to the cache.
  // Returns logits: [n, V] when all_logits, else [1, V] for the last token.
  // Errors: InvalidArgument (empty input, token id out of range, cache full).
  Result<std::vector<float>> eval(std::span<const int32_t> tokens, bool all_logits);

  int32_t n_past() const { return n_past_; }
  int32_t n_ctx() const { return n_ctx_; }
  // Forgets cached positions >= n (n <= n_past()); eval continues from n.
  void truncate(int32_t n);
  void reset() { truncate(0); }
  const LlamaModel& model() const { return *model_; }

 private:
  InferenceContext() = default;
  // Runs one batch (<= max_batch tokens). want_logits: append logits to *out, for every row when
  // all_rows, else for the last row only.
  Status eval_batch(std::span<const int32_t> tokens, bool want_logits, bool all_rows,
                    std::vector<float>* out);

  const LlamaModel* model_ = nullptr;
  Backend* backend_ = nullptr;
  int32_t n_ctx_ = 0;
  int32_t max_batch_ = 0;
  int32_t n_past_ = 0;
  std::vector<DeviceBuffer> k_cache_, v_cache_;  // per layer [C, Hkv*dh]
  // scratch, sized for max_batch rows
  DeviceBuffer x_, xn_, q_, k_, v_, attn_, gate_, up_, logits_, tokens_, positions_;
};

}  // namespace memlong
