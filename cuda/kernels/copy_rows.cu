// Row copy at a device-held row index: the KV-cache append of a recorded decode step (issue 7),
// where the write offset must not be a kernel argument (it changes every step, the graph does
// not). One block per row, threads stride over the row's 4-byte words (bytes when the row size is
// not a multiple of 4).
#include "cuda/kernels/kernels.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = 256;

__global__ void copy_rows_at_kernel(uint8_t* dst, const uint8_t* src, const int32_t* row_index,
                                    size_t row_bytes, int32_t capacity_rows) {
  const int32_t r = static_cast<int32_t>(blockIdx.x);
  const int32_t row = *row_index + r;
  if (row < 0 || row >= capacity_rows) return;
  uint8_t* d = dst + static_cast<size_t>(row) * row_bytes;
  const uint8_t* s = src + static_cast<size_t>(r) * row_bytes;
  if (row_bytes % 4 == 0 && reinterpret_cast<uintptr_t>(d) % 4 == 0 &&
      reinterpret_cast<uintptr_t>(s) % 4 == 0) {
    const size_t n = row_bytes / 4;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
      reinterpret_cast<float*>(d)[i] = reinterpret_cast<const float*>(s)[i];
    }
  } else {
    for (size_t i = threadIdx.x; i < row_bytes; i += blockDim.x) d[i] = s[i];
  }
}

}  // namespace

Status copy_rows_at(void* dst, const void* src, const int32_t* row_index, int32_t n_rows,
                    size_t row_bytes, int32_t capacity_rows, cudaStream_t stream) {
  if (n_rows <= 0 || row_bytes == 0) return Status::ok();
  if (row_index == nullptr) return invalid_argument("copy_rows_at: no row index");
  copy_rows_at_kernel<<<static_cast<unsigned>(n_rows), kThreads, 0, stream>>>(
      static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(src), row_index, row_bytes,
      capacity_rows);
  return cuda_status(cudaGetLastError(), "copy_rows_at");
}

}  // namespace memlong::cuda_ops
