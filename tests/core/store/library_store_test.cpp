// LibraryStore: documents, chunks with K/V, staleness by profile, K/V integrity, compaction,
// vector/BM25/fused search, and the persisted hnsw index. Invariant numbers refer to
// core/store/library_store.h.
#include "core/store/library_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/common/half.h"
#include "core/store/session_store.h"
#include "tests/core/store/store_test_util.h"

namespace memlong {
namespace {

using store_test::doc_meta;
using store_test::inputs;
using store_test::make_chunks;
using store_test::small_profile;
using store_test::TempDir;

std::unique_ptr<LibraryStore> open_store(const std::string& dir, StoreOptions o = {}) {
  auto s = LibraryStore::open(dir, o);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? std::move(s).value() : nullptr;
}

// Adds doc `name` with n chunks (in batches of 4) and marks it ready. Returns the doc id.
int64_t add_doc(LibraryStore& s, int64_t profile, const std::string& name, uint32_t seed, int n,
                bool mark_ready = true) {
  auto up = s.upsert_document(doc_meta("/books/" + name, "content of " + name, name));
  EXPECT_TRUE(up.is_ok()) << up.status().to_string();
  for (int first = 0; first < n; first += 4) {
    const auto chunks = make_chunks(small_profile(), seed, first, std::min(4, n - first));
    const auto in = inputs(chunks);
    auto ids = s.add_chunks(up->doc_id, profile, in);
    EXPECT_TRUE(ids.is_ok()) << ids.status().to_string();
  }
  if (mark_ready) {
    EXPECT_TRUE(s.set_document_status(up->doc_id, profile, DocumentStatus::kReady).is_ok());
  }
  return up->doc_id;
}

TEST(LibraryStore, UpsertTellsNewUnchangedAndChanged) {
  TempDir dir;
  auto s = open_store(dir.path());
  auto p = s->ensure_profile(small_profile());
  ASSERT_TRUE(p.is_ok());
  const int64_t doc = add_doc(*s, *p, "a.txt", 1, 8);
  auto again = s->upsert_document(doc_meta("/books/a.txt", "content of a.txt", "a.txt"));
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->doc_id, doc);
  EXPECT_FALSE(again->is_new);
  EXPECT_TRUE(again->is_unchanged);
  EXPECT_EQ(*s->committed_chunk_count(doc, *p), 8);
  // New content: the old chunks and memory go, the document is pending again (invariant 3).
  auto changed = s->upsert_document(doc_meta("/books/a.txt", "new content", "a.txt"));
  ASSERT_TRUE(changed.is_ok());
  EXPECT_FALSE(changed->is_unchanged);
  EXPECT_EQ(*s->committed_chunk_count(doc, *p), 0);
  EXPECT_TRUE(*s->needs_rebuild(doc, *p));
  EXPECT_EQ(s->get_document(doc)->status, DocumentStatus::kPending);
  EXPECT_EQ(s->upsert_document(doc_meta("", "x")).status().code(), StatusCode::kInvalidArgument);
  DocumentMeta bad = doc_meta("/x", "x");
  bad.content_hash = "abc";
  EXPECT_EQ(s->upsert_document(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(LibraryStore, LoadKvReturnsTheStoredValuesConcatenated) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  auto up = s->upsert_document(doc_meta("/b", "b"));
  const auto chunks = make_chunks(small_profile(), 5, 0, 6);
  auto ids = s->add_chunks(up->doc_id, p, inputs(chunks));
  ASSERT_TRUE(ids.is_ok()) << ids.status().to_string();
  ASSERT_EQ(ids->size(), 6u);
  // Entries 4, 1, 2 in that order: K and V are those chunks' values back to back.
  const std::vector<int64_t> want = {(*ids)[4], (*ids)[1], (*ids)[2]};
  std::vector<float> k, v;
  ASSERT_TRUE(s->load_kv(want, &k, &v).is_ok());
  std::vector<float> ek, ev;
  for (int i : {4, 1, 2}) {
    ek.insert(ek.end(), chunks[i].k.begin(), chunks[i].k.end());
    ev.insert(ev.end(), chunks[i].v.begin(), chunks[i].v.end());
  }
  EXPECT_EQ(k, ek);  // the synthetic values are exact in bf16
  EXPECT_EQ(v, ev);
  // Metadata comes back too.
  auto entries = s->get_entries(want);
  ASSERT_TRUE(entries.is_ok());
  EXPECT_EQ((*entries)[0].text, chunks[4].text);
  EXPECT_EQ((*entries)[0].tokens, chunks[4].tokens);
  EXPECT_EQ((*entries)[0].embedding, chunks[4].embedding);
  EXPECT_EQ((*entries)[0].token_begin, 64);
  EXPECT_EQ((*entries)[0].n_tokens, 16);
  const int64_t missing[] = {999999};
  EXPECT_EQ(s->load_kv(missing, &k, &v).code(), StatusCode::kNotFound);
}

TEST(LibraryStore, F32InputIsRoundedToBf16) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  auto up = s->upsert_document(doc_meta("/b", "b"));
  auto chunks = make_chunks(small_profile(), 5, 0, 1);
  for (size_t i = 0; i < chunks[0].k.size(); ++i)
    chunks[0].k[i] = 0.1f * static_cast<float>(i) + 1e-3f;
  auto ids = s->add_chunks(up->doc_id, p, inputs(chunks));
  ASSERT_TRUE(ids.is_ok());
  std::vector<float> k, v;
  ASSERT_TRUE(s->load_kv(*ids, &k, &v).is_ok());
  for (size_t i = 0; i < k.size(); ++i) {
    // Independent reference: bf16 keeps 8 significant bits, so the relative error is <= 2^-8.
    EXPECT_NEAR(k[i], chunks[0].k[i], std::abs(chunks[0].k[i]) / 256.0f) << i;
    EXPECT_EQ(k[i], bf16_to_f32(f32_to_bf16(chunks[0].k[i])));
  }
}

TEST(LibraryStore, AddChunksChecksOrdinalsAndSizes) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  auto up = s->upsert_document(doc_meta("/b", "b"));
  const auto first = make_chunks(small_profile(), 1, 0, 3);
  ASSERT_TRUE(s->add_chunks(up->doc_id, p, inputs(first)).is_ok());
  // Invariant 4: a gap or a repeat is refused, and nothing is written.
  const int64_t kv_before = s->kv_file_bytes();
  const auto gap = make_chunks(small_profile(), 1, 4, 2);
  EXPECT_EQ(s->add_chunks(up->doc_id, p, inputs(gap)).status().code(),
            StatusCode::kInvalidArgument);
  const auto repeat = make_chunks(small_profile(), 1, 2, 2);
  EXPECT_EQ(s->add_chunks(up->doc_id, p, inputs(repeat)).status().code(),
            StatusCode::kInvalidArgument);
  auto wrong = make_chunks(small_profile(), 1, 3, 1);
  auto in = inputs(wrong);
  in[0].embedding = in[0].embedding.subspan(1);
  EXPECT_EQ(s->add_chunks(up->doc_id, p, in).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->add_chunks(12345, p, inputs(make_chunks(small_profile(), 1, 0, 1))).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(s->kv_file_bytes(), kv_before);
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/kv.dat"), static_cast<uintmax_t>(kv_before));
  EXPECT_EQ(*s->committed_chunk_count(up->doc_id, p), 3);
  // The next batch resumes at 3.
  EXPECT_TRUE(s->add_chunks(up->doc_id, p, inputs(make_chunks(small_profile(), 1, 3, 2))).is_ok());
  EXPECT_EQ(*s->committed_chunk_count(up->doc_id, p), 5);
}

TEST(LibraryStore, MemoryIsPerProfileAndStaleness) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p1 = *s->ensure_profile(small_profile("model-a"));
  const int64_t p2 = *s->ensure_profile(small_profile("model-b"));
  ASSERT_NE(p1, p2);
  EXPECT_EQ(*s->ensure_profile(small_profile("model-a")), p1);  // same identity, same id
  const int64_t doc = add_doc(*s, p1, "x", 3, 4);
  // Invariant 3/5: ready for p1, nothing for p2.
  EXPECT_FALSE(*s->needs_rebuild(doc, p1));
  EXPECT_TRUE(*s->needs_rebuild(doc, p2));
  EXPECT_EQ(s->list_entries(p2, DocSet::all())->size(), 0u);
  EXPECT_EQ(s->list_entries(p1, DocSet::all())->size(), 4u);
  std::vector<float> q(16, 0.25f);
  EXPECT_TRUE(s->search_vectors(p2, q, 3, DocSet::all())->empty());
  EXPECT_TRUE(s->search_text(p2, "chunk", 3, DocSet::all())->empty());
  EXPECT_EQ(s->search_text(p1, "chunk", 10, DocSet::all())->size(), 4u);
  // The same doc ingested for p2, then p1 purged.
  for (int first = 0; first < 4; first += 2) {
    auto ch = make_chunks(small_profile(), 9, first, 2);
    ASSERT_TRUE(s->add_chunks(doc, p2, inputs(ch)).is_ok());
  }
  EXPECT_TRUE(*s->needs_rebuild(doc, p2));  // not ready until status is written
  ASSERT_TRUE(s->set_document_status(doc, p2, DocumentStatus::kReady).is_ok());
  EXPECT_FALSE(*s->needs_rebuild(doc, p2));
  EXPECT_EQ(s->get_document(doc)->n_tokens, 64);
  // Mixing profiles in one load is refused.
  const auto e1 = *s->list_entries(p1, DocSet::all());
  const auto e2 = *s->list_entries(p2, DocSet::all());
  std::vector<float> k, v;
  const std::vector<int64_t> mixed = {e1[0], e2[0]};
  EXPECT_EQ(s->load_kv(mixed, &k, &v).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(s->mark_stale(doc, p1).is_ok());
  EXPECT_TRUE(*s->needs_rebuild(doc, p1));
  EXPECT_EQ(*s->committed_chunk_count(doc, p1), 0);
  EXPECT_FALSE(*s->needs_rebuild(doc, p2));
  auto purged = s->purge_other_profiles(p2);
  ASSERT_TRUE(purged.is_ok());
  EXPECT_EQ(*purged, 0);  // p1's chunks were already gone
  EXPECT_EQ(s->list_entries(p2, DocSet::all())->size(), 4u);
}

TEST(LibraryStore, FailedStatusKeepsTheError) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  auto up = s->upsert_document(doc_meta("/f", "f"));
  ASSERT_TRUE(s->set_document_status(up->doc_id, p, DocumentStatus::kFailed, "bad pdf").is_ok());
  auto d = s->get_document(up->doc_id);
  EXPECT_EQ(d->status, DocumentStatus::kFailed);
  EXPECT_EQ(d->error, "bad pdf");
  EXPECT_EQ(s->set_document_status(777, p, DocumentStatus::kFailed, "x").code(),
            StatusCode::kNotFound);
}

TEST(LibraryStore, RemoveDocumentCascadesAndCompactReclaimsBytes) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 8);
  const int64_t b = add_doc(*s, p, "b", 2, 8);
  const SectionRecord secs[] = {{0, "One", 1, 1}, {1, "Two", 2, 3}};
  ASSERT_TRUE(s->replace_sections(a, secs).is_ok());
  const auto b_ids = *s->list_entries(p, DocSet::of({b}));
  std::vector<float> kb, vb;
  ASSERT_TRUE(s->load_kv(b_ids, &kb, &vb).is_ok());
  const int64_t before = s->kv_file_bytes();
  ASSERT_TRUE(s->remove_document(a).is_ok());
  EXPECT_EQ(s->get_document(a).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(s->sections(a)->empty());
  EXPECT_EQ(s->list_entries(p, DocSet::all())->size(), 8u);
  // The FTS index forgot a's chunks (trigger on the cascade): every hit is one of b's.
  const auto text_hits = *s->search_text(p, "chunk doc", 50, DocSet::all());
  EXPECT_EQ(text_hits.size(), 8u);
  for (const auto& h : text_hits)
    EXPECT_NE(std::find(b_ids.begin(), b_ids.end(), h.entry_id), b_ids.end()) << h.entry_id;
  EXPECT_EQ(s->kv_file_bytes(), before);  // space comes back only with compact()
  auto reclaimed = s->compact();
  ASSERT_TRUE(reclaimed.is_ok()) << reclaimed.status().to_string();
  const int64_t record = 16 + 2 * 16 * 3 * 8 * 2;
  EXPECT_EQ(*reclaimed, 8 * record);
  EXPECT_EQ(s->kv_file_bytes(), before - 8 * record);
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/kv.dat"),
            static_cast<uintmax_t>(s->kv_file_bytes()));
  std::vector<float> k2, v2;
  ASSERT_TRUE(s->load_kv(b_ids, &k2, &v2).is_ok());
  EXPECT_EQ(k2, kb);
  EXPECT_EQ(v2, vb);
  EXPECT_EQ(*s->compact(), 0);  // nothing dead left: no rewrite
  // Survives a reopen (the new file id is committed).
  s.reset();
  s = open_store(dir.path());
  ASSERT_TRUE(s->load_kv(b_ids, &k2, &v2).is_ok());
  EXPECT_EQ(v2, vb);
  EXPECT_TRUE(s->open_report().notes.empty());
  // Appending after compaction works.
  add_doc(*s, p, "c", 3, 4);
  EXPECT_EQ(s->list_entries(p, DocSet::all())->size(), 12u);
}

