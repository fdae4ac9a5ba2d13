// Causal grouped-query attention over the KV cache, joint with MemLong memory keys
// (MEMLONG.md §5): for query row i and head h, the keys are [memory 0..n_mem) ; [local
// 0..n_vis) with n_vis = min(n_kv, q_pos0 + i + 1), all under ONE softmax; optionally the softmax
// mass on the memory keys is written to mem_mass[i, h], and each memory token's final weight is
// added to mem_token_mass[t] (summed over the call's (i, h) pairs).
// Legend: H / Hkv = query / KV heads, dh = head dim (<= 256), W = warps per block.
// One thread block per (i, h). Warp w takes keys w, w + W, ...; per key the warp computes the
// score (lanes split dh, shuffle reduction) and updates an online softmax (running max m, sum l,
// memory sum l_mem, output acc rescaled by exp(m_old - m_new), Milakov & Gimelshein 2018). The
// warps' partial states are then merged through shared memory with factors exp(m_w - max_w m_w).
// The online-softmax arithmetic lives in softmax_merge.h (host-tested).
// mem_token_mass: a key's final weight needs the final max and sum, known only after the merge,
// so a second pass over the memory keys recomputes their scores (same code, same result) and
// adds final_weight(s) with atomicAdd: one add per (block, memory token). The order of those
// adds varies between runs, so the sums are reproducible to float rounding (~1e-7 relative per
// add), not bit for bit. The recomputation reads the memory keys twice but needs no shared
// memory proportional to n_mem; it runs only when citations ask for it.
// This serves prefill and decode alike; it is not a tiled flash kernel (TODO(issue 7): split the
// keys across blocks for long decode contexts, where H blocks leave most SMs idle).
#include <cmath>

#include "cuda/kernels/kernels.h"
#include "cuda/kernels/softmax_merge.h"
#include "cuda/launch_shape.h"

