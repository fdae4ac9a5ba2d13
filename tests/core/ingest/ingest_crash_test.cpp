// Crash safety of ingestion (issue 4): the real `memlong ingest` process is killed with SIGKILL at
// random moments, many times in a row. After every kill the library must open consistent
// (PRAGMA integrity_check, every stored K/V record intact, kv.dat no longer than its committed
// mark), and the run that finally completes must hold exactly the chunks and memory of an
// uninterrupted run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/common/paths.h"
#include "core/store/library_store.h"
#include "tests/test_support.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;

// Starts `memlong ingest` on `files` into `library`; returns the child's pid.
pid_t start_ingest(const fs::path& library, const std::vector<fs::path>& files) {
  std::vector<std::string> args = {MEMLONG_CLI_PATH, "ingest", "--library", library.string(),
                                   "--threads",      "1",      "--memlong", "entry_tokens=32",
                                   "--batch-chunks", "2"};
  for (const fs::path& f : files) args.push_back(f.string());
  // Built before fork(): the child of a multithreaded process must not allocate before exec.
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string integrity_check(const fs::path& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  std::string result;
  sqlite3_exec(
      db, "PRAGMA integrity_check",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0] != nullptr ? values[0] : "";
        return 0;
      },
      &result, nullptr);
  sqlite3_close(db);
  return result;
}

struct Entries {
  std::map<std::string, std::vector<std::string>> texts;
  std::map<std::string, std::vector<std::vector<uint8_t>>> kv;
  std::map<std::string, std::vector<std::vector<float>>> keys;
};

Entries read_entries(LibraryStore& store) {
  Entries out;
  auto profiles = store.list_profiles();
  EXPECT_TRUE(profiles.is_ok() && profiles->size() == 1u);
  if (!profiles.is_ok() || profiles->empty()) return out;
  const int64_t profile = (*profiles)[0].id;
  auto docs = store.list_documents();
  EXPECT_TRUE(docs.is_ok());
  for (const DocumentRecord& d : *docs) {
    const std::string name = fs::path(d.meta.path).filename().string();
    auto ids = store.list_entries(profile, DocSet::of({d.id}));
    auto recs = store.get_entries(*ids);
    for (const EntryRecord& e : *recs) {
      out.texts[name].push_back(e.text);
      out.keys[name].push_back(e.embedding);
      out.kv[name].push_back(*store.load_kv_raw(e.entry_id));
    }
  }
  return out;
}