TEST(LibraryStore, CompactionInterruptedAfterCommitIsFinishedOnOpen) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 4);
  add_doc(*s, p, "b", 2, 4);
  ASSERT_TRUE(s->remove_document(a).is_ok());
  const auto ids = *s->list_entries(p, DocSet::all());
  std::vector<float> k, v;
  ASSERT_TRUE(s->load_kv(ids, &k, &v).is_ok());
  ASSERT_TRUE(s->compact().is_ok());
  s.reset();
  // Simulate a crash between the commit and the rename: the new file is still at its temp name
  // and kv.dat is an old file with another id.
  const std::string kv = dir.path() + "/kv.dat";
  std::filesystem::rename(kv, dir.path() + "/kv.dat.compact");
  {
    std::ifstream in(dir.path() + "/kv.dat.compact", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    bytes[20] = bytes[20] == 'a' ? 'b' : 'a';  // a different file id (header crc now wrong too)
    std::ofstream(kv, std::ios::binary) << bytes;
  }
  s = open_store(dir.path());
  ASSERT_TRUE(s);
  ASSERT_EQ(s->open_report().notes.size(), 1u);
  EXPECT_NE(s->open_report().notes[0].find("finished"), std::string::npos);
  std::vector<float> k2, v2;
  ASSERT_TRUE(s->load_kv(ids, &k2, &v2).is_ok());
  EXPECT_EQ(k2, k);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/kv.dat.compact"));
}

