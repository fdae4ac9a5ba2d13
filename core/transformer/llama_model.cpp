// The LLaMA-family forward pass (embedding, pre-norm blocks with GQA self-attention and SwiGLU,
// final norm, LM head) as a sequence of Backend ops. Shapes are in storage order.
// Legend: n = tokens in the batch, d = n_embd, H / Hkv = heads, dh = head dim, f = n_ff,
// V = vocab, C = KV cache capacity.
#include "core/transformer/llama_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>

#include "core/memory/device_kv_pool.h"

namespace memlong {
namespace {

Result<WeightHandle> upload(Backend& backend, const ModelFile& file, const std::string& name,
                            bool required) {
  const TensorView* t = file.find(name);
  if (t == nullptr) {
    if (!required) return WeightHandle{};
    return corrupt(file.path + ": missing tensor '" + name + "'");
  }
  auto w = backend.upload_weight(*t);
  if (!w.is_ok()) return w.status().with_context(file.path);
  return w;
}

// Per-pair inverse frequencies ω_j = theta^(-2j/dh), with linear or Llama-3 scaling applied
// (Llama 3.1 "rope_scaling": low/high frequency factors around the original context).
std::vector<float> rope_inv_freq(const LlamaConfig& c) {
  const int32_t half = c.head_dim / 2;
  std::vector<float> f(static_cast<size_t>(half));
  for (int32_t j = 0; j < half; ++j) {
    double w = std::pow(static_cast<double>(c.rope_theta), -2.0 * j / c.head_dim);
    if (c.rope_scaling == RopeScaling::kLinear) {
      w /= c.rope_scale_factor;
    } else if (c.rope_scaling == RopeScaling::kLlama3) {
      const double orig = c.rope_orig_ctx > 0 ? c.rope_orig_ctx : 8192;
      const double low_wavelen = orig / c.rope_low_freq_factor;
      const double high_wavelen = orig / c.rope_high_freq_factor;
      const double wavelen = 2.0 * std::numbers::pi / w;
      if (wavelen > low_wavelen) {
        w /= c.rope_scale_factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (orig / wavelen - c.rope_low_freq_factor) /
                              (c.rope_high_freq_factor - c.rope_low_freq_factor);
        w = (1.0 - smooth) * w / c.rope_scale_factor + smooth * w;
      }
    }
    f[static_cast<size_t>(j)] = static_cast<float>(w);
  }
  return f;
}

// Distinguishes contexts in decode-step keys (an address could be reused by a later context).
std::atomic<uint64_t> g_next_context_id{1};

}  // namespace

Result<std::unique_ptr<LlamaModel>> LlamaModel::create(const ModelFile& file, Backend& backend) {
  MEMLONG_RETURN_IF_ERROR(file.config.validate().with_context(file.path));
  MEMLONG_RETURN_IF_ERROR(check_llama_tensors(file));
  auto m = std::unique_ptr<LlamaModel>(new LlamaModel());
  m->config_ = file.config;
  m->backend_ = &backend;
  MEMLONG_ASSIGN_OR_RETURN(m->token_embd_, upload(backend, file, "token_embd.weight", true));
  MEMLONG_ASSIGN_OR_RETURN(m->output_norm_, upload(backend, file, "output_norm.weight", true));
  if (file.find("output.weight") != nullptr) {
    MEMLONG_ASSIGN_OR_RETURN(m->output_, upload(backend, file, "output.weight", true));
  } else {
    MEMLONG_ASSIGN_OR_RETURN(m->output_, upload(backend, file, "token_embd.weight", true));
  }
  m->layers_.resize(static_cast<size_t>(m->config_.n_layer));
  for (int32_t l = 0; l < m->config_.n_layer; ++l) {
    Layer& L = m->layers_[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    MEMLONG_ASSIGN_OR_RETURN(L.attn_norm, upload(backend, file, p + "attn_norm.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.wq, upload(backend, file, p + "attn_q.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.wk, upload(backend, file, p + "attn_k.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.wv, upload(backend, file, p + "attn_v.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.wo, upload(backend, file, p + "attn_output.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.bq, upload(backend, file, p + "attn_q.bias", false));
    MEMLONG_ASSIGN_OR_RETURN(L.bk, upload(backend, file, p + "attn_k.bias", false));
    MEMLONG_ASSIGN_OR_RETURN(L.bv, upload(backend, file, p + "attn_v.bias", false));
    MEMLONG_ASSIGN_OR_RETURN(L.ffn_norm, upload(backend, file, p + "ffn_norm.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.w_gate, upload(backend, file, p + "ffn_gate.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.w_up, upload(backend, file, p + "ffn_up.weight", true));
    MEMLONG_ASSIGN_OR_RETURN(L.w_down, upload(backend, file, p + "ffn_down.weight", true));
  }
  const std::vector<float> inv_freq = rope_inv_freq(m->config_);
  MEMLONG_ASSIGN_OR_RETURN(m->rope_inv_freq_, backend.alloc(inv_freq.size() * sizeof(float)));
  backend.copy_to_device(m->rope_inv_freq_.data(), inv_freq.data(),
                         inv_freq.size() * sizeof(float));
  MEMLONG_RETURN_IF_ERROR(backend.synchronize());
  return m;
}

RopeParams LlamaModel::rope_params() const {
  RopeParams p;
  p.head_dim = config_.head_dim;
  p.n_rot = config_.head_dim;
  p.theta = config_.rope_theta;
  p.interleaved = config_.rope_layout == RopeLayout::kInterleaved;
  p.inv_freq = rope_inv_freq_.f32();
  return p;
}

Result<std::unique_ptr<InferenceContext>> InferenceContext::create(const LlamaModel& model,
                                                                   int32_t n_ctx,
                                                                   int32_t max_batch) {
  const LlamaConfig& c = model.config();
  if (n_ctx <= 0) n_ctx = c.n_ctx_train > 0 ? c.n_ctx_train : 4096;
  if (n_ctx > (1 << 22))
    return invalid_argument("context of " + std::to_string(n_ctx) + " tokens is too large");
  if (max_batch <= 0) max_batch = 512;
  max_batch = std::min(max_batch, n_ctx);
  auto ctx = std::unique_ptr<InferenceContext>(new InferenceContext());
  ctx->model_ = &model;
  ctx->backend_ = &model.backend();
  ctx->n_ctx_ = n_ctx;
  ctx->max_batch_ = max_batch;
  Backend& b = *ctx->backend_;
  const size_t kv_dim = static_cast<size_t>(c.n_head_kv) * c.head_dim;
  const size_t q_dim = static_cast<size_t>(c.n_head) * c.head_dim;
  const size_t nb = static_cast<size_t>(max_batch);
  for (int32_t l = 0; l < c.n_layer; ++l) {
    MEMLONG_ASSIGN_OR_RETURN(DeviceBuffer k, b.alloc(static_cast<size_t>(n_ctx) * kv_dim * 4));
    MEMLONG_ASSIGN_OR_RETURN(DeviceBuffer v, b.alloc(static_cast<size_t>(n_ctx) * kv_dim * 4));
    ctx->k_cache_.push_back(std::move(k));
    ctx->v_cache_.push_back(std::move(v));
  }
  const size_t d = static_cast<size_t>(c.n_embd);
  MEMLONG_ASSIGN_OR_RETURN(ctx->x_, b.alloc(nb * d * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->xn_, b.alloc(nb * std::max(d, q_dim) * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->q_, b.alloc(nb * q_dim * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->k_, b.alloc(nb * kv_dim * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->v_, b.alloc(nb * kv_dim * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->attn_, b.alloc(nb * q_dim * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->gate_, b.alloc(nb * static_cast<size_t>(c.n_ff) * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->up_, b.alloc(nb * static_cast<size_t>(c.n_ff) * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->tokens_, b.alloc(nb * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->positions_, b.alloc(nb * 4));
  // Decode step (issue 7): its inputs, the stash of its one token, the logits row it writes.
  ctx->context_id_ = g_next_context_id.fetch_add(1);
  MEMLONG_ASSIGN_OR_RETURN(ctx->step_in_, b.alloc(4 * sizeof(int32_t)));
  MEMLONG_ASSIGN_OR_RETURN(ctx->stash_k_, b.alloc(kv_dim * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->stash_v_, b.alloc(kv_dim * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->logits_, b.alloc(static_cast<size_t>(c.n_vocab) * 4));
  MEMLONG_ASSIGN_OR_RETURN(ctx->sampled_id_, b.alloc(sizeof(int32_t)));
  return ctx;
}

void InferenceContext::truncate(int32_t n) {
  MEMLONG_ASSERT(n >= 0 && n <= n_past_);
  n_past_ = n;
}

Result<std::vector<float>> InferenceContext::eval(std::span<const int32_t> tokens,
                                                  bool all_logits) {
  return eval(tokens, all_logits, MemoryAttention{}, nullptr);
}

Status InferenceContext::eval_no_readback(std::span<const int32_t> tokens) {
  read_back_logits_ = false;
  auto r = eval(tokens, false, MemoryAttention{}, nullptr);
  read_back_logits_ = true;
  return r.status();
}

Result<int32_t> InferenceContext::sample_last(const SampleArgs& args,
                                              std::span<const int32_t> penalty_ids) {
  if (logits_rows_ < 1) return invalid_argument("sample_last: no logits from a previous eval");
  Backend& b = *backend_;
  SampleArgs a = args;
  a.penalty_ids = nullptr;
  a.n_penalty_ids = 0;
  if (a.repetition_penalty != 1.0f && !penalty_ids.empty()) {
    const size_t bytes = penalty_ids.size() * sizeof(int32_t);
    if (penalty_ids_.size_bytes() < bytes) {
      MEMLONG_ASSIGN_OR_RETURN(penalty_ids_, b.alloc(std::max<size_t>(bytes, 256)));
    }
    b.copy_to_device(penalty_ids_.data(), penalty_ids.data(), bytes);
    a.penalty_ids = penalty_ids_.i32();
    a.n_penalty_ids = static_cast<int32_t>(penalty_ids.size());
  }
  const int32_t n_vocab = model_->config().n_vocab;
  float* row = logits_.f32() + static_cast<int64_t>(logits_rows_ - 1) * n_vocab;
  b.sample(row, n_vocab, a, sampled_id_.i32());
  int32_t id = -1;
  MEMLONG_RETURN_IF_ERROR(b.copy_to_host(&id, sampled_id_.data(), sizeof id));
  logits_rows_ = 0;  // penalised in place: not sampled twice
  if (id < 0 || id >= n_vocab) return internal_error("sample: id " + std::to_string(id));
  return id;
}

Status InferenceContext::upload_memory(const MemoryAttention& mem) {
  const LlamaConfig& c = model_->config();
  Backend& b = *backend_;
  if (mem.block_id != 0 && mem.block_id == mem_block_id_ && mem.n_mem == n_mem_ &&
      mem.contiguous_positions == mem_contiguous_) {
    return Status::ok();  // the same block as the previous call: already on the backend
  }
  n_mem_ = mem.n_mem;
  mem_block_id_ = 0;
  mem_contiguous_ = mem.contiguous_positions;
  if (mem.n_mem <= 0) return Status::ok();
  if (mem.pool == nullptr && (mem.k == nullptr || mem.v == nullptr)) {
    return invalid_argument("memory K/V missing");
  }
  const size_t row = static_cast<size_t>(c.n_head_kv) * static_cast<size_t>(c.head_dim);
  const size_t bytes = static_cast<size_t>(mem.n_mem) * row * sizeof(float);
  if (mem_k_.size_bytes() < bytes) {
    MEMLONG_ASSIGN_OR_RETURN(mem_k_, b.alloc(bytes));
    MEMLONG_ASSIGN_OR_RETURN(mem_v_, b.alloc(bytes));
    MEMLONG_ASSIGN_OR_RETURN(mem_positions_, b.alloc(static_cast<size_t>(mem.n_mem) * 4));
  }
  if (mem.pool != nullptr) {
    // Device memory bank: a gather on the backend, no host -> device K/V upload.
    MEMLONG_ASSIGN_OR_RETURN(
        int64_t m, mem.pool->gather(mem.pool_seqs, mem_k_.f32(), mem_v_.f32(), mem.n_mem));
    if (m != mem.n_mem) {
      return invalid_argument("memory pool entries hold " + std::to_string(m) +
                              " tokens, n_mem is " + std::to_string(mem.n_mem));
    }
  } else {
    b.copy_to_device(mem_k_.data(), mem.k, bytes);
    b.copy_to_device(mem_v_.data(), mem.v, bytes);
  }
  if (mem.contiguous_positions) {
    // Memory token t sits at position t, right before the local window (MEMLONG.md §5.3); the
    // stored keys are pre-RoPE, so rotate the backend copy once per call, never the bank's.
    std::vector<int32_t> pos(static_cast<size_t>(mem.n_mem));
    for (int32_t t = 0; t < mem.n_mem; ++t) pos[static_cast<size_t>(t)] = t;
    b.copy_to_device(mem_positions_.data(), pos.data(), pos.size() * 4);
    b.rope(mem_k_.f32(), mem.n_mem, c.n_head_kv, mem_positions_.i32(), model_->rope_params());
  }
  mem_block_id_ = mem.block_id;
  return Status::ok();
}

Result<std::vector<float>> InferenceContext::eval(std::span<const int32_t> tokens, bool all_logits,
                                                  const MemoryAttention& mem,
                                                  MemoryOutputs* mem_out) {
  const LlamaConfig& c = model_->config();
  if (tokens.empty()) return invalid_argument("eval needs at least one token");
  if (static_cast<int64_t>(n_past_) + static_cast<int64_t>(tokens.size()) > n_ctx_) {
    return invalid_argument("context is full: " + std::to_string(n_past_) + " + " +
                            std::to_string(tokens.size()) + " tokens exceed the " +
                            std::to_string(n_ctx_) + "-token context");
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= c.n_vocab) {
      return invalid_argument("token id " + std::to_string(id) + " is outside the vocabulary of " +
                              std::to_string(c.n_vocab));
    }
  }
  if (mem.memory_layer >= c.n_layer) return invalid_argument("memory layer out of range");
  for (int32_t l : mem.retrieval_layers) {
    if (l < 0 || l >= c.n_layer) return invalid_argument("retrieval layer out of range");
  }
  MEMLONG_RETURN_IF_ERROR(upload_memory(mem));
  if (mem_out != nullptr) {
    const size_t n_vals = tokens.size() * static_cast<size_t>(c.n_head_kv) * c.head_dim;
    mem_out->stash_k.assign(n_vals, 0.0f);
    mem_out->stash_v.assign(n_vals, 0.0f);
  }
  const bool want_token_mass = mem.want_token_mass && mem_out != nullptr && n_mem_ > 0;
  if (mem_out != nullptr) mem_out->mem_token_mass.clear();
  if (want_token_mass) {
    const size_t bytes = static_cast<size_t>(n_mem_) * sizeof(float);
    if (mem_token_mass_.size_bytes() < bytes) {
      MEMLONG_ASSIGN_OR_RETURN(mem_token_mass_, backend_->alloc(bytes));
    }
    const std::vector<float> zeros(static_cast<size_t>(n_mem_), 0.0f);
    backend_->copy_to_device(mem_token_mass_.data(), zeros.data(), bytes);
  }
  const int32_t first_pos = n_past_;
  stash_base_ = n_past_;
  std::vector<float> logits;
  logits.reserve(static_cast<size_t>(all_logits ? tokens.size() : 1) *
                 static_cast<size_t>(c.n_vocab));
  for (size_t off = 0; off < tokens.size(); off += static_cast<size_t>(max_batch_)) {
    const size_t len = std::min(tokens.size() - off, static_cast<size_t>(max_batch_));
    const bool is_last = off + len == tokens.size();
    MEMLONG_RETURN_IF_ERROR(eval_batch(tokens.subspan(off, len), all_logits || is_last, all_logits,
                                       &logits, &mem, mem_out));
  }
  (void)first_pos;
  if (want_token_mass) {
    mem_out->mem_token_mass.resize(static_cast<size_t>(n_mem_));
    MEMLONG_RETURN_IF_ERROR(backend_->copy_to_host(mem_out->mem_token_mass.data(),
                                                   mem_token_mass_.data(),
                                                   static_cast<size_t>(n_mem_) * sizeof(float)));
  }
  return logits;
}

namespace {

// FNV-1a over the words that make two decode steps the same op sequence.
uint64_t mix(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

Status InferenceContext::eval_batch(std::span<const int32_t> tokens, bool want_logits,
                                    bool all_rows, std::vector<float>* out,
                                    const MemoryAttention* mem, MemoryOutputs* mem_out) {
  const LlamaConfig& c = model_->config();
  Backend& b = *backend_;
  const auto n = static_cast<int32_t>(tokens.size());
  const int32_t d = c.n_embd, H = c.n_head, Hkv = c.n_head_kv, dh = c.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(Hkv) * dh;
  const size_t v_count = static_cast<size_t>(c.n_vocab);

  // Local RoPE positions (MEMLONG.md §5.3): zero mode numbers the call's window from 1 (memory
  // sits at 0); contiguous mode puts the window right after the n_mem memory tokens. Without
  // memory both are plain positions up to an offset, which RoPE's relative form ignores.
  const bool has_mem = mem != nullptr && n_mem_ > 0;
  const int32_t pos_offset =
      mem == nullptr ? 0 : (mem->contiguous_positions ? n_mem_ : (has_mem ? 1 : 0));
  const bool want_stash = mem_out != nullptr && mem != nullptr && mem->memory_layer >= 0;
  const bool want_token_mass =
      has_mem && mem->want_token_mass && mem_out != nullptr && !mem_token_mass_.empty();
  auto is_retrieval_layer = [&](int32_t l) {
    return has_mem && std::find(mem->retrieval_layers.begin(), mem->retrieval_layers.end(), l) !=
                          mem->retrieval_layers.end();
  };

  // The decode step (issue 7): one token whose varying inputs (token, position, cache row, keys
  // visible) live in step_in_ on the backend, so the op sequence below is the same for every step
  // of one key and the backend may record and replay it (a CUDA graph).
  const bool is_step = n == 1 && capturable_decode_ && want_logits &&
                       !(mem != nullptr && mem->memory_only) && !step_in_.empty();
  const int32_t n_rows = want_logits ? (all_rows ? n : 1) : 0;
  if (want_logits && logits_.size_bytes() < static_cast<size_t>(n_rows) * v_count * 4) {
    MEMLONG_ASSIGN_OR_RETURN(logits_, b.alloc(static_cast<size_t>(n_rows) * v_count * 4));
  }
  const int32_t* ids_dev = tokens_.i32();
  const int32_t* pos_dev = positions_.i32();
  int32_t step_in[4] = {0, 0, 0, 0};
  uint64_t key = 0;
  if (is_step) {
    step_in[0] = tokens[0];
    step_in[1] = pos_offset + n_past_;
    step_in[2] = n_past_;      // cache row written, and the query's position in the cache
    step_in[3] = n_past_ + 1;  // keys visible
    ids_dev = step_in_.i32();
    pos_dev = step_in_.i32() + 1;
    key = 1469598103934665603ull;
    key = mix(key, context_id_);
    key = mix(key, static_cast<uint64_t>(n_mem_) * 2 + (has_mem ? 1 : 0));
    key = mix(key, reinterpret_cast<uintptr_t>(mem_k_.data()));
    key = mix(key, reinterpret_cast<uintptr_t>(mem_v_.data()));
    key = mix(key, reinterpret_cast<uintptr_t>(logits_.data()));
    key = mix(key, want_stash ? static_cast<uint64_t>(mem->memory_layer) + 1 : 0);
    key = mix(key, want_token_mass ? reinterpret_cast<uintptr_t>(mem_token_mass_.data()) : 0);
    for (int32_t l = 0; l < c.n_layer; ++l) {
      if (is_retrieval_layer(l)) key = mix(key, static_cast<uint64_t>(l) + 1);
    }
    if (key == 0) key = 1;
  } else {
    std::vector<int32_t> pos(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = pos_offset + n_past_ + i;
    b.copy_to_device(tokens_.data(), tokens.data(), static_cast<size_t>(n) * 4);
    b.copy_to_device(positions_.data(), pos.data(), static_cast<size_t>(n) * 4);
  }

  float* x = x_.f32();        // [n, d] residual stream
  float* xn = xn_.f32();      // [n, d] normed input / projection output
  float* q = q_.f32();        // [n, H, dh]
  float* k = k_.f32();        // [n, Hkv, dh]
  float* v = v_.f32();        // [n, Hkv, dh]
  float* attn = attn_.f32();  // [n, H, dh]
  float* gate = gate_.f32();  // [n, f]
  float* up = up_.f32();      // [n, f]
  const RopeParams rope = model_->rope_params();

  AttentionParams ap;
  ap.n_head = H;
  ap.n_head_kv = Hkv;
  ap.head_dim = dh;
  ap.scale = 1.0f / std::sqrt(static_cast<float>(dh));
  ap.n_query = n;
  if (is_step) {
    ap.q_pos0_dev = step_in_.i32() + 2;
    ap.n_kv_dev = step_in_.i32() + 3;
    ap.n_kv = n_ctx_;  // capacity
  } else {
    ap.q_pos0 = n_past_;
    ap.n_kv = n_past_ + n;
  }

  // The op sequence. Returns true when it stopped after the memory layer (memory_only).
  auto enqueue = [&]() -> Result<bool> {
    b.get_rows(model_->token_embd(), ids_dev, n, x);
    for (int32_t l = 0; l < c.n_layer; ++l) {
      const LlamaModel::Layer& L = model_->layers()[static_cast<size_t>(l)];
      b.rms_norm(x, L.attn_norm, c.rms_eps, n, d, xn);
      const Backend::MatmulTarget qkv[3] = {
          {&L.wq, q, &L.bq}, {&L.wk, k, &L.bk}, {&L.wv, v, &L.bv}};
      b.matmul_multi(qkv, xn, n);
      if (want_stash && l == mem->memory_layer) {
        // The stash: memory-layer K/V after the input norm, before RoPE (MEMLONG.md §2.2 step 4).
        const size_t bytes = static_cast<size_t>(n * kv_dim) * 4;
        if (is_step) {  // device copies inside the step, read back after it
          b.copy(stash_k_.data(), k, bytes);
          b.copy(stash_v_.data(), v, bytes);
        } else {
          const size_t at =
              static_cast<size_t>(n_past_ - stash_base_) * static_cast<size_t>(kv_dim);
          MEMLONG_RETURN_IF_ERROR(b.copy_to_host(mem_out->stash_k.data() + at, k, bytes));
          MEMLONG_RETURN_IF_ERROR(b.copy_to_host(mem_out->stash_v.data() + at, v, bytes));
          if (mem->device_stash_k != nullptr && mem->device_stash_v != nullptr) {
            // The same rows kept on the backend (DeviceKVPool::append_device, no upload).
            b.copy(mem->device_stash_k + at, k, bytes);
            b.copy(mem->device_stash_v + at, v, bytes);
          }
          // Ingestion shortcut (§2.2, exact): the stash depends only on layers 0..m-1 and layer
          // m's norm and K/V projections, so a pass that only writes memory stops here.
          if (mem->memory_only) return true;
        }
      }
      b.rope(q, n, H, pos_dev, rope);
      b.rope(k, n, Hkv, pos_dev, rope);
      float* kc = k_cache_[static_cast<size_t>(l)].f32();
      float* vc = v_cache_[static_cast<size_t>(l)].f32();
      if (is_step) {
        const size_t row_bytes = static_cast<size_t>(kv_dim) * 4;
        b.copy_rows_at(kc, k, step_in_.i32() + 2, 1, row_bytes, n_ctx_);
        b.copy_rows_at(vc, v, step_in_.i32() + 2, 1, row_bytes, n_ctx_);
      } else {
        b.copy(kc + n_past_ * kv_dim, k, static_cast<size_t>(n * kv_dim) * 4);
        b.copy(vc + n_past_ * kv_dim, v, static_cast<size_t>(n * kv_dim) * 4);
      }
      if (is_retrieval_layer(l)) {
        AttentionParams apm = ap;
        apm.mem_k = mem_k_.f32();
        apm.mem_v = mem_v_.f32();
        apm.n_mem = n_mem_;
        if (want_token_mass) apm.mem_token_mass = mem_token_mass_.f32();
        b.attention(q, kc, vc, apm, attn);
      } else {
        b.attention(q, kc, vc, ap, attn);
      }
      b.matmul(L.wo, attn, n, xn);
      b.add(x, xn, static_cast<int64_t>(n) * d);

      b.rms_norm(x, L.ffn_norm, c.rms_eps, n, d, xn);
      const Backend::MatmulTarget gate_up[2] = {{&L.w_gate, gate, nullptr}, {&L.w_up, up, nullptr}};
      b.matmul_multi(gate_up, xn, n);
      b.swiglu(gate, up, static_cast<int64_t>(n) * c.n_ff, gate);
      b.matmul(L.w_down, gate, n, xn);
      b.add(x, xn, static_cast<int64_t>(n) * d);
    }
    if (want_logits) {
      // Only the rows whose logits are wanted go through the final norm and the LM head.
      const float* src = x + static_cast<int64_t>(n - n_rows) * d;
      b.rms_norm(src, model_->output_norm(), c.rms_eps, n_rows, d, xn);
      b.matmul(model_->output(), xn, n_rows, logits_.f32());
    }
    return false;
  };

  if (is_step) {
    // Twice at most: a step whose recording failed is issued again as plain launches.
    bool done = false;
    for (int attempt = 0; attempt < 2 && !done; ++attempt) {
      if (b.begin_decode_step(key) == DecodeStepMode::kRun) {
        b.stage_step_inputs(step_in_.data(), step_in, sizeof step_in);
        MEMLONG_RETURN_IF_ERROR(enqueue().status());
      } else {
        b.stage_step_inputs(step_in_.data(), step_in, sizeof step_in);
      }
      done = b.end_decode_step();
    }
    if (!done)
      return internal_error("decode step could not be executed: " + b.decode_graph_status());
    if (want_stash) {
      const size_t bytes = static_cast<size_t>(kv_dim) * 4;
      const size_t at = static_cast<size_t>(n_past_ - stash_base_) * static_cast<size_t>(kv_dim);
      MEMLONG_RETURN_IF_ERROR(b.copy_to_host(mem_out->stash_k.data() + at, stash_k_.data(), bytes));
      MEMLONG_RETURN_IF_ERROR(b.copy_to_host(mem_out->stash_v.data() + at, stash_v_.data(), bytes));
      if (mem->device_stash_k != nullptr && mem->device_stash_v != nullptr) {
        // Outside the step: the destination row changes every step.
        b.copy(mem->device_stash_k + at, stash_k_.data(), bytes);
        b.copy(mem->device_stash_v + at, stash_v_.data(), bytes);
      }
    }
  } else {
    MEMLONG_ASSIGN_OR_RETURN(const bool stopped, enqueue());
    if (stopped) {
      n_past_ += n;
      return b.synchronize();
    }
  }
  n_past_ += n;
  logits_rows_ = n_rows;
  if (want_logits && out != nullptr && read_back_logits_) {
    const size_t old = out->size();
    out->resize(old + static_cast<size_t>(n_rows) * v_count);
    MEMLONG_RETURN_IF_ERROR(b.copy_to_host(out->data() + old, logits_.data(),
                                           static_cast<size_t>(n_rows) * v_count * 4));
  }
  return b.synchronize();
}

}  // namespace memlong
