// SqliteDb / Stmt / Transaction: a small RAII layer over the SQLite C API for the store. Every
// SQLite error becomes a Status that names the statement's purpose and SQLite's message:
// SQLITE_CORRUPT / SQLITE_NOTADB -> Corrupt, SQLITE_FULL / SQLITE_IOERR / SQLITE_CANTOPEN ->
// IoError, SQLITE_BUSY -> IoError ("library is busy"), anything else -> Internal.
// Ownership: SqliteDb owns the sqlite3 handle, Stmt its statement; both move-only. A Stmt must
// not outlive its SqliteDb.
// Thread-safety: none; one thread at a time per SqliteDb and its statements (the store guards
// each connection with a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace memlong {

Status sqlite_status(int rc, sqlite3* db, std::string_view what);

class Stmt {
 public:
  Stmt() = default;
  // Binds are 1-based like SQLite's. Text and blobs are copied (SQLITE_TRANSIENT).
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int32_t v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind_blob(int i, const void* data, size_t n);
  template <typename T>
  Stmt& bind_blob(int i, std::span<const T> v) {
    return bind_blob(i, v.data(), v.size_bytes());
  }
  Stmt& bind_null(int i);

  // One step: true when a row is ready, false when done. Errors as above.
  Result<bool> step();
  // Steps to completion (for statements that return no rows).
  Status run();
  Status reset();  // reset + clear bindings, for reuse

  int64_t col_int(int i) const;
  double col_double(int i) const;
  std::string col_text(int i) const;
  std::span<const uint8_t> col_blob(int i) const;  // valid until the next step/reset
  bool col_is_null(int i) const;

 private:
  friend class SqliteDb;
  struct Deleter {
    void operator()(sqlite3_stmt* s) const;
  };
  std::unique_ptr<sqlite3_stmt, Deleter> stmt_;
  sqlite3* db_ = nullptr;
  std::string what_;    // the SQL's first line, for messages
  Status bind_status_;  // first bind error, reported by step()
  void check_bind(int rc);
};

class SqliteDb {
 public:
  enum class Mode { kReadWriteCreate, kReadWrite, kReadOnly };

  SqliteDb() = default;
  // Opens `path`; read-write modes set WAL, foreign_keys=ON, synchronous=NORMAL... see .cpp.
  static Result<SqliteDb> open(const std::string& path, Mode mode, int busy_timeout_ms = 5000);

  bool is_open() const { return db_ != nullptr; }
  sqlite3* handle() const { return db_.get(); }
  const std::string& path() const { return path_; }

  // Runs one or more statements without results.
  Status exec(std::string_view sql);
  Result<Stmt> prepare(std::string_view sql);
  // Convenience: first column of the first row as an integer (NotFound when no row).
  Result<int64_t> query_int(std::string_view sql);
  int64_t last_insert_id() const;
  int changes() const;

 private:
  struct Deleter {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Deleter> db_;
  std::string path_;
};

// BEGIN IMMEDIATE on construction (check status()), ROLLBACK on destruction unless commit()ed.
class Transaction {
 public:
  explicit Transaction(SqliteDb* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& status() const { return begin_status_; }
  Status commit();

 private:
  SqliteDb* db_;
  Status begin_status_;
  bool is_done_ = false;
};

}  // namespace memlong