TEST(LibraryStore, CorruptRecordIsReportedAndMarkedForRebuild) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 4);
  const int64_t b = add_doc(*s, p, "b", 2, 4);
  const auto a_ids = *s->list_entries(p, DocSet::of({a}));
  s.reset();
  {  // flip one payload byte of a's second record
    std::fstream f(dir.path() + "/kv.dat", std::ios::in | std::ios::out | std::ios::binary);
    const int64_t record = 16 + 2 * 16 * 3 * 8 * 2;
    f.seekg(64 + record + 16 + 100);
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(64 + record + 16 + 100);
    f.write(&c, 1);
  }
  s = open_store(dir.path());
  std::vector<float> k, v;
  const std::vector<int64_t> one = {a_ids[1]};
  const Status st = s->load_kv(one, &k, &v);
  EXPECT_EQ(st.code(), StatusCode::kCorrupt) << st.to_string();
  EXPECT_NE(st.message().find("crc32"), std::string::npos) << st.message();
  EXPECT_TRUE(k.empty());
  // The damaged doc needs a rebuild; the other is untouched.
  EXPECT_TRUE(*s->needs_rebuild(a, p));
  EXPECT_EQ(s->get_document(a)->status, DocumentStatus::kPending);
  EXPECT_FALSE(*s->needs_rebuild(b, p));
  auto report = s->verify_kv();
  ASSERT_TRUE(report.is_ok());
  EXPECT_TRUE(report->corrupt_entry_ids.empty());
}

