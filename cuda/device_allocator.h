// DeviceAllocator: a caching allocator of device memory for one GPU. Freed blocks go to a cache
// keyed by size and are handed out again for requests of the same size class (between the request
// and twice it), so per-pass buffers (memory blocks, scratch growth) cost no cudaMalloc/cudaFree,
// which synchronise the device. On cudaMalloc failure the cache is released and the call retried.
// No managed memory: every block is plain cudaMalloc memory.
// Invariants: (1) every pointer is in exactly one of: handed out, cached; (2) bytes_in_use() and
// bytes_cached() are the sums of their rounded sizes; (3) reuse is safe because all work runs on
// the backend's one stream, in order: a cached block's last use is enqueued before its next.
// Ownership: shared_ptr-owned; every buffer's deleter holds a reference, so buffers may outlive
// the backend. Thread-safety: all members lock; safe from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

#include "core/common/status.h"

namespace memlong {

class DeviceAllocator {
 public:
  explicit DeviceAllocator(int device) : device_(device) {}
  ~DeviceAllocator();
  DeviceAllocator(const DeviceAllocator&) = delete;
  DeviceAllocator& operator=(const DeviceAllocator&) = delete;

  // A block of at least `size_bytes` (rounded up to kGranularity), its rounded size in
  // *capacity. Errors: OutOfMemory naming the size and the free device memory.
  Result<void*> allocate(size_t size_bytes, size_t* capacity);
  // Returns a block from allocate() to the cache.
  void release(void* p, size_t capacity);
  // Frees every cached block (cudaFree).
  void trim();

  size_t bytes_in_use() const;
  size_t bytes_cached() const;

  // 512 bytes: cudaMalloc's own alignment is 256; this keeps size classes few without wasting
  // more than 511 bytes per block (weights are allocated once, exactly).
  static constexpr size_t kGranularity = 512;

 private:
  void trim_locked();
  const int device_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> cached_;  // rounded size -> block
  size_t in_use_ = 0;
  size_t cached_bytes_ = 0;
};

}  // namespace memlong
