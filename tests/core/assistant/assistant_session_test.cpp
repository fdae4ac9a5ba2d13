// The Assistant's library and saved sessions end to end on the real default model and a real
// library folder: ingest, search with provenance, sessions new/list/load/fork/rename/delete,
// persistence across restarts, and export/import into another library after the source files
// are gone (so memory can only come from the archive, never from re-reading a book).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/assistant/assistant.h"
#include "core/common/paths.h"
#include "tests/test_support.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;

struct Tmp {
  test::TempDir dir;
  fs::path path = dir.path();
  Tmp() { fs::create_directories(path / "docs"); }
};

std::unique_ptr<Assistant> open_at(const fs::path& lib) {
  AssistantOptions o;
  o.library_dir = lib;
  o.n_threads = 2;
  o.memlong_overrides = {{"entry_tokens", "32"}};
  auto a = Assistant::open(o);
  EXPECT_TRUE(a.is_ok()) << a.status().to_string();
  return a.is_ok() ? std::move(*a) : nullptr;
}

TEST(AssistantRealModel, LibrarySessionsPersistenceAndPortableSessions) {
  ASSERT_TRUE(fs::exists(default_model_path())) << "run scripts/setup";
  Tmp tmp;
  const fs::path lighthouse = tmp.path / "docs" / "lighthouse.md";
  std::ofstream(lighthouse) << "# Lighthouse\n\nThe keeper of the northern lighthouse is Alaric "
                               "Venn.\n\n## Harbour\n\nThe harbour master keeps the silver key in "
                               "the blue cabinet.\n";
  const fs::path emma = tmp.path / "docs" / "emma.txt";
  std::ofstream(emma) << test::book_excerpt("emma.txt", 50000, 1200);
  const fs::path persuasion = tmp.path / "docs" / "persuasion.txt";
  std::ofstream(persuasion) << test::book_excerpt("persuasion.txt", 50000, 900);

  int64_t default_id = 0, memory_tokens = 0;
  {
    auto a = open_at(tmp.path / "lib");
    ASSERT_TRUE(a);
    auto s0 = a->current_session();
    ASSERT_TRUE(s0.is_ok());
    EXPECT_EQ(s0->name, "Default");
    default_id = s0->id;
    auto r = a->ingest({lighthouse, emma}, {});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    auto docs = a->documents();
    ASSERT_TRUE(docs.is_ok());
    ASSERT_EQ(docs->size(), 2u);
    int64_t tokens = 0;
    for (const DocumentInfo& d : *docs) {
      EXPECT_EQ(d.status, DocumentStatus::kReady);
      EXPECT_TRUE(d.has_memory);
      EXPECT_GT(d.n_chunks, 0);
      tokens += d.n_tokens;
    }
    auto s1 = a->current_session();
    ASSERT_TRUE(s1.is_ok());
    EXPECT_EQ(s1->n_documents, 2);
    EXPECT_EQ(s1->memory_tokens, tokens) << "the session's memory holds both documents";
    memory_tokens = s1->memory_tokens;
    EXPECT_EQ(a->status().memory_tokens, tokens);

    auto hits = a->search("Where is the silver key?", 3);
    ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
    ASSERT_FALSE(hits->empty());
    EXPECT_NE((*hits)[0].passage.text.find("silver key"), std::string::npos);
    EXPECT_EQ((*hits)[0].passage.doc_title, "Lighthouse");
    EXPECT_EQ((*hits)[0].passage.section_title, "Harbour");

    // The reader view's text is the document's text, chunk by chunk.
    auto text = a->document_text((*hits)[0].passage.doc_id);
    ASSERT_TRUE(text.is_ok());
    ASSERT_EQ(text->sections.size(), 2u);
    EXPECT_EQ(text->sections[1].title, "Harbour");
    EXPECT_EQ(text->sections[1].text,
              "The harbour master keeps the silver key in the blue cabinet.");

    // A second session reads only what is added to it.
    auto b = a->new_session("Persuasion only");
    ASSERT_TRUE(b.is_ok());
    EXPECT_EQ(b->n_documents, 0);
    ASSERT_TRUE(a->ingest({persuasion}, {}).is_ok());
    auto b2 = a->current_session();
    ASSERT_TRUE(b2.is_ok());
    EXPECT_EQ(b2->n_documents, 1);
    auto only = a->search("silver key blue cabinet", 5);
    ASSERT_TRUE(only.is_ok());
    for (const LibraryHit& h : *only) EXPECT_NE(h.passage.doc_title, "Lighthouse");

    auto all = a->sessions();
    ASSERT_TRUE(all.is_ok());
    EXPECT_EQ(all->size(), 2u);
    // Fork, rename; the current session cannot be deleted, another one can.
    auto forked = a->fork_session(default_id, "Fork");
    ASSERT_TRUE(forked.is_ok());
    EXPECT_EQ(forked->n_documents, 2);
    EXPECT_EQ(forked->memory_tokens, memory_tokens);
    ASSERT_TRUE(a->rename_session(forked->id, "Renamed fork").is_ok());
    EXPECT_EQ(a->delete_session(forked->id).code(), StatusCode::kInvalidArgument);
    ASSERT_TRUE(a->delete_session(b->id).is_ok());
    auto loaded = a->load_session(default_id);
    ASSERT_TRUE(loaded.is_ok());
    EXPECT_EQ(loaded->memory_tokens, memory_tokens);
    ASSERT_TRUE(a->delete_session(forked->id).is_ok());
    ASSERT_TRUE(a->new_session("Newer but not current").is_ok());
    ASSERT_TRUE(a->load_session(default_id).is_ok());
    ASSERT_TRUE(a->export_session(default_id, tmp.path / "default.memlong-session").is_ok());
  }

  // The books are gone: whatever memory comes back now comes from the store or the archive.
  fs::remove_all(tmp.path / "docs");
  {
    auto a = open_at(tmp.path / "lib");
    ASSERT_TRUE(a);
    auto s = a->current_session();
    ASSERT_TRUE(s.is_ok());
    EXPECT_EQ(s->id, default_id) << "the last used session opens again";
    EXPECT_EQ(s->memory_tokens, memory_tokens);
    auto hits = a->search("Who keeps the northern lighthouse?", 2);
    ASSERT_TRUE(hits.is_ok());
    ASSERT_FALSE(hits->empty());
    EXPECT_NE((*hits)[0].passage.text.find("Alaric"), std::string::npos);
  }
  {
    auto other = open_at(tmp.path / "other-machine");
    ASSERT_TRUE(other);
    auto imported = other->import_session(tmp.path / "default.memlong-session");
    ASSERT_TRUE(imported.is_ok()) << imported.status().to_string();
    EXPECT_EQ(imported->n_documents, 2);
    EXPECT_EQ(imported->memory_tokens, memory_tokens);
    auto loaded = other->load_session(imported->id);
    ASSERT_TRUE(loaded.is_ok());
    auto hits = other->search("Where is the silver key?", 2);
    ASSERT_TRUE(hits.is_ok());
    ASSERT_FALSE(hits->empty());
    EXPECT_NE((*hits)[0].passage.text.find("silver key"), std::string::npos);
    EXPECT_EQ((*hits)[0].passage.section_title, "Harbour");
    // A broken archive is refused with nothing changed.
    std::ofstream(tmp.path / "junk.memlong-session") << "not a session";
    EXPECT_FALSE(other->import_session(tmp.path / "junk.memlong-session").is_ok());
    auto sessions = other->sessions();
    ASSERT_TRUE(sessions.is_ok());
    EXPECT_EQ(sessions->size(), 2u);  // Default of this library + the imported one
    auto cur = other->current_session();
    ASSERT_TRUE(cur.is_ok());
    EXPECT_EQ(cur->id, imported->id);
  }
}

}  // namespace
}  // namespace memlong

