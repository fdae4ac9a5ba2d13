// SqliteDb, Stmt, Transaction (see sqlite_db.h).
#include "core/store/sqlite_db.h"

#include <sqlite3.h>

#include <string>

namespace memlong {

namespace {

std::string first_line(std::string_view sql) {
  size_t b = sql.find_first_not_of(" \n\t");
  if (b == std::string_view::npos) return "";
  sql.remove_prefix(b);
  const size_t e = sql.find('\n');
  std::string s(sql.substr(0, e == std::string_view::npos ? sql.size() : e));
  if (s.size() > 80) s = s.substr(0, 80) + "...";
  return s;
}

}  // namespace

Status sqlite_status(int rc, sqlite3* db, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::ok();
  std::string msg = std::string(what) + ": " +
                    (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) + " (sqlite " +
                    std::to_string(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return corrupt(msg);
    case SQLITE_FULL:
      return io_error(msg + "; the disk is full");
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return io_error(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return io_error(msg + "; the library is busy (open in another program?)");
    case SQLITE_NOMEM:
      return out_of_memory(msg);
    case SQLITE_CONSTRAINT:
      return invalid_argument(msg);
    default:
      return internal_error(msg);
  }
}

// ---- Stmt ----

void Stmt::Deleter::operator()(sqlite3_stmt* s) const {
  sqlite3_finalize(s);
}

void Stmt::check_bind(int rc) {
  if (rc != SQLITE_OK && bind_status_.is_ok()) bind_status_ = sqlite_status(rc, db_, what_);
}

Stmt& Stmt::bind(int i, int64_t v) {
  check_bind(sqlite3_bind_int64(stmt_.get(), i, v));
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  check_bind(sqlite3_bind_double(stmt_.get(), i, v));
  return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
  check_bind(
      sqlite3_bind_text64(stmt_.get(), i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, size_t n) {
  static const uint8_t kEmpty = 0;
  check_bind(sqlite3_bind_blob64(stmt_.get(), i, n == 0 ? &kEmpty : data, n, SQLITE_TRANSIENT));
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  check_bind(sqlite3_bind_null(stmt_.get(), i));
  return *this;
}

Result<bool> Stmt::step() {
  if (!bind_status_.is_ok()) return bind_status_;
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_status(rc, db_, what_);
}

Status Stmt::run() {
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool has_row, step());
    if (!has_row) return Status::ok();
  }
}

Status Stmt::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_status_ = Status::ok();
  return Status::ok();
}

int64_t Stmt::col_int(int i) const {
  return sqlite3_column_int64(stmt_.get(), i);
}
double Stmt::col_double(int i) const {
  return sqlite3_column_double(stmt_.get(), i);
}
bool Stmt::col_is_null(int i) const {
  return sqlite3_column_type(stmt_.get(), i) == SQLITE_NULL;
}

std::string Stmt::col_text(int i) const {
  const auto* p = sqlite3_column_text(stmt_.get(), i);
  const int n = sqlite3_column_bytes(stmt_.get(), i);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::span<const uint8_t> Stmt::col_blob(int i) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_.get(), i));
  const int n = sqlite3_column_bytes(stmt_.get(), i);
  if (p == nullptr) return {};
  return {p, static_cast<size_t>(n)};
}

// ---- SqliteDb ----

void SqliteDb::Deleter::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

Result<SqliteDb> SqliteDb::open(const std::string& path, Mode mode, int busy_timeout_ms) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  switch (mode) {
    case Mode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDb db;
  db.db_.reset(raw);
  db.path_ = path;
  if (rc != SQLITE_OK) return sqlite_status(rc, raw, "opening " + path);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  // foreign_keys: cascades are how documents, chunks and sessions stay consistent.
  MEMLONG_RETURN_IF_ERROR(db.exec("PRAGMA foreign_keys=ON"));
  return db;
}

Status SqliteDb::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  return sqlite_status(rc, db_.get(), first_line(sql));
}

Result<Stmt> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt st;
  st.stmt_.reset(raw);
  st.db_ = db_.get();
  st.what_ = first_line(sql);
  if (rc != SQLITE_OK) return sqlite_status(rc, db_.get(), "preparing " + st.what_);
  return st;
}

Result<int64_t> SqliteDb::query_int(std::string_view sql) {
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, prepare(sql));
  MEMLONG_ASSIGN_OR_RETURN(bool has_row, st.step());
  if (!has_row) return not_found("no row: " + first_line(sql));
  return st.col_int(0);
}

int64_t SqliteDb::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_.get());
}
int SqliteDb::changes() const {
  return sqlite3_changes(db_.get());
}

// ---- Transaction ----

Transaction::Transaction(SqliteDb* db) : db_(db) {
  begin_status_ = db_->exec("BEGIN IMMEDIATE");
  if (!begin_status_.is_ok()) is_done_ = true;
}

Transaction::~Transaction() {
  if (!is_done_) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  MEMLONG_ASSERT(!is_done_);
  Status st = db_->exec("COMMIT");
  if (!st.is_ok()) return st;  // destructor rolls back
  is_done_ = true;
  return st;
}

}  // namespace memlong
