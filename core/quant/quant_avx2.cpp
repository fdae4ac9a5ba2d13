// AVX2/FMA/F16C kernels. Compiled without a global -mavx2: every function here carries
// MEMLONG_AVX2 (a target attribute) and is only called after cpu_has_avx2() said yes.
//
// Integer dot products follow llama.cpp's approach: _mm256_maddubs_epi16 multiplies unsigned
// weight bytes by signed activation bytes into pairs of int16, _mm256_madd_epi16 widens to int32,
// and one float FMA per block applies the scales. Signed weights (Q4_0, Q5_0, Q8_0) go through the
// sign trick (|w| times x with w's sign), which is exact unless both bytes are -128 -- quantize_row
// never emits -128 for activations. The 32-element types run a register-tiled micro-kernel of
// R weight rows x C activation columns, so each weight block is unpacked once per C columns.
#include "core/quant/quant_kernels.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/quant/blocks.h"

#define MEMLONG_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace memlong::quant::detail {
namespace {

#define MEMLONG_TARGET MEMLONG_AVX2
// maddubs pairs u8 x i8 into saturating int16 (never saturates on our value ranges, see top),
// madd widens the pairs to int32.
MEMLONG_AVX2 inline __m256i dot_u8_i8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
#include "core/quant/tile_q32.inc"
#undef MEMLONG_TARGET

// Q4_K / Q5_K x Q8_K, one row by one column. Each 32-byte chunk j of qs holds sub-blocks 2j (low
// nibbles) and 2j + 1 (high); the mins are applied once per super-block through x's bsums.
template <bool kIsQ5>
MEMLONG_AVX2 float dot_qk(int64_t n, const uint8_t* w, const BlockQ8_K* x) {
  constexpr size_t kBytes = kIsQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const __m256i mask4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float acc_min = 0.0f;
  for (int64_t b = 0; b < n / kQkK; ++b) {
    const uint8_t* base = w + b * kBytes;
    const BlockQ8_K& xb = x[b];
    uint16_t dh, dminh;
    std::memcpy(&dh, base, 2);
    std::memcpy(&dminh, base + 2, 2);
    const uint8_t* qs = base + (kIsQ5 ? 48 : 16);
    __m256i qh = kIsQ5 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + 16))
                       : _mm256_setzero_si256();
    __m256i sumi = _mm256_setzero_si256();
    int summ = 0;
    for (int j = 0; j < 4; ++j) {
      uint8_t sc0, m0, sc1, m1;
      scale_min_k4(2 * j, base + 4, &sc0, &m0);
      scale_min_k4(2 * j + 1, base + 4, &sc1, &m1);
      summ += m0 * (xb.bsums[4 * j] + xb.bsums[4 * j + 1]) +
              m1 * (xb.bsums[4 * j + 2] + xb.bsums[4 * j + 3]);
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * j));
      __m256i lo = _mm256_and_si256(q, mask4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask4);
      if constexpr (kIsQ5) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(qh, one), 4));
        hi = _mm256_or_si256(hi,
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4));
        qh = _mm256_srli_epi16(qh, 2);
      }
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs + 64 * j));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs + 64 * j + 32));
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x0), _mm256_set1_epi16(sc0));
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x1), _mm256_set1_epi16(sc1));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(xb.d * half(dh)), _mm256_cvtepi32_ps(sumi), acc);
    acc_min += xb.d * half(dminh) * static_cast<float>(summ);
  }
  return hsum(acc) - acc_min;
}

// Q6_K x Q8_K. The quants are used unsigned (0..63); the -32 offset is applied once per
// super-block as -32 * sum(scale_g * bsum_g).
MEMLONG_AVX2 float dot_q6_k(int64_t n, const BlockQ6_K* w, const BlockQ8_K* x) {
  const __m256i mask4 = _mm256_set1_epi8(0x0F), mask2 = _mm256_set1_epi8(0x03);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQkK; ++b) {
    const BlockQ6_K& wb = w[b];
    const BlockQ8_K& xb = x[b];
    __m256i sumi = _mm256_setzero_si256();
    int offset = 0;
    for (int g = 0; g < 16; ++g) offset += wb.scales[g] * xb.bsums[g];
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.ql + 64 * h));
      const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qh + 32 * h));
      const __m256i lows[4] = {ql0, ql1, _mm256_srli_epi16(ql0, 4), _mm256_srli_epi16(ql1, 4)};
      for (int i = 0; i < 4; ++i) {
        const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * i), mask2);
        const __m256i q =
            _mm256_or_si256(_mm256_and_si256(lows[i], mask4), _mm256_slli_epi16(hi2, 4));
        const __m256i xv =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs + 128 * h + 32 * i));
        const int g = 8 * h + 2 * i;
        const __m256i scales =
            _mm256_set_m128i(_mm_set1_epi16(wb.scales[g + 1]), _mm_set1_epi16(wb.scales[g]));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, xv), scales));
      }
    }
    const __m256i total =
        _mm256_sub_epi32(sumi, _mm256_setr_epi32(32 * offset, 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(xb.d * half(wb.d)), _mm256_cvtepi32_ps(total), acc);
  }
  return hsum(acc);
}

