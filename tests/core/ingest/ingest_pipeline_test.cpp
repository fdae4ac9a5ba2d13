// IngestPipeline on the real default model and a real store in a temp folder: what gets stored
// (chunks with provenance, memory entries, search), incremental re-ingest, per-file errors,
// cancel and resume to exactly the entries of an uninterrupted run, pause.
#include "core/ingest/ingest_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/common/paths.h"
#include "tests/test_support.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;

struct Models {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Embedder> embedder;
  MemLongConfig config;
};

Models& models() {
  static Models m = [] {
    Models r;
    auto e = Engine::load(EngineOptions{.model_path = "", .n_threads = 2});
    if (!e.is_ok()) {
      ADD_FAILURE() << "default model needed (run scripts/setup): " << e.status().to_string();
      std::abort();
    }
    r.engine = std::move(*e);
    auto emb = load_embedder(default_retriever_path(), 2);
    if (!emb.is_ok()) std::abort();
    r.embedder = std::move(*emb);
    // Small entries keep the test inputs short while exercising many batches.
    r.config = *memlong_config_for(r.engine->file(), {"entry_tokens=32"});
    return r;
  }();
  return m;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// Three small documents: a plain text book excerpt, Markdown with two sections, and another text.
std::vector<fs::path> make_corpus(const fs::path& dir) {
  fs::create_directories(dir);
  write_file(dir / "emma.txt", test::book_excerpt("emma.txt", 20000, 1500));
  write_file(dir / "notes.md",
             "# Lighthouse\n\nThe keeper of the northern lighthouse is named Alaric Venn. He "
             "climbs the tower every evening.\n\n## Harbour\n\nThe harbour master keeps the "
             "silver key in the blue cabinet by the door.\n");
  write_file(dir / "persuasion.txt", test::book_excerpt("persuasion.txt", 30000, 1200));
  return {dir / "emma.txt", dir / "notes.md", dir / "persuasion.txt"};
}

Result<std::unique_ptr<IngestPipeline>> pipeline_for(LibraryStore& store, int32_t batch = 4) {
  Models& m = models();
  IngestOptions o;
  o.batch_chunks = batch;
  return IngestPipeline::create(*m.engine, *m.embedder, store, m.config, o);
}

// Every entry of every document of `store` (by path): texts, spans, embeddings and raw K/V.
struct Snapshot {
  std::map<std::string, std::vector<EntryRecord>> entries;
  std::map<std::string, std::vector<std::vector<uint8_t>>> kv;
};

Snapshot snapshot(LibraryStore& store, int64_t profile) {
  Snapshot s;
  auto docs = store.list_documents();
  EXPECT_TRUE(docs.is_ok());
  for (const DocumentRecord& d : *docs) {
    auto ids = store.list_entries(profile, DocSet::of({d.id}));
    EXPECT_TRUE(ids.is_ok());
    auto recs = store.get_entries(*ids);
    EXPECT_TRUE(recs.is_ok());
    const std::string name = fs::path(d.meta.path).filename().string();
    for (EntryRecord& e : *recs) {
      auto raw = store.load_kv_raw(e.entry_id);
      EXPECT_TRUE(raw.is_ok());
      s.kv[name].push_back(*raw);
      e.entry_id = 0;  // ids differ between libraries
      e.doc_id = 0;
      e.profile_id = 0;
    }
    s.entries[name] = std::move(*recs);
  }
  return s;
}

void expect_same(const Snapshot& a, const Snapshot& b) {
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (const auto& [name, ea] : a.entries) {
    ASSERT_TRUE(b.entries.count(name)) << name;
    const auto& eb = b.entries.at(name);
    ASSERT_EQ(ea.size(), eb.size()) << name;
    for (size_t i = 0; i < ea.size(); ++i) {
      EXPECT_EQ(ea[i].text, eb[i].text) << name << " entry " << i;
      EXPECT_EQ(ea[i].token_begin, eb[i].token_begin);
      EXPECT_EQ(ea[i].tokens, eb[i].tokens);
      EXPECT_EQ(ea[i].section_ordinal, eb[i].section_ordinal);
      EXPECT_EQ(ea[i].embedding, eb[i].embedding) << name << " entry " << i;
      EXPECT_EQ(a.kv.at(name)[i], b.kv.at(name)[i]) << name << " entry " << i << " K/V bytes";
    }
  }
}

TEST(IngestPipelineRealModel, StoresChunksWithProvenanceAndFindsThem) {
  test::TempDir tmp;
  const std::vector<fs::path> files = make_corpus(tmp.path() / "docs");
  auto store = LibraryStore::open((tmp.path() / "lib").string());
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  auto p = pipeline_for(**store);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  std::vector<IngestProgress> seen;
  auto report = (*p)->run(files, [&](const IngestProgress& pr) { seen.push_back(pr); });
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  ASSERT_EQ(report->files.size(), 3u);
  for (const IngestFileResult& f : report->files) {
    EXPECT_EQ(f.outcome, IngestStage::kDone) << f.path << ": " << f.error;
  }
  // Progress: chunk counts never go down within a file, tokens_done never down overall, and the
  // run ends with every token done.
  ASSERT_FALSE(seen.empty());
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i].tokens_done, seen[i - 1].tokens_done);
    if (seen[i].file_index == seen[i - 1].file_index) {
      EXPECT_GE(seen[i].chunks_done, seen[i - 1].chunks_done);
    }
  }
  EXPECT_EQ(seen.back().tokens_done, seen.back().tokens_total);
  EXPECT_EQ(report->tokens_read, seen.back().tokens_done);

  // The stored chunks are exactly the chunker's, for the parsed Markdown document.
  auto md = (*store)->find_document_by_path(files[1].string());
  ASSERT_TRUE(md.is_ok() && md->has_value());
  EXPECT_EQ((*md)->status, DocumentStatus::kReady);
  EXPECT_EQ((*md)->meta.format, "markdown");
  auto parsed = parse_document(files[1]);
  ASSERT_TRUE(parsed.is_ok());
  const std::vector<Chunk> chunks =
      chunk_document(*parsed, models().engine->tokenizer(), {.entry_tokens = 32});
  auto ids = (*store)->list_entries((*p)->profile_id(), DocSet::of({(*md)->id}));
  ASSERT_TRUE(ids.is_ok());
  auto recs = (*store)->get_entries(*ids);
  ASSERT_TRUE(recs.is_ok());
  ASSERT_EQ(recs->size(), chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ((*recs)[i].text, chunks[i].text);
    EXPECT_EQ((*recs)[i].token_begin, chunks[i].token_begin);
    EXPECT_EQ((*recs)[i].section_ordinal, chunks[i].section_ordinal);
  }
  EXPECT_EQ((*md)->n_tokens, chunks.back().token_end);
  auto secs = (*store)->sections((*md)->id);
  ASSERT_TRUE(secs.is_ok());
  ASSERT_EQ(secs->size(), parsed->sections.size());

  // Fused search finds the planted sentence with its section as provenance.
  const std::string q = "Where is the silver key kept?";
  auto qe = models().embedder->embed(std::span<const std::string>(&q, 1), EmbedKind::kQuery);
  ASSERT_TRUE(qe.is_ok());
  auto hits = (*store)->search((*p)->profile_id(), q, *qe, 3, DocSet::all());
  ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
  ASSERT_FALSE(hits->empty());
  EXPECT_NE((*hits)[0].text.find("silver key"), std::string::npos) << (*hits)[0].text;
  EXPECT_EQ((*hits)[0].section_title, "Harbour");
}

