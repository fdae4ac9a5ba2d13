// Element codec and slot addressing of the MemLong K/V slot pool (Backend::kv_pool_store /
// kv_pool_gather, core/memory/device_kv_pool.h), one definition for the CUDA kernels
// (cuda/kernels/kv_pool.cu) and the host. The conversions are core/common/half.h's (the CPU
// backend's and MemoryBank's codec, host/device); tests/cuda/kernels/kv_pool_codec_test.cpp
// checks the dispatch by type and the addressing against the CPU backend's ops.
//
// Pool layout: slot s holds one token: K row then V row, each `row_elems` (= Hkv * dh) 16-bit
// values (f16 or bf16). Slots [0, n_device) live in the device region, slots [n_device, n_device +
// n_host) in the host region (pinned, mapped) at index s - n_device.
// Conversions: f32 -> 16 bit rounds to nearest even (NaN stays NaN, quiet); 16 bit -> f32 exact.
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>

#include "core/common/half.h"

namespace memlong::kv_pool_codec {

// Element types (core/common/dtype.h DType values of F16 and BF16).
inline constexpr uint32_t kF16 = 1, kBF16 = 30;

MEMLONG_HD uint16_t encode(uint32_t dtype, float f) {
  return dtype == kBF16 ? memlong::f32_to_bf16(f) : memlong::f32_to_f16(f);
}
MEMLONG_HD float decode(uint32_t dtype, uint16_t h) {
  return dtype == kBF16 ? memlong::bf16_to_f32(h) : memlong::f16_to_f32(h);
}

// The slot's first element (its K row; V follows at + row_elems), or null for a slot outside
// the pool. device / host: the two regions' bases.
MEMLONG_HD uint16_t* slot_row(uint16_t* device, uint16_t* host, int64_t n_device, int64_t n_host,
                              int32_t row_elems, int64_t slot) {
  if (slot < 0 || slot >= n_device + n_host) return nullptr;
  const int64_t per_slot = 2 * static_cast<int64_t>(row_elems);
  return slot < n_device ? device + slot * per_slot : host + (slot - n_device) * per_slot;
}

}  // namespace memlong::kv_pool_codec
