// BertEncoder forward pass on a Backend; the math is in the header's legend.
#include "core/retriever/bert_encoder.h"

#include <algorithm>
#include <cmath>

#include "core/model/model_file.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

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

Result<WeightHandle> upload_matrix(Backend& b, const BertMatrix& m, const std::string& name) {
  TensorView t;
  t.name = name;
  t.dtype = m.dtype;
  t.n_dims = 2;
  t.ne = {m.n_cols, m.n_rows, 1, 1};
  t.data = m.data;
  t.n_bytes = static_cast<uint64_t>(m.row_bytes) * static_cast<uint64_t>(m.n_rows);
  return b.upload_weight(t);
}

Result<WeightHandle> upload_vector(Backend& b, const float* v, int64_t n, const std::string& name) {
  TensorView t;
  t.name = name;
  t.dtype = DType::kF32;
  t.n_dims = 1;
  t.ne = {n, 1, 1, 1};
  t.data = v;
  t.n_bytes = static_cast<uint64_t>(n) * sizeof(float);
  return b.upload_weight(t);
}

}  // namespace

Result<BertEncoder> BertEncoder::create(const BertConfig& c, const BertWeights& w,
                                        Backend& backend) {
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

  BertEncoder e(c, backend);
  Backend& b = backend;
  MEMLONG_ASSIGN_OR_RETURN(e.word_, upload_matrix(b, w.word, "word embeddings"));
  MEMLONG_ASSIGN_OR_RETURN(e.pos_, upload_matrix(b, w.pos, "position embeddings"));
  BertMatrix type0 = w.type;  // only row 0 is ever read
  type0.n_rows = 1;
  MEMLONG_ASSIGN_OR_RETURN(e.type_, upload_matrix(b, type0, "token type embeddings"));
  MEMLONG_ASSIGN_OR_RETURN(e.emb_ln_w_, upload_vector(b, w.emb_ln_w, h, "embedding norm weight"));
  MEMLONG_ASSIGN_OR_RETURN(e.emb_ln_b_, upload_vector(b, w.emb_ln_b, h, "embedding norm bias"));
  e.layers_.reserve(w.layers.size());
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const BertLayer& l = w.layers[i];
    const std::string p = "layer " + std::to_string(i) + " ";
    Layer& d = e.layers_.emplace_back();
    MEMLONG_ASSIGN_OR_RETURN(d.q, upload_matrix(b, l.q, p + "query"));
    MEMLONG_ASSIGN_OR_RETURN(d.k, upload_matrix(b, l.k, p + "key"));
    MEMLONG_ASSIGN_OR_RETURN(d.v, upload_matrix(b, l.v, p + "value"));
    MEMLONG_ASSIGN_OR_RETURN(d.attn_out, upload_matrix(b, l.attn_out, p + "attention output"));
    MEMLONG_ASSIGN_OR_RETURN(d.ffn_in, upload_matrix(b, l.ffn_in, p + "ffn in"));
    MEMLONG_ASSIGN_OR_RETURN(d.ffn_out, upload_matrix(b, l.ffn_out, p + "ffn out"));
    MEMLONG_ASSIGN_OR_RETURN(d.q_b, upload_vector(b, l.q_b, h, p + "query bias"));
    MEMLONG_ASSIGN_OR_RETURN(d.k_b, upload_vector(b, l.k_b, h, p + "key bias"));
    MEMLONG_ASSIGN_OR_RETURN(d.v_b, upload_vector(b, l.v_b, h, p + "value bias"));
    MEMLONG_ASSIGN_OR_RETURN(d.attn_out_b,
                             upload_vector(b, l.attn_out_b, h, p + "attention output bias"));
    MEMLONG_ASSIGN_OR_RETURN(d.ffn_in_b, upload_vector(b, l.ffn_in_b, f, p + "ffn in bias"));
    MEMLONG_ASSIGN_OR_RETURN(d.ffn_out_b, upload_vector(b, l.ffn_out_b, h, p + "ffn out bias"));
    MEMLONG_ASSIGN_OR_RETURN(d.attn_ln_w, upload_vector(b, l.attn_ln_w, h, p + "attention norm"));
    MEMLONG_ASSIGN_OR_RETURN(d.attn_ln_b,
                             upload_vector(b, l.attn_ln_b, h, p + "attention norm bias"));
    MEMLONG_ASSIGN_OR_RETURN(d.out_ln_w, upload_vector(b, l.out_ln_w, h, p + "output norm"));
    MEMLONG_ASSIGN_OR_RETURN(d.out_ln_b, upload_vector(b, l.out_ln_b, h, p + "output norm bias"));
  }
  MEMLONG_RETURN_IF_ERROR(b.synchronize());
  return e;
}

Status BertEncoder::reserve(int64_t n_tokens, int64_t n_seq) {
  Backend& b = *backend_;
  if (n_tokens > capacity_tokens_) {
    const size_t th = static_cast<size_t>(n_tokens) * config_.hidden * sizeof(float);
    for (DeviceBuffer* buf : {&x_, &q_, &k_, &v_, &ctx_, &tmp_}) {
      *buf = DeviceBuffer();  // free before allocating the larger one
      MEMLONG_ASSIGN_OR_RETURN(*buf, b.alloc(th));
    }
    mid_ = DeviceBuffer();
    MEMLONG_ASSIGN_OR_RETURN(mid_,
                             b.alloc(static_cast<size_t>(n_tokens) * config_.ffn * sizeof(float)));
    for (DeviceBuffer* buf : {&ids_, &positions_, &zeros_}) {
      *buf = DeviceBuffer();
      MEMLONG_ASSIGN_OR_RETURN(*buf, b.alloc(static_cast<size_t>(n_tokens) * sizeof(int32_t)));
    }
    // alloc() zeroes: zeros_ holds the token type ids (all 0) for good.
    capacity_tokens_ = n_tokens;
  }
  if (n_seq > capacity_seq_) {
    offsets_ = DeviceBuffer();
    pooled_ = DeviceBuffer();
    MEMLONG_ASSIGN_OR_RETURN(offsets_, b.alloc(static_cast<size_t>(n_seq + 1) * sizeof(int32_t)));
    MEMLONG_ASSIGN_OR_RETURN(pooled_,
                             b.alloc(static_cast<size_t>(n_seq) * config_.hidden * sizeof(float)));
    capacity_seq_ = n_seq;
  }
  return Status::ok();
}

