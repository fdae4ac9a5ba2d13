// CudaBackend: the Backend on one NVIDIA GPU (sm_80+): own kernels (cuda/kernels/) for the
// element-wise ops, attention and the decode mat-vec, cuBLAS for the prefill GEMMs.
//
// Weights: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 are uploaded as they are in the file; Q4_K,
// Q5_K, Q6_K and BF16 are dequantized to F16 at upload (cuda/launch_shape.h plan_weight).
// matmul with n <= 8 rows runs the mat-vec kernel on the stored blocks; larger n converts x to
// f16 and runs cuBLAS (F16 weights directly; quantized ones dequantized to an f16 scratch in
// chunks of rows of at most kGemmScratchBytes: no second, f16 copy of the model is kept, at the
// price of one dequantization pass per prefill matmul).
//
// Execution: every op is enqueued on one non-blocking stream. Errors are sticky: the first
// failure (a shape check, a launch, a cuBLAS call, an execution error found at a sync) is kept,
// later ops are skipped, and synchronize() / copy_to_host() return it. copy_to_device() returns
// once the host bytes are consumed (it synchronises the stream), so callers may reuse them.
// Thread-safety: as Backend (one driving thread at a time); buffers may be freed from any thread.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/backend/backend_loader.h"
#include "cuda/cublas_gemm.h"
#include "cuda/device_allocator.h"

namespace memlong {

class CudaBackend final : public Backend {
 public:
  // Errors: Unsupported "no CUDA device: cudaGetDeviceCount returned ..." (no driver or GPU),
  // InvalidArgument (index out of range), Unsupported (compute capability below 8.0), the
  // runtime's errors creating the stream and the cuBLAS handle.
  static Result<std::unique_ptr<CudaBackend>> create(int device_index, MemlongCudaHostFns host);
  ~CudaBackend() override;

  std::string name() const override { return name_; }
  std::string description() const override;

  Result<DeviceBuffer> alloc(size_t size_bytes) override;
  void copy_to_device(void* dst, const void* host_src, size_t n_bytes) override;
  Status copy_to_host(void* host_dst, const void* src, size_t n_bytes) override;
  void copy(void* dst, const void* src, size_t n_bytes) override;
  Status synchronize() override;

  Result<WeightHandle> upload_weight(const TensorView& tensor) override;

  void get_rows(const WeightHandle& table, const int32_t* ids, int32_t n, float* out) override;
  void rms_norm(const float* x, const WeightHandle& w, float eps, int32_t n, int32_t dim,
                float* out) override;
  void matmul(const WeightHandle& w, const float* x, int32_t n, float* y,
              const WeightHandle* bias) override;
  // Products with n <= 8 of one weight type run as one mat-vec launch; others one at a time.
  void matmul_multi(std::span<const MatmulTarget> targets, const float* x, int32_t n) override;
  void rope(float* x, int32_t n, int32_t n_heads, const int32_t* positions,
            const RopeParams& p) override;
  void attention(const float* q, const float* k_cache, const float* v_cache,
                 const AttentionParams& p, float* out) override;
  void swiglu(const float* gate, const float* up, int64_t n, float* out) override;
  void add(float* y, const float* x, int64_t n) override;

