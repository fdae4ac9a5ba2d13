#include "core/memory/eval_passkey.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include "core/common/mapped_file.h"
#include "core/ingest/entry_encoder.h"
#include "core/memory/reader.h"

namespace memlong {
namespace {

constexpr const char* kInstruction =
    "There is an important piece of information hidden inside a lot of irrelevant text. Find it "
    "and memorize it. I will quiz you about it.\n\n";
constexpr const char* kQuestion = "\n\nWhat is the pass key? The pass key is";
constexpr const char* kQuestionOnly = "What is the pass key?";

// The best rank (0 = highest score) among `got` of an entry overlapping [key_begin, key_end), or
// -1 when none does.
int32_t key_rank(const std::vector<RetrievedEntry>& got, int64_t key_begin, int64_t key_end) {
  int32_t best = -1;
  for (const RetrievedEntry& e : got) {
    const int64_t b = e.info.token_offset;
    if (b >= key_end || b + e.info.n_tokens <= key_begin) continue;
    int32_t rank = 0;
    for (const RetrievedEntry& o : got) rank += o.score > e.score ? 1 : 0;
    if (best < 0 || rank < best) best = rank;
  }
  return best;
}

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

std::vector<int32_t> passkey_prompt(std::span<const int32_t> head, std::span<const int32_t> filler,
                                    int64_t start, int64_t n, std::span<const int32_t> key,
                                    int64_t at, std::span<const int32_t> tail) {
  std::vector<int32_t> prompt(head.begin(), head.end());
  const auto f0 = filler.begin() + start;
  prompt.insert(prompt.end(), f0, f0 + n);
  std::copy(key.begin(), key.end(), prompt.begin() + static_cast<std::ptrdiff_t>(head.size() + at));
  prompt.insert(prompt.end(), tail.begin(), tail.end());
  return prompt;
}

namespace {

// Memory-layer entries of pure filler, by (filler offset, length): they are the same in every
// trial that reads those tokens (an entry depends only on its own tokens).
class FillerEntryCache {
 public:
  struct Entry {
    std::vector<int32_t> tokens;
    std::string text;
    EncodedEntry encoded;
  };
  const Entry* find(int64_t offset, int64_t n) const {
    auto it = entries_.find({offset, n});
    return it == entries_.end() ? nullptr : &it->second;
  }
  const Entry& put(int64_t offset, int64_t n, Entry e) {
    return entries_.insert_or_assign({offset, n}, std::move(e)).first->second;
  }

