// Session archive: export -> import into a fresh library gives the same chunks, K/V bytes,
// embeddings, memory state and messages; hostile archives are refused and leave the target as it
// was.
#include "core/store/session_archive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/store/library_store.h"
#include "core/store/session_store.h"
#include "core/store/sqlite_db.h"
#include "tests/core/store/store_test_util.h"

namespace memlong {
namespace {

using store_test::doc_meta;
using store_test::inputs;
using store_test::make_chunks;
using store_test::small_profile;
using store_test::TempDir;

struct Source {
  TempDir dir;
  std::unique_ptr<LibraryStore> store;
  int64_t profile = 0;
  int64_t doc_a = 0, doc_b = 0, doc_unrelated = 0;
  int64_t session = 0;

  Source() {
    store = std::move(LibraryStore::open(dir.path())).value();
    profile = *store->ensure_profile(small_profile());
    doc_a = add("/a.epub", "content a", 1, 8);
    doc_b = add("/b.pdf", "content b", 2, 5);
    doc_unrelated = add("/c.txt", "content c", 3, 4);
    const SectionRecord secs[] = {{0, "Chapter 1", 1, 1}, {1, "Chapter 2", 1, 9}};
    EXPECT_TRUE(store->replace_sections(doc_a, secs).is_ok());
    session = *store->sessions().create_session("reading", profile, 2048, R"({"k":4})");
    const int64_t docs[] = {doc_a};
    EXPECT_TRUE(store->sessions().set_documents(session, docs).is_ok());
    // Memory holds entries of a and (not a session doc) b.
    const auto ea = *store->list_entries(profile, DocSet::of({doc_a}));
    const auto eb = *store->list_entries(profile, DocSet::of({doc_b}));
    SessionMemoryState st;
    st.next_seq = 40;
    st.entries = {{ea[1], 3, 30}, {ea[6], 0, 33}, {eb[2], 9, 39}};
    EXPECT_TRUE(store->sessions().save_memory_state(session, st).is_ok());
    EXPECT_TRUE(store->sessions().append_message(session, {0, "user", "Who?", "", 11}).is_ok());
    EXPECT_TRUE(store->sessions()
                    .append_message(session, {0, "assistant", "Her.", R"([{"doc":1}])", 12})
                    .is_ok());
  }
  int64_t add(const std::string& path, const std::string& content, uint32_t seed, int n) {
    const int64_t d = store->upsert_document(doc_meta(path, content, path))->doc_id;
    const auto chunks = make_chunks(small_profile(), seed, 0, n);
    EXPECT_TRUE(store->add_chunks(d, profile, inputs(chunks)).is_ok());
    EXPECT_TRUE(store->set_document_status(d, profile, DocumentStatus::kReady).is_ok());
    return d;
  }
};

// What a session looks like, independent of ids: per memory entry (in seq order) its doc's hash,
// ordinal, text, tokens, embedding and raw K/V bytes, plus hits/seq and the messages.
struct SessionView {
  std::vector<std::string> entries;
  std::vector<std::string> messages;
  std::vector<std::string> docs;
  uint64_t next_seq = 0;
};

SessionView view(LibraryStore& s, int64_t session) {
  SessionView v;
  auto st = *s.sessions().load_memory_state(session);
  v.next_seq = st.next_seq;
  for (const auto& e : st.entries) {
    const int64_t ids[] = {e.entry_id};
    const auto rec = (*s.get_entries(ids))[0];
    const auto doc = *s.get_document(rec.doc_id);
    const auto raw = *s.load_kv_raw(e.entry_id);
    std::string line = doc.meta.content_hash + "|" + std::to_string(rec.ordinal) + "|" + rec.text +
                       "|" + std::to_string(e.hits) + "|" + std::to_string(e.seq) + "|" +
                       std::to_string(rec.token_begin) + "|" + std::to_string(rec.page);
    line.append(reinterpret_cast<const char*>(rec.tokens.data()), rec.tokens.size() * 4);
    line.append(reinterpret_cast<const char*>(rec.embedding.data()), rec.embedding.size() * 4);
    line.append(reinterpret_cast<const char*>(raw.data()), raw.size());
    v.entries.push_back(line);
  }
  const auto messages = *s.sessions().messages(session);
  for (const auto& m : messages)
    v.messages.push_back(m.role + "|" + m.text + "|" + m.citations_json + "|" +
                         std::to_string(m.created_at));
  const auto docs = *s.sessions().documents(session);
  for (int64_t d : docs) {
    const auto doc = *s.get_document(d);
    std::string line = doc.meta.content_hash + "|" + doc.meta.title;
    const auto sections = *s.sections(d);
    for (const auto& sec : sections) line += "|" + sec.title + "@" + std::to_string(sec.page);
    v.docs.push_back(line);
  }
  return v;
}

void expect_same(const SessionView& a, const SessionView& b) {
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.messages, b.messages);
  EXPECT_EQ(a.docs, b.docs);
  EXPECT_EQ(a.next_seq, b.next_seq);
}

TEST(SessionArchive, RoundTripIntoAFreshLibrary) {
  Source src;
  const std::string archive = src.dir.path() + "/reading.mlsession";
  ASSERT_TRUE(export_session(*src.store, src.session, archive).is_ok());
  TempDir target_dir;
  auto target = std::move(LibraryStore::open(target_dir.path())).value();
  auto imported = import_session(*target, archive);
  ASSERT_TRUE(imported.is_ok()) << imported.status().to_string();
  expect_same(view(*src.store, src.session), view(*target, *imported));
  auto s = *target->sessions().get_session(*imported);
  EXPECT_EQ(s.name, "reading");
  EXPECT_EQ(s.capacity_tokens, 2048);
  EXPECT_EQ(s.settings_json, R"({"k":4})");
  // The profile came along with the same identity, and the docs' memory is complete and usable.
  auto prof = *target->get_profile(s.profile_id);
  EXPECT_EQ(prof.identity.identity(), small_profile().identity());
  const auto docs = *target->list_documents();
  ASSERT_EQ(docs.size(), 2u);  // a (session doc) and b (in memory); not the unrelated c
  for (const auto& d : docs) {
    EXPECT_FALSE(*target->needs_rebuild(d.id, s.profile_id)) << d.meta.path;
    EXPECT_EQ(d.status, DocumentStatus::kReady);
  }
  // Every chunk of a came (8), searchable by text and vector; K/V loads as f32 and verifies.
  EXPECT_EQ(target->list_entries(s.profile_id, DocSet::all())->size(), 13u);
  EXPECT_FALSE(target->search_text(s.profile_id, "chunk", 3, DocSet::all())->empty());
  const auto probe = make_chunks(small_profile(), 1, 6, 1);
  auto hit = target->search_vectors(s.profile_id, probe[0].embedding, 1, DocSet::all());
  EXPECT_NEAR((*hit)[0].score, 1.0f, 1e-5f);
  std::vector<float> k, v;
  ASSERT_TRUE(target->load_kv(std::vector<int64_t>{(*hit)[0].entry_id}, &k, &v).is_ok());
  EXPECT_EQ(k, probe[0].k);
  EXPECT_TRUE(target->verify_kv()->corrupt_entry_ids.empty());
  // Importing again into the same library merges the documents by content hash.
  auto again = import_session(*target, archive);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(target->list_documents()->size(), 2u);
  EXPECT_EQ(target->list_entries(s.profile_id, DocSet::all())->size(), 13u);
  expect_same(view(*target, *imported), view(*target, *again));
  EXPECT_EQ(target->sessions().list_sessions()->size(), 2u);
}

TEST(SessionArchive, ImportMergesIntoALibraryThatHasTheDocumentAlready) {
  Source src;
  const std::string archive = src.dir.path() + "/r.mlsession";
  ASSERT_TRUE(export_session(*src.store, src.session, archive).is_ok());
  TempDir tdir;
  auto target = std::move(LibraryStore::open(tdir.path())).value();
  const int64_t p = *target->ensure_profile(small_profile());
  // The target has a at another path with complete memory, and b without memory.
  const int64_t ta = target->upsert_document(doc_meta("/elsewhere/a.epub", "content a"))->doc_id;
  ASSERT_TRUE(target->add_chunks(ta, p, inputs(make_chunks(small_profile(), 1, 0, 8))).is_ok());
  ASSERT_TRUE(target->set_document_status(ta, p, DocumentStatus::kReady).is_ok());
  const int64_t tb = target->upsert_document(doc_meta("/b.pdf", "content b"))->doc_id;
  const int64_t kv_before = target->kv_file_bytes();
  auto imported = import_session(*target, archive);
  ASSERT_TRUE(imported.is_ok()) << imported.status().to_string();
  EXPECT_EQ(target->list_documents()->size(), 2u);
  EXPECT_EQ(*target->sessions().documents(*imported), std::vector<int64_t>{ta});
  EXPECT_FALSE(*target->needs_rebuild(tb, p));  // b got the archive's memory
  // a's K/V was reused, only b's 5 records were appended.
  const int64_t record = 16 + 2 * 16 * 3 * 8 * 2;
  EXPECT_EQ(target->kv_file_bytes() - kv_before, 5 * record);
  // Same memory and conversation; the merged document keeps the target's own metadata.
  const SessionView a = view(*src.store, src.session), b = view(*target, *imported);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.messages, b.messages);
  EXPECT_EQ(target->get_document(ta)->meta.path, "/elsewhere/a.epub");
}