TEST(IngestPipelineRealModel, UnchangedFilesAreSkippedAndAChangedOneIsReread) {
  test::TempDir tmp;
  const std::vector<fs::path> files = make_corpus(tmp.path() / "docs");
  auto store = LibraryStore::open((tmp.path() / "lib").string());
  ASSERT_TRUE(store.is_ok());
  auto p = pipeline_for(**store);
  ASSERT_TRUE(p.is_ok());
  ASSERT_TRUE((*p)->run(files, {}).is_ok());
  const Snapshot before = snapshot(**store, (*p)->profile_id());

  auto again = (*p)->run(files, {});
  ASSERT_TRUE(again.is_ok());
  for (const IngestFileResult& f : again->files) EXPECT_EQ(f.outcome, IngestStage::kSkipped);
  EXPECT_EQ(again->tokens_read, 0);

  write_file(files[1], "# Changed\n\nThe keeper now lives in the southern tower.\n");
  auto third = (*p)->run(files, {});
  ASSERT_TRUE(third.is_ok());
  EXPECT_EQ(third->files[0].outcome, IngestStage::kSkipped);
  EXPECT_EQ(third->files[1].outcome, IngestStage::kDone);
  EXPECT_EQ(third->files[2].outcome, IngestStage::kSkipped);
  const Snapshot after = snapshot(**store, (*p)->profile_id());
  ASSERT_EQ(after.entries.at("notes.md").size(), 1u);
  EXPECT_EQ(after.entries.at("notes.md")[0].text, "The keeper now lives in the southern tower.");
  // The other documents' entries are untouched, byte for byte.
  EXPECT_EQ(after.kv.at("emma.txt"), before.kv.at("emma.txt"));
  EXPECT_EQ(after.kv.at("persuasion.txt"), before.kv.at("persuasion.txt"));
}