namespace memlong {
namespace {

TEST(AssistantRealModel, AskCitesItsSourcesStreamsAndSavesTheTurn) {
  ASSERT_TRUE(fs::exists(default_model_path())) << "run scripts/setup";
  Tmp tmp;
  const std::string source =
      "# Lighthouse\n\nThe keeper of the northern lighthouse is named Alaric Venn.\n\n## "
      "Harbour\n\n"
      "The harbour master keeps the silver key in the blue cabinet by the door.\n";
  const fs::path notes = tmp.path / "docs" / "notes.md";
  std::ofstream(notes) << source;
  const fs::path filler = tmp.path / "docs" / "emma.txt";
  std::ofstream(filler) << test::book_excerpt("emma.txt", 80000, 1500);
  auto a = open_at(tmp.path / "lib");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->ingest({notes, filler}, {}).is_ok());

  AskOptions o;
  o.mode = AnswerMode::kText;
  o.top_k = 3;
  o.max_tokens = 24;
  std::string streamed;
  auto ans =
      a->ask("Where does the harbour master keep the silver key?", o, [&](std::string_view p) {
        streamed += p;
        return true;
      });
  ASSERT_TRUE(ans.is_ok()) << ans.status().to_string();
  EXPECT_EQ(streamed, ans->text);
  EXPECT_NE(ans->text.find("blue cabinet"), std::string::npos) << ans->text;
  ASSERT_FALSE(ans->citations.empty());
  // Provenance: the top source is the planted passage, quoted from the source text itself.
  const Citation& top = ans->citations[0];
  EXPECT_EQ(top.passage.doc_title, "Lighthouse");
  EXPECT_EQ(top.passage.section_title, "Harbour");
  EXPECT_NE(source.find(top.passage.text), std::string::npos) << top.passage.text;
  EXPECT_NE(top.passage.text.find(top.quote), std::string::npos) << top.quote;
  for (const Citation& c : ans->citations) {
    auto text = a->document_text(c.passage.doc_id);
    ASSERT_TRUE(text.is_ok());
    bool found = false;
    for (const DocumentText::Chunk& ch : text->chunks) {
      if (ch.entry_id != c.passage.entry_id) continue;
      const std::string& sec = text->sections[static_cast<size_t>(ch.section_ordinal)].text;
      EXPECT_EQ(sec.substr(static_cast<size_t>(ch.char_begin),
                           static_cast<size_t>(ch.char_end - ch.char_begin)),
                c.passage.text);
      found = true;
    }
    EXPECT_TRUE(found) << "citation " << c.passage.entry_id << " is a chunk of its document";
  }

