#include "core/generate/generator.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Bytes at the end of `text` that could still grow into one of the stop strings.
size_t stop_holdback(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops) {
    for (size_t len = std::min(s.size() - 1, text.size()); len > hold; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kEndOfGeneration:
      return "end of generation";
    case StopReason::kStopString:
      return "stop string";
    case StopReason::kMaxTokens:
      return "token limit";
    case StopReason::kContextFull:
      return "context full";
    case StopReason::kCancelled:
      return "cancelled";
    case StopReason::kCallback:
      return "stopped by caller";
  }
  return "?";
}

size_t complete_utf8_prefix(std::string_view bytes) {
  // Look at most 3 bytes back for the start of an unfinished multi-byte sequence.
  const size_t n = bytes.size();
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const auto c = static_cast<unsigned char>(bytes[n - back]);
    if ((c & 0xc0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = 1;
    if ((c & 0xe0) == 0xc0)
      need = 2;
    else if ((c & 0xf0) == 0xe0)
      need = 3;
    else if ((c & 0xf8) == 0xf0)
      need = 4;
    return need > back ? n - back : n;
  }
  return n;
}

Result<GenerateResult> generate(InferenceContext& ctx, const Tokenizer& tokenizer,
                                std::span<const int32_t> prompt, const GenerateOptions& options,
                                const TextCallback& on_text, const CancelToken& cancel,
                                std::vector<int32_t>* history) {
  GenerateResult result;
  if (prompt.empty()) return invalid_argument("the prompt is empty");
  if (ctx.n_past() + static_cast<int64_t>(prompt.size()) >= ctx.n_ctx()) {
    return invalid_argument("the prompt (" + std::to_string(prompt.size()) +
                            " tokens) does not fit in the context of " +
                            std::to_string(ctx.n_ctx()) + " tokens (" +
                            std::to_string(ctx.n_past()) + " already used)");
  }
  std::vector<int32_t> local_history;
  std::vector<int32_t>& hist = history != nullptr ? *history : local_history;

  Sampler sampler(options.sampling);
  // Device sampling (issue 7): when the backend picks tokens itself (a GPU), only the chosen id
  // comes back instead of V logits. Same semantics and the same RNG stream as the Sampler: one
  // uniform per non-greedy draw from mt19937_64(seed) (core/generate/sample_select.h).
  const SamplingParams& sp = options.sampling;
  SampleArgs device_args;
  device_args.temperature = sp.temperature;
  device_args.top_k = sp.top_k;
  device_args.top_p = sp.top_p;
  device_args.min_p = sp.min_p;
  device_args.repetition_penalty = sp.repetition_penalty;
  const bool on_device = ctx.model().backend().samples_on_device(device_args);
  std::mt19937_64 device_rng(sp.seed);
  const int32_t n_vocab = ctx.model().config().n_vocab;
  std::vector<float> logits;
  auto evaluate = [&](std::span<const int32_t> toks) -> Status {
    if (on_device) return ctx.eval_no_readback(toks);
    MEMLONG_ASSIGN_OR_RETURN(logits, ctx.eval(toks, false));
    return Status::ok();
  };
  auto pick = [&]() -> Result<int32_t> {
    if (!on_device) return sampler.sample(logits, hist);
    SampleArgs a = device_args;
    if (sp.temperature > 0.0f)
      a.uniform = std::uniform_real_distribution<double>(0.0, 1.0)(device_rng);
    return ctx.sample_last(a, repetition_penalty_ids(sp, hist, n_vocab));
  };
  const auto t_prompt = Clock::now();
  MEMLONG_RETURN_IF_ERROR(evaluate(prompt));
  result.prompt_ms = ms_since(t_prompt);
  result.n_prompt_tokens = static_cast<int32_t>(prompt.size());
  hist.insert(hist.end(), prompt.begin(), prompt.end());

  std::string pending;  // decoded bytes not yet handed to the callback
  const auto t_gen = Clock::now();
  auto flush = [&](size_t n_bytes) -> bool {
    if (n_bytes == 0) return true;
    const std::string piece = pending.substr(0, n_bytes);
    pending.erase(0, n_bytes);
    result.text += piece;
    return on_text ? on_text(piece) : true;
  };

  for (;;) {
    if (cancel.is_cancelled()) {
      result.stop_reason = StopReason::kCancelled;
      break;
    }
    if (static_cast<int32_t>(result.tokens.size()) >= options.max_tokens) {
      result.stop_reason = StopReason::kMaxTokens;
      break;
    }
    MEMLONG_ASSIGN_OR_RETURN(const int32_t id, pick());
    if (tokenizer.is_end_of_generation(id)) {
      result.stop_reason = StopReason::kEndOfGeneration;
      break;
    }
    result.tokens.push_back(id);
    hist.push_back(id);
    pending += tokenizer.token_to_bytes(id, /*skip_special=*/false);

    // A completed stop string ends the text just before it.
    size_t stop_at = std::string::npos;
    for (const std::string& s : options.stop_strings) {
      const size_t p = (result.text + pending).find(s);
      if (p != std::string::npos) stop_at = std::min(stop_at, p);
    }
    if (stop_at != std::string::npos) {
      const size_t keep = stop_at - std::min(stop_at, result.text.size());
      pending.resize(keep);
      flush(pending.size());
      result.stop_reason = StopReason::kStopString;
      break;
    }
    const size_t whole = complete_utf8_prefix(pending);
    const size_t hold =
        stop_holdback(std::string_view(pending).substr(0, whole), options.stop_strings);
    if (!flush(whole - hold)) {
      result.stop_reason = StopReason::kCallback;
      break;
    }
    if (ctx.n_past() + 1 >= ctx.n_ctx()) {
      result.stop_reason = StopReason::kContextFull;
      break;
    }
    const int32_t next[1] = {id};
    MEMLONG_RETURN_IF_ERROR(evaluate(next));
  }
  // Whatever is left (held-back stop prefixes that never completed, a dangling partial UTF-8
  // sequence) is text too; invalid bytes are replaced when the caller decodes for display.
  if (result.stop_reason != StopReason::kStopString) flush(pending.size());
  result.generate_ms = ms_since(t_gen);
  return result;
}

}  // namespace memlong
