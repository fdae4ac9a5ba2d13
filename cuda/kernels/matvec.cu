// Quantized mat-vec for decode: y[c, r] = dot(W row r, x row c) (+ bias[r]) for n <= 8 rows of x,
// computed on the weight blocks as stored (no dequantized copy), f32 accumulation.
// Legend: k = row length (a multiple of 32), n_out = weight rows, n = activation rows.
// Mapping: one warp per weight row; lane = 8 * q + s handles elements 4s..4s+3 of every 4th block
// starting at q, so one warp step covers 4 consecutive blocks (128 elements), the activations are
// read as float4 (conflict-free in shared memory, coalesced in global) and the weight bytes of
// the 4 blocks are contiguous. The activations sit in shared memory when they fit in 48 KiB
// (all decode shapes up to k = 12288), else they are read through L1/L2.
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

template <uint32_t kType>
__global__ void __launch_bounds__(kMatvecWarps * 32)
    matvec_kernel(const uint8_t* w, size_t row_bytes, int64_t n_out, int64_t k, const float* x,
                  int n, float* y, int64_t ldy, const float* bias, bool x_in_smem) {
  extern __shared__ float4 smem4[];
  if (x_in_smem) {
    const int64_t n4 = static_cast<int64_t>(n) * k / 4;
    const auto* x4 = reinterpret_cast<const float4*>(x);
    for (int64_t i = threadIdx.x; i < n4; i += blockDim.x) smem4[i] = x4[i];
    __syncthreads();
  }
  const float* xp = x_in_smem ? reinterpret_cast<const float*>(smem4) : x;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kMatvecWarps + warp;
  if (r >= n_out) return;  // whole warps leave: the shuffles below see full warps
  const uint8_t* row = w + r * row_bytes;
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
#pragma unroll
  for (int c = 0; c < kMatvecMaxCols; ++c) {
    if (c < n) {
      const float v = warp_sum(acc[c]);
      if (lane == 0) y[c * ldy + r] = v + (bias != nullptr ? bias[r] : 0.0f);
    }
  }
}

}  // namespace

Status matvec(uint32_t dtype, const void* w, size_t row_bytes, int64_t n_out, int64_t k,
              const float* x, int32_t n, float* y, int64_t ldy, const float* bias,
              cudaStream_t stream) {
  if (!cuda_shape::use_matvec(dtype, n, k, reinterpret_cast<uintptr_t>(x))) {
    return invalid_argument("matvec: type " + std::to_string(dtype) + ", n = " + std::to_string(n) +
                            ", k = " + std::to_string(k) +
                            " is not a mat-vec shape (n <= 8, k % 32 == 0, aligned x)");
  }
  if (n_out <= 0) return Status::ok();
  const size_t smem = cuda_shape::matvec_smem_bytes(n, k);
  const auto blocks = static_cast<unsigned>(cuda_shape::matvec_blocks(n_out));
  const auto* wb = static_cast<const uint8_t*>(w);
  const bool known = cuda_blocks::dispatch_kept_type(dtype, [&]<uint32_t T>() {
    matvec_kernel<T><<<blocks, kMatvecWarps * 32, smem, stream>>>(wb, row_bytes, n_out, k, x, n, y,
                                                                  ldy, bias, smem > 0);
  });
  if (!known) return unsupported("matvec: weight type " + std::to_string(dtype));
  return cuda_status(cudaGetLastError(), "matvec");
}

}  // namespace memlong::cuda_ops
