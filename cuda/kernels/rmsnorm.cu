// RMSNorm: out[i, :] = x[i, :] / sqrt(mean(x[i, :]^2) + eps) * w (LLaMA's norm, no mean removal).
// Legend: n = rows, d = row length. One block per row; f32 sums reduced warp by warp.
#include "cuda/kernels/kernels.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = 256;

__global__ void rms_norm_kernel(const float* x, const float* w, float eps, int dim, float* out) {
  __shared__ float partial[kThreads / 32];
  __shared__ float inv;
  const int64_t i = blockIdx.x;
  const float* xi = x + i * dim;
  float ss = 0.0f;
  for (int j = threadIdx.x; j < dim; j += blockDim.x) ss += xi[j] * xi[j];
  for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = ss;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int k = 0; k < kThreads / 32; ++k) total += partial[k];
    inv = rsqrtf(total / static_cast<float>(dim) + eps);
  }
  __syncthreads();
  float* oi = out + i * dim;  // may alias xi: each element is read before it is written
  for (int j = threadIdx.x; j < dim; j += blockDim.x) oi[j] = xi[j] * inv * w[j];
}

}  // namespace

Status rms_norm(const float* x, const float* w, float eps, int32_t n, int32_t dim, float* out,
                cudaStream_t stream) {
  if (n <= 0) return Status::ok();
  if (dim <= 0) return invalid_argument("rms_norm: dim " + std::to_string(dim));
  rms_norm_kernel<<<n, kThreads, 0, stream>>>(x, w, eps, dim, out);
  return cuda_status(cudaGetLastError(), "rms_norm");
}

}  // namespace memlong::cuda_ops