// Hostile input: each damaged archive is refused with a clear error and the target is unchanged.
TEST(SessionArchive, HostileArchivesAreRefusedAndTheTargetIsUnchanged) {
  Source src;
  const std::string good = src.dir.path() + "/good.mlsession";
  ASSERT_TRUE(export_session(*src.store, src.session, good).is_ok());
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  TempDir tdir;
  auto target = std::move(LibraryStore::open(tdir.path())).value();
  const int64_t kv_before = target->kv_file_bytes();
  auto write = [&](const std::string& name, const std::string& content) {
    const std::string path = tdir.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  };
  auto expect_refused = [&](const std::string& path, StatusCode code, const char* what) {
    auto r = import_session(*target, path);
    ASSERT_FALSE(r.is_ok()) << what;
    EXPECT_EQ(r.status().code(), code) << what << ": " << r.status().to_string();
    EXPECT_FALSE(r.status().message().empty());
    EXPECT_TRUE(target->list_documents()->empty()) << what;
    EXPECT_TRUE(target->sessions().list_sessions()->empty()) << what;
    EXPECT_TRUE(target->list_profiles()->empty()) << what;
    EXPECT_EQ(target->kv_file_bytes(), kv_before) << what;
    EXPECT_EQ(std::filesystem::file_size(tdir.path() + "/kv.dat"),
              static_cast<uintmax_t>(kv_before))
        << what;
  };
  expect_refused(tdir.path() + "/missing", StatusCode::kNotFound, "missing");
  expect_refused(write("empty", ""), StatusCode::kCorrupt, "empty file");
  expect_refused(write("text", std::string(4096, 'x')), StatusCode::kCorrupt, "wrong magic");
  for (size_t cut : {bytes.size() / 2, bytes.size() - 1000, size_t{100}, size_t{4096}}) {
    expect_refused(write("cut" + std::to_string(cut), bytes.substr(0, cut)), StatusCode::kCorrupt,
                   "truncated");
  }
  {  // a library database is not an archive
    expect_refused(src.dir.path() + "/library.sqlite", StatusCode::kCorrupt, "library db");
  }
  {  // newer version
    const std::string path = write("newer", bytes);
    {
      auto db = SqliteDb::open(path, SqliteDb::Mode::kReadWrite);
      ASSERT_TRUE(
          db->exec("PRAGMA user_version=" + std::to_string(kSessionArchiveVersion + 1)).is_ok());
    }
    expect_refused(path, StatusCode::kUnsupported, "newer version");
  }
  {  // K/V bytes changed behind the crc: detected before anything is written
    const std::string path = write("flipped", bytes);
    {
      auto db = SqliteDb::open(path, SqliteDb::Mode::kReadWrite);
      ASSERT_TRUE(db->exec("UPDATE archive_chunks SET kv = zeroblob(length(kv)) WHERE id = "
                           "(SELECT max(id) FROM archive_chunks)")
                      .is_ok());
    }
    expect_refused(path, StatusCode::kCorrupt, "kv crc");
  }
  {  // sizes that do not fit the profile
    const std::string path = write("sizes", bytes);
    {
      auto db = SqliteDb::open(path, SqliteDb::Mode::kReadWrite);
      ASSERT_TRUE(
          db->exec("UPDATE archive_chunks SET embedding = x'00' WHERE ordinal = 0").is_ok());
    }
    expect_refused(path, StatusCode::kCorrupt, "embedding size");
  }
  {  // a missing table
    const std::string path = write("notable", bytes);
    {
      auto db = SqliteDb::open(path, SqliteDb::Mode::kReadWrite);
      ASSERT_TRUE(db->exec("DROP TABLE archive_messages").is_ok());
    }
    expect_refused(path, StatusCode::kCorrupt, "missing table");
  }
  // And the good one still imports.
  EXPECT_TRUE(import_session(*target, good).is_ok());
}

TEST(SessionArchive, ExportOfAnUnknownSessionIsNotFound) {
  Source src;
  const std::string path = src.dir.path() + "/x.mlsession";
  EXPECT_EQ(export_session(*src.store, 999, path).code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace memlong
