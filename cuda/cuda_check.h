// Turning CUDA runtime and cuBLAS results into Status (STYLE.md: every call checked, a failure is
// a Status at the cuda/ boundary, never an abort).
// Thread-safety: pure functions.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "core/common/status.h"

namespace memlong::cuda_check {

// "<what>: cudaErrorX (message)"; OutOfMemory for allocation failures, Unsupported for a missing
// driver or device, Internal otherwise. OK for cudaSuccess.
Status from_cuda(cudaError_t e, const std::string& what);
// The same for cuBLAS statuses (CUBLAS_STATUS_ALLOC_FAILED is OutOfMemory).
Status from_cublas(cublasStatus_t s, const std::string& what);

}  // namespace memlong::cuda_check

#define MEMLONG_CUDA_RETURN_IF_ERROR(call) \
  MEMLONG_RETURN_IF_ERROR(::memlong::cuda_check::from_cuda((call), #call))
#define MEMLONG_CUBLAS_RETURN_IF_ERROR(call) \
  MEMLONG_RETURN_IF_ERROR(::memlong::cuda_check::from_cublas((call), #call))
