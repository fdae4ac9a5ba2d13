// CPU backend ops. Legend: n = rows (tokens), d = row length, H / Hkv = query / KV heads,
// dh = head dim. Every op splits its rows (or output features) across the thread pool.
#include "core/backend/cpu_backend.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/backend/vec_f32.h"
#include "core/common/half.h"
#include "core/generate/sample_select.h"
#include "core/model/model_file.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

size_t round_up(size_t x, size_t a) {
  return (x + a - 1) / a * a;
}

void add_bias(float* y, int32_t n, int64_t n_out, const WeightHandle* bias) {
  if (bias == nullptr || !bias->is_valid()) return;
  const auto* bv = static_cast<const float*>(bias->data);
  for (int32_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n_out; ++j) y[i * n_out + j] += bv[j];
  }
}

}  // namespace

CpuBackend::CpuBackend(int n_threads, bool exact_activations)
    : pool_(n_threads), exact_activations_(exact_activations) {
  scratch_.resize(static_cast<size_t>(pool_.n_threads()));
  scratch2_.resize(static_cast<size_t>(pool_.n_threads()));
}

std::string CpuBackend::description() const {
  return "CPU, " + std::to_string(pool_.n_threads()) + " threads, " + quant::simd_path_name();
}

Result<DeviceBuffer> CpuBackend::alloc(size_t size_bytes) {
  // 64-byte aligned for SIMD loads; zeroed so a fresh KV cache holds no garbage.
  const size_t n = round_up(std::max<size_t>(size_bytes, 1), 64);
  void* p = std::aligned_alloc(64, n);
  if (p == nullptr) {
    return out_of_memory("cannot allocate " + std::to_string(size_bytes) + " bytes of host memory");
  }
  std::memset(p, 0, n);
  return DeviceBuffer(p, size_bytes, [](void* q) { std::free(q); });
}

void CpuBackend::copy_to_device(void* dst, const void* host_src, size_t n_bytes) {
  std::memcpy(dst, host_src, n_bytes);
}

Status CpuBackend::copy_to_host(void* host_dst, const void* src, size_t n_bytes) {
  std::memcpy(host_dst, src, n_bytes);
  return error_;
}

void CpuBackend::copy(void* dst, const void* src, size_t n_bytes) {
  std::memmove(dst, src, n_bytes);
}

Result<WeightHandle> CpuBackend::upload_weight(const TensorView& t) {
  if (t.n_dims > 2) {
    return unsupported("tensor '" + t.name + "' has " + std::to_string(t.n_dims) +
                       " dimensions; weights are 1-D or 2-D");
  }
  WeightHandle w;
  w.n_in = t.ne[0];
  w.n_out = t.ne[1];
  if (t.n_dims == 1 && t.dtype != DType::kF32) {
    // Norm weights and biases are read by plain loops: convert F16/BF16 to F32 once.
    if (t.dtype != DType::kF16 && t.dtype != DType::kBF16) {
      return unsupported("1-D tensor '" + t.name + "' has type " +
                         std::string(dtype_name(t.dtype)));
    }
    MEMLONG_ASSIGN_OR_RETURN(DeviceBuffer buf, alloc(static_cast<size_t>(w.n_in) * 4));
    const auto* src = static_cast<const uint16_t*>(t.data);
    for (int64_t i = 0; i < w.n_in; ++i) {
      buf.f32()[i] = t.dtype == DType::kF16 ? f16_to_f32(src[i]) : bf16_to_f32(src[i]);
    }
    w.dtype = DType::kF32;
    w.row_bytes = static_cast<size_t>(w.n_in) * 4;
    w.data = buf.data();
    w.storage = std::move(buf);
    return w;
  }
  if (!quant::is_supported_weight_type(t.dtype)) {
    return unsupported("tensor '" + t.name + "' has type " + std::string(dtype_name(t.dtype)) +
                       ", which the CPU backend cannot compute with");
  }
  const auto rb = dtype_row_bytes(t.dtype, static_cast<uint64_t>(w.n_in));
  if (!rb) return corrupt("tensor '" + t.name + "' row is not a whole number of blocks");
  w.dtype = t.dtype;
  w.row_bytes = *rb;
  w.data = t.data;
  return w;
}

