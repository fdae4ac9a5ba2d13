// Dispatch, dequantization and the scalar dot products of quant.h. The scalar dots keep ggml's
// arithmetic (exact integer sums per block, then one float multiply by the block scales), so the
// SIMD kernels can be checked against them tightly.
#include "core/quant/quant.h"

#include <atomic>

#include "core/common/half.h"
#include "core/common/status.h"
#include "core/quant/blocks.h"
#include "core/quant/quant_kernels.h"

namespace memlong::quant {
namespace {

std::atomic<bool> g_force_scalar{false};
}  // namespace

bool detail::scalar_forced() {
  return g_force_scalar.load(std::memory_order_relaxed);
}

namespace {
std::atomic<bool> g_disable_vnni{false};

bool use_avx2() {
  return !detail::scalar_forced() && detail::cpu_has_avx2();
}
bool use_vnni() {
  return use_avx2() && !g_disable_vnni.load(std::memory_order_relaxed) &&
         detail::cpu_has_avx512_vnni();
}

template <typename B>
const B* blocks(const void* p) {
  return static_cast<const B*>(p);
}

// 5-bit quant of element j (0..31) of a Q5_0/Q5_1 block, without the offset.
inline int q5_value(const uint8_t* qs, uint32_t qh, int j) {
  const int lo = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
  return lo | static_cast<int>(((qh >> j) & 1u) << 4);
}

// Q5_K / Q4_K quant of element i (0..255) of a super-block.
inline int qk_value(const uint8_t* qs, const uint8_t* qh, int i) {
  const int chunk = i / 64, l = i % 32;
  const bool is_high = (i % 64) >= 32;
  int q = is_high ? (qs[32 * chunk + l] >> 4) : (qs[32 * chunk + l] & 0xF);
  if (qh != nullptr) q |= ((qh[l] >> (2 * chunk + (is_high ? 1 : 0))) & 1) << 4;
  return q;
}

// Q6_K quant of element i (0..255), without the -32 offset.
inline int q6_value(const BlockQ6_K& b, int i) {
  const int half = i / 128, j = i % 128, quarter = j / 32, l = j % 32;
  const uint8_t* ql = b.ql + 64 * half;
  const uint8_t* qh = b.qh + 32 * half;
  const uint8_t lo = (quarter & 1) ? ql[l + 32] : ql[l];
  const int low4 = quarter < 2 ? (lo & 0xF) : (lo >> 4);
  return low4 | (((qh[l] >> (2 * quarter)) & 3) << 4);
}

}  // namespace

bool is_supported_weight_type(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return true;
    default:
      return false;
  }
}

