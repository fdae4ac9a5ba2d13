#include "core/retriever/encoder_embedder.h"

#include <algorithm>
#include <numeric>

namespace memlong {

EncoderEmbedder::EncoderEmbedder(EmbedderInfo info, std::unique_ptr<ContentTokenizer> tokenizer,
                                 int32_t bos_id, int32_t eos_id, Pooling pooling,
                                 std::unique_ptr<Backend> backend, BertEncoder encoder,
                                 std::any storage)
    : info_(std::move(info)),
      tokenizer_(std::move(tokenizer)),
      bos_id_(bos_id),
      eos_id_(eos_id),
      pooling_(pooling),
      storage_(std::move(storage)),
      backend_(std::move(backend)),
      encoder_(std::move(encoder)) {
  MEMLONG_ASSERT(backend_ != nullptr && &encoder_.backend() == backend_.get());
  info_.backend = backend_->name();
  info_.dim = encoder_.config().hidden;
  info_.max_tokens = std::min(info_.max_tokens, encoder_.max_tokens());
  query_prefix_ids_ = tokenizer_->encode(info_.query_prefix);
  passage_prefix_ids_ = tokenizer_->encode(info_.passage_prefix);
}

std::vector<int32_t> EncoderEmbedder::token_ids(std::string_view text, EmbedKind kind) const {
  const std::vector<int32_t>& prefix =
      kind == EmbedKind::kQuery ? query_prefix_ids_ : passage_prefix_ids_;
  std::vector<int32_t> body = tokenizer_->encode(text);
  const size_t budget = static_cast<size_t>(std::max<int64_t>(
      0, static_cast<int64_t>(info_.max_tokens) - 2 - static_cast<int64_t>(prefix.size())));
  std::vector<int32_t> ids;
  ids.reserve(std::min(body.size(), budget) + prefix.size() + 2);
  ids.push_back(bos_id_);
  // A prefix longer than the window (never, for real prefixes) is cut to fit.
  const size_t n_prefix = std::min(prefix.size(), static_cast<size_t>(info_.max_tokens - 2));
  ids.insert(ids.end(), prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(n_prefix));
  if (body.size() > budget) {
    auto first =
        kind == EmbedKind::kQuery ? body.end() - static_cast<std::ptrdiff_t>(budget) : body.begin();
    ids.insert(ids.end(), first, first + static_cast<std::ptrdiff_t>(budget));
  } else {
    ids.insert(ids.end(), body.begin(), body.end());
  }
  ids.push_back(eos_id_);
  return ids;
}

Result<std::vector<float>> EncoderEmbedder::embed(std::span<const std::string> texts,
                                                  EmbedKind kind, const CancelToken& cancel) {
  const size_t n = texts.size();
  const size_t dim = static_cast<size_t>(info_.dim);
  std::vector<float> out(n * dim);
  if (n == 0) return out;
  std::vector<std::vector<int32_t>> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = token_ids(texts[i], kind);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });

  std::vector<int32_t> packed;
  std::vector<int64_t> offsets;
  std::vector<float> pooled;
  for (size_t begin = 0; begin < n;) {
    if (cancel.is_cancelled()) return cancelled("embedding cancelled");
    size_t end = begin;
    int64_t n_tokens = 0;
    while (end < n && (end == begin ||
                       n_tokens + static_cast<int64_t>(ids[order[end]].size()) <= kBatchTokens)) {
      n_tokens += static_cast<int64_t>(ids[order[end]].size());
      ++end;
    }
    packed.clear();
    offsets.assign(1, 0);
    for (size_t i = begin; i < end; ++i) {
      packed.insert(packed.end(), ids[order[i]].begin(), ids[order[i]].end());
      offsets.push_back(static_cast<int64_t>(packed.size()));
    }
    pooled.resize((end - begin) * dim);
    MEMLONG_RETURN_IF_ERROR(encoder_.encode(packed, offsets, pooling_, pooled.data()));
    for (size_t i = begin; i < end; ++i)
      std::copy_n(pooled.data() + (i - begin) * dim, dim, out.data() + order[i] * dim);
    begin = end;
  }
  return out;
}

}  // namespace memlong
