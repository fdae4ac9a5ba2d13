// Chunker invariants (core/ingest/chunker.h) on the real default model's byte-level BPE, with an
// independent check: each chunk's text is recovered by decoding its own token ids.
#include "core/ingest/chunker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/common/paths.h"
#include "core/model/model_file.h"

namespace memlong {
namespace {

std::unique_ptr<Tokenizer> real_tokenizer() {
  auto file = open_model(default_model_path());
  if (!file.is_ok()) {
    ADD_FAILURE() << "default model needed (run scripts/setup): " << file.status().to_string();
    return nullptr;
  }
  auto tok = (*file)->make_tokenizer();
  if (!tok.is_ok()) ADD_FAILURE() << tok.status().to_string();
  return tok.is_ok() ? std::move(*tok) : nullptr;
}

std::string book_excerpt(size_t n_bytes) {
  std::ifstream in(
      std::string(MEMLONG_SOURCE_DIR) + "/../shared/data/books/pride-and-prejudice.txt",
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.substr(s.size() / 3, n_bytes);
}

TEST(ChunkerRealModel, TilesTokensAndTextOfEverySection) {
  auto tok = real_tokenizer();
  ASSERT_TRUE(tok);
  ParsedDocument doc;
  doc.sections.push_back({"Chapter 1", 1, 3, book_excerpt(6000)});
  doc.sections.push_back({"Empty", 1, 4, ""});
  doc.sections.push_back({"한국어", 1, 5,
                          "서울은 대한민국의 수도이다. 한강이 도시를 가로질러 흐른다. " +
                              std::string(40, 'x') + " Ünïcødé ✓ — end."});
  doc.sections.push_back({"Chapter 2", 1, 6, book_excerpt(900)});
  ASSERT_FALSE(doc.sections[0].text.empty()) << "book missing from ../shared/data/books";
  const ChunkerOptions opt{.entry_tokens = 64};
  const std::vector<Chunk> chunks = chunk_document(doc, *tok, opt);
  ASSERT_GT(chunks.size(), 5u);
  int64_t expect_begin = 0;
  std::vector<std::vector<int32_t>> ids_per_section(doc.sections.size());
  std::vector<std::string> text_per_section(doc.sections.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    EXPECT_EQ(c.ordinal, static_cast<int32_t>(i));
    EXPECT_EQ(c.token_begin, expect_begin);
    EXPECT_EQ(c.token_end - c.token_begin, static_cast<int64_t>(c.tokens.size()));
    EXPECT_GE(c.tokens.size(), 1u);
    EXPECT_LE(c.tokens.size(), 64u);
    EXPECT_NE(c.section_ordinal, 1) << "the empty section has no chunks";
    EXPECT_EQ(c.page, doc.sections[static_cast<size_t>(c.section_ordinal)].page);
    const std::string& sec = doc.sections[static_cast<size_t>(c.section_ordinal)].text;
    EXPECT_EQ(c.char_begin, static_cast<int64_t>(text_per_section[c.section_ordinal].size()));
    EXPECT_EQ(c.text, sec.substr(static_cast<size_t>(c.char_begin),
                                 static_cast<size_t>(c.char_end - c.char_begin)));
    // Byte-level BPE is lossless: the chunk's own ids decode to exactly its text.
    EXPECT_EQ(tok->decode(c.tokens, true), c.text) << "chunk " << i;
    ids_per_section[c.section_ordinal].insert(ids_per_section[c.section_ordinal].end(),
                                              c.tokens.begin(), c.tokens.end());
    text_per_section[c.section_ordinal] += c.text;
    expect_begin = c.token_end;
  }
  for (size_t s = 0; s < doc.sections.size(); ++s) {
    EXPECT_EQ(ids_per_section[s], tok->encode(doc.sections[s].text, false, false))
        << "section " << s;
    EXPECT_EQ(text_per_section[s], doc.sections[s].text) << "section " << s;
  }
}

TEST(ChunkerRealModel, ChunksNeverCrossSections) {
  auto tok = real_tokenizer();
  ASSERT_TRUE(tok);
  ParsedDocument doc;
  doc.sections.push_back({"A", 1, 0, "one two"});
  doc.sections.push_back({"B", 1, 0, "three"});
  const std::vector<Chunk> chunks = chunk_document(doc, *tok, ChunkerOptions{.entry_tokens = 128});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text, "one two");
  EXPECT_EQ(chunks[1].text, "three");
  EXPECT_EQ(chunks[1].token_begin, chunks[0].token_end);
}

}  // namespace
}  // namespace memlong
