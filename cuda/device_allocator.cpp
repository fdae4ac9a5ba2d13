#include "cuda/device_allocator.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <string>

namespace memlong {

DeviceAllocator::~DeviceAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  trim_locked();
}

Result<void*> DeviceAllocator::allocate(size_t size_bytes, size_t* capacity) {
  const size_t rounded =
      (std::max<size_t>(size_bytes, 1) + kGranularity - 1) / kGranularity * kGranularity;
  std::lock_guard<std::mutex> lock(mu_);
  // Smallest cached block that fits and is at most twice the request (invariant 1).
  auto it = cached_.lower_bound(rounded);
  if (it != cached_.end() && it->first <= 2 * rounded) {
    void* p = it->second;
    *capacity = it->first;
    cached_bytes_ -= it->first;
    in_use_ += it->first;
    cached_.erase(it);
    return p;
  }
  void* p = nullptr;
  cudaError_t e = cudaSetDevice(device_);
  if (e == cudaSuccess) e = cudaMalloc(&p, rounded);
  if (e == cudaErrorMemoryAllocation && !cached_.empty()) {
    (void)cudaGetLastError();  // clear the (non-sticky) allocation error before retrying
    trim_locked();
    e = cudaMalloc(&p, rounded);
  }
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    (void)cudaMemGetInfo(&free_b, &total_b);
    std::string msg = "cannot allocate " + std::to_string(size_bytes) + " bytes on CUDA device " +
                      std::to_string(device_) + ": " + cudaGetErrorName(e) + "; " +
                      std::to_string(free_b >> 20) + " MiB free of " +
                      std::to_string(total_b >> 20) + " MiB";
    if (e == cudaErrorMemoryAllocation) return out_of_memory(msg);
    return internal_error(msg);
  }
  *capacity = rounded;
  in_use_ += rounded;
  return p;
}

void DeviceAllocator::release(void* p, size_t capacity) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  in_use_ -= capacity;
  cached_bytes_ += capacity;
  cached_.emplace(capacity, p);
}

void DeviceAllocator::trim() {
  std::lock_guard<std::mutex> lock(mu_);
  trim_locked();
}

void DeviceAllocator::trim_locked() {
  if (cached_.empty()) return;
  // Errors here leave nothing to recover: the blocks are forgotten either way.
  (void)cudaSetDevice(device_);
  for (auto& [size, p] : cached_) (void)cudaFree(p);
  cached_.clear();
  cached_bytes_ = 0;
}

size_t DeviceAllocator::bytes_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

size_t DeviceAllocator::bytes_cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cached_bytes_;
}

}  // namespace memlong
