// CpuBackend: the Backend on host memory and a ThreadPool. Weights are used in place from the
// model's memory map; matrix products run on the quantized weights (core/quant). Each op runs to
// completion before returning, so synchronize() only reports errors.
// Thread-safety: as Backend (one driving thread).
#pragma once

#include <memory>
#include <vector>

#include "core/backend/backend.h"
#include "core/backend/thread_pool.h"

namespace memlong {

class CpuBackend final : public Backend {
 public:
  // exact_activations: matrix products dequantize each weight row and dot it with the f32
  // activations instead of quantizing the activations to 8 bits. About 3x slower; used by the
  // reference tests, which check the model graph apart from activation rounding.
  explicit CpuBackend(int n_threads, bool exact_activations = false);

  std::string name() const override { return "cpu"; }
  std::string description() const override;

  Result<DeviceBuffer> alloc(size_t size_bytes) override;
  void copy_to_device(void* dst, const void* host_src, size_t n_bytes) override;
  Status copy_to_host(void* host_dst, const void* src, size_t n_bytes) override;
  void copy(void* dst, const void* src, size_t n_bytes) override;
  Status synchronize() override { return error_; }

  Result<WeightHandle> upload_weight(const TensorView& tensor) override;

  void get_rows(const WeightHandle& table, const int32_t* ids, int32_t n, float* out) override;
  void rms_norm(const float* x, const WeightHandle& w, float eps, int32_t n, int32_t dim,
                float* out) override;
  void matmul(const WeightHandle& w, const float* x, int32_t n, float* y,
              const WeightHandle* bias) override;
  void matmul_multi(std::span<const MatmulTarget> targets, const float* x, int32_t n) override;
  void rope(float* x, int32_t n, int32_t n_heads, const int32_t* positions,
            const RopeParams& p) override;
  void attention(const float* q, const float* k_cache, const float* v_cache,
                 const AttentionParams& p, float* out) override;
  void swiglu(const float* gate, const float* up, int64_t n, float* out) override;
  void add(float* y, const float* x, int64_t n) override;

  // MemLong K/V slot pool (issue 7): host memory; rounding as core/common/half.h.
  Result<DeviceBuffer> alloc_host_mapped(size_t size_bytes) override { return alloc(size_bytes); }
  int64_t memory_free_bytes() override { return -1; }
  void kv_pool_store(const KvPoolView& pool, const int32_t* slots, int32_t n, const float* k,
                     const float* v) override;
  void kv_pool_gather(const KvPoolView& pool, const int32_t* slots, int32_t n, float* k_out,
                      float* v_out) override;
  // ---- retriever encoder ops (the former host encoder's loops, core/retriever/bert_encoder) ----
  void layer_norm(const float* x, const float* residual, const WeightHandle& w,
                  const WeightHandle& b, float eps, int32_t n, int32_t dim, float* out) override;
  void encoder_attention(const float* q, const float* k, const float* v,
                         const EncoderAttentionParams& p, float* out) override;
  void gelu_erf(const float* x, int64_t n, float* out) override;
  void pool_sequences(const float* x, const int32_t* seq_offsets, int32_t n_seq, int32_t dim,
                      SequencePooling mode, float* out) override;
  void l2_normalize(float* x, int32_t n, int32_t dim) override;
  // ---- end of retriever encoder ops ----
  // ---- capturable decode and device sampling (issue 7): the same semantics on host memory, so
  // the model's decode-step path runs (and is tested) on the CPU; no recording: the hooks of
  // Backend stay no-ops, and samples_on_device() is false (the generator keeps its Sampler).
  void copy_rows_at(void* dst, const void* src, const int32_t* row_index, int32_t n_rows,
                    size_t row_bytes, int32_t capacity_rows) override;
  // core/generate/sample_select.h on the host (a full sort when top_k is off).
  void sample(float* logits, int32_t n_vocab, const SampleArgs& args, int32_t* out_id) override;

  ThreadPool& pool() { return pool_; }
  // The first kv_pool_* shape error (slot outside the pool), reported by synchronize().
  Status status() const { return error_; }

 private:
  Status error_;
  ThreadPool pool_;
  bool exact_activations_ = false;
  // Converts x [n, k] to `type` (the weights' vec_dot type) into `dst`; returns the row size.
  size_t convert_activations(DType type, const float* x, int32_t n, int64_t k,
                             std::vector<uint8_t>* dst);
  // Runs a parallel region, or inline on the calling thread when the op is too small to gain
  // from the team (a region costs a few µs; decode issues hundreds per token).
  void maybe_parallel_for(int64_t n_rows, int64_t work,
                          const std::function<void(int64_t, int64_t)>& fn);

  std::vector<uint8_t> xq_;                   // activations converted to the weights' vec_dot type
  std::vector<uint8_t> xq2_;                  // second conversion when fused weights differ in type
  std::vector<std::vector<float>> scratch_;   // per-thread scratch (attention scores)
  std::vector<std::vector<float>> scratch2_;  // per-thread scratch (memory value sums)
  struct MatmulBlock {  // rows [r0, r1) of target `target`, input conversion `conv`
    int32_t target;
    int32_t conv;
    int64_t r0, r1;
  };
  std::vector<MatmulBlock> blocks_;                           // reused by matmul_multi
  std::vector<std::pair<float, int32_t>> sample_candidates_;  // reused by sample
};

}  // namespace memlong
