// Element access to the weight formats the CUDA backend keeps as they are in the GGUF file:
// F32, F16 and the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (byte layouts as in
// core/quant/blocks.h, i.e. ggml-common.h). One definition serves the device kernels (get_rows,
// mat-vec, dequantize-to-f16) and the host, so tests/cuda/kernels/block_dequant_test.cpp checks the
// exact code the kernels run against core's quant::dequantize_row.
//
// F32 and F16 are addressed as "blocks" of 32 elements (128 / 64 bytes) so every kept type has
// one addressing scheme: element c of a row is element c % 32 of block c / 32.
// Reads are byte-wise where a field may be misaligned (Q5's 32-bit qh sits at offset 2 of a
// 22- or 24-byte block), so any block address is valid on the device.
// Plain C++ when not compiled by nvcc (MEMLONG_HD expands to `inline`).
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>

#include "core/common/half.h"
#include "core/common/host_device.h"

#ifdef __CUDACC__
#include <cuda_fp16.h>
#endif

namespace memlong::cuda_blocks {

// GGUF type ids (core/common/dtype.h DType values), repeated as plain constants so this header
// needs no core include on the device side.
inline constexpr uint32_t kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8;

MEMLONG_HD float half_bits_to_float(uint16_t h) {
#ifdef __CUDA_ARCH__
  return __half2float(__ushort_as_half(h));
#else
  return memlong::f16_to_f32(h);
#endif
}

MEMLONG_HD uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
MEMLONG_HD uint32_t load_u32_bytes(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

template <uint32_t kType>
struct BlockFormat;

template <>
struct BlockFormat<kF32> {
  static constexpr int kBytes = 128;
  MEMLONG_HD static float elem(const uint8_t* b, int j) {
    return reinterpret_cast<const float*>(b)[j];
  }
};
template <>
struct BlockFormat<kF16> {
  static constexpr int kBytes = 64;
  MEMLONG_HD static float elem(const uint8_t* b, int j) {
    return half_bits_to_float(reinterpret_cast<const uint16_t*>(b)[j]);
  }
};
// Q4_0: d (f16), qs[16]; element j < 16 is the low nibble of qs[j], j >= 16 the high nibble of
// qs[j - 16]; w = (q - 8) * d.
template <>
struct BlockFormat<kQ4_0> {
  static constexpr int kBytes = 18;
  MEMLONG_HD static float elem(const uint8_t* b, int j) {
    const float d = half_bits_to_float(load_u16(b));
    const uint8_t byte = b[2 + (j & 15)];
    const int q = j < 16 ? (byte & 0xF) : (byte >> 4);
    return static_cast<float>(q - 8) * d;
  }
};
// Q4_1: d, m (f16), qs[16]; w = q * d + m.
template <>
struct BlockFormat<kQ4_1> {
  static constexpr int kBytes = 20;
  MEMLONG_HD static float elem(const uint8_t* b, int j) {
    const float d = half_bits_to_float(load_u16(b));
    const float m = half_bits_to_float(load_u16(b + 2));
    const uint8_t byte = b[4 + (j & 15)];
    const int q = j < 16 ? (byte & 0xF) : (byte >> 4);
    return static_cast<float>(q) * d + m;
  }
};
// Q5_0: d, qh (u32, bit j = 5th bit of element j), qs[16]; w = (q - 16) * d.
template <>
struct BlockFormat<kQ5_0> {
  static constexpr int kBytes = 22;
  MEMLONG_HD static float elem(const uint8_t* b, int j) {
    const float d = half_bits_to_float(load_u16(b));
    const uint32_t qh = load_u32_bytes(b + 2);
    const uint8_t byte = b[6 + (j & 15)];
    const int lo = j < 16 ? (byte & 0xF) : (byte >> 4);
    const int q = lo | static_cast<int>(((qh >> j) & 1u) << 4);
    return static_cast<float>(q - 16) * d;
  }
};
// Q5_1: d, m, qh, qs[16]; w = q * d + m.
template <>
struct BlockFormat<kQ5_1> {
  static constexpr int kBytes = 24;
  MEMLONG_HD static float elem(const uint8_t* b, int j) {
    const float d = half_bits_to_float(load_u16(b));
    const float m = half_bits_to_float(load_u16(b + 2));
    const uint32_t qh = load_u32_bytes(b + 4);
    const uint8_t byte = b[8 + (j & 15)];
    const int lo = j < 16 ? (byte & 0xF) : (byte >> 4);
    const int q = lo | static_cast<int>(((qh >> j) & 1u) << 4);
    return static_cast<float>(q) * d + m;
  }
};
// Q8_0: d, qs[32] int8; w = q * d.
template <>
struct BlockFormat<kQ8_0> {
  static constexpr int kBytes = 34;
  MEMLONG_HD static float elem(const uint8_t* b, int j) {
    const float d = half_bits_to_float(load_u16(b));
    return static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
  }
};

// Element c of a row stored in format kType.
template <uint32_t kType>
MEMLONG_HD float row_elem(const uint8_t* row, int64_t c) {
  return BlockFormat<kType>::elem(row + (c >> 5) * BlockFormat<kType>::kBytes,
                                  static_cast<int>(c & 31));
}

// True for the types above (the ones uploaded as they are).
MEMLONG_HD bool is_kept_type(uint32_t t) {
  return t == kF32 || t == kF16 || t == kQ4_0 || t == kQ4_1 || t == kQ5_0 || t == kQ5_1 ||
         t == kQ8_0;
}

// Calls f.template operator()<kType>() for a kept type id; returns false for any other id.
template <typename F>
bool dispatch_kept_type(uint32_t t, F&& f) {
  switch (t) {
    case kF32:
      f.template operator()<kF32>();
      return true;
    case kF16:
      f.template operator()<kF16>();
      return true;
    case kQ4_0:
      f.template operator()<kQ4_0>();
      return true;
    case kQ4_1:
      f.template operator()<kQ4_1>();
      return true;
    case kQ5_0:
      f.template operator()<kQ5_0>();
      return true;
    case kQ5_1:
      f.template operator()<kQ5_1>();
      return true;
    case kQ8_0:
      f.template operator()<kQ8_0>();
      return true;
    default:
      return false;
  }
}

}  // namespace memlong::cuda_blocks
