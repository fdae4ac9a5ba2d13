// BertEncoder forward pass; the math is in the header's legend.
#include "core/retriever/bert_encoder.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "core/backend/vec_f32.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

// y[t, :] = LayerNorm(x[t, :] + r[t, :]) * w + b for t in [0, T); r may be null.
void add_layer_norm(float* x, const float* r, const float* w, const float* b, int64_t n_tokens,
                    int32_t hidden, float eps, ThreadPool& pool) {
  pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* row = x + t * hidden;
      if (r != nullptr) {
        const float* rr = r + t * hidden;
        for (int32_t i = 0; i < hidden; ++i) row[i] += rr[i];
      }
      double sum = 0.0;
      for (int32_t i = 0; i < hidden; ++i) sum += row[i];
      const float mean = static_cast<float>(sum / hidden);
      double var = 0.0;
      for (int32_t i = 0; i < hidden; ++i) {
        const float d = row[i] - mean;
        var += static_cast<double>(d) * d;
      }
      const float inv = 1.0f / std::sqrt(static_cast<float>(var / hidden) + eps);
      for (int32_t i = 0; i < hidden; ++i) row[i] = (row[i] - mean) * inv * w[i] + b[i];
    }
  });
}

// Activations converted once per weight type and reused by every matrix of that type.
class Activations {
 public:
  // Points at x ([n_tokens, k] f32) for weights of type `t`, converting if needed.
  void prepare(const float* x, int64_t n_tokens, int64_t k, DType t, ThreadPool& pool) {
    type_ = quant::vec_dot_type(t);
    if (type_ == DType::kF32) {
      data_ = reinterpret_cast<const uint8_t*>(x);
      row_bytes_ = static_cast<size_t>(k) * sizeof(float);
      return;
    }
    row_bytes_ = *dtype_row_bytes(type_, static_cast<uint64_t>(k));
    buffer_.resize(row_bytes_ * static_cast<size_t>(n_tokens));
    pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        quant::quantize_row(type_, x + t * k, buffer_.data() + t * row_bytes_, k);
    });
    data_ = buffer_.data();
  }
  const uint8_t* data() const { return data_; }
  size_t row_bytes() const { return row_bytes_; }

 private:
  DType type_ = DType::kF32;
  const uint8_t* data_ = nullptr;
  size_t row_bytes_ = 0;
  std::vector<uint8_t> buffer_;
};

// y [n_tokens, n_out] = x W^T + bias, with x already prepared for W's type.
void linear(const BertMatrix& w, const float* bias, const Activations& x, int64_t n_tokens,
            float* y, ThreadPool& pool) {
  const int64_t n_out = w.n_rows;
  pool.parallel_for(n_out, [&](int64_t r0, int64_t r1) {
    quant::matmul_rows(w.dtype, w.n_cols, w.data, w.row_bytes, r0, r1, x.data(), x.row_bytes(),
                       n_tokens, y, n_out);
  });
  if (bias == nullptr) return;
  pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* row = y + t * n_out;
      for (int64_t i = 0; i < n_out; ++i) row[i] += bias[i];
    }
  });
}

Status check_matrix(const BertMatrix& m, int64_t rows, int64_t cols, const char* name) {
  if (m.data == nullptr || m.n_rows != rows || m.n_cols != cols)
    return corrupt(std::string("encoder weight ") + name + " is [" + std::to_string(m.n_rows) +
                   ", " + std::to_string(m.n_cols) + "], expected [" + std::to_string(rows) + ", " +
                   std::to_string(cols) + "]");
  if (!quant::is_supported_weight_type(m.dtype))
    return unsupported(std::string("encoder weight ") + name + " has type " +
                       std::string(dtype_name(m.dtype)));
  auto rb = dtype_row_bytes(m.dtype, static_cast<uint64_t>(cols));
  if (!rb || *rb != m.row_bytes)
    return corrupt(std::string("encoder weight ") + name + " has a row size that does not match");
  return Status::ok();
}

}  // namespace

