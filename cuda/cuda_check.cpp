#include "cuda/cuda_check.h"

#include "cuda/kernels/kernels.h"

namespace memlong {

Status cuda_check::from_cuda(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return Status::ok();
  const std::string msg = what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  switch (e) {
    case cudaErrorMemoryAllocation:
      return out_of_memory(msg);
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorDevicesUnavailable:
      return unsupported(msg);
    default:
      return internal_error(msg);
  }
}

Status cuda_check::from_cublas(cublasStatus_t s, const std::string& what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::ok();
  const std::string msg =
      what + ": " + cublasGetStatusName(s) + " (" + cublasGetStatusString(s) + ")";
  if (s == CUBLAS_STATUS_ALLOC_FAILED) return out_of_memory(msg);
  if (s == CUBLAS_STATUS_NOT_SUPPORTED || s == CUBLAS_STATUS_ARCH_MISMATCH) return unsupported(msg);
  return internal_error(msg);
}

// kernels.h's helper: the kernel entry points report launch errors through it.
Status cuda_ops::cuda_status(cudaError_t e, const char* what) {
  return cuda_check::from_cuda(e, what);
}

}  // namespace memlong
