// Backend: where the transformer's tensors live and its ops run (CPU here, CUDA in cuda/).
//
// The model code (core/transformer) never dereferences a buffer's data: it allocates buffers on
// the backend, passes their device pointers to ops, and reads results back only through
// copy_to_host. Ops are enqueued in order on the backend's one stream of work and may run
// asynchronously (CUDA); the CPU backend runs each op to completion on its thread pool before
// returning. Errors inside ops are sticky and reported by the next synchronize() or copy_to_host(),
// the way a CUDA stream reports them.
//
// Activations are f32, row-major: a [rows, cols] tensor has cols contiguous. Weights are
// [n_out, n_in] with n_in contiguous (GGUF's ne = {n_in, n_out}) and keep their file type.
// Thread-safety: one thread drives a backend at a time (the engine worker); not shareable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/common/dtype.h"
#include "core/common/status.h"

namespace memlong {

struct TensorView;  // core/model/model_file.h

// Owning handle to backend memory; move-only. data() is a device pointer for GPU backends.
class DeviceBuffer {
 public:
  using Deleter = std::function<void(void*)>;
  DeviceBuffer() = default;
  DeviceBuffer(void* data, size_t size_bytes, Deleter deleter)
      : ptr_(data, std::move(deleter)), size_bytes_(size_bytes) {}

  void* data() const { return ptr_.get(); }
  float* f32() const { return static_cast<float*>(ptr_.get()); }
  int32_t* i32() const { return static_cast<int32_t*>(ptr_.get()); }
  size_t size_bytes() const { return size_bytes_; }
  bool empty() const { return ptr_ == nullptr; }

 private:
  std::unique_ptr<void, Deleter> ptr_{nullptr, [](void*) {}};
  size_t size_bytes_ = 0;
};

// A weight as the backend uses it. `data` points at its rows (device memory, or the host mmap for
// the CPU backend, which keeps `storage` empty). 1-D weights (norms, biases) have n_out == 1.
struct WeightHandle {
  DType dtype = DType::kF32;
  int64_t n_in = 0;   // row length (ne[0])
  int64_t n_out = 0;  // number of rows (ne[1])
  size_t row_bytes = 0;
  const void* data = nullptr;
  DeviceBuffer storage;

  bool is_valid() const { return data != nullptr; }
};

// How RoPE rotates a head (see core/model/llama_config.h, MEMLONG.md §10.1).
struct RopeParams {
  int32_t head_dim = 0;
  int32_t n_rot = 0;  // rotated dims (== head_dim for LLaMA)
  float theta = 10000.0f;
  bool interleaved = true;          // pairs (2i, 2i+1); false: (i, i + n_rot/2)
  const float* inv_freq = nullptr;  // optional per-pair frequencies (device memory) for scaled RoPE
};

struct AttentionParams {
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  float scale = 1.0f;
  int32_t n_query = 0;  // query rows in this call
  int32_t q_pos0 = 0;   // cache position of the first query; query i sees keys [0, q_pos0 + i]
  int32_t n_kv = 0;     // cached keys visible to the last query (q_pos0 + n_query)
  // MemLong retrieval attention (MEMLONG.md §5): n_mem memory keys/values [n_mem, Hkv, dh]
  // (already at their memory positions), fully visible to every query, share ONE softmax with the
  // local causal keys. n_mem == 0 is plain causal attention.
  const float* mem_k = nullptr;
  const float* mem_v = nullptr;
  int32_t n_mem = 0;
  // Optional output: per query head, the attention mass on the memory keys, summed over memory
  // tokens, [n_query, H] (citations rank entries by it). Null: not computed.
  float* mem_mass = nullptr;
  // Optional output: per memory token t, the attention weight on t summed over this call's query
  // rows and all query heads, ADDED to mem_token_mass[t] ([n_mem] f32, backend memory; the caller
  // zeroes it). Together with the local keys' weights, each (query, head) contributes exactly 1,
  // so the sum over t is at most n_query * H. Null: not computed.
  float* mem_token_mass = nullptr;

