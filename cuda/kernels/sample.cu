// Token sampling on the device (issue 7): one block of kThreads threads picks one id from
// logits [V] with core/generate/sample_select.h's rules, so only 4 bytes go back to the host.
//   1. repetition penalty on the distinct ids given (in place);
//   2. greedy: block argmax, ties to the lowest id (ranks_before);
//   3. otherwise the top K (= top_k) candidates by (scaled value desc, id asc): a radix select
//      over a 64-bit key (order-preserving bits of value / temperature, then ~id) finds the K-th
//      key in 8 passes of 8-bit histograms; the K keys >= it are gathered, bitonic-sorted in
//      shared memory, and thread 0 runs pick_sorted (softmax in double, min_p, top_p, the draw).
// Host and device use the same code; the only difference is the device's double exp (within
// 1 ulp of glibc's), which can change the pick only when r falls within ~1e-16 of a boundary.
#include <cfloat>

#include "core/generate/sample_select.h"
#include "cuda/kernels/kernels.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = kSampleMaxTopK;  // one candidate slot per thread in the sort
namespace ss = sample_select;

using ss::id_of_key;
using ss::rank_key;
using ss::value_of_key;

__global__ void __launch_bounds__(kThreads)
    sample_kernel(float* logits, int32_t n_vocab, SampleKernelArgs a, int32_t* out_id) {
  __shared__ uint64_t s_key[kThreads];
  __shared__ unsigned int s_hist[256];
  __shared__ uint64_t s_prefix;
  __shared__ unsigned int s_remaining, s_count;
  const int tid = static_cast<int>(threadIdx.x);

  if (a.repetition_penalty != 1.0f) {
    for (int i = tid; i < a.n_penalty_ids; i += kThreads) {
      const int32_t id = a.penalty_ids[i];
      if (id >= 0 && id < n_vocab) logits[id] = ss::penalize(logits[id], a.repetition_penalty);
    }
    __syncthreads();
  }

  if (a.temperature <= 0.0f) {
    float best = -INFINITY;
    int32_t best_id = n_vocab;
    for (int32_t i = tid; i < n_vocab; i += kThreads) {
      if (best_id == n_vocab || ss::ranks_before(logits[i], i, best, best_id)) {
        best = logits[i];
        best_id = i;
      }
    }
    // Reduce through shared memory: keys carry (value, id) in rank order.
    s_key[tid] = best_id < n_vocab ? rank_key(best, best_id) : 0;
    __syncthreads();
    for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
      if (tid < stride && s_key[tid + stride] > s_key[tid]) s_key[tid] = s_key[tid + stride];
      __syncthreads();
    }
    if (tid == 0) *out_id = id_of_key(s_key[0]);
    return;
  }

  const int32_t k_keep = a.top_k < n_vocab ? a.top_k : n_vocab;
  auto key_at = [&](int32_t i) { return rank_key(logits[i] / a.temperature, i); };
  // Radix select: the k_keep-th largest key.
  if (tid == 0) {
    s_prefix = 0;
    s_remaining = static_cast<unsigned int>(k_keep);
  }
  uint64_t mask = 0;
  for (int pass = 0; pass < 8; ++pass) {
    const int shift = 56 - 8 * pass;
    for (int b = tid; b < 256; b += kThreads) s_hist[b] = 0;
    __syncthreads();
    const uint64_t prefix = s_prefix;
    for (int32_t i = tid; i < n_vocab; i += kThreads) {
      const uint64_t key = key_at(i);
      if ((key & mask) == prefix) atomicAdd(&s_hist[(key >> shift) & 0xff], 1u);
    }
    __syncthreads();
    if (tid == 0) {
      unsigned int remaining = s_remaining;
      s_prefix |= static_cast<uint64_t>(ss::radix_pick_digit(s_hist, &remaining)) << shift;
      s_remaining = remaining;
    }
    mask |= uint64_t{0xff} << shift;
    __syncthreads();
  }
  const uint64_t threshold = s_prefix;  // keys are distinct (ids): exactly k_keep are >= it
  s_key[tid] = 0;
  if (tid == 0) s_count = 0;
  __syncthreads();
  for (int32_t i = tid; i < n_vocab; i += kThreads) {
    const uint64_t key = key_at(i);
    if (key >= threshold) {
      const unsigned int slot = atomicAdd(&s_count, 1u);
      if (slot < static_cast<unsigned int>(kThreads)) s_key[slot] = key;
    }
  }
  __syncthreads();
  // Bitonic sort, descending.
  for (int size = 2; size <= kThreads; size <<= 1) {
    for (int stride = size / 2; stride > 0; stride >>= 1) {
      const int partner = tid ^ stride;
      if (partner > tid) {
        const bool descending = (tid & size) == 0;
        const uint64_t x = s_key[tid], y = s_key[partner];
        if (descending ? x < y : x > y) {
          s_key[tid] = y;
          s_key[partner] = x;
        }
      }
      __syncthreads();
    }
  }
  if (tid == 0) {
    const int32_t pick = ss::pick_sorted([&](int32_t i) { return value_of_key(s_key[i]); }, k_keep,
                                         a.min_p, a.top_p, a.uniform);
    *out_id = id_of_key(s_key[pick]);
  }
}

}  // namespace

Status sample(float* logits, int32_t n_vocab, const SampleKernelArgs& a, int32_t* out_id,
              cudaStream_t stream) {
  if (n_vocab <= 0) return invalid_argument("sample: empty vocabulary");
  if (a.temperature > 0.0f && (a.top_k < 1 || a.top_k > kSampleMaxTopK)) {
    return unsupported("sample: top_k " + std::to_string(a.top_k) + " on the device (1.." +
                       std::to_string(kSampleMaxTopK) + ")");
  }
  sample_kernel<<<1, kThreads, 0, stream>>>(logits, n_vocab, a, out_id);
  return cuda_status(cudaGetLastError(), "sample");
}

}  // namespace memlong::cuda_ops
