// Conversions to f16 for the cuBLAS GEMM path: weight rows (any kept format) and activations.
// Legend: k = row length, r0..r1 = the weight rows of one chunk.
#include <cuda_fp16.h>

#include "cuda/kernels/block_dequant.h"
#include "cuda/kernels/kernels.h"
#include "cuda/launch_shape.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = 256;

template <uint32_t kType>
__global__ void dequantize_rows_kernel(const uint8_t* w, size_t row_bytes, int64_t k, int64_t r0,
                                       int64_t n_elems, __half* out) {
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < n_elems;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = idx / k;
    const int64_t c = idx - r * k;
    out[idx] = __float2half_rn(cuda_blocks::row_elem<kType>(w + (r0 + r) * row_bytes, c));
  }
}

__global__ void f32_to_f16_kernel(const float* x, int64_t n, __half* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = __float2half_rn(x[i]);
  }
}

}  // namespace

Status dequantize_rows_f16(uint32_t dtype, const void* w, size_t row_bytes, int64_t k, int64_t r0,
                           int64_t r1, void* out_f16, cudaStream_t stream) {
  if (r1 <= r0) return Status::ok();
  const int64_t n_elems = (r1 - r0) * k;
  const auto blocks = static_cast<unsigned>(cuda_shape::elementwise_blocks(n_elems, kThreads));
  const auto* wb = static_cast<const uint8_t*>(w);
  auto* out = static_cast<__half*>(out_f16);
  const bool known = cuda_blocks::dispatch_kept_type(dtype, [&]<uint32_t T>() {
    dequantize_rows_kernel<T><<<blocks, kThreads, 0, stream>>>(wb, row_bytes, k, r0, n_elems, out);
  });
  if (!known) return unsupported("dequantize_rows_f16: weight type " + std::to_string(dtype));
  return cuda_status(cudaGetLastError(), "dequantize_rows_f16");
}

Status f32_to_f16(const float* x, int64_t n, void* out_f16, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  const auto blocks = static_cast<unsigned>(cuda_shape::elementwise_blocks(n, kThreads));
  f32_to_f16_kernel<<<blocks, kThreads, 0, stream>>>(x, n, static_cast<__half*>(out_f16));
  return cuda_status(cudaGetLastError(), "f32_to_f16");
}

}  // namespace memlong::cuda_ops