TEST(IngestCrashRealModel, SigkillLoopThenResumeEqualsUninterruptedRun) {
  ASSERT_TRUE(fs::exists(default_model_path())) << "run scripts/setup";
  ASSERT_TRUE(fs::exists(MEMLONG_CLI_PATH)) << MEMLONG_CLI_PATH;
  test::TempDir tmp_dir;
  const fs::path tmp = tmp_dir.path();
  fs::create_directories(tmp / "docs");
  std::vector<fs::path> files;
  const char* books[] = {"emma.txt", "persuasion.txt", "mansfield-park.txt"};
  for (int i = 0; i < 3; ++i) {
    files.push_back(tmp / "docs" / books[i]);
    std::ofstream(files.back()) << test::book_excerpt(books[i], 40000, 2500);
  }

  // Reference: one uninterrupted run; its duration scales the kill times (sanitizer builds and
  // loaded machines are slower), so kills land from model loading to the last batches.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(start_ingest(tmp / "ref", files)), 0);
  const auto full_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count());

  // Kill loop. Odd rounds kill at a random time (start-up, parsing, anywhere); even rounds wait
  // until kv.dat grows (a batch's K/V are being written: the commit may or may not have
  // happened) and then kill within the next 0-150 ms, so kills keep landing inside batches.
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_ms(full_ms / 8, full_ms / 3);
  std::uniform_int_distribution<int> after_write_ms(0, 150);
  const fs::path kv = tmp / "lib" / "kv.dat";
  auto kv_size = [&] {
    std::error_code ec;
    const auto n = fs::file_size(kv, ec);
    return ec ? uintmax_t{0} : n;
  };
  int kills = 0, finished_early = 0, mid_document = 0, partial_progress = 0;
  int64_t last_chunks = 0;
  for (int round = 0; round < 16; ++round) {
    const uintmax_t kv0 = kv_size();
    const pid_t pid = start_ingest(tmp / "lib", files);
    int status = 0;
    bool reaped = false;
    if (round % 2 == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    } else {
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(4 * full_ms);
      while (kv_size() <= kv0 && std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          reaped = true;  // it ended before writing anything new (nothing left to do)
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(after_write_ms(rng)));
    }
    int rc = 0;
    if (reaped) {
      rc = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    } else {
      if (::kill(pid, SIGKILL) == 0) ++kills;
      rc = wait_exit(pid);
    }
    EXPECT_TRUE(rc == 0 || rc == -SIGKILL) << "round " << round << ": the CLI failed with " << rc;
    if (rc == 0) ++finished_early;
    // Consistent after every kill (a kill before the library was first created leaves none).
    if (!fs::exists(tmp / "lib" / "library.sqlite")) continue;
    ASSERT_EQ(integrity_check(tmp / "lib" / "library.sqlite"), "ok") << "round " << round;
    auto store = LibraryStore::open((tmp / "lib").string());
    ASSERT_TRUE(store.is_ok()) << "round " << round << ": " << store.status().to_string();
    auto verify = (*store)->verify_kv();
    ASSERT_TRUE(verify.is_ok());
    EXPECT_TRUE(verify->corrupt_entry_ids.empty()) << "round " << round;
    auto docs = (*store)->list_documents();
    ASSERT_TRUE(docs.is_ok());
    bool all_ready = !docs->empty();
    for (const DocumentRecord& d : *docs)
      all_ready = all_ready && d.status == DocumentStatus::kReady;
    for (const DocumentRecord& d : *docs) {
      if (d.status == DocumentStatus::kIngesting) {
        ++mid_document;  // killed inside a document: the next round resumes it
        break;
      }
    }
    // Rounds that committed something and left the library unfinished: the next round resumes.
    int64_t chunks = 0;
    auto profiles = (*store)->list_profiles();
    ASSERT_TRUE(profiles.is_ok());
    for (const ProfileRecord& p : *profiles) {
      auto ids = (*store)->list_entries(p.id, DocSet::all());
      ASSERT_TRUE(ids.is_ok());
      chunks += static_cast<int64_t>(ids->size());
    }
    if (chunks > last_chunks && !all_ready) ++partial_progress;
    EXPECT_GE(chunks, last_chunks) << "committed chunks never go away";
    last_chunks = chunks;
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(tmp / "lib" / "kv.dat")),
              (*store)->kv_file_bytes())
        << "round " << round;
  }
  EXPECT_GE(kills, 8) << "most rounds should have been killed mid-run";
  EXPECT_GE(partial_progress, 3) << "several rounds should leave committed but unfinished work";
  std::printf(
      "kills %d, rounds with partial progress %d, killed inside a document %d, finished "
      "before the kill %d\n",
      kills, partial_progress, mid_document, finished_early);

  // The run that completes.
  ASSERT_EQ(wait_exit(start_ingest(tmp / "lib", files)), 0);
  auto ref = LibraryStore::open((tmp / "ref").string());
  auto lib = LibraryStore::open((tmp / "lib").string());
  ASSERT_TRUE(ref.is_ok() && lib.is_ok());
  const Entries a = read_entries(**ref);
  const Entries b = read_entries(**lib);
  EXPECT_EQ(a.texts, b.texts);
  EXPECT_EQ(a.keys, b.keys);
  EXPECT_EQ(a.kv, b.kv);
  auto docs = (*lib)->list_documents();
  ASSERT_TRUE(docs.is_ok());
  ASSERT_EQ(docs->size(), 3u);
  for (const DocumentRecord& d : *docs) EXPECT_EQ(d.status, DocumentStatus::kReady);
}

}  // namespace
}  // namespace memlong