TEST(LibraryStore, VerifyFindsCorruptionAndShortFileIsReported) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 4);
  const int64_t b = add_doc(*s, p, "b", 2, 4);
  const auto b_ids = *s->list_entries(p, DocSet::of({b}));
  s.reset();
  // Cut the file in the middle of b's last record.
  const auto size = std::filesystem::file_size(dir.path() + "/kv.dat");
  std::filesystem::resize_file(dir.path() + "/kv.dat", size - 10);
  s = open_store(dir.path());
  ASSERT_TRUE(s);
  const auto& r = s->open_report();
  EXPECT_EQ(r.corrupt_entry_ids, std::vector<int64_t>{b_ids.back()});
  EXPECT_EQ(r.stale_doc_ids, std::vector<int64_t>{b});
  EXPECT_FALSE(r.notes.empty());
  EXPECT_TRUE(*s->needs_rebuild(b, p));
  EXPECT_FALSE(*s->needs_rebuild(a, p));
  EXPECT_EQ(s->kv_file_bytes(), static_cast<int64_t>(size - 10));
  // Writing continues: b is re-ingested from ordinal 0.
  EXPECT_EQ(*s->committed_chunk_count(b, p), 0);
  ASSERT_TRUE(s->add_chunks(b, p, inputs(make_chunks(small_profile(), 2, 0, 4))).is_ok());
  auto v = s->verify_kv();
  ASSERT_TRUE(v.is_ok());
  EXPECT_TRUE(v->corrupt_entry_ids.empty());
}