void CpuBackend::get_rows(const WeightHandle& table, const int32_t* ids, int32_t n, float* out) {
  const int64_t d = table.n_in;
  maybe_parallel_for(n, n * d, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const auto* row =
          static_cast<const uint8_t*>(table.data) + static_cast<size_t>(ids[i]) * table.row_bytes;
      quant::dequantize_row(table.dtype, row, out + i * d, d);
    }
  });
}

void CpuBackend::rms_norm(const float* x, const WeightHandle& w, float eps, int32_t n, int32_t dim,
                          float* out) {
  const auto* wt = static_cast<const float*>(w.data);
  maybe_parallel_for(n, static_cast<int64_t>(n) * dim, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float* xi = x + i * dim;
      float* oi = out + i * dim;
      double ss = 0.0;
      for (int32_t j = 0; j < dim; ++j) ss += static_cast<double>(xi[j]) * xi[j];
      const float inv = 1.0f / std::sqrt(static_cast<float>(ss / dim) + eps);
      for (int32_t j = 0; j < dim; ++j) oi[j] = xi[j] * inv * wt[j];
    }
  });
}

void CpuBackend::matmul(const WeightHandle& w, const float* x, int32_t n, float* y,
                        const WeightHandle* bias) {
  const MatmulTarget target{&w, y, bias};
  matmul_multi(std::span<const MatmulTarget>(&target, 1), x, n);
}

size_t CpuBackend::convert_activations(DType type, const float* x, int32_t n, int64_t k,
                                       std::vector<uint8_t>* dst) {
  const size_t row_bytes = *dtype_row_bytes(type, static_cast<uint64_t>(k));
  const size_t need = row_bytes * static_cast<size_t>(n);
  if (dst->size() < need) dst->resize(need);
  uint8_t* out = dst->data();
  maybe_parallel_for(n, n * k, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) quant::quantize_row(type, x + i * k, out + i * row_bytes, k);
  });
  return row_bytes;
}

void CpuBackend::maybe_parallel_for(int64_t n_rows, int64_t work,
                                    const std::function<void(int64_t, int64_t)>& fn) {
  // Below ~16k elements of simple arithmetic the work takes less than waking the team.
  constexpr int64_t kMinParallelWork = 16384;
  if (work < kMinParallelWork || n_rows < 2) {
    if (n_rows > 0) fn(0, n_rows);
    return;
  }
  pool_.parallel_for(n_rows, fn);
}

