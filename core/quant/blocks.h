// Block layouts of the GGUF quantized types, byte for byte as ggml defines them (ggml-common.h),
// so a row read straight from a GGUF file can be reinterpreted as an array of these structs.
// Internal to core/quant: callers outside use quant.h and raw bytes.
//
// Scale fields are IEEE half (stored as uint16_t bits) except Q8_K's float d. Every struct is
// packed to exactly its ggml size (static_asserts below); alignment is 2 (4 for Q8_K), so SIMD
// code loads with unaligned loads.
#pragma once

#include <cstdint>
#include <cstring>

namespace memlong::quant {

inline constexpr int kQk = 32;    // elements per block of the 32-element types
inline constexpr int kQkK = 256;  // elements per K-quant super-block

struct BlockQ4_0 {  // w = (q - 8) * d; byte j: low nibble = element j, high = element j + 16
  uint16_t d;
  uint8_t qs[kQk / 2];
};
struct BlockQ4_1 {  // w = q * d + m
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQk / 2];
};
struct BlockQ5_0 {  // 5th bit of element j is bit j of qh (little-endian u32); w = (q - 16) * d
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQk / 2];
};
struct BlockQ5_1 {  // w = q * d + m, q in 0..31
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQk / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQk];
};
struct BlockQ8_1 {  // s = d * sum(qs), precomputed so Q4_1/Q5_1 dots can add m * sum(x) cheaply
  uint16_t d;
  uint16_t s;
  int8_t qs[kQk];
};
// K-quants: 8 sub-blocks of 32, each with a 6-bit scale and 6-bit min packed into scales[12]
// (see scale_min_k4). Q4_K: w = d * sc * q - dmin * m. qs: 4 chunks of 32 bytes; chunk j holds
// sub-block 2j in the low nibbles and 2j + 1 in the high nibbles.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQkK / 2];
};
// Q5_K: as Q4_K plus a 5th bit: bit 2j of qh[l] for sub-block 2j, bit 2j+1 for 2j+1 (l = 0..31).
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQkK / 8];
  uint8_t qs[kQkK / 2];
};
// Q6_K: 16 sub-blocks of 16 with int8 scales; w = d * sc * (q - 32), q 6-bit from ql (4 low bits)
// and qh (2 high bits), in two halves of 128 elements (see the dequantizer for the bit order).
struct BlockQ6_K {
  uint8_t ql[kQkK / 2];
  uint8_t qh[kQkK / 4];
  int8_t scales[kQkK / 16];
  uint16_t d;
};
// Q8_K: the K-quants' activation type; bsums[g] = sum of qs[16g .. 16g + 15].
struct BlockQ8_K {
  float d;
  int8_t qs[kQkK];
  int16_t bsums[kQkK / 16];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Sub-block j's (0..7) 6-bit scale and min from the 12-byte K-quant scale field: j < 4 keep them
// in the low 6 bits of bytes j and j + 4; j >= 4 split them into a nibble of byte j + 4 plus the
// top 2 bits of bytes j - 4 (scale) and j (min).
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace memlong::quant