TEST(LibraryStore, OrphanBytesPastTheMarkAreTruncated) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  add_doc(*s, p, "a", 1, 4);
  const int64_t mark = s->kv_file_bytes();
  s.reset();
  {
    std::ofstream f(dir.path() + "/kv.dat", std::ios::app | std::ios::binary);
    f << std::string(1234, 'x');
  }
  s = open_store(dir.path());
  EXPECT_EQ(s->open_report().kv_bytes_truncated, 1234);
  EXPECT_EQ(std::filesystem::file_size(dir.path() + "/kv.dat"), static_cast<uintmax_t>(mark));
}

TEST(LibraryStore, ForeignKvFileIsSetAsideAndMemoryRebuilt) {
  TempDir dir, other;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 4);
  s.reset();
  { auto o = open_store(other.path()); }
  std::filesystem::copy_file(other.path() + "/kv.dat", dir.path() + "/kv.dat",
                             std::filesystem::copy_options::overwrite_existing);
  s = open_store(dir.path());
  ASSERT_TRUE(s);
  EXPECT_TRUE(*s->needs_rebuild(a, p));
  EXPECT_EQ(s->open_report().corrupt_entry_ids.size(), 4u);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/kv.dat.bad"));
  EXPECT_TRUE(s->list_entries(p, DocSet::all())->empty());
}

TEST(LibraryStore, SecondOpenOfTheSameLibraryIsRefused) {
  TempDir dir;
  auto s = open_store(dir.path());
  auto again = LibraryStore::open(dir.path());
  EXPECT_EQ(again.status().code(), StatusCode::kIoError);
}

// ---- search ----

