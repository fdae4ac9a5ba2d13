#include "core/memory/eval_ppl.h"

#include <chrono>
#include <cmath>

#include "core/common/mapped_file.h"
#include "core/memory/reader.h"

namespace memlong {
namespace {

constexpr size_t kMaxDocumentBytes = size_t{1} << 30;

}  // namespace

Result<PplEvalResult> run_ppl_eval(const Engine& engine, Embedder* embedder,
                                   const PplEvalOptions& options,
                                   const std::function<void(int64_t, int64_t)>& progress,
                                   const CancelToken& cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  const Tokenizer& tok = engine.tokenizer();
  const int64_t S = options.window_tokens;
  if (S < 2) return invalid_argument("window must be at least 2 tokens");
  if (options.use_memory && embedder == nullptr) {
    return invalid_argument("evaluation with memory needs a retriever");
  }

  // Tokenize every document with a leading BOS and count the windows.
  std::vector<std::vector<int32_t>> docs;
  int64_t total_windows = 0;
  for (const std::string& path : options.documents) {
    MEMLONG_ASSIGN_OR_RETURN(std::string text, read_text_file(path, kMaxDocumentBytes));
    std::vector<int32_t> ids;
    if (tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    const std::vector<int32_t> body = tok.encode(text, /*add_bos=*/false, /*parse_special=*/false);
    ids.insert(ids.end(), body.begin(), body.end());
    int64_t n_win = 0;
    for (int64_t start = 0; start < static_cast<int64_t>(ids.size()) - S; start += S) ++n_win;
    if (options.max_windows_per_doc > 0) n_win = std::min(n_win, options.max_windows_per_doc);
    total_windows += n_win;
    docs.push_back(std::move(ids));
  }
  if (total_windows == 0) return invalid_argument("the documents are shorter than one window");

  std::unique_ptr<MemoryBank> bank;
  std::unique_ptr<MemLongReader> reader;
  std::unique_ptr<InferenceContext> plain;
  const LlamaConfig& mc = engine.model().config();
  auto make_bank = [&]() -> Status {
    const MemoryBankConfig bc = memory_bank_config_for(engine, *embedder, options.memlong);
    MEMLONG_ASSIGN_OR_RETURN(bank, MemoryBank::create(bc));
    MEMLONG_ASSIGN_OR_RETURN(reader,
                             MemLongReader::create(engine, *embedder, *bank, options.memlong));
    return Status::ok();
  };
  if (options.use_memory) {
    MEMLONG_RETURN_IF_ERROR(make_bank());
  } else {
    MEMLONG_ASSIGN_OR_RETURN(plain, engine.new_context(static_cast<int32_t>(S), 256));
  }

  PplEvalResult result;
  double loss_sum = 0.0;
  int64_t appended = 0;
  const int32_t V = mc.n_vocab;
  for (size_t d = 0; d < docs.size(); ++d) {
    const std::vector<int32_t>& ids = docs[d];
    if (options.use_memory && options.reset_per_document && d > 0) {
      appended += bank->n_entries();  // count what the old bank held as appended
      MEMLONG_RETURN_IF_ERROR(make_bank());
    }
    int64_t n_win = 0;
    for (int64_t start = 0; start < static_cast<int64_t>(ids.size()) - S; start += S) {
      if (options.max_windows_per_doc > 0 && n_win >= options.max_windows_per_doc) break;
      if (cancel.is_cancelled()) return cancelled("evaluation cancelled");
      const std::span<const int32_t> win(ids.data() + start, static_cast<size_t>(S));
      const int64_t n_score = std::min(S, options.score_last_tokens);
      double nll = 0.0;
      int64_t n_scored = 0;
      if (options.use_memory) {
        ReadCallOptions ro;
        ro.doc_id = static_cast<int64_t>(d);
        ro.token_offset = start;
        ro.score_last = n_score;
        MEMLONG_ASSIGN_OR_RETURN(ReadCallResult r, reader->read_call(win, ro, {}, cancel));
        for (const PassReport& p : r.passes) appended += static_cast<int64_t>(p.written.size());
        nll = r.nll_sum;
        n_scored = r.n_scored;
      } else {
        // One causal pass over the window, evaluated in segments to bound the logits held.
        plain->reset();
        std::vector<float> prev;
        for (int64_t s0 = 0; s0 < S; s0 += 256) {
          const int64_t len = std::min<int64_t>(256, S - s0);
          const bool need = s0 + len >= S - n_score;
          MEMLONG_ASSIGN_OR_RETURN(
              std::vector<float> logits,
              plain->eval(win.subspan(static_cast<size_t>(s0), static_cast<size_t>(len)), need));
          if (!need) continue;
          for (int64_t i = 0; i < len; ++i) {
            const int64_t pos = s0 + i;
            if (pos == 0 || pos < S - n_score) continue;
            std::span<const float> row =
                i == 0 ? std::span<const float>(prev)
                       : std::span<const float>(logits).subspan(static_cast<size_t>(i - 1) * V, V);
            if (row.empty()) continue;
            nll += token_nll(row, win[static_cast<size_t>(pos)]);
            ++n_scored;
          }
          prev.assign(logits.end() - V, logits.end());
        }
      }
      if (n_scored == 0) return internal_error("a window scored no tokens");
      loss_sum += nll / static_cast<double>(n_scored);
      result.n_scored_tokens += n_scored;
      ++result.n_windows;
      ++n_win;
      if (progress) progress(result.n_windows, total_windows);
    }
  }
  result.mean_window_loss = loss_sum / static_cast<double>(result.n_windows);
  result.ppl = std::exp(result.mean_window_loss);
  if (bank) {
    result.memory_entries = bank->n_entries();
    result.memory_tokens = bank->used_tokens();
    result.evicted_entries = appended - bank->n_entries();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace memlong