void CpuBackend::matmul_multi(std::span<const MatmulTarget> targets, const float* x, int32_t n) {
  if (targets.empty()) return;
  const int64_t k = targets[0].w->n_in;
  bool any_exact = false;
  for (const MatmulTarget& t : targets) {
    MEMLONG_ASSERT(t.w->n_in == k);
    any_exact |= exact_activations_ && t.w->dtype != DType::kF32;
  }
  if (any_exact) {  // reference path, one weight at a time
    for (const MatmulTarget& t : targets) {
      pool_.run([&](int ith, int nth) {
        std::vector<float> row(static_cast<size_t>(k));
        for (int64_t r = ith; r < t.w->n_out; r += nth) {
          quant::dequantize_row(t.w->dtype,
                                static_cast<const uint8_t*>(t.w->data) + r * t.w->row_bytes,
                                row.data(), k);
          for (int32_t i = 0; i < n; ++i) {
            t.y[i * t.w->n_out + r] = vec::dot(row.data(), x + i * k, static_cast<int>(k));
          }
        }
      });
      add_bias(t.y, n, t.w->n_out, t.bias);
    }
    return;
  }

  // Convert the activations once per distinct vec_dot type (fused weights almost always share
  // one type; a second buffer covers mixed files).
  struct Converted {
    DType type;
    const void* data;
    size_t row_bytes;
  };
  Converted conv[2];
  int n_conv = 0;
  auto converted_for = [&](DType wt) -> int32_t {
    const DType xt = quant::vec_dot_type(wt);
    for (int i = 0; i < n_conv; ++i) {
      if (conv[i].type == xt) return i;
    }
    MEMLONG_ASSERT(n_conv < 2);
    Converted& c = conv[n_conv];
    c.type = xt;
    if (xt == DType::kF32) {
      c.data = x;
      c.row_bytes = static_cast<size_t>(k) * 4;
    } else {
      std::vector<uint8_t>* buf = n_conv == 0 ? &xq_ : &xq2_;
      c.row_bytes = convert_activations(xt, x, n, k, buf);
      c.data = buf->data();
    }
    return n_conv++;
  };

  // One list of row blocks over all targets, handed out dynamically so both threads stay busy.
  // Blocks are multiples of 4 rows (the kernels' row tile); for decode they are sized so each
  // thread gets several, for prefill larger to amortise the column tiles.
  std::vector<MatmulBlock>& blocks = blocks_;
  blocks.clear();
  int64_t total_rows = 0;
  for (const MatmulTarget& t : targets) total_rows += t.w->n_out;
  const int64_t block = std::max<int64_t>(16, (total_rows / (pool_.n_threads() * 8) + 3) / 4 * 4);
  for (size_t ti = 0; ti < targets.size(); ++ti) {
    const int32_t ci = converted_for(targets[ti].w->dtype);
    for (int64_t r0 = 0; r0 < targets[ti].w->n_out; r0 += block) {
      blocks.push_back(
          {static_cast<int32_t>(ti), ci, r0, std::min(targets[ti].w->n_out, r0 + block)});
    }
  }
  std::atomic<size_t> next{0};
  pool_.run([&](int, int) {
    for (;;) {
      const size_t bi = next.fetch_add(1, std::memory_order_relaxed);
      if (bi >= blocks.size()) break;
      const MatmulBlock& b = blocks[bi];
      const MatmulTarget& t = targets[static_cast<size_t>(b.target)];
      const Converted& xc = conv[b.conv];
      quant::matmul_rows(t.w->dtype, k, t.w->data, t.w->row_bytes, b.r0, b.r1, xc.data,
                         xc.row_bytes, n, t.y, t.w->n_out);
    }
  });
  for (const MatmulTarget& t : targets) add_bias(t.y, n, t.w->n_out, t.bias);
}

void CpuBackend::rope(float* x, int32_t n, int32_t n_heads, const int32_t* positions,
                      const RopeParams& p) {
  const int32_t dh = p.head_dim;
  const int32_t half = p.n_rot / 2;
  maybe_parallel_for(n, static_cast<int64_t>(n) * n_heads * dh * 4, [&](int64_t b, int64_t e) {
    std::vector<float> cs(static_cast<size_t>(half) * 2);
    for (int64_t i = b; i < e; ++i) {
      const double pos = positions[i];
      for (int32_t j = 0; j < half; ++j) {
        const double freq = p.inv_freq != nullptr
                                ? p.inv_freq[j]
                                : std::pow(static_cast<double>(p.theta), -2.0 * j / p.n_rot);
        const double a = pos * freq;
        cs[2 * j] = static_cast<float>(std::cos(a));
        cs[2 * j + 1] = static_cast<float>(std::sin(a));
      }
      for (int32_t h = 0; h < n_heads; ++h) {
        float* v = x + (i * n_heads + h) * dh;
        for (int32_t j = 0; j < half; ++j) {
          const int32_t i0 = p.interleaved ? 2 * j : j;
          const int32_t i1 = p.interleaved ? 2 * j + 1 : j + half;
          const float c = cs[2 * j], s = cs[2 * j + 1];
          const float a0 = v[i0], a1 = v[i1];
          v[i0] = a0 * c - a1 * s;
          v[i1] = a0 * s + a1 * c;
        }
      }
    }
  });
}

