// Element codec and slot addressing of the MemLong K/V slot pool (Backend::kv_pool_store /
// kv_pool_gather, core/memory/device_kv_pool.h), one definition for the CUDA kernels
// (cuda/kernels/kv_pool.cu) and the host: tests/cuda/kernels/kv_pool_codec_test.cpp checks the
// conversions bit for bit against core/common/half.h (the CPU backend's and MemoryBank's
// codec) and the addressing against the CPU backend's ops.
//
// Pool layout: slot s holds one token: K row then V row, each `row_elems` (= Hkv * dh) 16-bit
// values (f16 or bf16). Slots [0, n_device) live in the device region, slots [n_device, n_device +
// n_host) in the host region (pinned, mapped) at index s - n_device.
// Conversions: f32 -> 16 bit rounds to nearest even (NaN stays NaN, quiet); 16 bit -> f32 exact.
// Integer-only so device and host give the same bits.
// Plain C++ when not compiled by nvcc (MEMLONG_HD expands to `inline`).
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <cstring>

#ifndef MEMLONG_HD
#ifdef __CUDACC__
#define MEMLONG_HD __host__ __device__ __forceinline__
#else
#define MEMLONG_HD inline
#endif
#endif

namespace memlong::kv_pool_codec {

// Element types (core/common/dtype.h DType values of F16 and BF16).
inline constexpr uint32_t kF16 = 1, kBF16 = 30;

MEMLONG_HD uint32_t float_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
#endif
}

MEMLONG_HD float bits_float(uint32_t x) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(x);
#else
  float f;
  std::memcpy(&f, &x, 4);
  return f;
#endif
}

MEMLONG_HD float bf16_to_f32(uint16_t h) {
  return bits_float(static_cast<uint32_t>(h) << 16);
}

MEMLONG_HD uint16_t f32_to_bf16(float f) {
  const uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // nan
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

MEMLONG_HD float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      uint32_t m = mant;
      int e = -1;
      do {
        ++e;
        m <<= 1;
      } while ((m & 0x400u) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return bits_float(bits);
}

MEMLONG_HD uint16_t f32_to_f16(float f) {
  const uint32_t x = float_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {                                               // subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14..24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = ((abs >> 13) - (112u << 10));
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return static_cast<uint16_t>(sign | r);
}

MEMLONG_HD uint16_t encode(uint32_t dtype, float f) {
  return dtype == kBF16 ? f32_to_bf16(f) : f32_to_f16(f);
}
MEMLONG_HD float decode(uint32_t dtype, uint16_t h) {
  return dtype == kBF16 ? bf16_to_f32(h) : f16_to_f32(h);
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
