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

class DeviceKVPool;  // core/memory/device_kv_pool.h

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

// MemLong inputs of one eval() call (MEMLONG.md §2.2, §5). Memory K/V are the memory layer's
// pre-RoPE keys and values, [n_mem, Hkv, dh] f32 in host memory, in chronological order.
struct MemoryAttention {
  const float* k = nullptr;
  const float* v = nullptr;
  int32_t n_mem = 0;
  // zero (false): memory keys at position 0, unrotated; local positions n_past+1.. (the paper).
  // contiguous (true): memory keys rotated to 0..n_mem-1, local positions n_mem+n_past...
  bool contiguous_positions = false;
  std::span<const int32_t> retrieval_layers;  // layers whose attention is joint with memory
  int32_t memory_layer = -1;                  // layer whose pre-RoPE K/V go to the stash
  // Identity of this memory block: when nonzero and equal to the previous call's, the backend copy
  // (uploaded and, in contiguous mode, rotated) is reused instead of being made again: decode
  // steps attend to the same retrieved block. Callers give every distinct block a new id.
  uint64_t block_id = 0;
  // Ingestion shortcut: stop after the memory layer's K/V projections (no logits, the cache
  // above is left stale). Only with a stash requested.
  bool memory_only = false;
  // Citations: when set and eval() gets an `out`, out->mem_token_mass receives each memory
  // token's attention weight summed over the retrieval layers, query heads and this call's tokens.
  bool want_token_mass = false;
  // Memory already on the backend (issue 7): when `pool` is set, the block is the pool's entries
  // `pool_seqs` in this order, gathered on the backend (k and v are ignored; n_mem must equal
  // their token count). block_id caching applies as for host K/V.
  DeviceKVPool* pool = nullptr;
  std::span<const uint64_t> pool_seqs;
  // Optional: with a stash requested (eval's `out`), the memory layer's pre-RoPE K/V of this
  // call's tokens are also copied into these backend buffers ([n, Hkv, dh] f32 each, room for the
  // call's tokens), so a DeviceKVPool can take them without a host -> device upload.
  float* device_stash_k = nullptr;
  float* device_stash_v = nullptr;
};

// What a memory-aware eval() hands back besides logits.
struct MemoryOutputs {
  // The memory layer's pre-RoPE K and V of this call's tokens, [n, Hkv, dh] f32.
  std::vector<float> stash_k, stash_v;
  // With mem.want_token_mass: [n_mem], the attention weight on each memory token summed over the
  // retrieval layers, query heads and tokens of the call (each layer, head and token spends 1
  // between memory and local keys). Empty otherwise, or when the call had no memory.
  std::vector<float> mem_token_mass;
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

  // The same with MemLong memory: layers in mem.retrieval_layers attend jointly to the memory and
  // the local causal keys (one softmax), positions follow mem's mode, and when `out` is given the
  // memory layer's pre-RoPE K/V of the tokens are returned. `mem` with n_mem == 0 and no layers
  // is plain eval (up to the position offset of zero mode, which RoPE does not see).
  Result<std::vector<float>> eval(std::span<const int32_t> tokens, bool all_logits,
                                  const MemoryAttention& mem, MemoryOutputs* out);

  // ---- decode steps and device sampling (issue 7) ----
  // A one-token eval runs as a decode step (Backend::begin_decode_step ... end_decode_step): its
  // varying inputs are staged into a device buffer and the op sequence is the same for every step
  // of one (context, memory block) key, so the CUDA backend records it once and replays it.
  // Off: the batch path (inputs copied, n_past as op arguments). On by default; for tests and
  // benchmarks that compare the two.
  void set_capturable_decode(bool on) { capturable_decode_ = on; }
  // Like eval(tokens, false) but the last row's logits stay on the backend (no read-back of V
  // floats); follow with sample_last().
  Status eval_no_readback(std::span<const int32_t> tokens);
  // Picks a token from the last row of logits of the previous eval (any eval variant) on the
  // backend (Backend::sample): `args` as in backend.h, penalty_ids the distinct ids to penalise
  // (core/generate/sampler.h repetition_penalty_ids). The logits are consumed (penalised in
  // place). Errors: InvalidArgument (no logits since the last sample), the backend's.
  Result<int32_t> sample_last(const SampleArgs& args, std::span<const int32_t> penalty_ids);

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
                    std::vector<float>* out, const MemoryAttention* mem, MemoryOutputs* mem_out);
  Status upload_memory(const MemoryAttention& mem);

  const LlamaModel* model_ = nullptr;
  Backend* backend_ = nullptr;
  int32_t n_ctx_ = 0;
  int32_t max_batch_ = 0;
  int32_t n_past_ = 0;
  std::vector<DeviceBuffer> k_cache_, v_cache_;  // per layer [C, Hkv*dh]
  // scratch, sized for max_batch rows
  DeviceBuffer x_, xn_, q_, k_, v_, attn_, gate_, up_, logits_, tokens_, positions_;
  // MemLong: memory K (rotated in contiguous mode) and V on the backend, and their positions.
  DeviceBuffer mem_k_, mem_v_, mem_positions_;
  DeviceBuffer mem_token_mass_;  // [n_mem] f32, accumulated over one eval() (want_token_mass)
  int32_t n_mem_ = 0;
  uint64_t mem_block_id_ = 0;  // block_id of the uploaded memory (0: none reusable)
  bool mem_contiguous_ = false;
  int32_t stash_base_ = 0;  // n_past at the start of the current eval (stash row 0)
  // Decode steps and device sampling (issue 7).
  uint64_t context_id_ = 0;  // unique per context (part of the step key)
  bool capturable_decode_ = true;
  bool read_back_logits_ = true;
  int32_t logits_rows_ = 0;         // rows of logits_ written by the last eval (0: none / sampled)
  DeviceBuffer step_in_;            // int32 [4]: token, position, cache row, keys visible
  DeviceBuffer stash_k_, stash_v_;  // [Hkv*dh] the step's memory-layer K/V
  DeviceBuffer penalty_ids_, sampled_id_;
};

}  // namespace memlong
