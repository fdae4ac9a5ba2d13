// Embedding lookup: out[i, :] = dequantized row ids[i] of the table (any kept weight format).
// Legend: n = looked-up rows, d = row length. One thread block per row, threads over columns.
#include "cuda/kernels/block_dequant.h"
#include "cuda/kernels/kernels.h"
#include "cuda/launch_shape.h"

namespace memlong::cuda_ops {
namespace {

template <uint32_t kType>
__global__ void get_rows_kernel(const uint8_t* table, size_t row_bytes, int64_t d,
                                const int32_t* ids, float* out) {
  const int64_t i = blockIdx.x;
  const uint8_t* row = table + static_cast<size_t>(ids[i]) * row_bytes;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
    out[i * d + c] = cuda_blocks::row_elem<kType>(row, c);
  }
}

}  // namespace

Status get_rows(uint32_t dtype, const void* table, size_t row_bytes, int64_t d, const int32_t* ids,
                int32_t n, float* out, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  if (d <= 0 || (dtype != cuda_blocks::kF32 && dtype != cuda_blocks::kF16 && d % 32 != 0)) {
    return invalid_argument("get_rows: row length " + std::to_string(d) +
                            " is not a whole number of blocks");
  }
  const auto* t = static_cast<const uint8_t*>(table);
  const bool known = cuda_blocks::dispatch_kept_type(dtype, [&]<uint32_t T>() {
    get_rows_kernel<T><<<n, 256, 0, stream>>>(t, row_bytes, d, ids, out);
  });
  if (!known) return unsupported("get_rows: weight type " + std::to_string(dtype));
  return cuda_status(cudaGetLastError(), "get_rows");
}

}  // namespace memlong::cuda_ops
