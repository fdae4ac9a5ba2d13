// Retriever encoder ops (BERT / XLM-R, core/retriever/bert_encoder): bidirectional attention
// inside packed sequences; LayerNorm with weight, bias
// and an optional fused residual add; exact (erf) GELU; per-sequence mean / first-row pooling of
// packed sequences; row L2 normalisation. Per-element arithmetic in encoder_math.h (shared with
// the host tests); row sums in double like the CPU backend, so results differ from it only in
// the order of the double additions and in erff's last bit.
// Legend: n = rows, d = row length, n_seq = sequences (offsets [n_seq + 1] into the rows),
// H = heads, dh = head dim, L = the row's sequence length.
//
// Attention: one block per (row, head); the row finds its sequence [b, b + L) by binary search.
// Phase 1: warp w scores keys w, w + W, ... (lanes split dh, shuffle sum) into shared memory
// (L floats, L <= max_seq_len). Phase 2: block max, exp, block sum (softmax as the CPU: exp of
// score - max, normalised by 1 / sum). Phase 3: the 256 threads form 256 / dh groups; group g
// sums the weighted value rows g, g + G, ... for its column, and the groups' partials are added
// in group order. Not a tiled flash kernel: sequences are at most a few hundred tokens.
#include "cuda/kernels/encoder_math.h"
#include "cuda/kernels/kernels.h"
#include "cuda/launch_shape.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// Sum over the block (every thread gets it). `scratch` holds kWarps doubles; the call ends with
// a barrier, so scratch may be reused right after.
__device__ double block_sum(double v, double* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  double total = 0.0;
  for (int w = 0; w < kWarps; ++w) total += scratch[w];
  __syncthreads();
  return total;
}

__device__ float block_max_f(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float m = scratch[0];
  for (int w = 1; w < kWarps; ++w) m = fmaxf(m, scratch[w]);
  __syncthreads();
  return m;
}

__device__ float block_sum_f(float v, float* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < kWarps; ++w) total += scratch[w];
  __syncthreads();
  return total;
}

struct EncoderAttentionArgs {
  const float* q;
  const float* k;
  const float* v;
  const int32_t* seq_offsets;
  float* out;
  int n_seq, n_head, head_dim;
  float scale;
};

constexpr int kMaxHeadDim = 256;

__global__ void __launch_bounds__(kThreads) encoder_attention_kernel(EncoderAttentionArgs a) {
  extern __shared__ float s_p[];  // [max_seq_len] scores, then weights
  __shared__ float s_q[kMaxHeadDim];
  __shared__ float s_part[kThreads];
  __shared__ float s_red[kWarps];
  const int H = a.n_head, dh = a.head_dim;
  const int32_t row = static_cast<int32_t>(blockIdx.x / H);
  const int h = static_cast<int>(blockIdx.x % H);
  const int s = cuda_encoder::sequence_of_row(a.seq_offsets, a.n_seq, row);
  const int64_t b = a.seq_offsets[s];
  const int len = a.seq_offsets[s + 1] - static_cast<int32_t>(b);
  const int64_t stride = static_cast<int64_t>(H) * dh;
  const int64_t col = static_cast<int64_t>(h) * dh;
  for (int d = threadIdx.x; d < dh; d += kThreads) s_q[d] = a.q[row * stride + col + d];
  __syncthreads();

  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  for (int j = warp; j < len; j += kWarps) {
    const float* kj = a.k + (b + j) * stride + col;
    float dot = 0.0f;
    for (int d = lane; d < dh; d += 32) dot += s_q[d] * kj[d];
    for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    if (lane == 0) s_p[j] = dot * a.scale;
  }
  __syncthreads();
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < len; j += kThreads) mx = fmaxf(mx, s_p[j]);
  mx = block_max_f(mx, s_red);
  float sum = 0.0f;
  for (int j = threadIdx.x; j < len; j += kThreads) {
    const float e = expf(s_p[j] - mx);
    s_p[j] = e;
    sum += e;
  }
  const float inv = 1.0f / block_sum_f(sum, s_red);  // ends with a barrier: s_p is complete
  for (int j = threadIdx.x; j < len; j += kThreads) s_p[j] *= inv;
  __syncthreads();

  // dh <= kThreads: G groups of dh threads; thread (g, d) sums rows g, g + G, ... of column d.
  const int groups = kThreads / dh;
  const int g = static_cast<int>(threadIdx.x) / dh, d = static_cast<int>(threadIdx.x) % dh;
  if (g < groups) {
    float acc = 0.0f;
    for (int j = g; j < len; j += groups) acc += s_p[j] * a.v[(b + j) * stride + col + d];
    s_part[g * dh + d] = acc;
  }
  __syncthreads();
  if (static_cast<int>(threadIdx.x) < dh) {
    float o = 0.0f;
    for (int gg = 0; gg < groups; ++gg) o += s_part[gg * dh + threadIdx.x];
    a.out[row * stride + col + threadIdx.x] = o;
  }
}

