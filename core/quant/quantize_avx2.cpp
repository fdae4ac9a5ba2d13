// AVX2 version of the symmetric 32-element activation quantizer (Q8_0 / Q8_1), the per-token
// cost in front of every matrix product. Bit-exact with the scalar reference: roundf semantics
// (half away from zero) are rebuilt from truncation, since the vector rounding mode is half-even.
#include "core/quant/quant_kernels.h"

#if defined(__x86_64__)

#include <immintrin.h>

namespace memlong::quant::detail {

__attribute__((target("avx2,fma"))) float quantize_q8_block_avx2(const float* x, int8_t* qs,
                                                                 int* sum_q) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[k]));
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float d = _mm_cvtss_f32(m) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  const __m256 half = _mm256_set1_ps(0.5f);
  __m256i q32[4];
  for (int k = 0; k < 4; ++k) {
    const __m256 s = _mm256_mul_ps(v[k], vid);
    // roundf: t = trunc(s); if |s - t| >= 0.5, step one away from zero. s - t is exact.
    const __m256 t = _mm256_round_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(s, t));
    const __m256 step = _mm256_or_ps(_mm256_and_ps(sign_mask, s), _mm256_set1_ps(1.0f));
    const __m256 r = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), step));
    q32[k] = _mm256_cvtps_epi32(r);
  }
  __m256i sum =
      _mm256_add_epi32(_mm256_add_epi32(q32[0], q32[1]), _mm256_add_epi32(q32[2], q32[3]));
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
  s4 = _mm_hadd_epi32(s4, s4);
  s4 = _mm_hadd_epi32(s4, s4);
  *sum_q = _mm_cvtsi128_si32(s4);
  // Pack 32 int32 to 32 int8 in order: packs interleave 128-bit lanes, a permute restores order.
  const __m256i p16a = _mm256_packs_epi32(q32[0], q32[1]);
  const __m256i p16b = _mm256_packs_epi32(q32[2], q32[3]);
  const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
  const __m256i ordered =
      _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), ordered);
  return d;
}

}  // namespace memlong::quant::detail

#endif
