// Quantized tensor kernels for the CPU backend: dequantization, activation quantization and dot
// products on the GGUF block formats (see core/common/dtype.h for the block sizes).
//
// Matrix products run on the quantized weights directly: the activations are first converted to
// the weight type's `vec_dot_type` (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the
// K-quants, F32 for F32/F16/BF16), then each weight row is dotted with each activation row using
// integer SIMD (AVX2/FMA, chosen at run time; a scalar path everywhere else).
//
// Layout legend: a weight matrix W is [n_rows, k] in storage order (k contiguous, as ggml's ne0),
// i.e. row r holds the k input weights of output r. Activations X are [n_cols, k].
// Thread-safety: all functions are pure over their arguments; callers split rows across threads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/common/dtype.h"

namespace memlong::quant {

// True for the types whose rows these kernels can dot and dequantize (F32, F16, BF16, Q4_0,
// Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K).
bool is_supported_weight_type(DType t);

// Dequantizes n elements (a multiple of the block size) of type t at src into dst.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

// Quantizes n f32 values into type t at dst. Supports the activation types Q8_0, Q8_1, Q8_K, and
// F32/F16/BF16 (used by tests and by writers of synthetic models); for Q4_0, Q4_1, Q5_0, Q5_1,
// Q4_K, Q5_K, Q6_K uses a simple reference quantizer (round to nearest, ggml's block layout).
void quantize_row(DType t, const float* src, void* dst, int64_t n);

// The activation type that pairs with weight type t in vec_dot / matmul.
DType vec_dot_type(DType weight_type);

// Dot product of one weight row of type t with one activation row in vec_dot_type(t), both n
// elements long.
float vec_dot(DType t, int64_t n, const void* w_row, const void* x_row);

// y[c * y_stride + r] = dot(W row r, X row c) for r in [r_begin, r_end), c in [0, n_cols).
// w points at row 0 of W (rows w_row_bytes apart); x holds n_cols activation rows already in
// vec_dot_type(t), x_row_bytes apart. Tiles rows x columns so each weight block is loaded once
// per group of columns: the prefill fast path. With n_cols == 1 it is the decode path.
void matmul_rows(DType t, int64_t k, const void* w, size_t w_row_bytes, int64_t r_begin,
                 int64_t r_end, const void* x, size_t x_row_bytes, int64_t n_cols, float* y,
                 int64_t y_stride);

// Which SIMD path is in use ("avx2+vnni", "avx2" or "scalar"), for logs and benchmarks. With
// "avx2+vnni" the 32-element block types use AVX512-VNNI, everything else AVX2.
const char* simd_path_name();

// Tests only: forces the scalar path (true) or restores run-time detection (false).
void force_scalar_for_testing(bool force);

}  // namespace memlong::quant
