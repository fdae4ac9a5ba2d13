// Crash safety (core/store/library_store.h invariants 2 and 4, kv_file.h invariants 1-2): a child
// process writes to a library in a loop (chunk batches, deletes, compaction, index saves, session
// messages) and is SIGKILLed at random moments; after each kill the parent reopens the library and
// checks that SQLite is intact, every referenced K/V record verifies, kv.dat ends at the committed
// mark, the vector index agrees with the database, and the committed chunks are exactly a prefix
// of what the child was writing. Finally the parent resumes the interrupted ingest and checks the
// exact final rows.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

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

constexpr uint32_t kMainSeed = 101;
constexpr uint32_t kScratchSeed = 202;
constexpr int32_t kMainTotal = 400;  // chunks of the main document
constexpr int32_t kBatch = 4;
constexpr int kKills = 30;

StoreOptions crash_options() {
  StoreOptions o;
  o.exact_search_max = 8;  // so the hnsw graph (and its file) is in play
  return o;
}

// The child: never returns. Exit code 0 is impossible; 3 means a write failed.
[[noreturn]] void child_loop(const std::string& dir, uint32_t seed) {
  auto opened = LibraryStore::open(dir, crash_options());
  if (!opened.is_ok()) _exit(3);
  auto s = std::move(opened).value();
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t main_doc = (*s->find_document_by_path("/main"))->id;
  const int64_t scratch = (*s->find_document_by_path("/scratch"))->id;
  const int64_t session = (*s->sessions().list_sessions())[0].id;
  std::mt19937 rng(seed);
  for (int step = 0;; ++step) {
    const int32_t n_main = *s->committed_chunk_count(main_doc, p);
    if (n_main < kMainTotal) {
      const auto c = make_chunks(small_profile(), kMainSeed, n_main, kBatch);
      if (!s->add_chunks(main_doc, p, inputs(c)).is_ok()) _exit(3);
    }
    const int32_t n_scratch = *s->committed_chunk_count(scratch, p);
    if (n_scratch >= 8) {
      if (!s->mark_stale(scratch, p).is_ok()) _exit(3);
      if (rng() % 2 == 0 && !s->compact().is_ok()) _exit(3);
    } else {
      const auto c = make_chunks(small_profile(), kScratchSeed, n_scratch, kBatch);
      if (!s->add_chunks(scratch, p, inputs(c)).is_ok()) _exit(3);
    }
    if (step % 3 == 1) {
      const auto q = make_chunks(small_profile(), 999, step, 1);
      if (!s->search_vectors(p, q[0].embedding, 3, DocSet::all()).is_ok()) _exit(3);
      if (!s->save_indexes().is_ok()) _exit(3);
    }
    if (step % 7 == 3 &&
        !s->sessions()
             .append_message(session, {0, "user", "step " + std::to_string(step), "", 0})
             .is_ok())
      _exit(3);
  }
}