namespace memlong::cuda_ops {
namespace {

using cuda_shape::kAttnMaxHeadDim;
using cuda_shape::kAttnWarps;
using cuda_softmax::SoftmaxState;
constexpr int kPerLane = kAttnMaxHeadDim / 32;

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// q . k * scale for one key row, lanes splitting dh; every lane gets the result.
__device__ __forceinline__ float key_score(const float (&qv)[kPerLane], const float* kr, int dh,
                                           int lane, float scale) {
  float s = 0.0f;
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) {
    const int d = lane + 32 * e;
    if (d < dh) s += qv[e] * kr[d];
  }
  return warp_sum(s) * scale;
}

__global__ void __launch_bounds__(kAttnWarps * 32) attention_kernel(AttentionArgs a) {
  __shared__ float s_m[kAttnWarps], s_l[kAttnWarps], s_lm[kAttnWarps];
  __shared__ float s_acc[kAttnWarps][kAttnMaxHeadDim];
  const int H = a.n_head, dh = a.head_dim;
  const int i = static_cast<int>(blockIdx.x) / H;
  const int h = static_cast<int>(blockIdx.x) % H;
  const int hk = h / (H / a.n_head_kv);
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int n_mem = a.mem_k != nullptr ? a.n_mem : 0;
  // Capturable decode (issue 7): positions from device scalars, n_kv capped by the capacity.
  const int q_pos0 = a.q_pos0_dev != nullptr ? *a.q_pos0_dev : a.q_pos0;
  const int n_kv = a.n_kv_dev != nullptr ? min(*a.n_kv_dev, a.n_kv) : a.n_kv;
  const int n_vis = min(n_kv, q_pos0 + i + 1);
  const int64_t kv_stride = static_cast<int64_t>(a.n_head_kv) * dh;

  const float* qi = a.q + (static_cast<int64_t>(i) * H + h) * dh;
  float qv[kPerLane], acc[kPerLane];
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) {
    const int d = lane + 32 * e;
    qv[e] = d < dh ? qi[d] : 0.0f;
    acc[e] = 0.0f;
  }
  SoftmaxState st;
  for (int t = warp; t < n_mem + n_vis; t += kAttnWarps) {
    const bool is_mem = t < n_mem;
    const int64_t off = (is_mem ? t : t - n_mem) * kv_stride + static_cast<int64_t>(hk) * dh;
    const float* kr = (is_mem ? a.mem_k : a.k_cache) + off;
    const float* vr = (is_mem ? a.mem_v : a.v_cache) + off;
    const float s = key_score(qv, kr, dh, lane, a.scale);
    float corr;
    const float p = cuda_softmax::softmax_step(&st, s, is_mem, &corr);
#pragma unroll
    for (int e = 0; e < kPerLane; ++e) {
      const int d = lane + 32 * e;
      if (d < dh) acc[e] = acc[e] * corr + p * vr[d];
    }
  }
  if (lane == 0) {
    s_m[warp] = st.m;
    s_l[warp] = st.l;
    s_lm[warp] = st.l_mem;
  }
#pragma unroll
  for (int e = 0; e < kPerLane; ++e) {
    const int d = lane + 32 * e;
    if (d < dh) s_acc[warp][d] = acc[e];
  }
  __syncthreads();
  float m_all = -INFINITY;
  for (int w = 0; w < kAttnWarps; ++w) m_all = fmaxf(m_all, s_m[w]);
  float f[kAttnWarps];
  float total = 0.0f, total_mem = 0.0f;
  for (int w = 0; w < kAttnWarps; ++w) {
    f[w] = cuda_softmax::merge_factor(s_m[w], m_all);  // warps that saw no key: 0
    total += f[w] * s_l[w];
    total_mem += f[w] * s_lm[w];
  }
  const float inv_total = 1.0f / total;
  float* oi = a.out + (static_cast<int64_t>(i) * H + h) * dh;
  for (int d = static_cast<int>(threadIdx.x); d < dh; d += blockDim.x) {
    float v = 0.0f;
    for (int w = 0; w < kAttnWarps; ++w) v += f[w] * s_acc[w][d];
    oi[d] = v * inv_total;
  }
  if (threadIdx.x == 0 && a.mem_mass != nullptr) {
    a.mem_mass[static_cast<int64_t>(i) * H + h] = total_mem * inv_total;
  }
  if (a.mem_token_mass != nullptr) {
    for (int t = warp; t < n_mem; t += kAttnWarps) {
      const float* kr = a.mem_k + t * kv_stride + static_cast<int64_t>(hk) * dh;
      const float s = key_score(qv, kr, dh, lane, a.scale);
      if (lane == 0)
        atomicAdd(a.mem_token_mass + t, cuda_softmax::final_weight(s, m_all, inv_total));
    }
  }
}

}  // namespace

Status attention(const AttentionArgs& a, cudaStream_t stream) {
  if (a.n_query <= 0) return Status::ok();
  if (a.n_head <= 0 || a.n_head_kv <= 0 || a.n_head % a.n_head_kv != 0) {
    return invalid_argument("attention: " + std::to_string(a.n_head) + " heads over " +
                            std::to_string(a.n_head_kv) + " KV heads");
  }
  if (a.head_dim <= 0 || a.head_dim > kAttnMaxHeadDim) {
    return unsupported("attention: head_dim " + std::to_string(a.head_dim) + " (at most " +
                       std::to_string(kAttnMaxHeadDim) + ")");
  }
  if ((a.n_kv_dev == nullptr) != (a.q_pos0_dev == nullptr)) {
    return invalid_argument("attention: q_pos0_dev and n_kv_dev go together");
  }
  if (a.n_kv_dev == nullptr && (a.n_kv < a.q_pos0 + a.n_query || a.q_pos0 < 0)) {
    return invalid_argument("attention: n_kv " + std::to_string(a.n_kv) + " < q_pos0 " +
                            std::to_string(a.q_pos0) + " + n_query " + std::to_string(a.n_query));
  }
  if (a.n_mem > 0 && a.mem_k != nullptr && a.mem_v == nullptr) {
    return invalid_argument("attention: memory keys without values");
  }
  const int64_t blocks = static_cast<int64_t>(a.n_query) * a.n_head;
  if (blocks > 0x7fffffff) return invalid_argument("attention: too many (query, head) pairs");
  attention_kernel<<<static_cast<unsigned>(blocks), kAttnWarps * 32, 0, stream>>>(a);
  return cuda_status(cudaGetLastError(), "attention");
}

}  // namespace memlong::cuda_ops
