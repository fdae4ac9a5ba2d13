#include "core/memory/reader.h"

#include <algorithm>
#include <cmath>

namespace memlong {

MemoryBankConfig memory_bank_config_for(const Engine& engine, const Embedder& embedder,
                                        const MemLongConfig& config) {
  MemoryBankConfig bc;
  bc.n_head_kv = engine.model().config().n_head_kv;
  bc.head_dim = engine.model().config().head_dim;
  bc.emb_dim = embedder.info().dim;
  bc.entry_tokens = config.entry_tokens;
  bc.capacity_tokens = config.capacity_tokens;
  bc.eviction = config.eviction;
  bc.dtype = config.mem_dtype;
  return bc;
}

double token_nll(std::span<const float> logits, int32_t target) {
  double mx = -INFINITY;
  for (float l : logits) mx = std::max(mx, static_cast<double>(l));
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - mx);
  return -(static_cast<double>(logits[static_cast<size_t>(target)]) - mx - std::log(sum));
}

Result<std::unique_ptr<MemLongReader>> MemLongReader::create(const Engine& engine,
                                                             Embedder& embedder, MemoryBank& bank,
                                                             const MemLongConfig& config) {
  const LlamaConfig& mc = engine.model().config();
  MEMLONG_RETURN_IF_ERROR(config.validate(mc.n_layer));
  const MemoryBankConfig& bc = bank.config();
  if (bc.n_head_kv != mc.n_head_kv || bc.head_dim != mc.head_dim) {
    return invalid_argument("memory bank holds K/V of " + std::to_string(bc.n_head_kv) + "x" +
                            std::to_string(bc.head_dim) + " but the model needs " +
                            std::to_string(mc.n_head_kv) + "x" + std::to_string(mc.head_dim));
  }
  if (bc.emb_dim != embedder.info().dim) {
    return invalid_argument("memory bank keys are " + std::to_string(bc.emb_dim) +
                            "-d but the retriever gives " + std::to_string(embedder.info().dim));
  }
  // One pass holds at most max(E, T) local tokens; in contiguous mode the k*E memory tokens sit
  // in the same position range, which must fit the model's native context.
  const int32_t local = std::max(config.entry_tokens, config.last_context);
  const int64_t mem_max = static_cast<int64_t>(config.top_k) * config.entry_tokens;
  if (config.position_mode == PositionMode::kContiguous && mc.n_ctx_train > 0 &&
      mem_max + local > mc.n_ctx_train) {
    return invalid_argument("contiguous positions need top_k*entry_tokens + last_context = " +
                            std::to_string(mem_max + local) + " <= the model's context of " +
                            std::to_string(mc.n_ctx_train));
  }
  auto r = std::unique_ptr<MemLongReader>(new MemLongReader(engine, embedder, bank, config));
  MEMLONG_ASSIGN_OR_RETURN(r->ctx_,
                           engine.new_context(local + kGenerationHeadroom, std::min(local, 512)));
  // On a GPU the bank's K/V are mirrored in device memory (retrievals gather on the device). The
  // results are the same bit for bit; when the pool cannot be made, the host path serves.
  if (engine.model().backend().name().rfind("cuda", 0) == 0) {
    const Status s = r->enable_device_pool();
    if (!s.is_ok()) r->pool_.reset();
  }
  return r;
}

Status MemLongReader::enable_device_pool(int64_t device_budget_bytes) {
  MEMLONG_ASSIGN_OR_RETURN(
      pool_, DeviceKVPool::create(engine_.model().backend(),
                                  DeviceKVPool::config_for(bank_.config(), device_budget_bytes)));
  return Status::ok();
}

