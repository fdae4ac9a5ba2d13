// Launch-shape and storage arithmetic of the CUDA backend, kept apart from any CUDA header so
// tests/cuda/launch_shape_test.cpp checks it on machines without a GPU.
// Legend: n = activation rows (tokens), k = n_in (row length), n_out = weight rows.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "cuda/kernels/block_dequant.h"

namespace memlong::cuda_shape {

// Mat-vec (decode) kernel: one warp per output row, kMatvecWarps rows per thread block; it serves
// n <= kMatvecMaxCols activation rows (decode, and small batches such as speculative checks).
inline constexpr int kMatvecMaxCols = 8;
inline constexpr int kMatvecWarps = 8;
// The activations are staged in shared memory when they fit in the 48 KiB every sm_80+ block may
// use without opting in (CUDA C Programming Guide, "Shared Memory" limits).
inline constexpr size_t kDefaultSmemBytes = 48 * 1024;

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

inline int64_t matvec_blocks(int64_t n_out) {
  return ceil_div(n_out, kMatvecWarps);
}

// Shared memory for the mat-vec kernel's activations, or 0 to read them from global memory.
inline size_t matvec_smem_bytes(int64_t n, int64_t k) {
  const size_t bytes = static_cast<size_t>(n) * static_cast<size_t>(k) * sizeof(float);
  return bytes <= kDefaultSmemBytes ? bytes : 0;
}

// True when matmul may take the mat-vec path: a kept type, few rows, whole 32-element blocks, and
// activations 16-byte aligned (the kernel reads them as float4).
inline bool use_matvec(uint32_t dtype, int64_t n, int64_t k, uintptr_t x_address) {
  return cuda_blocks::is_kept_type(dtype) && n >= 1 && n <= kMatvecMaxCols && k % 32 == 0 &&
         x_address % 16 == 0;
}

// Prefill GEMM on a quantized weight dequantizes it to f16 in chunks of rows so the scratch stays
// within `budget_bytes`; returns the rows per chunk (a multiple of 64 when possible, >= 1).
inline int64_t gemm_chunk_rows(int64_t n_out, int64_t k, size_t budget_bytes) {
  const int64_t row_bytes = k * 2;
  int64_t rows = static_cast<int64_t>(budget_bytes) / std::max<int64_t>(row_bytes, 1);
  if (rows >= 64) rows = rows / 64 * 64;
  return std::clamp<int64_t>(rows, 1, std::max<int64_t>(n_out, 1));
}

// 1-D grid for elementwise kernels with a grid-stride loop; capped (the loop covers the rest).
inline int64_t elementwise_blocks(int64_t n, int threads) {
  return std::clamp<int64_t>(ceil_div(n, threads), 1, 65535);
}

// How a weight is stored on the device.
struct WeightPlan {
  uint32_t dtype;     // stored type id (core DType value)
  size_t row_bytes;   // bytes per stored row
  bool is_converted;  // dequantized on the host at upload
};

// 2-D weights of a kept type stay as they are; other supported types (Q4_K, Q5_K, Q6_K, BF16) are
// dequantized to F16 at upload (2 bytes per weight instead of 0.56 to 0.82: the price of one
// GEMM/mat-vec path instead of one per K-quant). 1-D weights (norms, biases) become F32.
// k must already be a whole number of the source type's blocks.
inline WeightPlan plan_weight(uint32_t dtype, int64_t k, bool is_1d) {
  if (is_1d) return {cuda_blocks::kF32, static_cast<size_t>(k) * 4, dtype != cuda_blocks::kF32};
  if (cuda_blocks::is_kept_type(dtype)) {
    size_t rb = 0;
    switch (dtype) {
      case cuda_blocks::kF32:
        rb = static_cast<size_t>(k) * 4;
        break;
      case cuda_blocks::kF16:
        rb = static_cast<size_t>(k) * 2;
        break;
      case cuda_blocks::kQ4_0:
        rb = static_cast<size_t>(k / 32) * 18;
        break;
      case cuda_blocks::kQ4_1:
        rb = static_cast<size_t>(k / 32) * 20;
        break;
      case cuda_blocks::kQ5_0:
        rb = static_cast<size_t>(k / 32) * 22;
        break;
      case cuda_blocks::kQ5_1:
        rb = static_cast<size_t>(k / 32) * 24;
        break;
      case cuda_blocks::kQ8_0:
        rb = static_cast<size_t>(k / 32) * 34;
        break;
      default:
        break;
    }
    return {dtype, rb, false};
  }
  return {cuda_blocks::kF16, static_cast<size_t>(k) * 2, true};
}

// Attention kernel: one thread block per (query row, head), kAttnWarps warps splitting the keys,
// each lane holding head_dim / 32 (rounded up) output values.
inline constexpr int kAttnWarps = 8;
inline constexpr int kAttnMaxHeadDim = 256;

}  // namespace memlong::cuda_shape