Result<BertEncoder> BertEncoder::create(const BertConfig& c, BertWeights w) {
  if (c.hidden <= 0 || c.n_heads <= 0 || c.hidden % c.n_heads != 0 || c.ffn <= 0 ||
      c.n_layers <= 0 || c.vocab <= 0 || c.position_offset < 0 ||
      c.max_pos <= c.position_offset + 2)
    return corrupt("encoder configuration is inconsistent (hidden " + std::to_string(c.hidden) +
                   ", heads " + std::to_string(c.n_heads) + ", max positions " +
                   std::to_string(c.max_pos) + ")");
  const int64_t h = c.hidden, f = c.ffn;
  MEMLONG_RETURN_IF_ERROR(check_matrix(w.word, c.vocab, h, "word embeddings"));
  MEMLONG_RETURN_IF_ERROR(check_matrix(w.pos, c.max_pos, h, "position embeddings"));
  if (w.type.n_rows < 1) return corrupt("encoder has no token type embeddings");
  MEMLONG_RETURN_IF_ERROR(check_matrix(w.type, w.type.n_rows, h, "token type embeddings"));
  if (w.emb_ln_w == nullptr || w.emb_ln_b == nullptr)
    return corrupt("encoder has no embedding layer norm");
  if (static_cast<int32_t>(w.layers.size()) != c.n_layers)
    return corrupt("encoder has " + std::to_string(w.layers.size()) + " layers, expected " +
                   std::to_string(c.n_layers));
  for (const BertLayer& l : w.layers) {
    MEMLONG_RETURN_IF_ERROR(check_matrix(l.q, h, h, "query"));
    MEMLONG_RETURN_IF_ERROR(check_matrix(l.k, h, h, "key"));
    MEMLONG_RETURN_IF_ERROR(check_matrix(l.v, h, h, "value"));
    MEMLONG_RETURN_IF_ERROR(check_matrix(l.attn_out, h, h, "attention output"));
    MEMLONG_RETURN_IF_ERROR(check_matrix(l.ffn_in, f, h, "ffn in"));
    MEMLONG_RETURN_IF_ERROR(check_matrix(l.ffn_out, h, f, "ffn out"));
    for (const float* p : {l.q_b, l.k_b, l.v_b, l.attn_out_b, l.ffn_in_b, l.ffn_out_b, l.attn_ln_w,
                           l.attn_ln_b, l.out_ln_w, l.out_ln_b}) {
      if (p == nullptr) return corrupt("encoder layer is missing a bias or layer-norm vector");
    }
  }
  return BertEncoder(c, std::move(w));
}