DType vec_dot_type(DType t) {
  switch (t) {
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
      return DType::kQ8_0;
    case DType::kQ4_1:
    case DType::kQ5_1:
      return DType::kQ8_1;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return DType::kQ8_K;
    default:
      return DType::kF32;
  }
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  MEMLONG_ASSERT(n % traits(t).block_elems == 0);
  const int64_t nb = n / traits(t).block_elems;
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(static_cast<const uint16_t*>(src)[i]);
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(static_cast<const uint16_t*>(src)[i]);
      return;
    case DType::kQ4_0:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ4_0>(src)[b];
        const float d = f16_to_f32(x.d);
        for (int j = 0; j < 16; ++j) {
          dst[b * 32 + j] = static_cast<float>((x.qs[j] & 0xF) - 8) * d;
          dst[b * 32 + j + 16] = static_cast<float>((x.qs[j] >> 4) - 8) * d;
        }
      }
      return;
    case DType::kQ4_1:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ4_1>(src)[b];
        const float d = f16_to_f32(x.d), m = f16_to_f32(x.m);
        for (int j = 0; j < 16; ++j) {
          dst[b * 32 + j] = static_cast<float>(x.qs[j] & 0xF) * d + m;
          dst[b * 32 + j + 16] = static_cast<float>(x.qs[j] >> 4) * d + m;
        }
      }
      return;
    case DType::kQ5_0:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ5_0>(src)[b];
        const float d = f16_to_f32(x.d);
        const uint32_t qh = load_u32(x.qh);
        for (int j = 0; j < 32; ++j)
          dst[b * 32 + j] = static_cast<float>(q5_value(x.qs, qh, j) - 16) * d;
      }
      return;
    case DType::kQ5_1:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ5_1>(src)[b];
        const float d = f16_to_f32(x.d), m = f16_to_f32(x.m);
        const uint32_t qh = load_u32(x.qh);
        for (int j = 0; j < 32; ++j)
          dst[b * 32 + j] = static_cast<float>(q5_value(x.qs, qh, j)) * d + m;
      }
      return;
    case DType::kQ8_0:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ8_0>(src)[b];
        const float d = f16_to_f32(x.d);
        for (int j = 0; j < 32; ++j) dst[b * 32 + j] = static_cast<float>(x.qs[j]) * d;
      }
      return;
    case DType::kQ8_1:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ8_1>(src)[b];
        const float d = f16_to_f32(x.d);
        for (int j = 0; j < 32; ++j) dst[b * 32 + j] = static_cast<float>(x.qs[j]) * d;
      }
      return;
    case DType::kQ4_K:
    case DType::kQ5_K:
      for (int64_t b = 0; b < nb; ++b) {
        const bool is_q5 = t == DType::kQ5_K;
        const uint8_t* base = static_cast<const uint8_t*>(src) + b * traits(t).block_bytes;
        uint16_t dh, dminh;
        std::memcpy(&dh, base, 2);
        std::memcpy(&dminh, base + 2, 2);
        const uint8_t* scales = base + 4;
        const uint8_t* qh = is_q5 ? base + 16 : nullptr;
        const uint8_t* qs = is_q5 ? base + 48 : base + 16;
        const float d = f16_to_f32(dh), dmin = f16_to_f32(dminh);
        for (int i = 0; i < 256; ++i) {
          uint8_t sc, m;
          scale_min_k4(i / 32, scales, &sc, &m);
          dst[b * 256 + i] = d * sc * static_cast<float>(qk_value(qs, qh, i)) - dmin * m;
        }
      }
      return;
    case DType::kQ6_K:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ6_K>(src)[b];
        const float d = f16_to_f32(x.d);
        for (int i = 0; i < 256; ++i) {
          dst[b * 256 + i] = d * x.scales[i / 16] * static_cast<float>(q6_value(x, i) - 32);
        }
      }
      return;
    case DType::kQ8_K:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& x = blocks<BlockQ8_K>(src)[b];
        for (int i = 0; i < 256; ++i) dst[b * 256 + i] = x.d * x.qs[i];
      }
      return;
    default:
      MEMLONG_ASSERT(false && "dequantize_row: unsupported type");
  }
}

