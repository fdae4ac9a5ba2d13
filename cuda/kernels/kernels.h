// Entry points of the CUDA kernels, one op family per .cu file in this folder. Each entry point
// checks its shapes, launches on `stream` and returns the launch status (execution errors surface
// at the next synchronisation, see CudaBackend). Pointers are device memory unless stated.
// Legend: n = rows (tokens), d / k = row length, n_out = weight rows, H / Hkv = query / KV heads,
// dh = head dim. Activations are f32 row-major. Weight rows use the formats of block_dequant.h.
// Thread-safety: stateless; a stream is used by one thread at a time.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "core/common/status.h"

namespace memlong::cuda_ops {

// Converts a CUDA error into a Status naming `what` (Internal for launch/config errors,
// OutOfMemory for cudaErrorMemoryAllocation). cudaSuccess gives OK.
Status cuda_status(cudaError_t e, const char* what);

// get_rows.cu: out[i, :] = dequantized row ids[i] of `table` ([n_rows, d], format dtype).
Status get_rows(uint32_t dtype, const void* table, size_t row_bytes, int64_t d, const int32_t* ids,
                int32_t n, float* out, cudaStream_t stream);

// dequantize.cu: rows [r0, r1) of a weight to f16, [r1 - r0, k] contiguous.
Status dequantize_rows_f16(uint32_t dtype, const void* w, size_t row_bytes, int64_t k, int64_t r0,
                           int64_t r1, void* out_f16, cudaStream_t stream);
// dequantize.cu: f32 -> f16 for n values (GEMM inputs).
Status f32_to_f16(const float* x, int64_t n, void* out_f16, cudaStream_t stream);

// matvec.cu: for each target t, y_t[c, r] = dot(W_t row r, x row c) (+ bias_t[r]) for n <= 8
// rows of x [n, k] and y_t [n, n_out_t] (overwritten). All targets share x and the weight type
// (kept types; k % 32 == 0; x 16-byte aligned); one launch serves up to kMatvecMaxTargets of them
// (q/k/v, gate/up).
struct MatvecTarget {
  const void* w;
  size_t row_bytes;
  int64_t n_out;
  float* y;
  const float* bias;  // [n_out] or null
};
inline constexpr int kMatvecMaxTargets = 3;
Status matvec(uint32_t dtype, const MatvecTarget* targets, int n_targets, int64_t k, const float* x,
              int32_t n, cudaStream_t stream);

// rmsnorm.cu: out[i, :] = x[i, :] / sqrt(mean(x[i, :]^2) + eps) * w; x and out may alias.
Status rms_norm(const float* x, const float* w, float eps, int32_t n, int32_t dim, float* out,
                cudaStream_t stream);

// rope.cu: x [n, n_heads, dh] rotated in place at positions[n]; pairs (2j, 2j+1) when
// interleaved, else (j, j + n_rot/2); frequency inv_freq[j] when given, else theta^(-2j/n_rot).
Status rope(float* x, int32_t n, int32_t n_heads, int32_t head_dim, int32_t n_rot, float theta,
            bool interleaved, const float* inv_freq, const int32_t* positions, cudaStream_t stream);

// attention.cu: causal GQA attention joint with n_mem memory keys (one softmax), see
// Backend::attention. q [n_query, H, dh]; caches [>= n_kv, Hkv, dh]; mem_k/mem_v [n_mem, Hkv, dh]
// or null; mem_mass [n_query, H] or null; mem_token_mass [n_mem] or null (added to, atomically).
struct AttentionArgs {
  const float* q;
  const float* k_cache;
  const float* v_cache;
  const float* mem_k;
  const float* mem_v;
  float* out;
  float* mem_mass;
  float* mem_token_mass;
  int32_t n_head, n_head_kv, head_dim;
  int32_t n_query, q_pos0, n_kv, n_mem;
  float scale;
  // Capturable decode (issue 7): when set, device scalars replace q_pos0 and n_kv (n_kv then is
  // the capacity: min(*n_kv_dev, n_kv) keys), see AttentionParams.
  const int32_t* q_pos0_dev;
  const int32_t* n_kv_dev;
};
Status attention(const AttentionArgs& a, cudaStream_t stream);

// elementwise.cu
Status swiglu(const float* gate, const float* up, int64_t n, float* out, cudaStream_t stream);
Status add(float* y, const float* x, int64_t n, cudaStream_t stream);
// y[i, j] += bias[j] for y [n, n_out].
Status add_bias(float* y, const float* bias, int32_t n, int64_t n_out, cudaStream_t stream);

// kv_pool.cu: the MemLong K/V slot pool (Backend::kv_pool_store / kv_pool_gather; layout in
// kv_pool_codec.h). device / host: the regions' device-usable bases (host: mapped pinned memory).
struct KvPoolArgs {
  void* device;
  void* host;
  int64_t n_device, n_host;
  uint32_t dtype;  // kv_pool_codec::kF16 or kBF16
  int32_t row_elems;
};
// Slot slots[i] <- k[i, :], v[i, :] ([n, row_elems] f32) rounded to the pool's type.
Status kv_pool_store(const KvPoolArgs& p, const int32_t* slots, int32_t n, const float* k,
                     const float* v, cudaStream_t stream);
// k_out[i, :], v_out[i, :] = slot slots[i] as f32.
Status kv_pool_gather(const KvPoolArgs& p, const int32_t* slots, int32_t n, float* k_out,
                      float* v_out, cudaStream_t stream);
// encoder.cu (retriever encoder, see Backend's encoder ops): out[i, :] = LayerNorm(x[i, :] +
// residual[i, :]) * w + b (residual may be null; out may alias x); exact GELU; per-sequence mean
// or first-row pooling of packed rows (seq_offsets: device int32 [n_seq + 1]); row L2 norm.
Status layer_norm(const float* x, const float* residual, const float* w, const float* b, float eps,
                  int32_t n, int32_t dim, float* out, cudaStream_t stream);
// Bidirectional attention inside each packed sequence (Backend::encoder_attention); n_rows =
// seq_offsets[n_seq] (passed from the host), q, k, v, out [n_rows, H, dh], dh <= 256.
Status encoder_attention(const float* q, const float* k, const float* v, const int32_t* seq_offsets,
                         int32_t n_seq, int32_t n_rows, int32_t max_seq_len, int32_t n_head,
                         int32_t head_dim, float scale, float* out, cudaStream_t stream);
Status gelu_erf(const float* x, int64_t n, float* out, cudaStream_t stream);
Status pool_sequences(const float* x, const int32_t* seq_offsets, int32_t n_seq, int32_t dim,
                      bool first_only, float* out, cudaStream_t stream);
Status l2_normalize(float* x, int32_t n, int32_t dim, cudaStream_t stream);
// ---- capturable decode and device sampling (issue 7) ----
// copy_rows.cu: rows [0, n_rows) of src (row_bytes each) to dst rows *row_index + r, skipping rows
// at or past capacity_rows; row_index is read on the device when the kernel runs.
Status copy_rows_at(void* dst, const void* src, const int32_t* row_index, int32_t n_rows,
                    size_t row_bytes, int32_t capacity_rows, cudaStream_t stream);

// sample.cu: one token from logits [n_vocab] (penalised in place) into *out_id, with
// core/generate/sample_select.h's rules; one block. Non-greedy needs 1 <= top_k <=
// kSampleMaxTopK (the candidates are sorted in shared memory).
inline constexpr int kSampleMaxTopK = 1024;
struct SampleKernelArgs {
  float temperature, top_p, min_p, repetition_penalty;
  int32_t top_k, n_penalty_ids;
  const int32_t* penalty_ids;
  double uniform;
};
Status sample(float* logits, int32_t n_vocab, const SampleKernelArgs& a, int32_t* out_id,
              cudaStream_t stream);

}  // namespace memlong::cuda_ops