Status MemLongReader::run_pass(std::span<const int32_t> ids, int64_t offset, bool is_tail,
                               const ReadCallOptions& options, int64_t score_from,
                               ReadCallResult* result, std::vector<float>* last_logits) {
  const Tokenizer& tok = engine_.tokenizer();
  const int32_t V = engine_.model().config().n_vocab;
  PassReport report;
  report.token_offset = offset;
  report.n_tokens = static_cast<int32_t>(ids.size());
  report.is_tail = is_tail;

  // 1-2. Query text = the pass's own text; retrieve top-k, never the pass's own token range.
  const std::string text = tok.decode(ids, /*skip_special=*/true);
  std::vector<float> mem_k, mem_v;
  std::vector<uint64_t> seqs;
  int64_t n_mem = 0;
  if (bank_.n_entries() > 0) {
    const std::string texts[1] = {text};
    MEMLONG_ASSIGN_OR_RETURN(std::vector<float> q, embedder_.embed(texts, EmbedKind::kQuery));
    ExcludeRange ex{options.doc_id, offset, offset + static_cast<int64_t>(ids.size())};
    report.retrieved = bank_.retrieve(q, config_.top_k, ex);
    for (const RetrievedEntry& e : report.retrieved) seqs.push_back(e.info.seq);
    if (pool_ != nullptr) {
      // Device bank: only the slot list travels; the gather runs on the backend (upload_memory).
      MEMLONG_RETURN_IF_ERROR(pool_->ensure(bank_, seqs));
      for (const RetrievedEntry& e : report.retrieved) n_mem += e.info.n_tokens;
    } else {
      MEMLONG_ASSIGN_OR_RETURN(n_mem, bank_.gather(seqs, &mem_k, &mem_v));
    }
  }

  // 3-5. Forward with memory at the retrieval layers; keep the memory layer's stash. The pass
  // runs as one causal block, evaluated in segments so that scoring never holds more than a
  // segment's logits ([kSegment, V] floats) at once.
  constexpr size_t kSegment = 256;
  MemoryAttention mem;
  mem.k = mem_k.data();
  mem.v = mem_v.data();
  mem.n_mem = static_cast<int32_t>(n_mem);
  mem.contiguous_positions = config_.position_mode == PositionMode::kContiguous;
  mem.retrieval_layers = config_.retrieval_layers;
  mem.memory_layer = config_.memory_layer;
  mem.block_id = ++block_counter_;  // one upload serves every segment of this pass
  const LlamaConfig& mc = engine_.model().config();
  const size_t kv_row = static_cast<size_t>(mc.n_head_kv) * static_cast<size_t>(mc.head_dim);
  const bool device_stash = pool_ != nullptr && options.write_memory;
  if (pool_ != nullptr) {
    mem.pool = pool_.get();
    mem.pool_seqs = seqs;
  }
  if (device_stash) {
    // The pass's stash also stays on the backend; written entries go to the pool from there.
    const size_t bytes = std::max<size_t>(ids.size() * kv_row * sizeof(float), 4);
    if (dstash_k_.size_bytes() < bytes) {
      Backend& be = engine_.model().backend();
      MEMLONG_ASSIGN_OR_RETURN(dstash_k_, be.alloc(bytes));
      MEMLONG_ASSIGN_OR_RETURN(dstash_v_, be.alloc(bytes));
    }
  }
  MemoryOutputs stash;
  // The last row predicts position offset + n: logits are needed once that reaches score_from.
  const bool want_logits =
      options.score_last > 0 && offset + static_cast<int64_t>(ids.size()) >= score_from;
  // A prefix pass whose outputs nobody reads only has to produce its stash (§2.2 shortcut).
  mem.memory_only = !want_logits && !is_tail && options.write_memory;
  ctx_->reset();
  for (size_t s0 = 0; s0 < ids.size(); s0 += kSegment) {
    const std::span<const int32_t> seg = ids.subspan(s0, std::min(kSegment, ids.size() - s0));
    MemoryOutputs part;
    if (device_stash) {
      mem.device_stash_k = dstash_k_.f32() + s0 * kv_row;
      mem.device_stash_v = dstash_v_.f32() + s0 * kv_row;
    }
    MEMLONG_ASSIGN_OR_RETURN(
        std::vector<float> logits,
        ctx_->eval(seg, /*all_logits=*/want_logits, mem, options.write_memory ? &part : nullptr));
    stash.stash_k.insert(stash.stash_k.end(), part.stash_k.begin(), part.stash_k.end());
    stash.stash_v.insert(stash.stash_v.end(), part.stash_v.begin(), part.stash_v.end());
    if (is_tail && s0 + seg.size() == ids.size()) {
      tail_logits_.assign(logits.end() - V, logits.end());
      tail_mem_k_ = mem_k;
      tail_mem_v_ = mem_v;
      tail_seqs_ = seqs;
      tail_n_mem_ = static_cast<int32_t>(n_mem);
      tail_block_id_ = mem.block_id;
    }
    if (!want_logits) continue;
    // The token at document position p is predicted by the logits at p - 1 (the previous
    // segment's or pass's last row for the first token here). The call's first token never is.
    for (size_t i = 0; i < seg.size(); ++i) {
      const int64_t pos = offset + static_cast<int64_t>(s0 + i);
      std::span<const float> row;
      if (i == 0) {
        row = *last_logits;
      } else {
        row = std::span<const float>(logits).subspan((i - 1) * static_cast<size_t>(V),
                                                     static_cast<size_t>(V));
      }
      if (pos >= score_from && pos != options.token_offset && !row.empty()) {
        result->nll_sum += token_nll(row, seg[i]);
        ++result->n_scored;
      }
    }
    last_logits->assign(logits.end() - V, logits.end());
  }
  if (!want_logits) last_logits->clear();

  // 6. Write: pieces of E tokens, each keyed by the embedding of its own decoded text.
  if (options.write_memory) {
    const LlamaConfig& c = engine_.model().config();
    const size_t row = static_cast<size_t>(c.n_head_kv) * c.head_dim;
    std::vector<std::string> piece_texts;
    std::vector<std::pair<size_t, size_t>> spans;
    for (size_t b = 0; b < ids.size(); b += static_cast<size_t>(config_.entry_tokens)) {
      const size_t e = std::min(ids.size(), b + static_cast<size_t>(config_.entry_tokens));
      spans.emplace_back(b, e);
      piece_texts.push_back(tok.decode(ids.subspan(b, e - b), /*skip_special=*/true));
    }
    MEMLONG_ASSIGN_OR_RETURN(std::vector<float> keys,
                             embedder_.embed(piece_texts, EmbedKind::kPassage));
    const auto D = static_cast<size_t>(embedder_.info().dim);
    for (size_t p = 0; p < spans.size(); ++p) {
      const auto [b, e] = spans[p];
      MemoryEntryInput in;
      in.doc_id = options.doc_id;
      in.token_offset = offset + static_cast<int64_t>(b);
      in.tokens.assign(ids.begin() + static_cast<std::ptrdiff_t>(b),
                       ids.begin() + static_cast<std::ptrdiff_t>(e));
      in.text = std::move(piece_texts[p]);
      in.embedding.assign(keys.begin() + static_cast<std::ptrdiff_t>(p * D),
                          keys.begin() + static_cast<std::ptrdiff_t>((p + 1) * D));
      in.k = std::span<const float>(stash.stash_k).subspan(b * row, (e - b) * row);
      in.v = std::span<const float>(stash.stash_v).subspan(b * row, (e - b) * row);
      MEMLONG_ASSIGN_OR_RETURN(uint64_t seq, bank_.append(in));
      report.written.push_back(seq);
      if (device_stash) {
        // From the stash still on the backend: no host -> device upload.
        if (pool_->free_tokens() < static_cast<int64_t>(e - b)) pool_->retain_only(bank_.entries());
        MEMLONG_RETURN_IF_ERROR(pool_->append_device(seq, dstash_k_.f32() + b * row,
                                                     dstash_v_.f32() + b * row,
                                                     static_cast<int32_t>(e - b)));
      }
    }
  }
  result->passes.push_back(std::move(report));
  return Status::ok();
}