void BertEncoder::encode(std::span<const int32_t> ids, std::span<const int64_t> seq_offsets,
                         Pooling pooling, ThreadPool& pool, float* out) const {
  const BertConfig& c = config_;
  const BertWeights& w = weights_;
  const int64_t n_tokens = static_cast<int64_t>(ids.size());
  const int64_t n_seq = static_cast<int64_t>(seq_offsets.size()) - 1;
  MEMLONG_ASSERT(n_seq >= 1 && seq_offsets[0] == 0 && seq_offsets[n_seq] == n_tokens);
  const int32_t hidden = c.hidden, ffn = c.ffn, head_dim = c.hidden / c.n_heads;
  std::vector<int32_t> position(static_cast<size_t>(n_tokens));
  int64_t max_len = 0;
  for (int64_t s = 0; s < n_seq; ++s) {
    const int64_t len = seq_offsets[s + 1] - seq_offsets[s];
    MEMLONG_ASSERT(len >= 1 && len <= max_tokens());
    max_len = std::max(max_len, len);
    for (int64_t i = 0; i < len; ++i)
      position[seq_offsets[s] + i] = c.position_offset + static_cast<int32_t>(i);
  }

  const size_t th = static_cast<size_t>(n_tokens) * hidden;
  std::vector<float> x(th), q(th), k(th), v(th), ctx(th), tmp(th);
  std::vector<float> mid(static_cast<size_t>(n_tokens) * ffn);

  // Embeddings: x[t] = word[id] + pos[position] + type[0].
  pool.parallel_for(n_tokens, [&](int64_t t0, int64_t t1) {
    std::vector<float> row(hidden);
    for (int64_t t = t0; t < t1; ++t) {
      const int32_t id = ids[t];
      MEMLONG_ASSERT(id >= 0 && id < c.vocab);
      float* xr = x.data() + t * hidden;
      quant::dequantize_row(w.word.dtype, w.word.data + id * w.word.row_bytes, xr, hidden);
      quant::dequantize_row(w.pos.dtype, w.pos.data + position[t] * w.pos.row_bytes, row.data(),
                            hidden);
      for (int32_t i = 0; i < hidden; ++i) xr[i] += row[i];
      quant::dequantize_row(w.type.dtype, w.type.data, row.data(), hidden);
      for (int32_t i = 0; i < hidden; ++i) xr[i] += row[i];
    }
  });
  add_layer_norm(x.data(), nullptr, w.emb_ln_w, w.emb_ln_b, n_tokens, hidden, c.eps, pool);

  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  Activations act;
  for (const BertLayer& l : w.layers) {
    act.prepare(x.data(), n_tokens, hidden, l.q.dtype, pool);
    linear(l.q, l.q_b, act, n_tokens, q.data(), pool);
    if (l.k.dtype != l.q.dtype) act.prepare(x.data(), n_tokens, hidden, l.k.dtype, pool);
    linear(l.k, l.k_b, act, n_tokens, k.data(), pool);
    if (l.v.dtype != l.k.dtype) act.prepare(x.data(), n_tokens, hidden, l.v.dtype, pool);
    linear(l.v, l.v_b, act, n_tokens, v.data(), pool);

    // Attention: one work item per (sequence, head), handed out dynamically.
    std::atomic<int64_t> next{0};
    const int64_t n_items = n_seq * c.n_heads;
    pool.run([&](int, int) {
      std::vector<float> p(static_cast<size_t>(max_len));
      for (int64_t item = next.fetch_add(1); item < n_items; item = next.fetch_add(1)) {
        const int64_t s = item / c.n_heads, hh = item % c.n_heads;
        const int64_t b = seq_offsets[s], len = seq_offsets[s + 1] - b;
        const int64_t col = hh * head_dim;
        for (int64_t i = 0; i < len; ++i) {
          const float* qi = q.data() + (b + i) * hidden + col;
          float mx = -INFINITY;
          for (int64_t j = 0; j < len; ++j) {
            p[j] = vec::dot(qi, k.data() + (b + j) * hidden + col, head_dim) * scale;
            mx = std::max(mx, p[j]);
          }
          float sum = 0.0f;
          for (int64_t j = 0; j < len; ++j) {
            p[j] = std::exp(p[j] - mx);
            sum += p[j];
          }
          const float inv = 1.0f / sum;
          for (int64_t j = 0; j < len; ++j) p[j] *= inv;
          vec::weighted_row_sum(ctx.data() + (b + i) * hidden + col, v.data() + b * hidden + col,
                                hidden, p.data(), static_cast<int>(len), head_dim);
        }
      }
    });
    act.prepare(ctx.data(), n_tokens, hidden, l.attn_out.dtype, pool);
    linear(l.attn_out, l.attn_out_b, act, n_tokens, tmp.data(), pool);
    add_layer_norm(x.data(), tmp.data(), l.attn_ln_w, l.attn_ln_b, n_tokens, hidden, c.eps, pool);

    act.prepare(x.data(), n_tokens, hidden, l.ffn_in.dtype, pool);
    linear(l.ffn_in, l.ffn_in_b, act, n_tokens, mid.data(), pool);
    pool.parallel_for(static_cast<int64_t>(mid.size()), [&](int64_t i0, int64_t i1) {
      constexpr float kInvSqrt2 = 0.70710678118654752440f;
      for (int64_t i = i0; i < i1; ++i)
        mid[i] = 0.5f * mid[i] * (1.0f + std::erf(mid[i] * kInvSqrt2));
    });
    act.prepare(mid.data(), n_tokens, ffn, l.ffn_out.dtype, pool);
    linear(l.ffn_out, l.ffn_out_b, act, n_tokens, tmp.data(), pool);
    add_layer_norm(x.data(), tmp.data(), l.out_ln_w, l.out_ln_b, n_tokens, hidden, c.eps, pool);
  }

  // Pool and L2-normalise (x / max(|x|, 1e-12), as torch.nn.functional.normalize).
  pool.parallel_for(n_seq, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      float* o = out + s * hidden;
      const int64_t b = seq_offsets[s], len = seq_offsets[s + 1] - b;
      if (pooling == Pooling::kCls) {
        std::copy_n(x.data() + b * hidden, hidden, o);
      } else {
        std::fill(o, o + hidden, 0.0f);
        for (int64_t t = b; t < b + len; ++t) {
          const float* xr = x.data() + t * hidden;
          for (int32_t i = 0; i < hidden; ++i) o[i] += xr[i];
        }
        const float inv_len = 1.0f / static_cast<float>(len);
        for (int32_t i = 0; i < hidden; ++i) o[i] *= inv_len;
      }
      double norm2 = 0.0;
      for (int32_t i = 0; i < hidden; ++i) norm2 += static_cast<double>(o[i]) * o[i];
      const float inv = 1.0f / std::max(static_cast<float>(std::sqrt(norm2)), 1e-12f);
      for (int32_t i = 0; i < hidden; ++i) o[i] *= inv;
    }
  });
}

}  // namespace memlong