Status BertEncoder::encode(std::span<const int32_t> ids, std::span<const int64_t> seq_offsets,
                           Pooling pooling, float* out) {
  const BertConfig& c = config_;
  Backend& b = *backend_;
  const int64_t n_tokens = static_cast<int64_t>(ids.size());
  const int64_t n_seq = static_cast<int64_t>(seq_offsets.size()) - 1;
  MEMLONG_ASSERT(n_seq >= 1 && seq_offsets[0] == 0 && seq_offsets[n_seq] == n_tokens);
  MEMLONG_ASSERT(n_tokens <= INT32_MAX / std::max(c.ffn, c.hidden));
  const int32_t hidden = c.hidden, head_dim = c.hidden / c.n_heads;
  const auto n = static_cast<int32_t>(n_tokens);
  std::vector<int32_t> position(static_cast<size_t>(n_tokens));
  std::vector<int32_t> offsets32(static_cast<size_t>(n_seq + 1));
  for (int64_t s = 0; s < n_seq; ++s) {
    const int64_t len = seq_offsets[s + 1] - seq_offsets[s];
    MEMLONG_ASSERT(len >= 1 && len <= max_tokens());
    for (int64_t i = 0; i < len; ++i)
      position[seq_offsets[s] + i] = c.position_offset + static_cast<int32_t>(i);
    offsets32[s + 1] = static_cast<int32_t>(seq_offsets[s + 1]);
  }
  for (int32_t id : ids) MEMLONG_ASSERT(id >= 0 && id < c.vocab);

  MEMLONG_RETURN_IF_ERROR(reserve(n_tokens, n_seq));
  b.copy_to_device(ids_.data(), ids.data(), ids.size_bytes());
  b.copy_to_device(positions_.data(), position.data(), position.size() * sizeof(int32_t));
  b.copy_to_device(offsets_.data(), offsets32.data(), offsets32.size() * sizeof(int32_t));
  float *x = x_.f32(), *q = q_.f32(), *k = k_.f32(), *v = v_.f32();
  float *ctx = ctx_.f32(), *tmp = tmp_.f32(), *mid = mid_.f32();
  const int64_t th = n_tokens * hidden;

  // Embeddings: x[t] = word[id] + pos[position] + type[0], then LayerNorm.
  b.get_rows(word_, ids_.i32(), n, x);
  b.get_rows(pos_, positions_.i32(), n, tmp);
  b.add(x, tmp, th);
  b.get_rows(type_, zeros_.i32(), n, tmp);
  b.add(x, tmp, th);
  b.layer_norm(x, nullptr, emb_ln_w_, emb_ln_b_, c.eps, n, hidden, x);

  Backend::EncoderAttentionParams ap;
  ap.seq_offsets = offsets_.i32();
  ap.n_seq = static_cast<int32_t>(n_seq);
  ap.n_rows = n;
  for (int64_t s = 0; s < n_seq; ++s)
    ap.max_seq_len =
        std::max(ap.max_seq_len, static_cast<int32_t>(seq_offsets[s + 1] - seq_offsets[s]));
  ap.n_head = c.n_heads;
  ap.head_dim = head_dim;
  ap.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  for (const Layer& l : layers_) {
    // q/k/v of one type share one activation conversion (and one launch for short batches on
    // CUDA); mixed types (Hugging Face files may mix F32 / F16 / BF16) go one at a time.
    const Backend::MatmulTarget qkv[] = {{&l.q, q, &l.q_b}, {&l.k, k, &l.k_b}, {&l.v, v, &l.v_b}};
    if (l.q.dtype == l.k.dtype && l.k.dtype == l.v.dtype) {
      b.matmul_multi(qkv, x, n);
    } else {
      for (const Backend::MatmulTarget& t : qkv) b.matmul(*t.w, x, n, t.y, t.bias);
    }
    b.encoder_attention(q, k, v, ap, ctx);
    b.matmul(l.attn_out, ctx, n, tmp, &l.attn_out_b);
    b.layer_norm(x, tmp, l.attn_ln_w, l.attn_ln_b, c.eps, n, hidden, x);
    b.matmul(l.ffn_in, x, n, mid, &l.ffn_in_b);
    b.gelu_erf(mid, n_tokens * c.ffn, mid);
    b.matmul(l.ffn_out, mid, n, tmp, &l.ffn_out_b);
    b.layer_norm(x, tmp, l.out_ln_w, l.out_ln_b, c.eps, n, hidden, x);
  }

  // Pool (mean over the sequence's tokens, specials included, or its first token) and
  // L2-normalise (x / max(|x|, 1e-12), as torch.nn.functional.normalize).
  b.pool_sequences(
      x, offsets_.i32(), static_cast<int32_t>(n_seq), hidden,
      pooling == Pooling::kCls ? Backend::SequencePooling::kFirst : Backend::SequencePooling::kMean,
      pooled_.f32());
  b.l2_normalize(pooled_.f32(), static_cast<int32_t>(n_seq), hidden);
  return b.copy_to_host(out, pooled_.data(), static_cast<size_t>(n_seq) * hidden * sizeof(float));
}

}  // namespace memlong
