// CublasGemm: the prefill matrix products on cuBLAS, y[n, ldy] = x[n, k] * W[rows, k]^T with W's
// rows contiguous (our weight layout) and f32 output.
//   gemm_f16: W and x in f16, f32 accumulation (CUBLAS_COMPUTE_32F): tensor cores on sm_80+.
//   gemm_f32: plain f32 (no TF32), for F32 weights, where parity with the CPU matters more.
// Column-major mapping: y^T [rows x n] (ld = ldy) = op_T(W as col-major [k x rows]) *
// x^T (col-major [k x n]), i.e. cublasGemmEx(T, N, m = rows, n, k, W, lda = k, x, ldb = k, y, ldc).
// Ownership: owns its cuBLAS handle, bound to one stream. Thread-safety: one thread at a time.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <string>

#include "core/common/status.h"

namespace memlong {

class CublasGemm {
 public:
  static Result<std::unique_ptr<CublasGemm>> create(cudaStream_t stream);
  ~CublasGemm();
  CublasGemm(const CublasGemm&) = delete;
  CublasGemm& operator=(const CublasGemm&) = delete;

  Status gemm_f16(const void* w_f16, int64_t rows, int64_t k, const void* x_f16, int64_t n,
                  float* y, int64_t ldy);
  Status gemm_f32(const float* w, int64_t rows, int64_t k, const float* x, int64_t n, float* y,
                  int64_t ldy);
  int version() const { return version_; }

 private:
  CublasGemm() = default;
  cublasHandle_t handle_ = nullptr;
  int version_ = 0;
};

}  // namespace memlong