// F32 / F16 / BF16 weights times an f32 activation row.
template <DType T>
MEMLONG_AVX2 float dot_float(int64_t n, const uint8_t* w, const float* x) {
  auto load8 = [&](int64_t i) MEMLONG_AVX2 {
    if constexpr (T == DType::kF32) {
      return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + i);
    } else {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i));
      if constexpr (T == DType::kF16) return _mm256_cvtph_ps(h);
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
  };
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(load8(i), _mm256_loadu_ps(x + i), acc0);
    acc1 = _mm256_fmadd_ps(load8(i + 8), _mm256_loadu_ps(x + i + 8), acc1);
  }
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  if (i < n) sum += vec_dot_scalar(T, n - i, w + (T == DType::kF32 ? 4 : 2) * i, x + i);
  return sum;
}

template <typename Dot>
MEMLONG_AVX2 void matmul_each(Dot dot, const uint8_t* w, size_t w_row_bytes, int64_t r_begin,
                              int64_t r_end, const uint8_t* x, size_t x_row_bytes, int64_t n_cols,
                              float* y, int64_t y_stride) {
  for (int64_t r = r_begin; r < r_end; ++r) {
    for (int64_t c = 0; c < n_cols; ++c)
      y[c * y_stride + r] = dot(w + r * w_row_bytes, x + c * x_row_bytes);
  }
}

}  // namespace

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                          __builtin_cpu_supports("f16c");
  return has;
}

MEMLONG_AVX2 bool matmul_rows_avx2(DType t, int64_t k, const void* wv, size_t w_row_bytes,
                                   int64_t r_begin, int64_t r_end, const void* xv,
                                   size_t x_row_bytes, int64_t n_cols, float* y, int64_t y_stride) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv);
  const auto args = [&](auto dot) MEMLONG_AVX2 {
    matmul_each(dot, w, w_row_bytes, r_begin, r_end, x, x_row_bytes, n_cols, y, y_stride);
  };
  const auto xk = [](const uint8_t* p) { return reinterpret_cast<const BlockQ8_K*>(p); };
  const auto xf = [](const uint8_t* p) { return reinterpret_cast<const float*>(p); };
  if (matmul_q32_any(t, k, w, w_row_bytes, r_begin, r_end, x, x_row_bytes, n_cols, y, y_stride)) {
    return true;
  }
  switch (t) {
    case DType::kQ4_K:
      args([&](const uint8_t* wr, const uint8_t* xr)
               MEMLONG_AVX2 { return dot_qk<false>(k, wr, xk(xr)); });
      return true;
    case DType::kQ5_K:
      args([&](const uint8_t* wr, const uint8_t* xr)
               MEMLONG_AVX2 { return dot_qk<true>(k, wr, xk(xr)); });
      return true;
    case DType::kQ6_K:
      args([&](const uint8_t* wr, const uint8_t* xr) MEMLONG_AVX2 {
        return dot_q6_k(k, reinterpret_cast<const BlockQ6_K*>(wr), xk(xr));
      });
      return true;
    case DType::kF32:
      args([&](const uint8_t* wr, const uint8_t* xr)
               MEMLONG_AVX2 { return dot_float<DType::kF32>(k, wr, xf(xr)); });
      return true;
    case DType::kF16:
      args([&](const uint8_t* wr, const uint8_t* xr)
               MEMLONG_AVX2 { return dot_float<DType::kF16>(k, wr, xf(xr)); });
      return true;
    case DType::kBF16:
      args([&](const uint8_t* wr, const uint8_t* xr)
               MEMLONG_AVX2 { return dot_float<DType::kBF16>(k, wr, xf(xr)); });
      return true;
    default:
      return false;
  }
}

}  // namespace memlong::quant::detail

#else  // not x86: scalar only

namespace memlong::quant::detail {
bool cpu_has_avx2() {
  return false;
}
bool matmul_rows_avx2(DType, int64_t, const void*, size_t, int64_t, int64_t, const void*, size_t,
                      int64_t, float*, int64_t) {
  return false;
}
}  // namespace memlong::quant::detail

#endif
