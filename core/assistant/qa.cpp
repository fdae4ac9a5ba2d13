// Answers over passages (see qa.h). Legend: M = memory tokens (all passages, chronological),
// Hkv = KV heads, dh = head dim, row = Hkv * dh floats per token, n = prompt tokens.
#include "core/assistant/qa.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/generate/generator.h"

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Bytes at the end of `text` that could still grow into one of the stop strings (the generator's
// rule, so memory generation streams exactly as plain generation does).
size_t stop_holdback(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& s : stops) {
    if (s.empty()) continue;
    for (size_t len = std::min(s.size() - 1, text.size()); len > hold; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

PromptId system_prompt_for(AnswerMode mode) {
  switch (mode) {
    case AnswerMode::kMemory:
      return PromptId::kQaMemorySystem;
    case AnswerMode::kText:
      return PromptId::kQaTextSystem;
    case AnswerMode::kNone:
      break;
  }
  return PromptId::kQaNoneSystem;
}

std::string user_message(AnswerMode mode, const PromptSet& prompts, const std::string& question,
                         std::span<const QaPassage> passages, std::span<const size_t> used) {
  if (mode == AnswerMode::kText) {
    std::string block;
    for (size_t n = 0; n < used.size(); ++n) {
      const QaPassage& p = passages[used[n]];
      if (n > 0) block += "\n\n";
      const std::string number = std::to_string(n + 1);
      block += fill_prompt(prompts.text(PromptId::kQaTextPassage),
                           {{"number", number}, {"title", p.title}, {"text", p.text}});
    }
    return fill_prompt(prompts.text(PromptId::kQaTextUser),
                       {{"passages", block}, {"question", question}});
  }
  const PromptId id = mode == AnswerMode::kMemory ? PromptId::kQaMemoryUser : PromptId::kQaNoneUser;
  return fill_prompt(prompts.text(id), {{"question", question}});
}

}  // namespace

std::vector<float> passage_mass_shares(std::span<const float> token_mass,
                                       std::span<const int32_t> begin,
                                       std::span<const int32_t> length, int32_t sink_tokens) {
  MEMLONG_ASSERT(begin.size() == length.size());
  std::vector<double> per(begin.size(), 0.0);
  double total = 0;
  for (size_t p = 0; p < begin.size(); ++p) {
    // Skip the sink, but never a passage's last token: a one-token passage still counts.
    const int32_t first = std::clamp(sink_tokens, 0, std::max(length[p] - 1, 0));
    for (int32_t t = first; t < length[p]; ++t) {
      const auto at = static_cast<size_t>(begin[p] + t);
      MEMLONG_ASSERT(at < token_mass.size());
      per[p] += token_mass[at];
    }
    if (length[p] > first) per[p] /= static_cast<double>(length[p] - first);
    total += per[p];
  }
  std::vector<float> shares(begin.size(), 0.0f);
  if (total > 0) {
    for (size_t p = 0; p < begin.size(); ++p) shares[p] = static_cast<float>(per[p] / total);
  }
  return shares;
}

std::string_view answer_mode_name(AnswerMode mode) {
  switch (mode) {
    case AnswerMode::kMemory:
      return "memory";
    case AnswerMode::kText:
      return "text";
    case AnswerMode::kNone:
      break;
  }
  return "none";
}

Result<AnswerMode> parse_answer_mode(std::string_view name) {
  for (AnswerMode m : {AnswerMode::kMemory, AnswerMode::kText, AnswerMode::kNone}) {
    if (answer_mode_name(m) == name) return m;
  }
  return invalid_argument("unknown answer mode '" + std::string(name) +
                          "' (expected memory, text or none)");
}

int32_t native_context(const Engine& engine) {
  const int32_t n = engine.model().config().n_ctx_train;
  return n > 0 ? n : 4096;
}

std::vector<int32_t> encode_chat(const Engine& engine, const std::vector<ChatMessage>& messages,
                                 std::string* rendered) {
  const ChatTemplate& tmpl = engine.chat_template();
  const std::string text = apply_chat_template(tmpl, messages, /*add_generation_prompt=*/true);
  if (rendered != nullptr) *rendered = text;
  // Families whose template writes BOS itself must not get a second one.
  return engine.tokenizer().encode(text, /*add_bos=*/tmpl.bos_token.empty(),
                                   /*parse_special=*/true);
}

Result<MemoryGeneration> generate_with_memory(const Engine& engine, std::span<const int32_t> prompt,
                                              const MemoryBlockView& memory,
                                              const MemLongConfig& config, int32_t max_tokens,
                                              const SamplingParams& sampling,
                                              const std::function<bool(std::string_view)>& on_piece,
                                              const CancelToken& cancel) {
  const auto t0 = Clock::now();
  const Tokenizer& tok = engine.tokenizer();
  const bool has_mem = memory.n_mem > 0;
  const bool contiguous = has_mem && config.position_mode == PositionMode::kContiguous;
  if (prompt.empty()) return invalid_argument("the prompt is empty");
  // Contiguous positions put memory at 0..M-1: memory, prompt and answer share the native range.
  const int64_t limit = native_context(engine) - (contiguous ? memory.n_mem : 0);
  const auto n_prompt = static_cast<int64_t>(prompt.size());
  if (n_prompt + 1 > limit) {
    return invalid_argument(
        "the prompt of " + std::to_string(n_prompt) + " tokens" +
        (contiguous ? " after " + std::to_string(memory.n_mem) + " memory tokens" : std::string()) +
        " does not fit the model's context of " + std::to_string(native_context(engine)) +
        " tokens");
  }
  const int64_t n_gen = std::clamp<int64_t>(max_tokens, 0, limit - n_prompt);
  MEMLONG_ASSIGN_OR_RETURN(
      auto ctx, engine.new_context(static_cast<int32_t>(n_prompt + n_gen + 1),
                                   static_cast<int32_t>(std::min<int64_t>(n_prompt, 512))));

  MemoryAttention mem;
  if (has_mem) {
    const LlamaConfig& mc = engine.model().config();
    const size_t row = static_cast<size_t>(mc.n_head_kv) * static_cast<size_t>(mc.head_dim);
    const size_t want = static_cast<size_t>(memory.n_mem) * row;
    if (memory.k.size() != want || memory.v.size() != want) {
      return invalid_argument("memory block of " + std::to_string(memory.n_mem) + " tokens needs " +
                              std::to_string(want) + " floats of K and V each, got " +
                              std::to_string(memory.k.size()) + " and " +
                              std::to_string(memory.v.size()));
    }
    mem.k = memory.k.data();
    mem.v = memory.v.data();
    mem.n_mem = memory.n_mem;
    mem.contiguous_positions = contiguous;
    mem.retrieval_layers = config.retrieval_layers;
    // One id for the whole generation: the prompt pass uploads (and in contiguous mode rotates)
    // the block once, every decode step reuses it. Ids only need to differ between blocks of the
    // same context, and this context sees one block.
    mem.block_id = 1;
    mem.want_token_mass = true;
  }

  MemoryGeneration out;
  out.n_prompt_tokens = static_cast<int32_t>(n_prompt);
  MemoryOutputs prompt_outputs;
  MEMLONG_ASSIGN_OR_RETURN(std::vector<float> logits,
                           ctx->eval(prompt, false, mem, has_mem ? &prompt_outputs : nullptr));
  std::vector<double> step_mass(static_cast<size_t>(has_mem ? memory.n_mem : 0), 0.0);
  int32_t n_steps = 0;

  Sampler sampler(sampling);
  std::vector<int32_t> hist(prompt.begin(), prompt.end());
  const std::vector<std::string>& stops = engine.chat_template().stop_strings;
  std::string pending;  // decoded bytes not yet handed to on_piece
  Clock::time_point t_first{};
  auto flush = [&](size_t n_bytes) -> bool {
    if (n_bytes == 0) return true;
    const std::string piece = pending.substr(0, n_bytes);
    pending.erase(0, n_bytes);
    out.text += piece;
    return on_piece ? on_piece(piece) : true;
  };
  bool stopped_by_string = false;
  for (int64_t i = 0;; ++i) {
    if (cancel.is_cancelled()) {
      out.cancelled = true;
      break;
    }
    if (i >= n_gen) break;
    const int32_t id = sampler.sample(logits, hist);
    if (i == 0) {
      t_first = Clock::now();
      out.ttft_s = seconds_since(t0);
    }
    if (tok.is_end_of_generation(id)) break;
    out.tokens.push_back(id);
    hist.push_back(id);
    pending += tok.token_to_bytes(id, /*skip_special=*/false);
    size_t stop_at = std::string::npos;
    for (const std::string& s : stops) {
      const size_t p = (out.text + pending).find(s);
      if (p != std::string::npos) stop_at = std::min(stop_at, p);
    }
    if (stop_at != std::string::npos) {
      pending.resize(stop_at - std::min(stop_at, out.text.size()));
      flush(pending.size());
      stopped_by_string = true;
      break;
    }
    const size_t whole = complete_utf8_prefix(pending);
    if (!flush(whole - stop_holdback(std::string_view(pending).substr(0, whole), stops))) break;
    if (i + 1 >= n_gen) break;  // the last allowed token needs no forward pass
    const int32_t next[1] = {id};
    MemoryOutputs step;
    MEMLONG_ASSIGN_OR_RETURN(logits, ctx->eval(next, false, mem, has_mem ? &step : nullptr));
    if (has_mem && step.mem_token_mass.size() == step_mass.size()) {
      for (size_t t = 0; t < step_mass.size(); ++t) step_mass[t] += step.mem_token_mass[t];
      ++n_steps;
    }
  }
  if (!stopped_by_string) flush(pending.size());
  if (out.tokens.empty()) out.ttft_s = seconds_since(t0);
  if (out.tokens.size() > 1) {
    const double dt = seconds_since(t_first);
    if (dt > 0) out.tokens_per_s = static_cast<double>(out.tokens.size() - 1) / dt;
  }
  if (has_mem) {
    out.token_mass.resize(static_cast<size_t>(memory.n_mem));
    if (n_steps > 0) {
      for (size_t t = 0; t < step_mass.size(); ++t)
        out.token_mass[t] = static_cast<float>(step_mass[t] / n_steps);
    } else if (prompt_outputs.mem_token_mass.size() == out.token_mass.size()) {
      out.token_mass = prompt_outputs.mem_token_mass;
    }
  }
  return out;
}

Result<QaResult> answer_question(const Engine& engine, const std::string& question,
                                 std::span<const QaPassage> passages, const QaOptions& options,
                                 const std::function<bool(std::string_view)>& on_piece,
                                 const CancelToken& cancel) {
  const auto t0 = Clock::now();
  if (question.find_first_not_of(" \t\r\n") == std::string::npos) {
    return invalid_argument("the question is empty");
  }
  if (options.max_tokens <= 0) return invalid_argument("max_tokens must be positive");
  const AnswerMode mode = options.mode;
  QaResult result;

  // Memory mode: the passages' K/V in chronological (entry_id) order form one block.
  std::vector<size_t> chrono(passages.size());
  std::iota(chrono.begin(), chrono.end(), size_t{0});
  std::stable_sort(chrono.begin(), chrono.end(),
                   [&](size_t a, size_t b) { return passages[a].entry_id < passages[b].entry_id; });
  std::vector<float> mem_k, mem_v;
  std::vector<int32_t> mem_begin(passages.size(), 0), mem_len(passages.size(), 0);
  int32_t n_mem = 0;
  if (mode == AnswerMode::kMemory) {
    const LlamaConfig& mc = engine.model().config();
    const size_t row = static_cast<size_t>(mc.n_head_kv) * static_cast<size_t>(mc.head_dim);
    for (size_t idx : chrono) {
      const QaPassage& p = passages[idx];
      if (p.k.empty() || p.k.size() != p.v.size() || p.k.size() % row != 0 ||
          (!p.tokens.empty() && p.tokens.size() * row != p.k.size())) {
        return invalid_argument(
            "passage " + std::to_string(p.entry_id) + " has K/V of " + std::to_string(p.k.size()) +
            " and " + std::to_string(p.v.size()) + " floats; memory mode needs [n_tokens, " +
            std::to_string(mc.n_head_kv) + ", " + std::to_string(mc.head_dim) + "] for each" +
            (p.tokens.empty() ? std::string()
                              : " with n_tokens = " + std::to_string(p.tokens.size())));
      }
      mem_begin[idx] = n_mem;
      mem_len[idx] = static_cast<int32_t>(p.k.size() / row);
      n_mem += mem_len[idx];
      mem_k.insert(mem_k.end(), p.k.begin(), p.k.end());
      mem_v.insert(mem_v.end(), p.v.begin(), p.v.end());
    }
  }

  // Text mode: passages in the caller's order; when the prompt does not fit, the lowest-scored go
  // first. Then the oldest history turns go, until prompt + answer fit the native context.
  std::vector<size_t> used;
  if (mode == AnswerMode::kText) {
    used.resize(passages.size());
    std::iota(used.begin(), used.end(), size_t{0});
  }
  const int32_t budget =
      native_context(engine) -
      (mode == AnswerMode::kMemory && options.memlong.position_mode == PositionMode::kContiguous
           ? n_mem
           : 0);
  size_t first_turn = 0;
  std::vector<int32_t> prompt;
  for (;;) {
    std::vector<ChatMessage> messages;
    messages.push_back({"system", options.prompts.text(system_prompt_for(mode))});
    for (size_t t = first_turn; t < options.history.size(); ++t) {
      messages.push_back({options.history[t].role, options.history[t].text});
    }
    messages.push_back({"user", user_message(mode, options.prompts, question, passages, used)});
    prompt = encode_chat(engine, messages, &result.prompt);
    const int64_t need = static_cast<int64_t>(prompt.size()) + std::min(options.max_tokens, 64);
    if (need <= budget) break;
    if (first_turn < options.history.size()) {
      ++first_turn;
    } else if (!used.empty()) {
      const auto lowest = std::min_element(used.begin(), used.end(), [&](size_t a, size_t b) {
        return passages[a].score < passages[b].score;
      });
      used.erase(lowest);
    } else {
      return invalid_argument("the question needs " + std::to_string(prompt.size()) +
                              " prompt tokens, more than the model's context of " +
                              std::to_string(budget) + " tokens allows");
    }
  }
  result.n_history_turns_used = static_cast<int32_t>(options.history.size() - first_turn);
  result.n_passages_used =
      mode == AnswerMode::kText
          ? static_cast<int32_t>(used.size())
          : (mode == AnswerMode::kMemory ? static_cast<int32_t>(passages.size()) : 0);
  result.n_memory_tokens = n_mem;

  MemoryBlockView block;
  block.k = mem_k;
  block.v = mem_v;
  block.n_mem = n_mem;
  const double prep_s = seconds_since(t0);
  MEMLONG_ASSIGN_OR_RETURN(
      MemoryGeneration gen,
      generate_with_memory(engine, prompt, block, options.memlong, options.max_tokens,
                           options.sampling, on_piece, cancel));
  result.text = std::move(gen.text);
  result.n_prompt_tokens = gen.n_prompt_tokens;
  result.n_tokens = static_cast<int32_t>(gen.tokens.size());
  result.ttft_s = prep_s + gen.ttft_s;
  result.tokens_per_s = gen.tokens_per_s;
  result.cancelled = gen.cancelled;

  if (mode == AnswerMode::kMemory && n_mem > 0) {
    const LlamaConfig& mc = engine.model().config();
    double all = 0;
    for (float m : gen.token_mass) all += m;
    const double per_step_max = static_cast<double>(mc.n_head) *
                                static_cast<double>(options.memlong.retrieval_layers.size());
    result.memory_attention_share = per_step_max > 0 ? static_cast<float>(all / per_step_max) : 0;
    result.memory_token_mass = gen.token_mass;
    result.passage_memory_begin = mem_begin;
    result.passage_attention_mass =
        passage_mass_shares(gen.token_mass, mem_begin, mem_len, options.mass_sink_tokens);
  }
  return result;
}

Result<QaPassage> passage_with_memory(const Engine& engine, const MemLongConfig& config,
                                      int64_t entry_id, std::string title, std::string text,
                                      float score) {
  QaPassage p;
  p.entry_id = entry_id;
  p.title = std::move(title);
  p.text = std::move(text);
  p.score = score;
  p.tokens = engine.tokenizer().encode(p.text, /*add_bos=*/false, /*parse_special=*/false);
  if (p.tokens.empty())
    return invalid_argument("passage " + std::to_string(entry_id) + " is empty");
  if (static_cast<int64_t>(p.tokens.size()) > native_context(engine)) {
    return invalid_argument("passage " + std::to_string(entry_id) + " has " +
                            std::to_string(p.tokens.size()) + " tokens, more than the context");
  }
  MEMLONG_ASSIGN_OR_RETURN(
      auto ctx, engine.new_context(static_cast<int32_t>(p.tokens.size()),
                                   static_cast<int32_t>(std::min<size_t>(p.tokens.size(), 512))));
  MemoryAttention mem;
  mem.memory_layer = config.memory_layer;
  mem.memory_only = true;
  MemoryOutputs out;
  MEMLONG_ASSIGN_OR_RETURN(std::vector<float> unused, ctx->eval(p.tokens, false, mem, &out));
  (void)unused;
  p.k = std::move(out.stash_k);
  p.v = std::move(out.stash_v);
  return p;
}

}  // namespace memlong