  // ---- capturable decode (issue 7, CUDA graphs) ----
  // Optional device int32 scalars read by the op instead of q_pos0 / n_kv, so that one recorded
  // op sequence serves every decode step. When n_kv_dev is set, n_kv above is the host-known
  // CAPACITY (keys present in the cache buffers, e.g. the context size): the op uses
  // min(*n_kv_dev, n_kv) keys. q_pos0_dev and n_kv_dev are set together or not at all.
  const int32_t* q_pos0_dev = nullptr;
  const int32_t* n_kv_dev = nullptr;
};

// ---- device sampling (issue 7) ----
// What Backend::sample needs besides the logits; the semantics are core/generate/sampler's
// (core/generate/sample_select.h holds the shared selection code).
struct SampleArgs {
  float temperature = 0.0f;  // <= 0: greedy (ties: lowest id)
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repetition_penalty = 1.0f;
  const int32_t* penalty_ids = nullptr;  // device int32 [n_penalty_ids], DISTINCT ids to penalise
  int32_t n_penalty_ids = 0;
  double uniform = 0.0;  // host-drawn u in [0, 1); the draw is r = u * (kept probability mass)
};

// How a decode step is to be issued (Backend::begin_decode_step).
enum class DecodeStepMode {
  kRun,       // enqueue the step's ops (they run now, or are being recorded)
  kReplayed,  // do not enqueue them: end_decode_step() replays the recorded step
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;         // "cpu", "cuda:0 (NVIDIA H200)"
  virtual std::string description() const = 0;  // threads, SIMD path, device memory

  // Memory
  virtual Result<DeviceBuffer> alloc(size_t size_bytes) = 0;
  virtual void copy_to_device(void* dst, const void* host_src, size_t n_bytes) = 0;
  virtual Status copy_to_host(void* host_dst, const void* src, size_t n_bytes) = 0;
  virtual void copy(void* dst, const void* src, size_t n_bytes) = 0;  // device to device
  virtual Status synchronize() = 0;

  // Makes a weight usable by the ops: validates the type and shape, and uploads it (the CPU
  // backend uses the mapped bytes in place). Errors: Unsupported type, OutOfMemory.
  virtual Result<WeightHandle> upload_weight(const TensorView& tensor) = 0;

  // ---- ops (f32 activations) ----
  // out[i, :] = dequantized row ids[i] of table. ids: device int32 [n].
  virtual void get_rows(const WeightHandle& table, const int32_t* ids, int32_t n, float* out) = 0;
  // out[i, :] = x[i, :] / sqrt(mean(x[i, :]^2) + eps) * w. x, out: [n, dim]; may alias.
  virtual void rms_norm(const float* x, const WeightHandle& w, float eps, int32_t n, int32_t dim,
                        float* out) = 0;
  // y[n, n_out] = x[n, n_in] * W^T (+ bias[n_out] when bias is valid).
  virtual void matmul(const WeightHandle& w, const float* x, int32_t n, float* y,
                      const WeightHandle* bias = nullptr) = 0;
  // Several products of one input: for each target, y[n, w.n_out] = x[n, n_in] * w^T (+ bias).
  // All weights have the same n_in. Backends convert x once and may run the products together
  // (q/k/v, gate/up); the default runs matmul() for each.
  struct MatmulTarget {
    const WeightHandle* w;
    float* y;
    const WeightHandle* bias;
  };
  virtual void matmul_multi(std::span<const MatmulTarget> targets, const float* x, int32_t n) {
    for (const MatmulTarget& t : targets) matmul(*t.w, x, n, t.y, t.bias);
  }
  // x[n, n_heads, head_dim] rotated in place; positions: device int32 [n].
  virtual void rope(float* x, int32_t n, int32_t n_heads, const int32_t* positions,
                    const RopeParams& p) = 0;
  // Causal grouped-query attention over the cache, joint with memory when p.n_mem > 0.
  // q: [n_query, H, dh]; k_cache, v_cache: [>= n_kv, Hkv, dh]; out: [n_query, H, dh].
  // Query head h reads KV head h / (H / Hkv), for memory and local keys alike.
  virtual void attention(const float* q, const float* k_cache, const float* v_cache,
                         const AttentionParams& p, float* out) = 0;
  // out = silu(gate) * up, elementwise over n values; out may alias gate.
  virtual void swiglu(const float* gate, const float* up, int64_t n, float* out) = 0;
  // y += x, elementwise over n values.
  virtual void add(float* y, const float* x, int64_t n) = 0;