namespace detail {

void disable_vnni_for_testing(bool disable) {
  g_disable_vnni.store(disable);
}

float vec_dot_scalar(DType t, int64_t n, const void* w_row, const void* x_row) {
  const int64_t nb = n / traits(t).block_elems;
  float sum = 0.0f;
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16: {
      const float* x = static_cast<const float*>(x_row);
      for (int64_t i = 0; i < n; ++i) {
        float w;
        if (t == DType::kF32)
          w = static_cast<const float*>(w_row)[i];
        else if (t == DType::kF16)
          w = f16_to_f32(static_cast<const uint16_t*>(w_row)[i]);
        else
          w = bf16_to_f32(static_cast<const uint16_t*>(w_row)[i]);
        sum += w * x[i];
      }
      return sum;
    }
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& xb = blocks<BlockQ8_0>(x_row)[b];
        int sumi = 0;
        uint16_t dw;
        if (t == DType::kQ4_0) {
          const auto& wb = blocks<BlockQ4_0>(w_row)[b];
          dw = wb.d;
          for (int j = 0; j < 16; ++j) {
            sumi += ((wb.qs[j] & 0xF) - 8) * xb.qs[j] + ((wb.qs[j] >> 4) - 8) * xb.qs[j + 16];
          }
        } else if (t == DType::kQ5_0) {
          const auto& wb = blocks<BlockQ5_0>(w_row)[b];
          dw = wb.d;
          const uint32_t qh = load_u32(wb.qh);
          for (int j = 0; j < 32; ++j) sumi += (q5_value(wb.qs, qh, j) - 16) * xb.qs[j];
        } else {
          const auto& wb = blocks<BlockQ8_0>(w_row)[b];
          dw = wb.d;
          for (int j = 0; j < 32; ++j) sumi += wb.qs[j] * xb.qs[j];
        }
        sum += static_cast<float>(sumi) * f16_to_f32(dw) * f16_to_f32(xb.d);
      }
      return sum;
    case DType::kQ4_1:
    case DType::kQ5_1:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& xb = blocks<BlockQ8_1>(x_row)[b];
        int sumi = 0;
        uint16_t dw, mw;
        if (t == DType::kQ4_1) {
          const auto& wb = blocks<BlockQ4_1>(w_row)[b];
          dw = wb.d;
          mw = wb.m;
          for (int j = 0; j < 16; ++j) {
            sumi += (wb.qs[j] & 0xF) * xb.qs[j] + (wb.qs[j] >> 4) * xb.qs[j + 16];
          }
        } else {
          const auto& wb = blocks<BlockQ5_1>(w_row)[b];
          dw = wb.d;
          mw = wb.m;
          const uint32_t qh = load_u32(wb.qh);
          for (int j = 0; j < 32; ++j) sumi += q5_value(wb.qs, qh, j) * xb.qs[j];
        }
        sum += static_cast<float>(sumi) * f16_to_f32(dw) * f16_to_f32(xb.d) +
               f16_to_f32(mw) * f16_to_f32(xb.s);
      }
      return sum;
    case DType::kQ4_K:
    case DType::kQ5_K:
      for (int64_t b = 0; b < nb; ++b) {
        const bool is_q5 = t == DType::kQ5_K;
        const uint8_t* base = static_cast<const uint8_t*>(w_row) + b * traits(t).block_bytes;
        const auto& xb = blocks<BlockQ8_K>(x_row)[b];
        uint16_t dh, dminh;
        std::memcpy(&dh, base, 2);
        std::memcpy(&dminh, base + 2, 2);
        const uint8_t* qh = is_q5 ? base + 16 : nullptr;
        const uint8_t* qs = is_q5 ? base + 48 : base + 16;
        int sumi = 0, summ = 0;
        for (int s = 0; s < 8; ++s) {
          uint8_t sc, m;
          scale_min_k4(s, base + 4, &sc, &m);
          int part = 0;
          for (int i = 32 * s; i < 32 * s + 32; ++i) part += qk_value(qs, qh, i) * xb.qs[i];
          sumi += sc * part;
          summ += m * (xb.bsums[2 * s] + xb.bsums[2 * s + 1]);
        }
        sum += xb.d * (f16_to_f32(dh) * static_cast<float>(sumi) -
                       f16_to_f32(dminh) * static_cast<float>(summ));
      }
      return sum;
    case DType::kQ6_K:
      for (int64_t b = 0; b < nb; ++b) {
        const auto& wb = blocks<BlockQ6_K>(w_row)[b];
        const auto& xb = blocks<BlockQ8_K>(x_row)[b];
        int sumi = 0;
        for (int g = 0; g < 16; ++g) {
          int part = 0;
          for (int i = 16 * g; i < 16 * g + 16; ++i) part += (q6_value(wb, i) - 32) * xb.qs[i];
          sumi += wb.scales[g] * part;
        }
        sum += xb.d * f16_to_f32(wb.d) * static_cast<float>(sumi);
      }
      return sum;
    default:
      MEMLONG_ASSERT(false && "vec_dot: unsupported weight type");
      return 0.0f;
  }
}

}  // namespace detail

float vec_dot(DType t, int64_t n, const void* w_row, const void* x_row) {
  float y = 0.0f;
  matmul_rows(t, n, w_row, 0, 0, 1, x_row, 0, 1, &y, 1);
  return y;
}

void matmul_rows(DType t, int64_t k, const void* w, size_t w_row_bytes, int64_t r_begin,
                 int64_t r_end, const void* x, size_t x_row_bytes, int64_t n_cols, float* y,
                 int64_t y_stride) {
  MEMLONG_ASSERT(is_supported_weight_type(t));
  MEMLONG_ASSERT(k % traits(t).block_elems == 0 && k % traits(vec_dot_type(t)).block_elems == 0);
  if (r_end <= r_begin || n_cols <= 0) return;
  if (use_vnni() && detail::matmul_rows_vnni(t, k, w, w_row_bytes, r_begin, r_end, x, x_row_bytes,
                                             n_cols, y, y_stride)) {
    return;
  }
  if (use_avx2() && detail::matmul_rows_avx2(t, k, w, w_row_bytes, r_begin, r_end, x, x_row_bytes,
                                             n_cols, y, y_stride)) {
    return;
  }
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* xb = static_cast<const uint8_t*>(x);
  for (int64_t r = r_begin; r < r_end; ++r) {
    for (int64_t c = 0; c < n_cols; ++c) {
      y[c * y_stride + r] =
          detail::vec_dot_scalar(t, k, wb + r * w_row_bytes, xb + c * x_row_bytes);
    }
  }
}

const char* simd_path_name() {
  return use_vnni() ? "avx2+vnni" : use_avx2() ? "avx2" : "scalar";
}

void force_scalar_for_testing(bool force) {
  g_force_scalar.store(force);
}

}  // namespace memlong::quant