std::vector<VectorHit> brute_force(LibraryStore& s, int64_t p, std::span<const float> q, size_t k,
                                   const std::set<int64_t>* docs) {
  const auto ids = *s.list_entries(p, DocSet::all());
  const auto entries = *s.get_entries(ids);
  std::vector<VectorHit> all;
  for (const auto& e : entries) {
    if (docs && docs->count(e.doc_id) == 0) continue;
    double dot = 0;
    for (size_t i = 0; i < q.size(); ++i) dot += double(q[i]) * e.embedding[i];
    all.push_back({e.entry_id, static_cast<float>(dot)});
  }
  std::sort(all.begin(), all.end(), [](const VectorHit& a, const VectorHit& b) {
    return a.score != b.score ? a.score > b.score : a.entry_id < b.entry_id;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

std::vector<float> random_query(uint32_t seed) {
  auto c = make_chunks(small_profile(), 424242 + seed, 0, 1);
  return c[0].embedding;
}

TEST(LibraryStore, ExactVectorSearchMatchesBruteForceWithDocFilter) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  std::vector<int64_t> docs;
  for (uint32_t d = 0; d < 5; ++d)
    docs.push_back(add_doc(*s, p, std::to_string(d) + ".txt", d + 1, 12));
  for (uint32_t t = 0; t < 10; ++t) {
    const auto q = random_query(t);
    auto hits = s->search_vectors(p, q, 7, DocSet::all());
    ASSERT_TRUE(hits.is_ok());
    const auto ref = brute_force(*s, p, q, 7, nullptr);
    ASSERT_EQ(hits->size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      EXPECT_EQ((*hits)[i].entry_id, ref[i].entry_id);
      EXPECT_NEAR((*hits)[i].score, ref[i].score, 1e-5f);
    }
    const std::set<int64_t> sub = {docs[1], docs[3]};
    auto fh = s->search_vectors(p, q, 5, DocSet::of({docs[1], docs[3]}));
    const auto fref = brute_force(*s, p, q, 5, &sub);
    ASSERT_EQ(fh->size(), fref.size());
    for (size_t i = 0; i < fref.size(); ++i) EXPECT_EQ((*fh)[i].entry_id, fref[i].entry_id);
  }
  EXPECT_TRUE(s->search_vectors(p, random_query(1), 5, DocSet::of({}))->empty());
  std::vector<float> short_q(3, 1.0f);
  EXPECT_EQ(s->search_vectors(p, short_q, 5, DocSet::all()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(LibraryStore, IndexSeesWritesAfterItWasLoaded) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 4);
  ASSERT_TRUE(s->search_vectors(p, random_query(0), 3, DocSet::all()).is_ok());  // loads it
  EXPECT_EQ(s->index_state(p).n_entries, 4);
  const int64_t b = add_doc(*s, p, "b", 2, 4);
  EXPECT_EQ(s->index_state(p).n_entries, 8);
  // A query equal to one of b's embeddings finds it first.
  const auto bc = make_chunks(small_profile(), 2, 2, 1);
  auto hits = s->search_vectors(p, bc[0].embedding, 1, DocSet::all());
  EXPECT_EQ((*hits)[0].entry_id, (*s->list_entries(p, DocSet::of({b})))[2]);
  ASSERT_TRUE(s->remove_document(a).is_ok());
  EXPECT_EQ(s->index_state(p).n_entries, 4);
  ASSERT_TRUE(s->mark_stale(b, p).is_ok());
  EXPECT_EQ(s->index_state(p).n_entries, 0);
  EXPECT_TRUE(s->search_vectors(p, random_query(0), 3, DocSet::all())->empty());
}

TEST(LibraryStore, HnswIsSavedLoadedAndRebuiltWhenItsFileIsBad) {
  TempDir dir;
  StoreOptions o;
  o.exact_search_max = 20;  // the graph is used above 20 entries
  auto s = open_store(dir.path(), o);
  const int64_t p = *s->ensure_profile(small_profile());
  for (uint32_t d = 0; d < 6; ++d) add_doc(*s, p, std::to_string(d) + ".txt", d + 1, 16);
  const auto probe = make_chunks(small_profile(), 3, 5, 1);  // doc seed 3, ordinal 5
  const int64_t probe_id = (*s->list_entries(p, DocSet::all()))[2 * 16 + 5];
  auto check_search = [&](LibraryStore& st) {
    auto hits = st.search_vectors(p, probe[0].embedding, 5, DocSet::all());
    ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
    ASSERT_FALSE(hits->empty());
    EXPECT_EQ((*hits)[0].entry_id, probe_id);
    EXPECT_NEAR((*hits)[0].score, 1.0f, 1e-5f);
    // Recall against brute force on a few queries (96 points, ef 256: the graph is exact here).
    for (uint32_t t = 0; t < 5; ++t) {
      const auto q = random_query(t);
      auto h = st.search_vectors(p, q, 5, DocSet::all());
      const auto ref = brute_force(st, p, q, 5, nullptr);
      ASSERT_EQ(h->size(), ref.size());
      for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ((*h)[i].entry_id, ref[i].entry_id);
    }
  };
  check_search(*s);
  EXPECT_TRUE(s->index_state(p).has_graph);
  EXPECT_TRUE(s->index_state(p).was_rebuilt);  // no file yet
  s.reset();                                   // saves index-<p>.hnsw + watermark
  const std::string file = dir.path() + "/index-" + std::to_string(p) + ".hnsw";
  ASSERT_TRUE(std::filesystem::exists(file));

  s = open_store(dir.path(), o);
  check_search(*s);
  EXPECT_TRUE(s->index_state(p).was_loaded_from_file) << s->index_state(p).note;
  EXPECT_FALSE(s->index_state(p).was_rebuilt);
  // New entries after the save are added on load (watermark prefix).
  add_doc(*s, p, "late", 77, 4);
  s.reset();
  s = open_store(dir.path(), o);
  check_search(*s);
  EXPECT_TRUE(s->index_state(p).was_loaded_from_file) << s->index_state(p).note;
  EXPECT_EQ(s->index_state(p).n_entries, 100);
  s.reset();

  // Corrupt one payload byte: crc mismatch -> rebuild, and the results stay right.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(64 + 500);
    f.put('\x7f');
  }
  s = open_store(dir.path(), o);
  check_search(*s);
  EXPECT_TRUE(s->index_state(p).was_rebuilt);
  EXPECT_NE(s->index_state(p).note.find("crc"), std::string::npos) << s->index_state(p).note;
  s.reset();

  // A header that disagrees with the watermark row (a file from another moment) -> rebuild.
  s = open_store(dir.path(), o);
  ASSERT_TRUE(s->search_vectors(p, probe[0].embedding, 1, DocSet::all()).is_ok());
  EXPECT_TRUE(s->index_state(p).was_loaded_from_file);
  const int64_t doc0 = (*s->list_documents())[0].id;
  ASSERT_TRUE(s->remove_document(doc0).is_ok());  // deletes entries below the watermark
  StoreOptions no_save = o;
  s.reset();  // saves again (graph dirty): consistent
  {
    // Now remove a doc with saving disabled: the file no longer matches the library.
    auto s2 = open_store(dir.path(), [&] {
      StoreOptions n = o;
      n.save_index_on_close = false;
      return n;
    }());
    ASSERT_TRUE(s2->remove_document((*s2->list_documents())[0].id).is_ok());
  }
  s = open_store(dir.path(), no_save);
  auto hits = s->search_vectors(p, probe[0].embedding, 1, DocSet::all());
  ASSERT_TRUE(hits.is_ok());
  EXPECT_TRUE(s->index_state(p).was_rebuilt);
  EXPECT_EQ(s->index_state(p).n_entries, 68);
  // Truncated file -> rebuild.
  s.reset();
  std::filesystem::resize_file(file, 40);
  s = open_store(dir.path(), o);
  ASSERT_TRUE(s->search_vectors(p, probe[0].embedding, 1, DocSet::all()).is_ok());
  EXPECT_TRUE(s->index_state(p).was_rebuilt);
}

TEST(LibraryStore, PrepareSearchBuildsAndSavesTheGraph) {
  TempDir dir;
  StoreOptions o;
  o.exact_search_max = 10;
  o.save_index_on_close = false;
  auto s = open_store(dir.path(), o);
  const int64_t p = *s->ensure_profile(small_profile());
  add_doc(*s, p, "a", 1, 8);
  ASSERT_TRUE(s->prepare_search(p).is_ok());
  EXPECT_FALSE(s->index_state(p).has_graph);  // 8 entries: exact search, no graph
  add_doc(*s, p, "b", 2, 8);
  ASSERT_TRUE(s->prepare_search(p).is_ok());
  EXPECT_TRUE(s->index_state(p).has_graph);
  s.reset();  // does not save on close: prepare_search already did
  s = open_store(dir.path(), o);
  ASSERT_TRUE(s->prepare_search(p).is_ok());
  EXPECT_TRUE(s->index_state(p).was_loaded_from_file) << s->index_state(p).note;
}

TEST(LibraryStore, GraphSearchWithSmallDocSetFallsBackToExact) {
  TempDir dir;
  StoreOptions o;
  o.exact_search_max = 10;
  auto s = open_store(dir.path(), o);
  const int64_t p = *s->ensure_profile(small_profile());
  std::vector<int64_t> docs;
  for (uint32_t d = 0; d < 8; ++d)
    docs.push_back(add_doc(*s, p, std::to_string(d) + ".txt", d + 1, 8));
  for (uint32_t t = 0; t < 5; ++t) {
    const auto q = random_query(t);
    // 8 candidates <= 10: exact over the doc's entries; 24 candidates: graph + filter.
    for (const std::set<int64_t>& sub :
         {std::set<int64_t>{docs[5]}, std::set<int64_t>{docs[0], docs[2], docs[7]}}) {
      auto h = s->search_vectors(p, q, 4, DocSet::of({sub.begin(), sub.end()}));
      ASSERT_TRUE(h.is_ok());
      const auto ref = brute_force(*s, p, q, 4, &sub);
      ASSERT_EQ(h->size(), ref.size());
      for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ((*h)[i].entry_id, ref[i].entry_id);
    }
  }
  EXPECT_TRUE(s->index_state(p).has_graph);
}

TEST(LibraryStore, TextSearchEscapesUserInput) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 8);
  for (const char* q :
       {"\"", "\"unbalanced", "NOT", "AND OR", "a*", "(", ")", "NEAR(x y)", "col:val", "^start",
        "-", "''", "; DROP TABLE chunks; --", "\xe2\x80\x94", "chunk\"3", "{x}", "\\"}) {
    auto r = s->search_text(p, q, 5, DocSet::all());
    EXPECT_TRUE(r.is_ok()) << q << ": " << r.status().to_string();
    auto f = s->search(p, q, {}, 5, DocSet::all());
    EXPECT_TRUE(f.is_ok()) << q << ": " << f.status().to_string();
  }
  // Operators are words: "NOT word3" finds the chunks holding word3.
  auto r = s->search_text(p, "NOT word3", 10, DocSet::all());
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->size(), 1u);  // ordinal 3 is the only one of 0..7 with word3
  auto e = s->get_entries(std::vector<int64_t>{(*r)[0].entry_id});
  EXPECT_EQ((*e)[0].ordinal, 3);
  EXPECT_EQ((*e)[0].doc_id, a);
  EXPECT_EQ(s->list_entries(p, DocSet::all())->size(), 8u);  // the table is still there
}