  // ---- MemLong K/V slot pool (issue 7; used by core/memory/device_kv_pool.h) ----
  // A pool of token slots holding memory-layer K/V in a 16-bit type. Slot s holds one token: its K
  // row then its V row, row_elems (= Hkv * dh) values each, dtype kF16 or kBF16 (f32 -> 16 bit
  // rounds to nearest even, as core/common/half.h; 16 bit -> f32 is exact). Slots [0, n_device)
  // are in `device` (from alloc()), slots [n_device, n_device + n_host) in `host` (from
  // alloc_host_mapped(), at index s - n_device), so a pool may outgrow backend memory.
  struct KvPoolView {
    void* device = nullptr;
    void* host = nullptr;
    int64_t n_device = 0;
    int64_t n_host = 0;
    DType dtype = DType::kBF16;
    int32_t row_elems = 0;
  };
  // Host memory the ops can read and write (CUDA: pinned and mapped into the device's address
  // space; data() is the address kernels use). The CPU backend: alloc(). Zeroed.
  virtual Result<DeviceBuffer> alloc_host_mapped(size_t size_bytes) = 0;
  // Backend memory still free for alloc() in bytes, or -1 when bounded only by the host (CPU).
  virtual int64_t memory_free_bytes() = 0;
  // For i < n: slot slots[i] <- (k[i, :], v[i, :]) ([n, row_elems] f32, backend memory). slots:
  // backend int32 [n], distinct, inside the pool. A slot outside the pool is a caller error: the
  // CPU backend reports a sticky InvalidArgument; the CUDA backend skips the row in store and
  // gives zero rows in gather (a check would cost a device-to-host read per op).
  virtual void kv_pool_store(const KvPoolView& pool, const int32_t* slots, int32_t n,
                             const float* k, const float* v) = 0;
  // For i < n: k_out[i, :], v_out[i, :] = slot slots[i] as f32 ([n, row_elems], backend memory).
  virtual void kv_pool_gather(const KvPoolView& pool, const int32_t* slots, int32_t n, float* k_out,
                              float* v_out) = 0;
  // ---- end of the K/V slot pool ----
  // ---- retriever encoder ops (BERT / XLM-R post-LN encoder, core/retriever/bert_encoder) ----
  // Together with get_rows, add and matmul(_multi) they run the whole encoder; the CPU backend
  // reproduces the former host-only encoder bit for bit.
  //
  // out[i, :] = (z - mean(z)) / sqrt(var(z) + eps) * w + b with z = x[i, :] + residual[i, :]
  // (residual may be null: z = x[i, :]); var is the biased variance. w, b: F32 of length dim.
  // x, residual, out: [n, dim]; out may alias x (not residual).
  virtual void layer_norm(const float* x, const float* residual, const WeightHandle& w,
                          const WeightHandle& b, float eps, int32_t n, int32_t dim, float* out) = 0;
  // Bidirectional multi-head attention inside each of p.n_seq packed sequences: for row i of
  // sequence s and head h, out[i, h, :] = sum_j softmax_j(q[i, h, :] . k[j, h, :] * scale)
  // v[j, h, :] over the rows j of s only (packing replaces a padding mask).
  // q, k, v, out: [p.n_rows, n_head, head_dim].
  struct EncoderAttentionParams {
    // Device int32 [n_seq + 1]: sequence s is rows [seq_offsets[s], seq_offsets[s + 1]);
    // increasing from 0 to n_rows, every sequence 1..max_seq_len rows.
    const int32_t* seq_offsets = nullptr;
    int32_t n_seq = 0;
    int32_t n_rows = 0;
    int32_t max_seq_len = 0;
    int32_t n_head = 0;
    int32_t head_dim = 0;
    float scale = 1.0f;
  };
  virtual void encoder_attention(const float* q, const float* k, const float* v,
                                 const EncoderAttentionParams& p, float* out) = 0;
  // out = u / 2 * (1 + erf(u / sqrt(2))) elementwise over n values (BERT's exact GELU); out may
  // alias x.
  virtual void gelu_erf(const float* x, int64_t n, float* out) = 0;
  // Pools the rows of each of n_seq packed sequences: sequence s is rows [seq_offsets[s],
  // seq_offsets[s + 1]) of x [rows, dim] (seq_offsets as in EncoderAttentionParams). out[s, :] =
  // the mean of those rows (kMean, summed in row order then scaled by 1 / length) or its first row
  // (kFirst, BERT's CLS). out: [n_seq, dim].
  enum class SequencePooling { kMean, kFirst };
  virtual void pool_sequences(const float* x, const int32_t* seq_offsets, int32_t n_seq,
                              int32_t dim, SequencePooling mode, float* out) = 0;
  // x[i, :] /= max(|x[i, :]|, 1e-12) for n rows of dim (torch.nn.functional.normalize).
  virtual void l2_normalize(float* x, int32_t n, int32_t dim) = 0;
  // ---- end of retriever encoder ops ----
  // ---- capturable decode and device sampling (issue 7; defaults serve host backends) ----
  // Copies n_rows rows of row_bytes from src to dst + (*row_index) * row_bytes, where row_index
  // is a device int32 read when the op runs (the KV-cache append of a recorded decode step).
  // Rows at or past capacity_rows are not written (the host checks the range beforehand).
  virtual void copy_rows_at(void* dst, const void* src, const int32_t* row_index, int32_t n_rows,
                            size_t row_bytes, int32_t capacity_rows) = 0;

