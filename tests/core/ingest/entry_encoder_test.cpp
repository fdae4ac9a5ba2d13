// EntryEncoder against the reader (core/memory/reader.cpp), which builds the same entries another
// way: reading the text pass by pass with retrieval, attention to memory and a bf16 memory bank.
// The entries must agree (up to the bank's bf16 rounding) and carry the same retriever keys.
#include "core/ingest/entry_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/common/paths.h"
#include "core/memory/reader.h"

namespace memlong {
namespace {

TEST(EntryEncoderRealModel, MatchesTheReadersMemoryEntries) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  auto engine = Engine::load(EngineOptions{.model_path = "", .n_threads = 2});
  ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
  auto embedder = load_embedder(default_retriever_path(), 2);
  ASSERT_TRUE(embedder.is_ok()) << embedder.status().to_string();
  auto config = memlong_config_for((*engine)->file(), {"entry_tokens=32", "last_context=32"});
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();

  ParsedDocument doc;
  doc.sections.push_back(
      {"", 1, 0,
       "It is a truth universally acknowledged, that a single man in possession of a good "
       "fortune, must be in want of a wife. However little known the feelings or views of such "
       "a man may be on his first entering a neighbourhood, this truth is so well fixed in the "
       "minds of the surrounding families, that he is considered the rightful property of some "
       "one or other of their daughters. My dear Mr. Bennet, said his lady to him one day, have "
       "you heard that Netherfield Park is let at last?"});
  // Whole chunks only: the reader's passes then fall on the same 32-token boundaries (its last
  // pass, the tail, holds the last last_context = 32 tokens).
  std::vector<Chunk> chunks = chunk_document(doc, (*engine)->tokenizer(), {.entry_tokens = 32});
  while (!chunks.empty() && chunks.back().tokens.size() < 32) chunks.pop_back();
  ASSERT_GE(chunks.size(), 3u);

  auto encoder = EntryEncoder::create(**engine, **embedder, *config);
  ASSERT_TRUE(encoder.is_ok()) << encoder.status().to_string();
  auto encoded = (*encoder)->encode(chunks);
  ASSERT_TRUE(encoded.is_ok()) << encoded.status().to_string();
  ASSERT_EQ(encoded->size(), chunks.size());

  auto bank = MemoryBank::create(memory_bank_config_for(**engine, **embedder, *config));
  ASSERT_TRUE(bank.is_ok());
  auto reader = MemLongReader::create(**engine, **embedder, **bank, *config);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  std::vector<int32_t> all;
  for (const Chunk& c : chunks) all.insert(all.end(), c.tokens.begin(), c.tokens.end());
  ASSERT_TRUE((*reader)->read_call(all, ReadCallOptions{}).is_ok());
  const std::vector<MemoryEntryInfo> entries = (*bank)->entries();
  ASSERT_EQ(entries.size(), chunks.size());

  const int64_t row = (*encoder)->kv_floats_per_token();
  for (size_t i = 0; i < chunks.size(); ++i) {
    const EncodedEntry& e = (*encoded)[i];
    ASSERT_EQ(entries[i].token_offset, chunks[i].token_begin);
    ASSERT_EQ(static_cast<int64_t>(e.k.size()),
              row * static_cast<int64_t>(chunks[i].tokens.size()));
    std::vector<float> k, v;
    const uint64_t seq[1] = {entries[i].seq};
    ASSERT_TRUE((*bank)->gather(seq, &k, &v).is_ok());
    ASSERT_EQ(k.size(), e.k.size());
    // Entry 0 is read without memory by both, through the same arithmetic: equal up to bf16.
    // Later reader passes attend to memory and number their tokens from 1 (zero mode), which
    // RoPE's relative form makes equal in exact arithmetic; 8-bit activation rounding then
    // differs slightly, so those are compared against the entry's largest magnitude.
    double max_rel = 0.0, max_abs = 0.0, scale = 0.0, sq_diff = 0.0, sq = 0.0;
    for (size_t j = 0; j < k.size(); ++j) {
      max_abs =
          std::max({max_abs, std::abs(double(k[j]) - e.k[j]), std::abs(double(v[j]) - e.v[j])});
      scale = std::max({scale, std::abs(double(e.k[j])), std::abs(double(e.v[j]))});
      sq_diff += std::pow(double(k[j]) - e.k[j], 2) + std::pow(double(v[j]) - e.v[j], 2);
      sq += double(e.k[j]) * e.k[j] + double(e.v[j]) * e.v[j];
      max_rel =
          std::max(max_rel, std::abs(double(k[j]) - e.k[j]) / (std::abs(double(e.k[j])) + 1e-2));
      max_rel =
          std::max(max_rel, std::abs(double(v[j]) - e.v[j]) / (std::abs(double(e.v[j])) + 1e-2));
    }
    if (i == 0) {
      EXPECT_LT(max_rel, 1.0 / 128) << "entry 0 (bf16 keeps 8 bits of mantissa)";
    } else {
      EXPECT_LT(std::sqrt(sq_diff / sq), 0.03) << "entry " << i << ": relative RMS difference";
      EXPECT_LT(max_abs / scale, 0.05) << "entry " << i;
    }
    // The retriever key: the same text embedded the same way by the reader.
    ASSERT_EQ(*(*bank)->entry_text(entries[i].seq), chunks[i].text);
    double norm = 0.0;
    for (float x : e.embedding) norm += double(x) * x;
    EXPECT_NEAR(norm, 1.0, 1e-4);
  }
}

TEST(EntryEncoderRealModel, RejectsOversizedChunksAndHonoursCancel) {
  ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
  auto engine = Engine::load(EngineOptions{.model_path = "", .n_threads = 2});
  ASSERT_TRUE(engine.is_ok());
  auto embedder = load_embedder(default_retriever_path(), 2);
  ASSERT_TRUE(embedder.is_ok());
  auto config = memlong_config_for((*engine)->file(), {"entry_tokens=4"});
  ASSERT_TRUE(config.is_ok());
  auto encoder = EntryEncoder::create(**engine, **embedder, *config);
  ASSERT_TRUE(encoder.is_ok());
  Chunk big;
  big.tokens = {1, 2, 3, 4, 5};
  EXPECT_EQ((*encoder)->encode(std::span<const Chunk>(&big, 1)).status().code(),
            StatusCode::kInvalidArgument);
  CancelSource cancel;
  cancel.cancel();
  Chunk ok;
  ok.tokens = {100, 200};
  EXPECT_EQ((*encoder)->encode(std::span<const Chunk>(&ok, 1), cancel.token()).status().code(),
            StatusCode::kCancelled);
}

}  // namespace
}  // namespace memlong