TEST(LibraryStore, FusedSearchCarriesProvenance) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "Alpha Book", 1, 8);
  const int64_t b = add_doc(*s, p, "Beta Book", 2, 8);
  const SectionRecord secs[] = {{0, "Intro", 1, 1}, {1, "Middle", 1, 3}};
  ASSERT_TRUE(s->replace_sections(b, secs).is_ok());
  // The query embedding is b's ordinal 5 (section 1, page 3); the text names ordinal 5 of doc 2.
  const auto target = make_chunks(small_profile(), 2, 5, 1);
  auto hits = s->search(p, "chunk 5 of doc 2", target[0].embedding, 5, DocSet::all());
  ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
  ASSERT_FALSE(hits->empty());
  const SearchHit& top = (*hits)[0];
  EXPECT_EQ(top.doc_id, b);
  EXPECT_EQ(top.doc_title, "Beta Book");
  EXPECT_EQ(top.section_title, "Middle");
  EXPECT_EQ(top.page, 3);
  EXPECT_EQ(top.token_begin, 80);
  EXPECT_EQ(top.token_end, 96);
  EXPECT_EQ(top.text, target[0].text);
  EXPECT_EQ(top.vector_rank, 0);
  EXPECT_NEAR(top.vector_score, 1.0f, 1e-5f);
  EXPECT_EQ(top.bm25_rank, 0);
  EXPECT_LT(top.bm25_score, 0.0);
  EXPECT_NEAR(top.fused_score, 2.0 / (LibraryStore::kRrfK + 1.0), 1e-12);
  for (size_t i = 1; i < hits->size(); ++i) {
    EXPECT_LE((*hits)[i].fused_score, (*hits)[i - 1].fused_score);
    // Fused score is the RRF sum of the ranks the hit carries.
    double f = 0;
    if ((*hits)[i].vector_rank >= 0) f += 1.0 / (LibraryStore::kRrfK + (*hits)[i].vector_rank + 1);
    if ((*hits)[i].bm25_rank >= 0) f += 1.0 / (LibraryStore::kRrfK + (*hits)[i].bm25_rank + 1);
    EXPECT_NEAR((*hits)[i].fused_score, f, 1e-12);
  }
  // Restricted to doc a: nothing from b.
  auto only_a = s->search(p, "chunk 5 of doc 2", target[0].embedding, 5, DocSet::of({a}));
  ASSERT_TRUE(only_a.is_ok());
  ASSERT_FALSE(only_a->empty());
  for (const auto& h : *only_a) {
    EXPECT_EQ(h.doc_id, a);
    EXPECT_EQ(h.doc_title, "Alpha Book");
    EXPECT_EQ(h.section_title, "");
  }
}

TEST(LibraryStore, SessionMemoryRowsFollowDeletedEntries) {
  TempDir dir;
  auto s = open_store(dir.path());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t a = add_doc(*s, p, "a", 1, 4);
  const auto ids = *s->list_entries(p, DocSet::all());
  auto sid = s->sessions().create_session("s", p, 4096);
  ASSERT_TRUE(sid.is_ok());
  SessionMemoryState st;
  st.next_seq = 9;
  for (size_t i = 0; i < ids.size(); ++i) st.entries.push_back({ids[i], 1, i});
  ASSERT_TRUE(s->sessions().save_memory_state(*sid, st).is_ok());
  ASSERT_TRUE(s->mark_stale(a, p).is_ok());
  EXPECT_TRUE(s->sessions().load_memory_state(*sid)->entries.empty());
  EXPECT_EQ(s->sessions().load_memory_state(*sid)->next_seq, 9u);
}

}  // namespace
}  // namespace memlong