Result<std::vector<int32_t>> MemLongReader::generate_greedy(int32_t max_tokens) {
  if (tail_logits_.empty()) return invalid_argument("generate_greedy needs a tail pass first");
  MemoryAttention mem;
  mem.k = tail_mem_k_.data();
  mem.v = tail_mem_v_.data();
  mem.n_mem = tail_n_mem_;
  mem.contiguous_positions = config_.position_mode == PositionMode::kContiguous;
  mem.retrieval_layers = config_.retrieval_layers;
  mem.block_id = tail_block_id_;  // still on the backend from the tail pass
  if (pool_ != nullptr) {
    mem.pool = pool_.get();
    mem.pool_seqs = tail_seqs_;
  }
  std::vector<int32_t> out;
  std::vector<float> logits = tail_logits_;
  const Tokenizer& tok = engine_.tokenizer();
  for (int32_t i = 0; i < max_tokens && ctx_->n_past() < ctx_->n_ctx(); ++i) {
    const auto id =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    if (tok.is_end_of_generation(id)) break;
    out.push_back(id);
    const int32_t next[1] = {id};
    MEMLONG_ASSIGN_OR_RETURN(logits, ctx_->eval(next, false, mem, nullptr));
  }
  return out;
}

Result<ReadCallResult> MemLongReader::read_call(
    std::span<const int32_t> tokens, const ReadCallOptions& options,
    const std::function<void(const PassReport&)>& on_pass, const CancelToken& cancel) {
  ReadCallResult result;
  const auto n = static_cast<int64_t>(tokens.size());
  const int64_t prefix = std::max<int64_t>(n - config_.last_context, 0);
  const int64_t score_from = options.score_last > 0 ? options.token_offset + n - options.score_last
                                                    : options.token_offset + n + 1;  // nothing
  std::vector<float> last_logits;
  for (int64_t b = 0; b < prefix; b += config_.entry_tokens) {
    if (cancel.is_cancelled()) return cancelled("reading cancelled");
    const int64_t e = std::min(prefix, b + config_.entry_tokens);
    MEMLONG_RETURN_IF_ERROR(
        run_pass(tokens.subspan(static_cast<size_t>(b), static_cast<size_t>(e - b)),
                 options.token_offset + b, false, options, score_from, &result, &last_logits));
    if (on_pass) on_pass(result.passes.back());
  }
  if (prefix < n) {
    if (cancel.is_cancelled()) return cancelled("reading cancelled");
    MEMLONG_RETURN_IF_ERROR(run_pass(tokens.subspan(static_cast<size_t>(prefix)),
                                     options.token_offset + prefix, true, options, score_from,
                                     &result, &last_logits));
    if (on_pass) on_pass(result.passes.back());
  }
  return result;
}

}  // namespace memlong
