#include "cuda/cublas_gemm.h"

#include <climits>

#include "cuda/cuda_check.h"

namespace memlong {
namespace {

Status check_dims(int64_t rows, int64_t k, int64_t n, int64_t ldy) {
  if (rows > INT_MAX || k > INT_MAX || n > INT_MAX || ldy > INT_MAX || rows < 0 || k < 0 || n < 0) {
    return invalid_argument("GEMM dimensions exceed cuBLAS's int range: rows " +
                            std::to_string(rows) + ", k " + std::to_string(k) + ", n " +
                            std::to_string(n));
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<CublasGemm>> CublasGemm::create(cudaStream_t stream) {
  auto g = std::unique_ptr<CublasGemm>(new CublasGemm());
  MEMLONG_CUBLAS_RETURN_IF_ERROR(cublasCreate(&g->handle_));
  MEMLONG_CUBLAS_RETURN_IF_ERROR(cublasSetStream(g->handle_, stream));
  MEMLONG_CUBLAS_RETURN_IF_ERROR(cublasGetVersion(g->handle_, &g->version_));
  // Plain f32 GEMMs stay f32: no TF32 for gemm_f32 (parity with the CPU backend).
  MEMLONG_CUBLAS_RETURN_IF_ERROR(cublasSetMathMode(g->handle_, CUBLAS_DEFAULT_MATH));
  return g;
}

CublasGemm::~CublasGemm() {
  if (handle_ != nullptr) (void)cublasDestroy(handle_);  // nothing to do on failure at teardown
}

Status CublasGemm::gemm_f16(const void* w_f16, int64_t rows, int64_t k, const void* x_f16,
                            int64_t n, float* y, int64_t ldy) {
  MEMLONG_RETURN_IF_ERROR(check_dims(rows, k, n, ldy));
  if (rows == 0 || n == 0) return Status::ok();
  const float alpha = 1.0f, beta = 0.0f;
  return cuda_check::from_cublas(
      cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows), static_cast<int>(n),
                   static_cast<int>(k), &alpha, w_f16, CUDA_R_16F, static_cast<int>(k), x_f16,
                   CUDA_R_16F, static_cast<int>(k), &beta, y, CUDA_R_32F, static_cast<int>(ldy),
                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
      "cublasGemmEx(f16, f32 accumulate)");
}

Status CublasGemm::gemm_f32(const float* w, int64_t rows, int64_t k, const float* x, int64_t n,
                            float* y, int64_t ldy) {
  MEMLONG_RETURN_IF_ERROR(check_dims(rows, k, n, ldy));
  if (rows == 0 || n == 0) return Status::ok();
  const float alpha = 1.0f, beta = 0.0f;
  return cuda_check::from_cublas(
      cublasSgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows), static_cast<int>(n),
                  static_cast<int>(k), &alpha, w, static_cast<int>(k), x, static_cast<int>(k),
                  &beta, y, static_cast<int>(ldy)),
      "cublasSgemm");
}

}  // namespace memlong
