// AVX512-VNNI variant of the 32-element tiled kernel: vpdpbusd does maddubs + madd in one exact
// instruction (no int16 saturation), on 256-bit vectors (AVX512VL) so the code is the AVX2 kernel
// with one primitive swapped. Optional: used only where the CPU reports avx512vnni and avx512vl.
#include "core/quant/quant_kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/quant/blocks.h"

#define MEMLONG_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))

namespace memlong::quant::detail {
namespace {

MEMLONG_TARGET inline __m256i dot_u8_i8(__m256i u, __m256i s) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}
#include "core/quant/tile_q32.inc"

}  // namespace

bool cpu_has_avx512_vnni() {
  static const bool has = cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512vnni");
  return has;
}

MEMLONG_TARGET bool matmul_rows_vnni(DType t, int64_t k, const void* wv, size_t w_row_bytes,
                                     int64_t r_begin, int64_t r_end, const void* xv,
                                     size_t x_row_bytes, int64_t n_cols, float* y,
                                     int64_t y_stride) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  return matmul_q32_any(t, k, w, w_row_bytes, r_begin, r_end, x, x_row_bytes, n_cols, y, y_stride);
}

}  // namespace memlong::quant::detail

#else

namespace memlong::quant::detail {
bool cpu_has_avx512_vnni() {
  return false;
}
bool matmul_rows_vnni(DType, int64_t, const void*, size_t, int64_t, int64_t, const void*, size_t,
                      int64_t, float*, int64_t) {
  return false;
}
}  // namespace memlong::quant::detail

#endif
