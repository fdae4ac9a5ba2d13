// Quantized mat-vec for decode: y[c, r] = dot(W row r, x row c) (+ bias[r]) for n <= 8 rows of x,
// computed on the weight blocks as stored (no dequantized copy), f32 accumulation.
// Legend: k = row length (a multiple of 32), n_out = weight rows, n = activation rows.
// Mapping: one warp per weight row; lane = 8 * q + s handles elements 4s..4s+3 of every 4th block
// starting at q, so one warp step covers 4 consecutive blocks (128 elements), the activations are
// read as float4 (conflict-free in shared memory, coalesced in global) and the weight bytes of
// the 4 blocks are contiguous. The activations sit in shared memory when they fit in 48 KiB
// (all decode shapes up to k = 12288), else they are read through L1/L2.
// Several products of the same x (q/k/v, gate/up) share one launch: thread blocks are numbered
// across the targets, each block serving kMatvecWarps rows of one target.
#include "cuda/kernels/block_dequant.h"
#include "cuda/kernels/kernels.h"
#include "cuda/launch_shape.h"

namespace memlong::cuda_ops {
namespace {

using cuda_shape::kMatvecMaxCols;
using cuda_shape::kMatvecWarps;

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// The targets of one launch, by value in kernel parameter space. first_block[t] is the first
// thread block of target t (prefix sums of matvec_blocks(n_out)); first_block[n_targets] = grid.
struct MatvecBatch {
  const uint8_t* w[kMatvecMaxTargets];
  size_t row_bytes[kMatvecMaxTargets];
  int64_t n_out[kMatvecMaxTargets];
  float* y[kMatvecMaxTargets];
  const float* bias[kMatvecMaxTargets];
  int64_t first_block[kMatvecMaxTargets + 1];
  int n_targets;
};

template <uint32_t kType>
__global__ void __launch_bounds__(kMatvecWarps * 32)
    matvec_kernel(MatvecBatch batch, int64_t k, const float* x, int n, bool x_in_smem) {
  extern __shared__ float4 smem4[];
  if (x_in_smem) {
    const int64_t n4 = static_cast<int64_t>(n) * k / 4;
    const auto* x4 = reinterpret_cast<const float4*>(x);
    for (int64_t i = threadIdx.x; i < n4; i += blockDim.x) smem4[i] = x4[i];
    __syncthreads();
  }
  const float* xp = x_in_smem ? reinterpret_cast<const float*>(smem4) : x;
  int t = 0;  // this block's target (uniform over the block)
  while (t + 1 < batch.n_targets && static_cast<int64_t>(blockIdx.x) >= batch.first_block[t + 1]) {
    ++t;
  }
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t n_out = batch.n_out[t];
  const int64_t r = (static_cast<int64_t>(blockIdx.x) - batch.first_block[t]) * kMatvecWarps + warp;
  if (r >= n_out) return;  // whole warps leave: the shuffles below see full warps
  const uint8_t* row = batch.w[t] + r * batch.row_bytes[t];
  const int s = lane & 7;
  const int64_t n_blocks = k / 32;
  float acc[kMatvecMaxCols] = {};
  for (int64_t b = lane >> 3; b < n_blocks; b += 4) {
    const uint8_t* blk = row + b * cuda_blocks::BlockFormat<kType>::kBytes;
    float wv[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) wv[e] = cuda_blocks::BlockFormat<kType>::elem(blk, 4 * s + e);
    const int64_t off = b * 32 + 4 * s;
#pragma unroll
    for (int c = 0; c < kMatvecMaxCols; ++c) {
      if (c < n) {
        const float4 xv = *reinterpret_cast<const float4*>(xp + c * k + off);
        acc[c] += wv[0] * xv.x + wv[1] * xv.y + wv[2] * xv.z + wv[3] * xv.w;
      }
    }
  }
  float* y = batch.y[t];
  const float* bias = batch.bias[t];
#pragma unroll
  for (int c = 0; c < kMatvecMaxCols; ++c) {
    if (c < n) {
      const float v = warp_sum(acc[c]);
      if (lane == 0) y[c * n_out + r] = v + (bias != nullptr ? bias[r] : 0.0f);
    }
  }
}

}  // namespace

Status matvec(uint32_t dtype, const MatvecTarget* targets, int n_targets, int64_t k, const float* x,
              int32_t n, cudaStream_t stream) {
  if (!cuda_shape::use_matvec(dtype, n, k, reinterpret_cast<uintptr_t>(x))) {
    return invalid_argument("matvec: type " + std::to_string(dtype) + ", n = " + std::to_string(n) +
                            ", k = " + std::to_string(k) +
                            " is not a mat-vec shape (n <= 8, k % 32 == 0, aligned x)");
  }
  if (n_targets < 1 || n_targets > kMatvecMaxTargets) {
    return invalid_argument("matvec: " + std::to_string(n_targets) + " targets (1 to " +
                            std::to_string(kMatvecMaxTargets) + ")");
  }
  MatvecBatch batch{};
  batch.n_targets = n_targets;
  int64_t blocks = 0;
  for (int t = 0; t < n_targets; ++t) {
    batch.w[t] = static_cast<const uint8_t*>(targets[t].w);
    batch.row_bytes[t] = targets[t].row_bytes;
    batch.n_out[t] = targets[t].n_out;
    batch.y[t] = targets[t].y;
    batch.bias[t] = targets[t].bias;
    batch.first_block[t] = blocks;
    blocks += cuda_shape::matvec_blocks(targets[t].n_out);
  }
  batch.first_block[n_targets] = blocks;
  if (blocks <= 0) return Status::ok();
  if (blocks > 0x7fffffff) return invalid_argument("matvec: too many rows");
  const size_t smem = cuda_shape::matvec_smem_bytes(n, k);
  const bool known = cuda_blocks::dispatch_kept_type(dtype, [&]<uint32_t T>() {
    matvec_kernel<T><<<static_cast<unsigned>(blocks), kMatvecWarps * 32, smem, stream>>>(
        batch, k, x, n, smem > 0);
  });
  if (!known) return unsupported("matvec: weight type " + std::to_string(dtype));
  return cuda_status(cudaGetLastError(), "matvec");
}

}  // namespace memlong::cuda_ops
