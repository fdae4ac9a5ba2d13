#include "core/ingest/entry_encoder.h"

#include <chrono>

namespace memlong {

Result<std::unique_ptr<EntryEncoder>> EntryEncoder::create(const Engine& engine, Embedder& embedder,
                                                           const MemLongConfig& config) {
  const LlamaConfig& c = engine.model().config();
  MEMLONG_RETURN_IF_ERROR(config.validate(c.n_layer));
  std::unique_ptr<EntryEncoder> enc(new EntryEncoder(engine, embedder, config));
  MEMLONG_ASSIGN_OR_RETURN(enc->ctx_, engine.new_context(config.entry_tokens, config.entry_tokens));
  enc->row_ = static_cast<int64_t>(c.n_head_kv) * c.head_dim;
  return enc;
}

Result<std::vector<EncodedEntry>> EntryEncoder::encode(std::span<const Chunk> chunks,
                                                       const CancelToken& cancel) {
  std::vector<EncodedEntry> out(chunks.size());
  std::vector<std::string> texts;
  texts.reserve(chunks.size());
  MemoryAttention mem;
  mem.memory_layer = config_.memory_layer;
  mem.memory_only = true;  // no retrieval layer runs: n_mem = 0 and the pass stops at m
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (cancel.is_cancelled()) return cancelled();
    const Chunk& c = chunks[i];
    if (c.tokens.empty() || static_cast<int64_t>(c.tokens.size()) > config_.entry_tokens) {
      return invalid_argument("chunk " + std::to_string(c.ordinal) + " has " +
                              std::to_string(c.tokens.size()) + " tokens; expected 1.." +
                              std::to_string(config_.entry_tokens));
    }
    ctx_->reset();
    MemoryOutputs stash;
    MEMLONG_RETURN_IF_ERROR(ctx_->eval(c.tokens, false, mem, &stash).status());
    out[i].k = std::move(stash.stash_k);
    out[i].v = std::move(stash.stash_v);
    texts.push_back(c.text);
  }
  if (cancel.is_cancelled()) return cancelled();
  const auto t1 = Clock::now();
  MEMLONG_ASSIGN_OR_RETURN(std::vector<float> keys, embedder_.embed(texts, EmbedKind::kPassage));
  timing_.model_seconds += std::chrono::duration<double>(t1 - t0).count();
  timing_.retriever_seconds += std::chrono::duration<double>(Clock::now() - t1).count();
  for (const Chunk& c : chunks) timing_.tokens += static_cast<int64_t>(c.tokens.size());
  const auto D = static_cast<size_t>(embedder_.info().dim);
  for (size_t i = 0; i < chunks.size(); ++i) {
    out[i].embedding.assign(keys.begin() + static_cast<std::ptrdiff_t>(i * D),
                            keys.begin() + static_cast<std::ptrdiff_t>((i + 1) * D));
  }
  return out;
}

}  // namespace memlong
