// Chapter and book summaries (see summarize.h).
#include "core/assistant/summarize.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/assistant/qa.h"
#include "core/memory/memory_bank.h"
#include "core/memory/reader.h"

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;

// Up to k of the seqs, evenly spaced (the middle of k equal slices), in their order.
std::vector<uint64_t> evenly_spaced(const std::vector<uint64_t>& seqs, int32_t k) {
  if (k <= 0 || seqs.size() <= static_cast<size_t>(k)) return seqs;
  std::vector<uint64_t> out;
  const size_t n = seqs.size();
  for (int32_t j = 0; j < k; ++j) {
    const size_t idx = (2 * static_cast<size_t>(j) + 1) * n / (2 * static_cast<size_t>(k));
    out.push_back(seqs[std::min(idx, n - 1)]);
  }
  return out;
}

std::string trim(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

SamplingParams SummarizeOptions::default_summary_sampling() {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = 1.15f;
  p.repetition_last_n = 64;
  return p;
}

Result<Summary> summarize_document(const Engine& engine, Embedder& embedder,
                                   const std::string& doc_title,
                                   std::span<const DocumentText::Section> chapters,
                                   const SummarizeOptions& options,
                                   const std::function<void(const SummaryProgress&)>& on_progress,
                                   const CancelToken& cancel) {
  const auto t0 = Clock::now();
  if (chapters.empty()) return invalid_argument("there are no chapters to summarize");
  const Tokenizer& tok = engine.tokenizer();
  const PromptSet& prompts = options.prompts;
  const bool use_memory = options.chapter_mode == ChapterSummaryMode::kMemory;
  Summary summary;
  summary.doc_id = options.doc_id;
  summary.doc_title = doc_title;

  std::vector<std::vector<int32_t>> chapter_tokens;
  SummaryProgress progress;
  progress.n_chapters = static_cast<int32_t>(chapters.size());
  for (const DocumentText::Section& c : chapters) {
    chapter_tokens.push_back(tok.encode(c.text, /*add_bos=*/false, /*parse_special=*/false));
    progress.tokens_total += static_cast<int64_t>(chapter_tokens.back().size());
  }
  auto report = [&] {
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    progress.tokens_per_s = dt > 0 ? static_cast<double>(progress.tokens_done) / dt : 0.0;
    if (on_progress) on_progress(progress);
  };

  std::unique_ptr<MemoryBank> bank;
  std::unique_ptr<MemLongReader> reader;
  if (use_memory) {
    MEMLONG_ASSIGN_OR_RETURN(
        bank, MemoryBank::create(memory_bank_config_for(engine, embedder, options.memlong)));
    MEMLONG_ASSIGN_OR_RETURN(reader,
                             MemLongReader::create(engine, embedder, *bank, options.memlong));
  }
  const std::string system = prompts.text(PromptId::kSummarySystem);

  int64_t doc_offset = 0;
  for (size_t ci = 0; ci < chapters.size(); ++ci) {
    const DocumentText::Section& chapter = chapters[ci];
    const std::vector<int32_t>& ids = chapter_tokens[ci];
    progress.chapter_index = static_cast<int32_t>(ci);
    progress.chapter_title = chapter.title;
    if (cancel.is_cancelled()) {
      summary.cancelled = true;
      return summary;
    }
    report();
    ChapterSummary cs;
    cs.chapter_index = options.first_chapter_index + static_cast<int32_t>(ci);
    cs.title = chapter.title;
    if (ids.empty()) {
      summary.chapters.push_back(std::move(cs));
      continue;
    }

    std::vector<float> mem_k, mem_v;
    int64_t n_mem = 0;
    std::string user;
    const int64_t done_before = progress.tokens_done;
    if (use_memory) {
      ReadCallOptions ro;
      ro.doc_id = options.doc_id;
      ro.token_offset = doc_offset;
      std::vector<uint64_t> written;
      auto read = reader->read_call(
          ids, ro,
          [&](const PassReport& pass) {
            written.insert(written.end(), pass.written.begin(), pass.written.end());
            progress.tokens_done += pass.n_tokens;
            report();
          },
          cancel);
      if (!read.is_ok()) {
        if (read.status().code() == StatusCode::kCancelled) {
          summary.cancelled = true;
          return summary;
        }
        return read.status();
      }
      // Entries evicted while reading this chapter cannot be gathered: keep the held ones.
      std::vector<uint64_t> held;
      for (const MemoryEntryInfo& e : bank->entries()) {
        if (std::find(written.begin(), written.end(), e.seq) != written.end()) {
          held.push_back(e.seq);
        }
      }
      MEMLONG_ASSIGN_OR_RETURN(
          n_mem, bank->gather(evenly_spaced(held, options.memlong.top_k), &mem_k, &mem_v));
      user = fill_prompt(prompts.text(PromptId::kSummaryChapterMemoryUser),
                         {{"doc_title", doc_title}, {"chapter_title", chapter.title}});
    } else {
      const size_t lead =
          std::min(ids.size(), static_cast<size_t>(std::max(options.lead_tokens, 1)));
      const std::string text = tok.decode(std::span<const int32_t>(ids.data(), lead), true);
      user =
          fill_prompt(prompts.text(PromptId::kSummaryChapterTextUser),
                      {{"doc_title", doc_title}, {"chapter_title", chapter.title}, {"text", text}});
    }
    doc_offset += static_cast<int64_t>(ids.size());

    const std::vector<int32_t> prompt = encode_chat(engine, {{"system", system}, {"user", user}});
    MemoryBlockView block;
    block.k = mem_k;
    block.v = mem_v;
    block.n_mem = static_cast<int32_t>(n_mem);
    MEMLONG_ASSIGN_OR_RETURN(
        MemoryGeneration gen,
        generate_with_memory(engine, prompt, block, options.memlong, options.chapter_max_tokens,
                             options.sampling, nullptr, cancel));
    if (gen.cancelled) {
      summary.cancelled = true;
      return summary;
    }
    cs.text = trim(std::move(gen.text));
    summary.chapters.push_back(std::move(cs));
    progress.tokens_done = done_before + static_cast<int64_t>(ids.size());
    report();
  }

  if (cancel.is_cancelled()) {
    summary.cancelled = true;
    return summary;
  }
  progress.chapter_index = progress.n_chapters;
  progress.chapter_title.clear();
  report();
  // The book prompt lists the chapter summaries; for books with many chapters each is cut to
  // `max_chars` (halved until prompt and answer fit the model's context).
  std::vector<int32_t> prompt;
  for (size_t max_chars = 100000;; max_chars /= 2) {
    std::string lines;
    for (const ChapterSummary& cs : summary.chapters) {
      if (cs.text.empty()) continue;
      if (!lines.empty()) lines += "\n";
      const std::string number = std::to_string(cs.chapter_index + 1);
      std::string text = cs.text.substr(0, max_chars);
      while (!text.empty() && text.size() < cs.text.size() &&
             (static_cast<unsigned char>(cs.text[text.size()]) & 0xc0) == 0x80) {
        text.pop_back();  // never cut inside a UTF-8 character
      }
      lines += fill_prompt(prompts.text(PromptId::kSummaryBookChapterLine),
                           {{"number", number}, {"title", cs.title}, {"summary", text}});
    }
    if (lines.empty()) return summary;  // nothing to summarise (all chapters empty)
    const std::string user = fill_prompt(prompts.text(PromptId::kSummaryBookUser),
                                         {{"doc_title", doc_title}, {"chapter_summaries", lines}});
    prompt = encode_chat(engine, {{"system", system}, {"user", user}});
    if (static_cast<int64_t>(prompt.size()) + options.book_max_tokens <= native_context(engine) ||
        max_chars < 32) {
      break;
    }
  }
  MEMLONG_ASSIGN_OR_RETURN(
      MemoryGeneration gen,
      generate_with_memory(engine, prompt, MemoryBlockView{}, options.memlong,
                           options.book_max_tokens, options.sampling, nullptr, cancel));
  if (gen.cancelled) {
    summary.cancelled = true;
    return summary;
  }
  summary.book_summary = trim(std::move(gen.text));
  return summary;
}

}  // namespace memlong
