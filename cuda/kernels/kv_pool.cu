// MemLong K/V slot pool (Backend::kv_pool_store / kv_pool_gather, core/memory/device_kv_pool.h):
// one thread block per token row; its threads convert the row's K and V values between f32 and
// the pool's 16-bit type (kv_pool_codec.h, bit-identical to core/common/half.h). Slots in the
// host region are read and written through the mapped pinned memory (zero-copy over the bus).
// A slot outside the pool is skipped by store and gives zero rows in gather (checking it would
// need a device-to-host read per op; DeviceKVPool only passes slots it owns).
#include "cuda/kernels/kernels.h"
#include "cuda/kernels/kv_pool_codec.h"

namespace memlong::cuda_ops {
namespace {

constexpr int kThreads = 128;

__global__ void kv_pool_store_kernel(KvPoolArgs p, const int32_t* slots, const float* k,
                                     const float* v) {
  const int64_t i = blockIdx.x;
  uint16_t* dst =
      kv_pool_codec::slot_row(static_cast<uint16_t*>(p.device), static_cast<uint16_t*>(p.host),
                              p.n_device, p.n_host, p.row_elems, slots[i]);
  if (dst == nullptr) return;
  const int64_t re = p.row_elems;
  const float* kr = k + i * re;
  const float* vr = v + i * re;
  for (int64_t j = threadIdx.x; j < re; j += blockDim.x) {
    dst[j] = kv_pool_codec::encode(p.dtype, kr[j]);
    dst[re + j] = kv_pool_codec::encode(p.dtype, vr[j]);
  }
}

__global__ void kv_pool_gather_kernel(KvPoolArgs p, const int32_t* slots, float* k_out,
                                      float* v_out) {
  const int64_t i = blockIdx.x;
  const uint16_t* src =
      kv_pool_codec::slot_row(static_cast<uint16_t*>(p.device), static_cast<uint16_t*>(p.host),
                              p.n_device, p.n_host, p.row_elems, slots[i]);
  const int64_t re = p.row_elems;
  float* kr = k_out + i * re;
  float* vr = v_out + i * re;
  for (int64_t j = threadIdx.x; j < re; j += blockDim.x) {
    kr[j] = src != nullptr ? kv_pool_codec::decode(p.dtype, src[j]) : 0.0f;
    vr[j] = src != nullptr ? kv_pool_codec::decode(p.dtype, src[re + j]) : 0.0f;
  }
}

Status check_pool(const KvPoolArgs& p, int32_t n, const char* what) {
  if (p.dtype != kv_pool_codec::kF16 && p.dtype != kv_pool_codec::kBF16) {
    return invalid_argument(std::string(what) + ": pool element type " + std::to_string(p.dtype) +
                            " (f16 or bf16 only)");
  }
  if (p.row_elems <= 0 || n < 0 || p.n_device < 0 || p.n_host < 0) {
    return invalid_argument(std::string(what) + ": bad shape");
  }
  if ((p.n_device > 0 && p.device == nullptr) || (p.n_host > 0 && p.host == nullptr)) {
    return invalid_argument(std::string(what) + ": pool region missing");
  }
  return Status::ok();
}

}  // namespace

Status kv_pool_store(const KvPoolArgs& p, const int32_t* slots, int32_t n, const float* k,
                     const float* v, cudaStream_t stream) {
  MEMLONG_RETURN_IF_ERROR(check_pool(p, n, "kv_pool_store"));
  if (n == 0) return Status::ok();
  kv_pool_store_kernel<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(p, slots, k, v);
  return cuda_status(cudaGetLastError(), "kv_pool_store");
}

Status kv_pool_gather(const KvPoolArgs& p, const int32_t* slots, int32_t n, float* k_out,
                      float* v_out, cudaStream_t stream) {
  MEMLONG_RETURN_IF_ERROR(check_pool(p, n, "kv_pool_gather"));
  if (n == 0) return Status::ok();
  kv_pool_gather_kernel<<<static_cast<unsigned>(n), kThreads, 0, stream>>>(p, slots, k_out, v_out);
  return cuda_status(cudaGetLastError(), "kv_pool_gather");
}

}  // namespace memlong::cuda_ops
