// RoPE (MEMLONG.md §10.1): rotates pairs of each head by angle pos * freq_j, in place.
// Legend: n = rows, H = heads in x, dh = head dim, n_rot = rotated dims, j = pair index.
// One thread per (row, pair), looping over heads, so each cos/sin is computed once per row. The
// angle and its cos/sin are computed in double, as the CPU backend does: at positions in the
// thousands an f32 angle is off by ~1e-3 rad.
#include "cuda/kernels/kernels.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = 128;

__global__ void rope_kernel(float* x, int n, int n_heads, int dh, int n_rot, float theta,
                            bool interleaved, const float* inv_freq, const int32_t* positions) {
  const int half = n_rot / 2;
  const int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (idx >= static_cast<int64_t>(n) * half) return;
  const int64_t i = idx / half;
  const int j = static_cast<int>(idx % half);
  const double freq = inv_freq != nullptr
                          ? static_cast<double>(inv_freq[j])
                          : pow(static_cast<double>(theta), -2.0 * j / static_cast<double>(n_rot));
  double sd, cd;
  sincos(static_cast<double>(positions[i]) * freq, &sd, &cd);
  const auto c = static_cast<float>(cd), s = static_cast<float>(sd);
  const int i0 = interleaved ? 2 * j : j;
  const int i1 = interleaved ? 2 * j + 1 : j + half;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + (i * n_heads + h) * dh;
    const float a0 = v[i0], a1 = v[i1];
    v[i0] = a0 * c - a1 * s;
    v[i1] = a0 * s + a1 * c;
  }
}

}  // namespace

Status rope(float* x, int32_t n, int32_t n_heads, int32_t head_dim, int32_t n_rot, float theta,
            bool interleaved, const float* inv_freq, const int32_t* positions,
            cudaStream_t stream) {
  if (n <= 0 || n_heads <= 0) return Status::ok();
  if (n_rot <= 0 || n_rot % 2 != 0 || n_rot > head_dim) {
    return invalid_argument("rope: n_rot " + std::to_string(n_rot) + " with head_dim " +
                            std::to_string(head_dim));
  }
  const int64_t total = static_cast<int64_t>(n) * (n_rot / 2);
  const auto blocks = static_cast<unsigned>((total + kThreads - 1) / kThreads);
  rope_kernel<<<blocks, kThreads, 0, stream>>>(x, n, n_heads, head_dim, n_rot, theta, interleaved,
                                               inv_freq, positions);
  return cuda_status(cudaGetLastError(), "rope");
}

}  // namespace memlong::cuda_ops