  // Memory mode: attention masses over the cited passages sum to 1.
  o.mode = AnswerMode::kMemory;
  auto mem = a->ask("Who is the keeper of the northern lighthouse?", o, {});
  ASSERT_TRUE(mem.is_ok()) << mem.status().to_string();
  ASSERT_FALSE(mem->citations.empty());
  double mass = 0.0;
  for (const Citation& c : mem->citations) mass += c.attention_mass;
  EXPECT_NEAR(mass, 1.0, 1e-3);

  // Cancelled before it starts: a partial (empty) answer, flagged.
  CancelSource cancel;
  cancel.cancel();
  auto stopped = a->ask("And the harbour?", o, {}, cancel.token());
  ASSERT_TRUE(stopped.is_ok());
  EXPECT_TRUE(stopped->cancelled);

  // The turns are in the session's conversation, with their citations.
  auto conv = a->conversation();
  ASSERT_TRUE(conv.is_ok());
  ASSERT_GE(conv->size(), 4u);
  EXPECT_EQ((*conv)[0].role, "user");
  EXPECT_EQ((*conv)[1].role, "assistant");
  EXPECT_EQ((*conv)[1].text, ans->text);
  ASSERT_EQ((*conv)[1].citations.size(), ans->citations.size());
  EXPECT_EQ((*conv)[1].citations[0].passage.entry_id, top.passage.entry_id);
  EXPECT_EQ((*conv)[1].citations[0].quote, top.quote);

  // The memory map shows the hits of the cited entries.
  auto map = a->memory_map(top.passage.doc_id);
  ASSERT_TRUE(map.is_ok());
  uint32_t hits = 0;
  for (const MemoryMapEntry& e : *map) {
    EXPECT_TRUE(e.in_memory);
    if (e.entry_id == top.passage.entry_id) hits = e.hits;
  }
  EXPECT_GE(hits, 1u);
}

TEST(AssistantRealModel, SummarizeGoesChapterByChapterAndSavesTheSummary) {
  ASSERT_TRUE(fs::exists(default_model_path())) << "run scripts/setup";
  Tmp tmp;
  const fs::path story = tmp.path / "docs" / "story.md";
  std::ofstream(story) << "# The Mill\n\nTom works at the old mill by the river. Every morning he "
                          "opens the sluice and the wheel begins to turn.\n\n# The Flood\n\nOne "
                          "spring the river rose over its banks. Tom closed the sluice and saved "
                          "the mill from the flood.\n";
  auto a = open_at(tmp.path / "lib");
  ASSERT_TRUE(a);
  auto r = a->ingest({story}, {});
  ASSERT_TRUE(r.is_ok());
  const int64_t doc = r->files[0].doc_id;
  std::vector<SummaryProgress> seen;
  auto s = a->summarize(doc, 0, -1, [&](const SummaryProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  ASSERT_EQ(s->chapters.size(), 2u);
  EXPECT_EQ(s->chapters[0].title, "The Mill");
  EXPECT_EQ(s->chapters[1].title, "The Flood");
  for (const ChapterSummary& c : s->chapters) EXPECT_FALSE(c.text.empty());
  EXPECT_FALSE(s->book_summary.empty());
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].chapter_index, seen[i - 1].chapter_index) << "chapters in order";
  }
  EXPECT_EQ(seen.back().chapter_index, 2) << "the book summary comes last";
  const std::string md = summary_to_markdown(*s);
  EXPECT_LT(md.find("## The Mill"), md.find("## The Flood"));
  auto conv = a->conversation();
  ASSERT_TRUE(conv.is_ok());
  ASSERT_EQ(conv->size(), 2u);
  EXPECT_EQ(conv->back().text, md);
  EXPECT_EQ(a->summarize(doc, 5, 7, {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memlong
