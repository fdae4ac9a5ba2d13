// Schema versions and migrations (core/store/schema.h): an old database migrates with its data;
// a newer or foreign one is refused with a clear error.
#include "core/store/schema.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/store/library_store.h"
#include "core/store/session_store.h"
#include "core/store/sqlite_db.h"
#include "tests/core/store/store_test_util.h"

namespace memlong {
namespace {

using store_test::TempDir;

int64_t query(SqliteDb& db, const std::string& sql) {
  auto r = db.query_int(sql);
  EXPECT_TRUE(r.is_ok()) << sql << ": " << r.status().to_string();
  return r.is_ok() ? *r : -1;
}

TEST(StoreSchema, FreshDatabaseIsAtTheCurrentVersion) {
  TempDir dir;
  {
    auto s = LibraryStore::open(dir.path());
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  }
  auto db = SqliteDb::open(dir.path() + "/library.sqlite", SqliteDb::Mode::kReadWrite);
  ASSERT_TRUE(db.is_ok());
  EXPECT_EQ(query(*db, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(query(*db, "PRAGMA application_id"), kLibraryApplicationId);
  auto mode = db->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode->step().value());
  EXPECT_EQ(mode->col_text(0), "wal");
  EXPECT_EQ(query(*db, "PRAGMA foreign_keys"), 1);
}

TEST(StoreSchema, V1DatabaseWithDataMigratesAndItsChunksBecomeSearchable) {
  TempDir dir;
  const std::string path = dir.path() + "/library.sqlite";
  {  // Build a v1 library by hand from the v1 SQL, holding one document with two chunks.
    auto db = SqliteDb::open(path, SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE(db->exec(migration_sql(1)).is_ok());
    ASSERT_TRUE(db->exec("PRAGMA user_version=1; PRAGMA application_id=" +
                         std::to_string(kLibraryApplicationId))
                    .is_ok());
    ASSERT_TRUE(db->exec(R"sql(
      INSERT INTO profiles VALUES (1, 'old', 'm', 'r', 2, 16, 'bf16', 3, 8, 16, 0);
      INSERT INTO documents(id, path, content_hash, size_bytes, mtime, title, status, added_at,
                            updated_at)
        VALUES (1, '/old.txt', 'aa', 10, 0, 'Old Book', 'ready', 0, 0);
      INSERT INTO chunks(doc_id, profile_id, ordinal, text, token_begin, token_end,
                         section_ordinal, page, tokens)
        VALUES (1, 1, 0, 'the zebra crossed', 0, 3, -1, 0, x'000000000100000002000000'),
               (1, 1, 1, 'a quiet river', 3, 6, -1, 0, x'030000000400000005000000');
    )sql")
                    .is_ok());
  }
  {
    auto s = LibraryStore::open(dir.path());
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    auto hits = (*s)->search_text(1, "zebra", 5, DocSet::all());
    ASSERT_TRUE(hits.is_ok()) << hits.status().to_string();
    ASSERT_EQ(hits->size(), 1u);  // the v3 migration back-filled the FTS index
    auto docs = (*s)->list_documents();
    ASSERT_EQ(docs->size(), 1u);
    EXPECT_EQ((*docs)[0].meta.title, "Old Book");
    // v2's tables exist and work.
    auto sid = (*s)->sessions().create_session("after migration", 1, 1024);
    EXPECT_TRUE(sid.is_ok()) << sid.status().to_string();
  }
  auto db = SqliteDb::open(path, SqliteDb::Mode::kReadWrite);
  EXPECT_EQ(query(*db, "PRAGMA user_version"), kSchemaVersion);
  auto check = db->prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check->step().value());
  EXPECT_EQ(check->col_text(0), "ok");
}

TEST(StoreSchema, NewerVersionIsRefused) {
  TempDir dir;
  {
    auto s = LibraryStore::open(dir.path());
    ASSERT_TRUE(s.is_ok());
  }
  {
    auto db = SqliteDb::open(dir.path() + "/library.sqlite", SqliteDb::Mode::kReadWrite);
    ASSERT_TRUE(db->exec("PRAGMA user_version=" + std::to_string(kSchemaVersion + 1)).is_ok());
  }
  auto s = LibraryStore::open(dir.path());
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(s.status().message().find("newer than this build"), std::string::npos)
      << s.status().message();
}

TEST(StoreSchema, ForeignDatabasesAreRefused) {
  TempDir dir;
  {
    auto db = SqliteDb::open(dir.path() + "/library.sqlite", SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db->exec("CREATE TABLE t(x); PRAGMA user_version=1").is_ok());
  }
  auto s = LibraryStore::open(dir.path());
  EXPECT_EQ(s.status().code(), StatusCode::kCorrupt) << s.status().to_string();
  TempDir dir2;
  {
    auto db = SqliteDb::open(dir2.path() + "/library.sqlite", SqliteDb::Mode::kReadWriteCreate);
    ASSERT_TRUE(db->exec("CREATE TABLE t(x)").is_ok());
  }
  EXPECT_EQ(LibraryStore::open(dir2.path()).status().code(), StatusCode::kCorrupt);
  TempDir dir3;  // not SQLite at all
  {
    std::FILE* f = std::fopen((dir3.path() + "/library.sqlite").c_str(), "wb");
    std::fputs("this is not a database, just some text that is long enough to be a header........",
               f);
    std::fclose(f);
  }
  EXPECT_EQ(LibraryStore::open(dir3.path()).status().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace memlong
