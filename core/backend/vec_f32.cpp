#include "core/backend/vec_f32.h"

#include <atomic>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace memlong::vec {
namespace {

std::atomic<bool> g_force_portable{false};

float dot_portable(const float* a, const float* b, int n) {
  float s[4] = {0, 0, 0, 0};
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int k = 0; k < 4; ++k) s[k] += a[i + k] * b[i + k];
  }
  for (; i < n; ++i) s[0] += a[i] * b[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

void weighted_row_sum_portable(float* out, const float* v, int64_t stride, const float* w,
                               int n_rows, int n) {
  std::memset(out, 0, sizeof(float) * static_cast<size_t>(n));
  for (int t = 0; t < n_rows; ++t) {
    const float* vt = v + t * stride;
    for (int j = 0; j < n; ++j) out[j] += w[t] * vt[j];
  }
}

#if defined(__x86_64__)
#define MEMLONG_AVX2 __attribute__((target("avx2,fma")))

MEMLONG_AVX2 float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

MEMLONG_AVX2 float dot_avx2(const float* a, const float* b, int n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  }
  float s = hsum256(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

MEMLONG_AVX2 void weighted_row_sum_avx2(float* out, const float* v, int64_t stride, const float* w,
                                        int n_rows, int n) {
  int j = 0;
  // 64 floats (a LLaMA head) at a time in 8 registers.
  for (; j + 64 <= n; j += 64) {
    __m256 acc[8];
    for (auto& a : acc) a = _mm256_setzero_ps();
    for (int t = 0; t < n_rows; ++t) {
      const __m256 wt = _mm256_set1_ps(w[t]);
      const float* vt = v + t * stride + j;
      for (int k = 0; k < 8; ++k) acc[k] = _mm256_fmadd_ps(wt, _mm256_loadu_ps(vt + 8 * k), acc[k]);
    }
    for (int k = 0; k < 8; ++k) _mm256_storeu_ps(out + j + 8 * k, acc[k]);
  }
  for (; j + 8 <= n; j += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (int t = 0; t < n_rows; ++t) {
      acc = _mm256_fmadd_ps(_mm256_set1_ps(w[t]), _mm256_loadu_ps(v + t * stride + j), acc);
    }
    _mm256_storeu_ps(out + j, acc);
  }
  for (; j < n; ++j) {
    float s = 0;
    for (int t = 0; t < n_rows; ++t) s += w[t] * v[t * stride + j];
    out[j] = s;
  }
}

bool use_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has && !g_force_portable.load(std::memory_order_relaxed);
}
#else
bool use_avx2() {
  return false;
}
#endif

}  // namespace

float dot(const float* a, const float* b, int n) {
#if defined(__x86_64__)
  if (use_avx2()) return dot_avx2(a, b, n);
#endif
  return dot_portable(a, b, n);
}

void weighted_row_sum(float* out, const float* v, int64_t stride, const float* w, int n_rows,
                      int n) {
#if defined(__x86_64__)
  if (use_avx2()) return weighted_row_sum_avx2(out, v, stride, w, n_rows, n);
#endif
  weighted_row_sum_portable(out, v, stride, w, n_rows, n);
}

void force_portable_for_testing(bool force) {
  g_force_portable.store(force);
}

}  // namespace memlong::vec