void CpuBackend::attention(const float* q, const float* k_cache, const float* v_cache,
                           const AttentionParams& p, float* out) {
  const int32_t H = p.n_head, Hkv = p.n_head_kv, dh = p.head_dim;
  const int32_t group = H / Hkv;
  // Capturable decode: positions from device scalars (here host memory), n_kv capped by capacity.
  const int32_t q_pos0 = p.q_pos0_dev != nullptr ? *p.q_pos0_dev : p.q_pos0;
  const int32_t n_kv = p.n_kv_dev != nullptr ? std::min(*p.n_kv_dev, p.n_kv) : p.n_kv;
  const int32_t M = p.mem_k != nullptr ? p.n_mem : 0;
  const int64_t kv_stride = static_cast<int64_t>(Hkv) * dh;
  const int64_t n_tasks = static_cast<int64_t>(p.n_query) * H;
  // Per-memory-token mass: each thread sums into its own row of `token_mass`, [n_threads, M], and
  // the rows are added in thread order afterwards (deterministic for a given thread count).
  const bool want_token_mass = p.mem_token_mass != nullptr && M > 0;
  std::vector<float> token_mass(
      want_token_mass ? static_cast<size_t>(pool_.n_threads()) * static_cast<size_t>(M) : 0);
  pool_.run([&](int ith, int nth) {
    // scores[0, M) are memory logits, scores[M, M + n_vis) local ones: one softmax over both.
    std::vector<float>& scores = scratch_[static_cast<size_t>(ith)];
    const auto need = static_cast<size_t>(M + n_kv);
    if (scores.size() < need) scores.resize(need);
    std::vector<float>& partial = scratch2_[static_cast<size_t>(ith)];
    if (M > 0 && partial.size() < static_cast<size_t>(dh)) partial.resize(static_cast<size_t>(dh));
    // Interleave tasks across threads so causal rows (short and long) balance out.
    for (int64_t task = ith; task < n_tasks; task += nth) {
      const int32_t i = static_cast<int32_t>(task / H);
      const int32_t h = static_cast<int32_t>(task % H);
      const int32_t hk = h / group;
      const int32_t n_vis = std::min(n_kv, q_pos0 + i + 1);
      const float* qi = q + (static_cast<int64_t>(i) * H + h) * dh;
      float mx = -INFINITY;
      for (int32_t t = 0; t < M; ++t) {
        const float s = vec::dot(qi, p.mem_k + t * kv_stride + hk * dh, dh) * p.scale;
        scores[static_cast<size_t>(t)] = s;
        mx = std::max(mx, s);
      }
      float* local = scores.data() + M;
      for (int32_t t = 0; t < n_vis; ++t) {
        const float s = vec::dot(qi, k_cache + t * kv_stride + hk * dh, dh) * p.scale;
        local[t] = s;
        mx = std::max(mx, s);
      }
      float sum = 0.0f;
      for (int32_t t = 0; t < M + n_vis; ++t) {
        const float e = std::exp(scores[static_cast<size_t>(t)] - mx);
        scores[static_cast<size_t>(t)] = e;
        sum += e;
      }
      // Normalise the weights first, then weighted sums of the value rows.
      const float inv_sum = 1.0f / sum;
      float mem_mass = 0.0f;
      for (int32_t t = 0; t < M + n_vis; ++t) {
        scores[static_cast<size_t>(t)] *= inv_sum;
        if (t < M) mem_mass += scores[static_cast<size_t>(t)];
      }
      float* oi = out + (static_cast<int64_t>(i) * H + h) * dh;
      vec::weighted_row_sum(oi, v_cache + hk * dh, kv_stride, local, n_vis, dh);
      if (M > 0) {
        vec::weighted_row_sum(partial.data(), p.mem_v + hk * dh, kv_stride, scores.data(), M, dh);
        for (int32_t j = 0; j < dh; ++j) oi[j] += partial[static_cast<size_t>(j)];
      }
      if (p.mem_mass != nullptr) p.mem_mass[static_cast<int64_t>(i) * H + h] = mem_mass;
      if (want_token_mass) {
        float* tm = token_mass.data() + static_cast<size_t>(ith) * static_cast<size_t>(M);
        for (int32_t t = 0; t < M; ++t) tm[t] += scores[static_cast<size_t>(t)];
      }
    }
  });
  if (want_token_mass) {
    for (int th = 0; th < pool_.n_threads(); ++th) {
      const float* tm = token_mass.data() + static_cast<size_t>(th) * static_cast<size_t>(M);
      for (int32_t t = 0; t < M; ++t) p.mem_token_mass[t] += tm[t];
    }
  }
}

