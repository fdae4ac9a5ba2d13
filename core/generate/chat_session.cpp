#include "core/generate/chat_session.h"

#include <algorithm>

namespace memlong {

ChatSession::ChatSession(InferenceContext& ctx, const Tokenizer& tokenizer, ChatTemplate tmpl,
                         std::string system_prompt)
    : ctx_(ctx), tokenizer_(tokenizer), tmpl_(std::move(tmpl)) {
  if (!system_prompt.empty()) messages_.push_back({"system", std::move(system_prompt)});
  ctx_.reset();
}

void ChatSession::clear() {
  std::vector<ChatMessage> keep;
  if (!messages_.empty() && messages_.front().role == "system") keep.push_back(messages_.front());
  messages_ = std::move(keep);
  cached_.clear();
  ctx_.reset();
}

std::vector<int32_t> ChatSession::render_tokens(bool add_generation_prompt) const {
  const std::string text = apply_chat_template(tmpl_, messages_, add_generation_prompt);
  return tokenizer_.encode(text, /*add_bos=*/true, /*parse_special=*/true);
}

Result<GenerateResult> ChatSession::send(const std::string& user_text,
                                         const GenerateOptions& options,
                                         const TextCallback& on_text, const CancelToken& cancel) {
  messages_.push_back({"user", user_text});
  std::vector<int32_t> tokens = render_tokens(true);
  // Drop the oldest exchanges until the prompt plus the reply budget fits.
  const size_t first_turn = (!messages_.empty() && messages_.front().role == "system") ? 1 : 0;
  while (static_cast<int64_t>(tokens.size()) + options.max_tokens >= ctx_.n_ctx() &&
         messages_.size() > first_turn + 1) {
    messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(first_turn));
    tokens = render_tokens(true);
  }
  if (static_cast<int64_t>(tokens.size()) >= ctx_.n_ctx()) {
    messages_.pop_back();
    return invalid_argument("the message is too long for the model's context of " +
                            std::to_string(ctx_.n_ctx()) + " tokens");
  }
  // Reuse the cached prefix; at least one token must be evaluated to get logits.
  size_t common = 0;
  while (common < cached_.size() && common < tokens.size() && cached_[common] == tokens[common]) {
    ++common;
  }
  common = std::min(common, tokens.size() - 1);
  ctx_.truncate(static_cast<int32_t>(common));
  cached_.resize(common);

  GenerateOptions opts = options;
  for (const std::string& s : tmpl_.stop_strings) {
    if (std::find(opts.stop_strings.begin(), opts.stop_strings.end(), s) ==
        opts.stop_strings.end()) {
      opts.stop_strings.push_back(s);
    }
  }
  std::vector<int32_t> history = cached_;
  auto r = generate(ctx_, tokenizer_, std::span<const int32_t>(tokens).subspan(common), opts,
                    on_text, cancel, &history);
  if (!r.is_ok()) {
    messages_.pop_back();
    ctx_.reset();
    cached_.clear();
    return r.status();
  }
  // The context now holds the prompt and the generated tokens except the last one sampled (it
  // was never evaluated); keep cached_ in step with ctx_.
  history.resize(static_cast<size_t>(ctx_.n_past()));
  cached_ = std::move(history);
  messages_.push_back({"assistant", r->text});
  return r;
}

}  // namespace memlong