 private:
  std::map<std::pair<int64_t, int64_t>, Entry> entries_;
};

// Fills `bank` with the prompt's prefix entries [0, prefix) in E-token pieces, as
// MemLongReader::read_call's prefix passes would write them, encoding only what the cache lacks.
Status write_prefix_entries(const Engine& engine, EntryEncoder& encoder, FillerEntryCache& cache,
                            std::span<const int32_t> prompt, int64_t prefix, int64_t head,
                            int64_t start, int64_t key_begin, int64_t key_end, int64_t E,
                            MemoryBank& bank, const CancelToken& cancel) {
  const Tokenizer& tok = engine.tokenizer();
  struct Piece {
    int64_t b, e;
    bool cacheable;
    const FillerEntryCache::Entry* entry;
  };
  std::vector<Piece> pieces;
  std::vector<Chunk> missing;
  std::vector<size_t> missing_piece;
  for (int64_t b = 0; b < prefix; b += E) {
    const int64_t e = std::min(prefix, b + E);
    Piece p{b, e, b >= head && (e <= key_begin || b >= key_end), nullptr};
    if (p.cacheable) p.entry = cache.find(start + b - head, e - b);
    if (p.entry == nullptr) {
      Chunk c;
      c.ordinal = static_cast<int32_t>(pieces.size());
      c.token_begin = b;
      c.token_end = e;
      c.tokens.assign(prompt.begin() + b, prompt.begin() + e);
      c.text = tok.decode(c.tokens, /*skip_special=*/true);
      missing.push_back(std::move(c));
      missing_piece.push_back(pieces.size());
    }
    pieces.push_back(p);
  }
  MEMLONG_ASSIGN_OR_RETURN(std::vector<EncodedEntry> encoded, encoder.encode(missing, cancel));
  std::vector<FillerEntryCache::Entry> uncached;
  uncached.reserve(missing.size());  // stable addresses for the pieces that point here
  for (size_t i = 0; i < missing.size(); ++i) {
    Piece& p = pieces[missing_piece[i]];
    FillerEntryCache::Entry entry{std::move(missing[i].tokens), std::move(missing[i].text),
                                  std::move(encoded[i])};
    if (p.cacheable) {
      p.entry = &cache.put(start + p.b - head, p.e - p.b, std::move(entry));
    } else {
      uncached.push_back(std::move(entry));
      p.entry = &uncached.back();
    }
  }
  for (const Piece& p : pieces) {
    MemoryEntryInput in;
    in.doc_id = 0;
    in.token_offset = p.b;
    in.tokens = p.entry->tokens;
    in.text = p.entry->text;
    in.embedding = p.entry->encoded.embedding;
    in.k = p.entry->encoded.k;
    in.v = p.entry->encoded.v;
    MEMLONG_RETURN_IF_ERROR(bank.append(in).status());
  }
  return Status::ok();
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
  if (options.filler_paths.empty()) return invalid_argument("no filler text given");
  std::vector<int32_t> filler;
  for (const std::string& path : options.filler_paths) {
    MEMLONG_ASSIGN_OR_RETURN(std::string text, read_text_file(path, size_t{1} << 30));
    const std::vector<int32_t> ids = tok.encode(text + "\n\n", false, false);
    filler.insert(filler.end(), ids.begin(), ids.end());
  }
  const std::vector<int32_t> head = tok.encode(kInstruction, true, false);
  const std::vector<int32_t> tail = tok.encode(kQuestion, false, false);
  const int64_t E = options.memlong.entry_tokens;
  const auto n_head = static_cast<int64_t>(head.size());
  std::mt19937_64 rng(options.seed);
  PasskeyResult result;

  std::unique_ptr<EntryEncoder> encoder;
  FillerEntryCache cache;
  if (options.use_memory && options.reuse_filler_entries) {
    MEMLONG_ASSIGN_OR_RETURN(encoder, EntryEncoder::create(engine, *embedder, options.memlong));
  }

  for (int64_t length : options.lengths) {
    for (int32_t depth : options.depths_percent) {
      PasskeyCell cell{length, depth, 0, 0, 0, 0};
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
        const auto n_key = static_cast<int64_t>(key_ids.size());
        const int64_t n_filler = length - n_head - static_cast<int64_t>(tail.size());
        if (n_filler < n_key + 16) return invalid_argument("passkey length too short");
        if (n_filler > static_cast<int64_t>(filler.size())) {
          return invalid_argument("the filler text is shorter than " + std::to_string(n_filler) +
                                  " tokens");
        }
        // Trial t starts t entries into the filler (wrapping), so trials differ in text and key
        // while sharing most entries.
        const int64_t n_starts = (static_cast<int64_t>(filler.size()) - n_filler) / E + 1;
        const int64_t start = (t % n_starts) * E;
        const int64_t at = (n_filler - n_key) * depth / 100;
        const std::vector<int32_t> prompt =
            passkey_prompt(head, filler, start, n_filler, key_ids, at, tail);
        const int64_t key_begin = n_head + at;
        const int64_t key_end = key_begin + n_key;

        std::vector<int32_t> answer_ids;
        if (options.use_memory) {
          const MemoryBankConfig bc = memory_bank_config_for(engine, *embedder, options.memlong);
          MEMLONG_ASSIGN_OR_RETURN(auto bank, MemoryBank::create(bc));
          MEMLONG_ASSIGN_OR_RETURN(
              auto reader, MemLongReader::create(engine, *embedder, *bank, options.memlong));
          const auto n = static_cast<int64_t>(prompt.size());
          const int64_t prefix = std::max<int64_t>(0, n - options.memlong.last_context);
          ReadCallResult r;
          if (encoder != nullptr) {
            MEMLONG_RETURN_IF_ERROR(write_prefix_entries(engine, *encoder, cache, prompt, prefix,
                                                         n_head, start, key_begin, key_end, E,
                                                         *bank, cancel));
            ReadCallOptions ro;
            ro.token_offset = prefix;
            MEMLONG_ASSIGN_OR_RETURN(r, reader->read_call(std::span<const int32_t>(prompt).subspan(
                                                              static_cast<size_t>(prefix)),
                                                          ro, {}, cancel));
          } else {
            MEMLONG_ASSIGN_OR_RETURN(r, reader->read_call(prompt, ReadCallOptions{}, {}, cancel));
          }
          trial.key_in_memory = key_end <= prefix;
          trial.key_split = trial.key_in_memory && key_begin / E != (key_end - 1) / E;
          trial.key_rank = key_rank(r.passes.back().retrieved, key_begin, key_end);
          trial.key_retrieved = trial.key_rank >= 0;
          if (trial.key_in_memory) {
            const std::string query[1] = {kQuestionOnly};
            MEMLONG_ASSIGN_OR_RETURN(std::vector<float> q,
                                     embedder->embed(query, EmbedKind::kQuery));
            trial.key_rank_by_question =
                key_rank(bank->retrieve(q, options.memlong.top_k, ExcludeRange{0, prefix, n}),
                         key_begin, key_end);
          }
          MEMLONG_ASSIGN_OR_RETURN(answer_ids, reader->generate_greedy(options.max_new_tokens));
        } else {
          const int64_t keep = std::min<int64_t>(static_cast<int64_t>(prompt.size()),
                                                 mc.n_ctx_train > 0 ? mc.n_ctx_train - 16 : 4096);
          MEMLONG_ASSIGN_OR_RETURN(auto ctx,
                                   engine.new_context(static_cast<int32_t>(keep + 16), 256));
          const std::span<const int32_t> seen(prompt.data() + prompt.size() - keep,
                                              static_cast<size_t>(keep));
          MEMLONG_ASSIGN_OR_RETURN(std::vector<float> logits, ctx->eval(seen, false));
          for (int i = 0; i < options.max_new_tokens; ++i) {
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
        cell.n_key_in_memory += trial.key_in_memory ? 1 : 0;
        cell.n_key_retrieved += trial.key_retrieved ? 1 : 0;
        cell.n_key_by_question += trial.key_rank_by_question >= 0 ? 1 : 0;
        if (on_trial) on_trial(trial);
        result.trials.push_back(std::move(trial));
      }
      result.cells.push_back(cell);
    }
  }
  return result;
}

}  // namespace memlong