void CpuBackend::swiglu(const float* gate, const float* up, int64_t n, float* out) {
  maybe_parallel_for(n, n * 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float g = gate[i];
      out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
  });
}

void CpuBackend::add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

// ---- MemLong K/V slot pool (issue 7) ----
namespace {

// The slot's K row (V follows at + row_elems), or null outside the pool. Same addressing as
// cuda/kernels/kv_pool_codec.h slot_row.
uint16_t* pool_slot(const Backend::KvPoolView& pool, int64_t slot) {
  if (slot < 0 || slot >= pool.n_device + pool.n_host) return nullptr;
  const int64_t per_slot = 2 * static_cast<int64_t>(pool.row_elems);
  return slot < pool.n_device
             ? static_cast<uint16_t*>(pool.device) + slot * per_slot
             : static_cast<uint16_t*>(pool.host) + (slot - pool.n_device) * per_slot;
}

}  // namespace

void CpuBackend::kv_pool_store(const KvPoolView& pool, const int32_t* slots, int32_t n,
                               const float* k, const float* v) {
  if (!error_.is_ok()) return;
  if (pool.dtype != DType::kF16 && pool.dtype != DType::kBF16) {
    error_ = invalid_argument("kv_pool_store: pool type " + std::string(dtype_name(pool.dtype)));
    return;
  }
  const bool bf16 = pool.dtype == DType::kBF16;
  const int64_t re = pool.row_elems;
  for (int32_t i = 0; i < n; ++i) {
    uint16_t* dst = pool_slot(pool, slots[i]);
    if (dst == nullptr) {
      error_ =
          invalid_argument("kv_pool_store: slot " + std::to_string(slots[i]) + " outside the pool");
      return;
    }
    const float* kr = k + i * re;
    const float* vr = v + i * re;
    for (int64_t j = 0; j < re; ++j) {
      dst[j] = bf16 ? f32_to_bf16(kr[j]) : f32_to_f16(kr[j]);
      dst[re + j] = bf16 ? f32_to_bf16(vr[j]) : f32_to_f16(vr[j]);
    }
  }
}

void CpuBackend::kv_pool_gather(const KvPoolView& pool, const int32_t* slots, int32_t n,
                                float* k_out, float* v_out) {
  if (!error_.is_ok()) return;
  if (pool.dtype != DType::kF16 && pool.dtype != DType::kBF16) {
    error_ = invalid_argument("kv_pool_gather: pool type " + std::string(dtype_name(pool.dtype)));
    return;
  }
  const bool bf16 = pool.dtype == DType::kBF16;
  const int64_t re = pool.row_elems;
  for (int32_t i = 0; i < n; ++i) {
    const uint16_t* src = pool_slot(pool, slots[i]);
    if (src == nullptr) {
      error_ = invalid_argument("kv_pool_gather: slot " + std::to_string(slots[i]) +
                                " outside the pool");
      return;
    }
    float* kr = k_out + i * re;
    float* vr = v_out + i * re;
    for (int64_t j = 0; j < re; ++j) {
      kr[j] = bf16 ? bf16_to_f32(src[j]) : f16_to_f32(src[j]);
      vr[j] = bf16 ? bf16_to_f32(src[re + j]) : f16_to_f32(src[re + j]);
    }
  }
}
// ---- end of the K/V slot pool ----
// ---- retriever encoder ops ----
// The loops of the host-only encoder this replaced (same arithmetic, same order), so embeddings
// are bit-identical to it: mean and variance summed in double, everything else in float.