  // A decode step is the op sequence between begin_decode_step(key) and end_decode_step(). Ops in
  // it take everything that varies per step from device buffers; the only host input is what
  // stage_step_inputs() hands over. Equal keys promise an identical op sequence (same ops, same
  // pointers and shapes), so a backend may record the first step of a key and replay it later
  // (CUDA graphs). Inside a step: no alloc, copy_to_device, copy_to_host or synchronize.
  // begin returns kReplayed when the caller must NOT enqueue the ops; end returns false when the
  // step could not be executed (recording failed, see decode_graph_status()): the caller then
  // issues the whole step again (begin, stage, ops, end), which runs as plain launches.
  virtual DecodeStepMode begin_decode_step(uint64_t key) {
    (void)key;
    return DecodeStepMode::kRun;
  }
  // Host bytes (<= kMaxStepInputBytes per step in all) copied to dst when the step starts.
  static constexpr size_t kMaxStepInputBytes = 256;
  virtual void stage_step_inputs(void* dst, const void* host_src, size_t n_bytes) {
    copy_to_device(dst, host_src, n_bytes);
  }
  virtual bool end_decode_step() { return true; }
  // Turns recording / replay on or off (benchmarks, tests); backends without graphs ignore it.
  virtual void set_decode_graphs_enabled(bool enabled) { (void)enabled; }
  // One line on the state of decode graphs ("off: ...", "capture failed: ...", "2 graphs, 130
  // replays"), for benchmarks and logs.
  virtual std::string decode_graph_status() const { return "not supported by this backend"; }

  // Picks one token from logits [n_vocab] (device memory; modified in place: penalty) into
  // *out_id (device int32), with core/generate/sampler's semantics and the host's uniform.
  virtual void sample(float* logits, int32_t n_vocab, const SampleArgs& args, int32_t* out_id) = 0;
  // True when sample() is worth using instead of reading the logits back (a GPU), and it
  // supports these parameters (e.g. a bounded top_k).
  virtual bool samples_on_device(const SampleArgs& args) const {
    (void)args;
    return false;
  }
};

// The CPU backend with n_threads worker threads (<= 0: one per core). exact_activations: see
// CpuBackend (reference tests only).
std::unique_ptr<Backend> make_cpu_backend(int n_threads, bool exact_activations = false);

}  // namespace memlong