// One block per row. Each thread owns columns j = tid, tid + blockDim, ...: it writes
// z = x + residual into out, then reads only its own columns back, so out may alias x.
__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(const float* x, const float* residual, const float* w, const float* b,
                      float eps, int dim, float* out) {
  __shared__ double scratch[kWarps];
  const int64_t row = blockIdx.x;
  const float* xr = x + row * dim;
  const float* rr = residual != nullptr ? residual + row * dim : nullptr;
  float* o = out + row * dim;
  double sum = 0.0;
  for (int j = threadIdx.x; j < dim; j += kThreads) {
    const float z = rr != nullptr ? xr[j] + rr[j] : xr[j];
    o[j] = z;
    sum += z;
  }
  const float mean = cuda_encoder::layer_norm_mean(block_sum(sum, scratch), dim);
  double var = 0.0;
  for (int j = threadIdx.x; j < dim; j += kThreads) {
    const float d = o[j] - mean;
    var += static_cast<double>(d) * d;
  }
  const float inv = cuda_encoder::layer_norm_inv_std(block_sum(var, scratch), dim, eps);
  for (int j = threadIdx.x; j < dim; j += kThreads)
    o[j] = cuda_encoder::layer_norm_apply(o[j], mean, inv, w[j], b[j]);
}

__global__ void gelu_kernel(const float* x, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = cuda_encoder::gelu_erf(x[i]);
  }
}

// One block per sequence, threads over columns.
__global__ void pool_kernel(const float* x, const int32_t* seq_offsets, int dim, bool first_only,
                            float* out) {
  const int s = static_cast<int>(blockIdx.x);
  for (int col = threadIdx.x; col < dim; col += blockDim.x)
    out[static_cast<int64_t>(s) * dim + col] =
        cuda_encoder::pool_column(x, seq_offsets, s, dim, col, first_only);
}

// One block per row.
__global__ void __launch_bounds__(kThreads) l2_normalize_kernel(float* x, int dim) {
  __shared__ double scratch[kWarps];
  float* r = x + static_cast<int64_t>(blockIdx.x) * dim;
  double ss = 0.0;
  for (int j = threadIdx.x; j < dim; j += kThreads) ss += static_cast<double>(r[j]) * r[j];
  const float inv = cuda_encoder::l2_inv_norm(block_sum(ss, scratch));
  for (int j = threadIdx.x; j < dim; j += kThreads) r[j] *= inv;
}

}  // namespace

Status layer_norm(const float* x, const float* residual, const float* w, const float* b, float eps,
                  int32_t n, int32_t dim, float* out, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  if (dim <= 0) return invalid_argument("layer_norm: dim " + std::to_string(dim));
  layer_norm_kernel<<<n, kThreads, 0, stream>>>(x, residual, w, b, eps, dim, out);
  return cuda_status(cudaGetLastError(), "layer_norm");
}

Status encoder_attention(const float* q, const float* k, const float* v, const int32_t* seq_offsets,
                         int32_t n_seq, int32_t n_rows, int32_t max_seq_len, int32_t n_head,
                         int32_t head_dim, float scale, float* out, cudaStream_t stream) {
  if (n_seq <= 0 || n_rows <= 0) return Status::ok();
  if (n_head <= 0 || head_dim <= 0 || head_dim > kMaxHeadDim) {
    return unsupported("encoder_attention: " + std::to_string(n_head) + " heads of " +
                       std::to_string(head_dim) + " (head_dim at most " +
                       std::to_string(kMaxHeadDim) + ")");
  }
  // Scores in dynamic shared memory: static + dynamic stay under the 48 KiB a launch gets without
  // opting in (the static arrays take ~2 KiB; 4 KiB are kept for them).
  constexpr int32_t kMaxLen = (48 * 1024 - 4096) / 4;
  if (max_seq_len <= 0 || max_seq_len > kMaxLen) {
    return unsupported("encoder_attention: sequences of " + std::to_string(max_seq_len) +
                       " tokens (1.." + std::to_string(kMaxLen) + ")");
  }
  const int64_t blocks = static_cast<int64_t>(n_rows) * n_head;
  if (blocks > 0x7fffffff) return invalid_argument("encoder_attention: too many (row, head) pairs");
  const EncoderAttentionArgs a{q, k, v, seq_offsets, out, n_seq, n_head, head_dim, scale};
  encoder_attention_kernel<<<static_cast<unsigned>(blocks), kThreads,
                             static_cast<size_t>(max_seq_len) * sizeof(float), stream>>>(a);
  return cuda_status(cudaGetLastError(), "encoder_attention");
}

Status gelu_erf(const float* x, int64_t n, float* out, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  const auto blocks = static_cast<unsigned>(cuda_shape::elementwise_blocks(n, kThreads));
  gelu_kernel<<<blocks, kThreads, 0, stream>>>(x, n, out);
  return cuda_status(cudaGetLastError(), "gelu_erf");
}

Status pool_sequences(const float* x, const int32_t* seq_offsets, int32_t n_seq, int32_t dim,
                      bool first_only, float* out, cudaStream_t stream) {
  if (n_seq <= 0) return Status::ok();
  if (dim <= 0) return invalid_argument("pool_sequences: dim " + std::to_string(dim));
  pool_kernel<<<n_seq, 128, 0, stream>>>(x, seq_offsets, dim, first_only, out);
  return cuda_status(cudaGetLastError(), "pool_sequences");
}

Status l2_normalize(float* x, int32_t n, int32_t dim, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  if (dim <= 0) return invalid_argument("l2_normalize: dim " + std::to_string(dim));
  l2_normalize_kernel<<<n, kThreads, 0, stream>>>(x, dim);
  return cuda_status(cudaGetLastError(), "l2_normalize");
}

}  // namespace memlong::cuda_ops