void CpuBackend::layer_norm(const float* x, const float* residual, const WeightHandle& w,
                            const WeightHandle& b, float eps, int32_t n, int32_t dim, float* out) {
  MEMLONG_ASSERT(w.n_in == dim && b.n_in == dim && w.dtype == DType::kF32 &&
                 b.dtype == DType::kF32);
  const auto* wt = static_cast<const float*>(w.data);
  const auto* bt = static_cast<const float*>(b.data);
  maybe_parallel_for(n, static_cast<int64_t>(n) * dim * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t t = r0; t < r1; ++t) {
      const float* xr = x + t * dim;
      float* row = out + t * dim;
      if (residual != nullptr) {
        const float* rr = residual + t * dim;
        for (int32_t i = 0; i < dim; ++i) row[i] = xr[i] + rr[i];
      } else if (row != xr) {
        std::memcpy(row, xr, static_cast<size_t>(dim) * sizeof(float));
      }
      double sum = 0.0;
      for (int32_t i = 0; i < dim; ++i) sum += row[i];
      const float mean = static_cast<float>(sum / dim);
      double var = 0.0;
      for (int32_t i = 0; i < dim; ++i) {
        const float d = row[i] - mean;
        var += static_cast<double>(d) * d;
      }
      const float inv = 1.0f / std::sqrt(static_cast<float>(var / dim) + eps);
      for (int32_t i = 0; i < dim; ++i) row[i] = (row[i] - mean) * inv * wt[i] + bt[i];
    }
  });
}

void CpuBackend::encoder_attention(const float* q, const float* k, const float* v,
                                   const EncoderAttentionParams& ap, float* out) {
  const int32_t* seq_offsets = ap.seq_offsets;
  const int32_t n_head = ap.n_head, head_dim = ap.head_dim, max_seq_len = ap.max_seq_len;
  const float scale = ap.scale;
  MEMLONG_ASSERT(ap.n_seq == 0 || seq_offsets[ap.n_seq] == ap.n_rows);
  const int64_t stride = static_cast<int64_t>(n_head) * head_dim;
  // One work item per (sequence, head), handed out dynamically (sequences differ in length).
  std::atomic<int64_t> next{0};
  const int64_t n_items = static_cast<int64_t>(ap.n_seq) * n_head;
  pool_.run([&](int, int) {
    std::vector<float> p(static_cast<size_t>(max_seq_len));
    for (int64_t item = next.fetch_add(1); item < n_items; item = next.fetch_add(1)) {
      const int64_t s = item / n_head, hh = item % n_head;
      const int64_t b = seq_offsets[s], len = seq_offsets[s + 1] - b;
      MEMLONG_ASSERT(len >= 1 && len <= max_seq_len);
      const int64_t col = hh * head_dim;
      for (int64_t i = 0; i < len; ++i) {
        const float* qi = q + (b + i) * stride + col;
        float mx = -INFINITY;
        for (int64_t j = 0; j < len; ++j) {
          p[j] = vec::dot(qi, k + (b + j) * stride + col, head_dim) * scale;
          mx = std::max(mx, p[j]);
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < len; ++j) {
          p[j] = std::exp(p[j] - mx);
          sum += p[j];
        }
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < len; ++j) p[j] *= inv;
        vec::weighted_row_sum(out + (b + i) * stride + col, v + b * stride + col, stride, p.data(),
                              static_cast<int>(len), head_dim);
      }
    }
  });
}

void CpuBackend::gelu_erf(const float* x, int64_t n, float* out) {
  maybe_parallel_for(n, n * 8, [&](int64_t i0, int64_t i1) {
    constexpr float kInvSqrt2 = 0.70710678118654752440f;
    for (int64_t i = i0; i < i1; ++i) out[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * kInvSqrt2));
  });
}

