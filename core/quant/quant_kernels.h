// Internal interface between the dispatcher (quant.cpp) and the per-ISA kernel files. Not for use
// outside core/quant. Argument meanings are those of quant.h's matmul_rows.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/common/dtype.h"

namespace memlong::quant::detail {

// True while tests force the scalar path (quant::force_scalar_for_testing).
bool scalar_forced();

// True when the CPU has AVX2, FMA and F16C (checked once).
bool cpu_has_avx2();

// AVX2 matmul; returns false (and writes nothing) for a type without an AVX2 kernel, so the
// caller falls back to the scalar path. Only call when cpu_has_avx2().
bool matmul_rows_avx2(DType t, int64_t k, const void* w, size_t w_row_bytes, int64_t r_begin,
                      int64_t r_end, const void* x, size_t x_row_bytes, int64_t n_cols, float* y,
                      int64_t y_stride);

// True when the CPU also has AVX512F/VL/VNNI (implies cpu_has_avx2()).
bool cpu_has_avx512_vnni();

// VNNI variant of matmul_rows_avx2 for the 32-element block types; false for other types.
bool matmul_rows_vnni(DType t, int64_t k, const void* w, size_t w_row_bytes, int64_t r_begin,
                      int64_t r_end, const void* x, size_t x_row_bytes, int64_t n_cols, float* y,
                      int64_t y_stride);

// Tests only: disallows (true) the VNNI kernels so the plain AVX2 ones run on a VNNI machine.
void disable_vnni_for_testing(bool disable);

// AVX2 symmetric 32-element quantizer for Q8_0/Q8_1 activations, bit-exact with the scalar one:
// returns d, fills qs[32], sets *sum_q. Only call when cpu_has_avx2().
float quantize_q8_block_avx2(const float* x, int8_t* qs, int* sum_q);

// Scalar dot of one weight row with one activation row (in vec_dot_type(t)): the reference that
// every SIMD kernel must match up to float summation order.
float vec_dot_scalar(DType t, int64_t n, const void* w_row, const void* x_row);

}  // namespace memlong::quant::detail
