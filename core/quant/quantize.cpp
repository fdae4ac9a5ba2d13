// quantize_row: f32 to the block formats. The activation types (Q8_0, Q8_1, Q8_K) follow ggml's
// reference quantizers exactly, because the dot kernels and the GGUF files assume that rounding.
// The weight types use a simple round-to-nearest quantizer in ggml's layout: good enough for tests
// and synthetic models, not a replacement for llama.cpp's importance-aware quantizers.
#include <algorithm>
#include <cmath>

#include "core/common/half.h"
#include "core/common/status.h"
#include "core/quant/blocks.h"
#include "core/quant/quant.h"
#include "core/quant/quant_kernels.h"

namespace memlong::quant {
namespace {

// ggml's nearest_int: round half to even (the default FP rounding mode).
inline int nearest_int(float v) {
  return static_cast<int>(std::nearbyint(v));
}

inline float abs_max(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

// The element of largest magnitude, with its sign (ggml's symmetric quantizers map it to -2^(b-1)).
inline float signed_abs_max(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

// Symmetric 32-element quantizer shared by Q8_0 / Q8_1; returns d, fills qs, sets *sum_q.
float quantize_q8_block(const float* x, int8_t* qs, int* sum_q) {
#if defined(__x86_64__)
  if (detail::cpu_has_avx2() && !detail::scalar_forced()) {
    return detail::quantize_q8_block_avx2(x, qs, sum_q);
  }
#endif
  const float d = abs_max(x, kQk) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  int sum = 0;
  for (int j = 0; j < kQk; ++j) {
    qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
    sum += qs[j];
  }
  *sum_q = sum;
  return d;
}

void quantize_q8_k(const float* x, BlockQ8_K* y) {
  const float max = signed_abs_max(x, kQkK);
  if (max == 0.0f) {
    std::memset(y, 0, sizeof(*y));
    return;
  }
  const float iscale = -127.0f / max;
  for (int j = 0; j < kQkK; ++j)
    y->qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
  for (int g = 0; g < kQkK / 16; ++g) {
    int s = 0;
    for (int j = 0; j < 16; ++j) s += y->qs[16 * g + j];
    y->bsums[g] = static_cast<int16_t>(s);
  }
  y->d = 1.0f / iscale;
}

// 4/5-bit nibble codes of one 32-element block: symmetric (Q4_0/Q5_0) when is_symmetric.
float quantize_small(const float* x, int n_levels, bool is_symmetric, float* min_out, int* q) {
  if (is_symmetric) {
    const float max = signed_abs_max(x, kQk);
    const float d = max / -static_cast<float>(n_levels / 2);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < kQk; ++j) {
      q[j] = std::clamp(static_cast<int>(x[j] * id + n_levels / 2 + 0.5f), 0, n_levels - 1);
    }
    return d;
  }
  const float mn = *std::min_element(x, x + kQk), mx = *std::max_element(x, x + kQk);
  const float d = (mx - mn) / static_cast<float>(n_levels - 1);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQk; ++j)
    q[j] = std::clamp(static_cast<int>((x[j] - mn) * id + 0.5f), 0, n_levels - 1);
  *min_out = mn;
  return d;
}

void pack_nibbles(const int* q, uint8_t* qs, uint8_t* qh) {
  uint32_t h = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
  }
  for (int j = 0; j < 32; ++j) h |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  if (qh != nullptr) std::memcpy(qh, &h, 4);
}

// Q4_K / Q5_K super-block (qh == nullptr for Q4_K). Per sub-block affine fit to [min(0, x), max],
// then 6-bit scales and mins relative to the super-block's d and dmin.
void quantize_qk(const float* x, int n_levels, uint8_t* base, bool is_q5) {
  float scale[8], minv[8];
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    const float mn = std::min(0.0f, *std::min_element(xs, xs + 32));
    const float mx = *std::max_element(xs, xs + 32);
    scale[s] = (mx - mn) / static_cast<float>(n_levels - 1);
    minv[s] = -mn;
  }
  const float d = *std::max_element(scale, scale + 8) / 63.0f;
  const float dmin = *std::max_element(minv, minv + 8) / 63.0f;
  const uint16_t dh = f32_to_f16(d), dminh = f32_to_f16(dmin);
  std::memcpy(base, &dh, 2);
  std::memcpy(base + 2, &dminh, 2);
  uint8_t* scales = base + 4;
  uint8_t* qh = is_q5 ? base + 16 : nullptr;
  uint8_t* qs = is_q5 ? base + 48 : base + 16;
  std::memset(scales, 0, 12);
  if (qh != nullptr) std::memset(qh, 0, 32);
  std::memset(qs, 0, 128);
  const float d_eff = f16_to_f32(dh), dmin_eff = f16_to_f32(dminh);
  for (int s = 0; s < 8; ++s) {
    const int sc = d_eff > 0 ? std::clamp(nearest_int(scale[s] / d_eff), 0, 63) : 0;
    const int m = dmin_eff > 0 ? std::clamp(nearest_int(minv[s] / dmin_eff), 0, 63) : 0;
    if (s < 4) {
      scales[s] |= static_cast<uint8_t>(sc & 63);
      scales[s + 4] |= static_cast<uint8_t>(m & 63);
    } else {
      scales[s + 4] = static_cast<uint8_t>((sc & 0xF) | ((m & 0xF) << 4));
      scales[s - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
      scales[s] |= static_cast<uint8_t>((m >> 4) << 6);
    }
    const float step = d_eff * static_cast<float>(sc);
    const int chunk = s / 2, shift = (s % 2) * 4;
    for (int l = 0; l < 32; ++l) {
      const int q =
          step > 0 ? std::clamp(nearest_int((x[32 * s + l] + dmin_eff * m) / step), 0, n_levels - 1)
                   : 0;
      qs[32 * chunk + l] |= static_cast<uint8_t>((q & 0xF) << shift);
      if (qh != nullptr) qh[l] |= static_cast<uint8_t>(((q >> 4) & 1) << s);
    }
  }
}

void quantize_q6_k(const float* x, BlockQ6_K* y) {
  float scale[16];
  float max_scale = 0.0f, amax_scale = 0.0f;
  for (int g = 0; g < 16; ++g) {
    scale[g] = signed_abs_max(x + 16 * g, 16) / -32.0f;
    if (std::fabs(scale[g]) > amax_scale) {
      amax_scale = std::fabs(scale[g]);
      max_scale = scale[g];
    }
  }
  std::memset(y, 0, sizeof(*y));
  if (amax_scale == 0.0f) return;
  const float iscale = -128.0f / max_scale;
  y->d = f32_to_f16(1.0f / iscale);
  const float d = f16_to_f32(y->d);
  int q[256];
  for (int g = 0; g < 16; ++g) {
    y->scales[g] = static_cast<int8_t>(std::clamp(nearest_int(iscale * scale[g]), -128, 127));
    const float step = d * y->scales[g];
    for (int j = 0; j < 16; ++j) {
      q[16 * g + j] = step != 0 ? std::clamp(nearest_int(x[16 * g + j] / step) + 32, 0, 63) : 32;
    }
  }
  for (int half = 0; half < 2; ++half) {
    const int* qq = q + 128 * half;
    uint8_t* ql = y->ql + 64 * half;
    uint8_t* qh = y->qh + 32 * half;
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((qq[l] & 0xF) | ((qq[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((qq[l + 32] & 0xF) | ((qq[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) |
                                   ((qq[l + 64] >> 4) << 4) | ((qq[l + 96] >> 4) << 6));
    }
  }
}

}  // namespace

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  const int64_t block = traits(t).block_elems;
  MEMLONG_ASSERT(n % block == 0);
  const int64_t nb = n / block;
  auto* out = static_cast<uint8_t*>(dst);
  const int64_t bytes = traits(t).block_bytes;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * block;
    uint8_t* o = out + b * bytes;
    int q[32];
    float mn = 0.0f;
    switch (t) {
      case DType::kF32:
        std::memcpy(o, x, 4);
        break;
      case DType::kF16: {
        const uint16_t h = f32_to_f16(*x);
        std::memcpy(o, &h, 2);
        break;
      }
      case DType::kBF16: {
        const uint16_t h = f32_to_bf16(*x);
        std::memcpy(o, &h, 2);
        break;
      }
      case DType::kQ8_0: {
        auto* y = reinterpret_cast<BlockQ8_0*>(o);
        int sum;
        y->d = f32_to_f16(quantize_q8_block(x, y->qs, &sum));
        break;
      }
      case DType::kQ8_1: {
        auto* y = reinterpret_cast<BlockQ8_1*>(o);
        int sum;
        const float d = quantize_q8_block(x, y->qs, &sum);
        y->d = f32_to_f16(d);
        y->s = f32_to_f16(d * static_cast<float>(sum));
        break;
      }
      case DType::kQ8_K:
        quantize_q8_k(x, reinterpret_cast<BlockQ8_K*>(o));
        break;
      case DType::kQ4_0:
      case DType::kQ5_0: {
        const bool is_q5 = t == DType::kQ5_0;
        const uint16_t d = f32_to_f16(quantize_small(x, is_q5 ? 32 : 16, true, &mn, q));
        std::memcpy(o, &d, 2);
        pack_nibbles(q, o + (is_q5 ? 6 : 2), is_q5 ? o + 2 : nullptr);
        break;
      }
      case DType::kQ4_1:
      case DType::kQ5_1: {
        const bool is_q5 = t == DType::kQ5_1;
        const uint16_t d = f32_to_f16(quantize_small(x, is_q5 ? 32 : 16, false, &mn, q));
        const uint16_t m = f32_to_f16(mn);
        std::memcpy(o, &d, 2);
        std::memcpy(o + 2, &m, 2);
        pack_nibbles(q, o + (is_q5 ? 8 : 4), is_q5 ? o + 4 : nullptr);
        break;
      }
      case DType::kQ4_K:
        quantize_qk(x, 16, o, false);
        break;
      case DType::kQ5_K:
        quantize_qk(x, 32, o, true);
        break;
      case DType::kQ6_K:
        quantize_q6_k(x, reinterpret_cast<BlockQ6_K*>(o));
        break;
      default:
        MEMLONG_ASSERT(false && "quantize_row: unsupported type");
    }
  }
}

}  // namespace memlong::quant