TEST(IngestPipelineRealModel, ABrokenFileFailsAloneWithItsReason) {
  test::TempDir tmp;
  std::vector<fs::path> files = make_corpus(tmp.path() / "docs");
  const fs::path junk = tmp.path() / "docs" / "broken.epub";
  write_file(junk, "PK\x03\x04 this is not really a zip archive");
  const fs::path empty = tmp.path() / "docs" / "empty.txt";
  write_file(empty, "");
  files.insert(files.begin() + 1, junk);
  files.push_back(empty);
  auto store = LibraryStore::open((tmp.path() / "lib").string());
  ASSERT_TRUE(store.is_ok());
  auto p = pipeline_for(**store);
  ASSERT_TRUE(p.is_ok());
  auto report = (*p)->run(files, {});
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  ASSERT_EQ(report->files.size(), 5u);
  EXPECT_EQ(report->files[1].outcome, IngestStage::kFailed);
  EXPECT_FALSE(report->files[1].error.empty());
  EXPECT_EQ(report->files[4].outcome, IngestStage::kFailed);
  for (size_t i : {0u, 2u, 3u}) EXPECT_EQ(report->files[i].outcome, IngestStage::kDone);
  auto bad = (*store)->find_document_by_path(junk.string());
  ASSERT_TRUE(bad.is_ok() && bad->has_value());
  EXPECT_EQ((*bad)->status, DocumentStatus::kFailed);
  EXPECT_EQ((*bad)->error, report->files[1].error);
}

TEST(IngestPipelineRealModel, CancelThenResumeEqualsAnUninterruptedRun) {
  test::TempDir tmp;
  const std::vector<fs::path> files = make_corpus(tmp.path() / "docs");
  auto ref_store = LibraryStore::open((tmp.path() / "ref").string());
  ASSERT_TRUE(ref_store.is_ok());
  auto ref = pipeline_for(**ref_store);
  ASSERT_TRUE(ref.is_ok());
  ASSERT_TRUE((*ref)->run(files, {}).is_ok());

  auto store = LibraryStore::open((tmp.path() / "lib").string());
  ASSERT_TRUE(store.is_ok());
  {
    auto p = pipeline_for(**store, 2);
    ASSERT_TRUE(p.is_ok());
    CancelSource cancel;
    // Cancel once the first document has committed a few batches.
    auto report = (*p)->run(
        files,
        [&](const IngestProgress& pr) {
          if (pr.chunks_done >= 4) cancel.cancel();
        },
        cancel.token());
    ASSERT_TRUE(report.is_ok());
    EXPECT_EQ(report->files[0].outcome, IngestStage::kCancelled);
    EXPECT_EQ(report->files[2].outcome, IngestStage::kCancelled);
    auto doc = (*store)->find_document_by_path(files[0].string());
    ASSERT_TRUE(doc.is_ok() && doc->has_value());
    EXPECT_NE((*doc)->status, DocumentStatus::kReady);
    auto n = (*store)->committed_chunk_count((*doc)->id, (*p)->profile_id());
    ASSERT_TRUE(n.is_ok());
    EXPECT_GE(*n, 4);
  }
  auto p = pipeline_for(**store, 3);
  ASSERT_TRUE(p.is_ok());
  std::vector<int64_t> first_chunks;
  auto report = (*p)->run(files, [&](const IngestProgress& pr) {
    if (pr.file_index == 0 && pr.stage == IngestStage::kReading)
      first_chunks.push_back(pr.chunks_done);
  });
  ASSERT_TRUE(report.is_ok());
  for (const IngestFileResult& f : report->files) EXPECT_EQ(f.outcome, IngestStage::kDone);
  ASSERT_FALSE(first_chunks.empty());
  EXPECT_GE(first_chunks.front(), 4) << "the resumed run starts after the committed chunks";
  expect_same(snapshot(**ref_store, (*ref)->profile_id()), snapshot(**store, (*p)->profile_id()));
}

TEST(IngestPipelineRealModel, PauseHoldsBetweenBatchesAndResumeFinishes) {
  test::TempDir tmp;
  const std::vector<fs::path> files = make_corpus(tmp.path() / "docs");
  auto store = LibraryStore::open((tmp.path() / "lib").string());
  ASSERT_TRUE(store.is_ok());
  auto p = pipeline_for(**store, 1);
  ASSERT_TRUE(p.is_ok());
  PauseSource pause;
  std::atomic<int64_t> last_tokens{0};
  std::atomic<int> n_callbacks{0};
  std::atomic<bool> paused_once{false};
  std::atomic<bool> run_returned{false};
  std::thread controller([&] {
    // Waits for the first progress; a run that ends without any (every file failed) is reported
    // by the assertions below instead of hanging here.
    while (last_tokens.load() == 0 && !run_returned.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (last_tokens.load() == 0) return;
    pause.pause();
    paused_once = true;
    // The batch in flight when pause() came may still end (one more callback), then none.
    const int c0 = n_callbacks.load();
    for (int i = 0; i < 300 && n_callbacks.load() == c0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int64_t held = last_tokens.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(last_tokens.load(), held) << "no batch runs while paused";
    pause.resume();
  });
  auto report = (*p)->run(
      files, [&](const IngestProgress& pr) { last_tokens = pr.tokens_done; }, {}, pause.token());
  run_returned = true;
  controller.join();
  ASSERT_TRUE(report.is_ok());
  EXPECT_TRUE(paused_once.load());
  for (const IngestFileResult& f : report->files) EXPECT_EQ(f.outcome, IngestStage::kDone);
}

}  // namespace
}  // namespace memlong
