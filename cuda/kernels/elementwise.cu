// Elementwise ops: SwiGLU (silu(gate) * up), residual add, and the broadcast bias add that
// follows a matmul. Grid-stride loops over n values.
#include "cuda/kernels/kernels.h"
#include "cuda/launch_shape.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = 256;

__global__ void swiglu_kernel(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    out[i] = g / (1.0f + expf(-g)) * up[i];
  }
}

__global__ void add_kernel(float* y, const float* x, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] += x[i];
  }
}

__global__ void add_bias_kernel(float* y, const float* bias, int64_t n_total, int64_t n_out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n_total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] += bias[i % n_out];
  }
}

unsigned grid(int64_t n) {
  return static_cast<unsigned>(cuda_shape::elementwise_blocks(n, kThreads));
}

}  // namespace

Status swiglu(const float* gate, const float* up, int64_t n, float* out, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  swiglu_kernel<<<grid(n), kThreads, 0, stream>>>(gate, up, n, out);
  return cuda_status(cudaGetLastError(), "swiglu");
}

Status add(float* y, const float* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  add_kernel<<<grid(n), kThreads, 0, stream>>>(y, x, n);
  return cuda_status(cudaGetLastError(), "add");
}

Status add_bias(float* y, const float* bias, int32_t n, int64_t n_out, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(n) * n_out;
  if (total <= 0) return Status::ok();
  add_bias_kernel<<<grid(total), kThreads, 0, stream>>>(y, bias, total, n_out);
  return cuda_status(cudaGetLastError(), "add_bias");
}

}  // namespace memlong::cuda_ops
