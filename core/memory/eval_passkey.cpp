#include "core/memory/eval_passkey.h"

#include <chrono>
#include <random>

#include "core/common/mapped_file.h"
#include "core/memory/reader.h"

namespace memlong {
namespace {

constexpr const char* kInstruction =
    "There is an important piece of information hidden inside a lot of irrelevant text. Find it "
    "and memorize it. I will quiz you about it.\n\n";
constexpr const char* kQuestion = "\n\nWhat is the pass key? The pass key is";

// The first run of ASCII digits in `text`, or -1.
int64_t first_number(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
  if (i == text.size()) return -1;
  int64_t v = 0;
  for (size_t n = 0; i < text.size() && text[i] >= '0' && text[i] <= '9' && n < 12; ++i, ++n) {
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

}  // namespace

Result<PasskeyResult> run_passkey_eval(const Engine& engine, Embedder* embedder,
                                       const PasskeyOptions& options,
                                       const std::function<void(const PasskeyTrial&)>& on_trial,
                                       const CancelToken& cancel) {
  const Tokenizer& tok = engine.tokenizer();
  const LlamaConfig& mc = engine.model().config();
  if (options.use_memory && embedder == nullptr)
    return invalid_argument("memory needs a retriever");
  MEMLONG_ASSIGN_OR_RETURN(std::string filler_text,
                           read_text_file(options.filler_path, size_t{1} << 30));
  const std::vector<int32_t> filler = tok.encode(filler_text, false, false);
  const std::vector<int32_t> head = tok.encode(kInstruction, true, false);
  const std::vector<int32_t> tail = tok.encode(kQuestion, false, false);
  std::mt19937_64 rng(options.seed);
  PasskeyResult result;

  for (int64_t length : options.lengths) {
    for (int32_t depth : options.depths_percent) {
      PasskeyCell cell{length, depth, 0, 0};
      for (int32_t t = 0; t < options.trials; ++t) {
        if (cancel.is_cancelled()) return cancelled("passkey evaluation cancelled");
        const auto t0 = std::chrono::steady_clock::now();
        PasskeyTrial trial;
        trial.length = length;
        trial.depth_percent = depth;
        trial.key = static_cast<int32_t>(10000 + rng() % 90000);
        const std::string key_text = " The pass key is " + std::to_string(trial.key) +
                                     ". Remember it. " + std::to_string(trial.key) +
                                     " is the pass key. ";
        const std::vector<int32_t> key_ids = tok.encode(key_text, false, false);
        const int64_t n_filler =
            length - static_cast<int64_t>(head.size() + tail.size() + key_ids.size());
        if (n_filler < 16) return invalid_argument("passkey length too short");
        if (n_filler > static_cast<int64_t>(filler.size())) {
          return invalid_argument("the filler text is shorter than " + std::to_string(n_filler) +
                                  " tokens");
        }
        const auto start =
            static_cast<int64_t>(rng() % (filler.size() - static_cast<size_t>(n_filler) + 1));
        const int64_t at = n_filler * depth / 100;
        std::vector<int32_t> prompt = head;
        prompt.insert(prompt.end(), filler.begin() + start, filler.begin() + start + at);
        const auto key_pos = static_cast<int64_t>(prompt.size());
        prompt.insert(prompt.end(), key_ids.begin(), key_ids.end());
        prompt.insert(prompt.end(), filler.begin() + start + at, filler.begin() + start + n_filler);
        prompt.insert(prompt.end(), tail.begin(), tail.end());

        std::vector<int32_t> answer_ids;
        if (options.use_memory) {
          const MemoryBankConfig bc = memory_bank_config_for(engine, *embedder, options.memlong);
          MEMLONG_ASSIGN_OR_RETURN(auto bank, MemoryBank::create(bc));
          MEMLONG_ASSIGN_OR_RETURN(
              auto reader, MemLongReader::create(engine, *embedder, *bank, options.memlong));
          ReadCallOptions ro;
          MEMLONG_ASSIGN_OR_RETURN(ReadCallResult r, reader->read_call(prompt, ro, {}, cancel));
          const int64_t prefix = std::max<int64_t>(
              0, static_cast<int64_t>(prompt.size()) - options.memlong.last_context);
          const int64_t key_end = key_pos + static_cast<int64_t>(key_ids.size());
          trial.key_in_memory = key_end <= prefix;
          const int64_t E = options.memlong.entry_tokens;
          trial.key_split = trial.key_in_memory && key_pos / E != (key_end - 1) / E;
          MEMLONG_ASSIGN_OR_RETURN(answer_ids, reader->generate_greedy(8));
        } else {
          const int64_t keep = std::min<int64_t>(static_cast<int64_t>(prompt.size()),
                                                 mc.n_ctx_train > 0 ? mc.n_ctx_train - 16 : 4096);
          MEMLONG_ASSIGN_OR_RETURN(auto ctx,
                                   engine.new_context(static_cast<int32_t>(keep + 16), 256));
          const std::span<const int32_t> seen(prompt.data() + prompt.size() - keep,
                                              static_cast<size_t>(keep));
          MEMLONG_ASSIGN_OR_RETURN(std::vector<float> logits, ctx->eval(seen, false));
          for (int i = 0; i < 8; ++i) {
            const auto id = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) -
                                                 logits.begin());
            if (tok.is_end_of_generation(id)) break;
            answer_ids.push_back(id);
            const int32_t next[1] = {id};
            MEMLONG_ASSIGN_OR_RETURN(logits, ctx->eval(next, false));
          }
        }
        trial.answer = tok.decode(answer_ids, true);
        trial.success = first_number(trial.answer) == trial.key;
        trial.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++cell.n_trials;
        cell.n_success += trial.success ? 1 : 0;
        if (on_trial) on_trial(trial);
        result.trials.push_back(std::move(trial));
      }
      result.cells.push_back(cell);
    }
  }
  return result;
}

}  // namespace memlong