  // MemLong K/V slot pool (issue 7): host regions are cudaHostAlloc(Mapped) memory, addressed by
  // kernels through cudaHostGetDevicePointer; memory_free_bytes = cudaMemGetInfo's free bytes
  // plus the allocator's cached (reusable) bytes.
  Result<DeviceBuffer> alloc_host_mapped(size_t size_bytes) override;
  int64_t memory_free_bytes() override;
  void kv_pool_store(const KvPoolView& pool, const int32_t* slots, int32_t n, const float* k,
                     const float* v) override;
  void kv_pool_gather(const KvPoolView& pool, const int32_t* slots, int32_t n, float* k_out,
                      float* v_out) override;
  // ---- retriever encoder ops (cuda/kernels/encoder.cu) ----
  void layer_norm(const float* x, const float* residual, const WeightHandle& w,
                  const WeightHandle& b, float eps, int32_t n, int32_t dim, float* out) override;
  void encoder_attention(const float* q, const float* k, const float* v,
                         const EncoderAttentionParams& p, float* out) override;
  void gelu_erf(const float* x, int64_t n, float* out) override;
  void pool_sequences(const float* x, const int32_t* seq_offsets, int32_t n_seq, int32_t dim,
                      SequencePooling mode, float* out) override;
  void l2_normalize(float* x, int32_t n, int32_t dim) override;
  // ---- end of retriever encoder ops ----
  // ---- capturable decode and device sampling (issue 7) ----
  // Decode steps are CUDA graphs: the first step of a key is captured from the stream
  // (cudaStreamBeginCapture, thread-local mode), instantiated, cached (kMaxStepGraphs, least
  // recently used evicted) and launched; later steps of the key only write their inputs to a
  // pinned staging buffer and cudaGraphLaunch: the graph's first node is the copy from that
  // staging buffer to the step's device inputs (so no node parameters are updated per step). A
  // failed capture (an op that cannot be captured, an allocation or a host copy inside the step,
  // instantiation errors) turns graphs off for this backend with the reason in
  // decode_graph_status(), and the step is issued again as plain launches.
  void copy_rows_at(void* dst, const void* src, const int32_t* row_index, int32_t n_rows,
                    size_t row_bytes, int32_t capacity_rows) override;
  DecodeStepMode begin_decode_step(uint64_t key) override;
  void stage_step_inputs(void* dst, const void* host_src, size_t n_bytes) override;
  bool end_decode_step() override;
  void set_decode_graphs_enabled(bool enabled) override;
  std::string decode_graph_status() const override;
  void sample(float* logits, int32_t n_vocab, const SampleArgs& args, int32_t* out_id) override;
  bool samples_on_device(const SampleArgs& args) const override;
  static constexpr size_t kMaxStepGraphs = 8;

  // Scratch budget of the prefill GEMM's dequantized weight chunk (64 MiB: 16k rows of 2048).
  static constexpr size_t kGemmScratchBytes = size_t{64} << 20;

 private:
  CudaBackend() = default;
  // Keeps the first error; returns true when the backend is still healthy.
  bool record(const Status& s);
  bool healthy() const { return error_.is_ok(); }
  bool bind_device();  // makes device_ current on the calling thread (records failures)
  // Grows a scratch buffer to n_bytes (contents not kept).
  Status ensure_scratch(DeviceBuffer* buf, size_t n_bytes);
  Status upload_bytes(void* dst, const void* src, size_t n_bytes);
  Status matmul_impl(const WeightHandle& w, const float* x, int32_t n, float* y,
                     const WeightHandle* bias);
  // The bias's data when valid (null when absent); InvalidArgument unless F32 of w.n_out values.
  static Result<const float*> bias_data(const WeightHandle& w, const WeightHandle* bias);

  int device_ = 0;
  std::string name_;
  std::string props_text_;
  MemlongCudaHostFns host_{};
  cudaStream_t stream_ = nullptr;
  std::shared_ptr<DeviceAllocator> allocator_;
  std::unique_ptr<CublasGemm> gemm_;
  DeviceBuffer x_f16_, w_f16_;  // GEMM scratch: activations, dequantized weight chunk
  Status error_;

  // ---- decode graphs (issue 7) ----
  enum class StepState { kNone, kPlain, kCapturing, kReplay };
  struct StepGraph {
    uint64_t key = 0;
    cudaGraphExec_t exec = nullptr;
    uint64_t last_use = 0;
  };
  bool capturing() const { return step_state_ == StepState::kCapturing; }
  void disable_graphs(std::string why);
  std::vector<StepGraph> graphs_;
  StepState step_state_ = StepState::kNone;
  size_t replay_index_ = 0;  // graphs_ entry of the step being replayed
  uint64_t step_key_ = 0;
  uint64_t use_clock_ = 0;
  Status capture_error_;  // first failure while capturing (not sticky: plain retry)
  bool graphs_enabled_ = true;
  std::string graphs_off_reason_;
  uint8_t* staging_ = nullptr;  // pinned, Backend::kMaxStepInputBytes
  size_t staged_bytes_ = 0;
  cudaEvent_t step_done_ = nullptr;  // recorded after each step: staging_ reusable once done
  int64_t n_captures_ = 0, n_replays_ = 0, n_plain_steps_ = 0;
};

}  // namespace memlong