// Checks a reopened library; returns the main document's committed chunk count.
int32_t check_library(const std::string& dir, int iteration) {
  SCOPED_TRACE("after kill " + std::to_string(iteration));
  {
    auto db = SqliteDb::open(dir + "/library.sqlite", SqliteDb::Mode::kReadWrite);
    EXPECT_TRUE(db.is_ok());
    auto st = db->prepare("PRAGMA integrity_check");
    EXPECT_TRUE(st->step().value());
    EXPECT_EQ(st->col_text(0), "ok");
  }
  auto opened = LibraryStore::open(dir, crash_options());
  EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
  if (!opened.is_ok()) return -1;
  auto s = std::move(opened).value();
  EXPECT_TRUE(s->open_report().corrupt_entry_ids.empty());
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t main_doc = (*s->find_document_by_path("/main"))->id;
  // kv.dat ends exactly at the committed mark; every referenced record verifies.
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(dir + "/kv.dat")), s->kv_file_bytes());
  EXPECT_FALSE(std::filesystem::exists(dir + "/kv.dat.compact"));
  auto verify = s->verify_kv();
  EXPECT_TRUE(verify.is_ok());
  EXPECT_TRUE(verify->corrupt_entry_ids.empty());
  // The main document holds exactly the first n chunks, whole batches, with their exact content.
  const int32_t n = *s->committed_chunk_count(main_doc, p);
  EXPECT_EQ(n % kBatch, 0);
  const auto ids = *s->list_entries(p, DocSet::of({main_doc}));
  EXPECT_EQ(static_cast<int32_t>(ids.size()), n);
  if (n > 0) {
    std::vector<float> k, v;
    EXPECT_TRUE(s->load_kv(ids, &k, &v).is_ok());
    const auto want = make_chunks(small_profile(), kMainSeed, 0, n);
    std::vector<float> wk;
    for (const auto& c : want) wk.insert(wk.end(), c.k.begin(), c.k.end());
    EXPECT_EQ(k, wk);
    const auto entries = *s->get_entries(ids);
    for (int32_t i = 0; i < n; ++i) {
      EXPECT_EQ(entries[static_cast<size_t>(i)].ordinal, i);
      EXPECT_EQ(entries[static_cast<size_t>(i)].text, want[static_cast<size_t>(i)].text);
    }
    // The vector index (loaded from its file or rebuilt) agrees with the database.
    const auto& probe = want[static_cast<size_t>(n / 2)];
    auto hits = s->search_vectors(p, probe.embedding, 1, DocSet::all());
    EXPECT_TRUE(hits.is_ok());
    EXPECT_EQ((*hits)[0].entry_id, ids[static_cast<size_t>(n / 2)]);
    EXPECT_EQ(s->index_state(p).n_entries,
              static_cast<int64_t>(s->list_entries(p, DocSet::all())->size()));
  }
  // Session messages are numbered without gaps.
  const int64_t session = (*s->sessions().list_sessions())[0].id;
  const auto msgs = *s->sessions().messages(session);
  for (size_t i = 0; i < msgs.size(); ++i) EXPECT_EQ(msgs[i].ordinal, static_cast<int32_t>(i));
  return n;
}

TEST(LibraryStoreCrash, SigkillAtRandomMomentsLosesNothingCommitted) {
  TempDir dir;
  {
    auto s = std::move(LibraryStore::open(dir.path(), crash_options())).value();
    const int64_t p = *s->ensure_profile(small_profile());
    ASSERT_TRUE(s->upsert_document(doc_meta("/main", "main")).is_ok());
    ASSERT_TRUE(s->upsert_document(doc_meta("/scratch", "scratch")).is_ok());
    ASSERT_TRUE(s->sessions().create_session("crash", p, 4096).is_ok());
  }
  std::mt19937 rng(12345);
  int32_t last_n = 0;
  int n_progressed = 0;
  for (int i = 0; i < kKills; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) child_loop(dir.path(), static_cast<uint32_t>(i));
    // Child start-up (open + migrations check) takes a few ms; kill within 2..80 ms.
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 78000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus))
        << "the child stopped by itself (exit code "
        << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) << "): a write failed";
    const int32_t n = check_library(dir.path(), i);
    ASSERT_GE(n, last_n) << "committed chunks disappeared";
    n_progressed += n > last_n ? 1 : 0;
    last_n = n;
    if (HasFatalFailure() || HasFailure()) break;
  }
  EXPECT_GT(n_progressed, 0);  // the kills did interrupt real work
  // Resume the interrupted ingest where it stopped and finish it.
  auto s = std::move(LibraryStore::open(dir.path(), crash_options())).value();
  const int64_t p = *s->ensure_profile(small_profile());
  const int64_t main_doc = (*s->find_document_by_path("/main"))->id;
  for (int32_t n = *s->committed_chunk_count(main_doc, p); n < kMainTotal;
       n = *s->committed_chunk_count(main_doc, p)) {
    const auto c = make_chunks(small_profile(), kMainSeed, n, kBatch);
    ASSERT_TRUE(s->add_chunks(main_doc, p, inputs(c)).is_ok());
  }
  ASSERT_TRUE(s->set_document_status(main_doc, p, DocumentStatus::kReady).is_ok());
  EXPECT_FALSE(*s->needs_rebuild(main_doc, p));
  EXPECT_EQ(s->list_entries(p, DocSet::of({main_doc}))->size(), static_cast<size_t>(kMainTotal));
  EXPECT_EQ(s->get_document(main_doc)->n_tokens, kMainTotal * 16);
  s.reset();
  EXPECT_EQ(check_library(dir.path(), kKills), kMainTotal);
}

}  // namespace
}  // namespace memlong