void CpuBackend::pool_sequences(const float* x, const int32_t* seq_offsets, int32_t n_seq,
                                int32_t dim, SequencePooling mode, float* out) {
  const int64_t n_rows = n_seq > 0 ? seq_offsets[n_seq] : 0;
  maybe_parallel_for(n_seq, n_rows * dim, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      float* o = out + s * dim;
      const int64_t b = seq_offsets[s], len = seq_offsets[s + 1] - b;
      MEMLONG_ASSERT(len >= 1);
      if (mode == SequencePooling::kFirst) {
        std::copy_n(x + b * dim, dim, o);
        continue;
      }
      std::fill(o, o + dim, 0.0f);
      for (int64_t t = b; t < b + len; ++t) {
        const float* xr = x + t * dim;
        for (int32_t i = 0; i < dim; ++i) o[i] += xr[i];
      }
      const float inv_len = 1.0f / static_cast<float>(len);
      for (int32_t i = 0; i < dim; ++i) o[i] *= inv_len;
    }
  });
}

void CpuBackend::l2_normalize(float* x, int32_t n, int32_t dim) {
  maybe_parallel_for(n, static_cast<int64_t>(n) * dim * 2, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* o = x + r * dim;
      double norm2 = 0.0;
      for (int32_t i = 0; i < dim; ++i) norm2 += static_cast<double>(o[i]) * o[i];
      const float inv = 1.0f / std::max(static_cast<float>(std::sqrt(norm2)), 1e-12f);
      for (int32_t i = 0; i < dim; ++i) o[i] *= inv;
    }
  });
}
// ---- end of retriever encoder ops ----

void CpuBackend::copy_rows_at(void* dst, const void* src, const int32_t* row_index, int32_t n_rows,
                              size_t row_bytes, int32_t capacity_rows) {
  const int32_t r0 = *row_index;
  for (int32_t r = 0; r < n_rows; ++r) {
    if (r0 + r < 0 || r0 + r >= capacity_rows) continue;
    std::memcpy(static_cast<uint8_t*>(dst) + static_cast<size_t>(r0 + r) * row_bytes,
                static_cast<const uint8_t*>(src) + static_cast<size_t>(r) * row_bytes, row_bytes);
  }
}

void CpuBackend::sample(float* logits, int32_t n_vocab, const SampleArgs& a, int32_t* out_id) {
  namespace ss = sample_select;
  if (a.repetition_penalty != 1.0f) {
    for (int32_t i = 0; i < a.n_penalty_ids; ++i) {
      const int32_t id = a.penalty_ids[i];
      if (id >= 0 && id < n_vocab) logits[id] = ss::penalize(logits[id], a.repetition_penalty);
    }
  }
  if (a.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; ++i) {
      if (ss::ranks_before(logits[i], i, logits[best], best)) best = i;
    }
    *out_id = best;
    return;
  }
  auto& cand = sample_candidates_;
  cand.resize(static_cast<size_t>(n_vocab));
  for (int32_t i = 0; i < n_vocab; ++i)
    cand[static_cast<size_t>(i)] = {logits[i] / a.temperature, i};
  const auto before = [](const std::pair<float, int32_t>& x, const std::pair<float, int32_t>& y) {
    return ss::ranks_before(x.first, x.second, y.first, y.second);
  };
  const int32_t keep = a.top_k > 0 && a.top_k < n_vocab ? a.top_k : n_vocab;
  std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), before);
  const int32_t pick =
      ss::pick_sorted([&](int32_t i) { return cand[static_cast<size_t>(i)].first; }, keep, a.min_p,
                      a.top_p, a.uniform);
  *out_id = cand[static_cast<size_t>(pick)].second;
}

std::unique_ptr<Backend> make_cpu_backend(int n_threads, bool exact_activations) {
  return std::make_unique<CpuBackend>(n_threads, exact_activations);
}

}  // namespace memlong
