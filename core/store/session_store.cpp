// SessionStore (see session_store.h; invariants 1-3).
//  1. session_memory.entry_id references memory_entries ON DELETE CASCADE; save_memory_state
//     checks each entry's profile against the session's.
//  2. append_message assigns ordinal = count(*) inside its transaction.
//  3. fork_session copies with INSERT ... SELECT in one transaction.
#include "core/store/session_store.h"

#include <mutex>

#include "core/store/store_context.h"

namespace memlong {

namespace {

std::string session_name_error(const std::string& name) {
  return name.empty() ? "session name must not be empty" : "";
}

Status check_session_exists(SqliteDb& db, int64_t session_id) {
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT 1 FROM sessions WHERE id = ?"));
  st.bind(1, session_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return not_found("session " + std::to_string(session_id) + " does not exist");
  return Status::ok();
}

Status touch(SqliteDb& db, int64_t session_id) {
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, db.prepare("UPDATE sessions SET updated_at = ? WHERE id = ?"));
  return st.bind(1, unix_now()).bind(2, session_id).run();
}

}  // namespace

Result<int64_t> SessionStore::create_session(const std::string& name, int64_t profile_id,
                                             int64_t capacity_tokens,
                                             const std::string& settings_json) {
  if (!session_name_error(name).empty()) return invalid_argument(session_name_error(name));
  if (capacity_tokens <= 0)
    return invalid_argument("session capacity must be positive, got " +
                            std::to_string(capacity_tokens));
  if (profile_id != 0) MEMLONG_RETURN_IF_ERROR(load_profile(*ctx_, profile_id).status());
  std::lock_guard lock(ctx_->writer_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->writer.prepare("INSERT INTO sessions(name, created_at, updated_at, "
                                    "settings_json, capacity_tokens, profile_id) VALUES "
                                    "(?1, ?2, ?2, ?3, ?4, ?5)"));
  st.bind(1, name)
      .bind(2, unix_now())
      .bind(3, settings_json.empty() ? "{}" : settings_json)
      .bind(4, capacity_tokens);
  if (profile_id != 0)
    st.bind(5, profile_id);
  else
    st.bind_null(5);
  MEMLONG_RETURN_IF_ERROR(st.run());
  return ctx_->writer.last_insert_id();
}

namespace {

constexpr const char* kSessionColumns =
    "id, name, created_at, updated_at, settings_json, capacity_tokens, coalesce(profile_id, 0), "
    "next_seq";

SessionRecord read_session_row(const Stmt& st) {
  SessionRecord s;
  s.id = st.col_int(0);
  s.name = st.col_text(1);
  s.created_at = st.col_int(2);
  s.updated_at = st.col_int(3);
  s.settings_json = st.col_text(4);
  s.capacity_tokens = st.col_int(5);
  s.profile_id = st.col_int(6);
  s.next_seq = static_cast<uint64_t>(st.col_int(7));
  return s;
}

}  // namespace

Result<std::vector<SessionRecord>> SessionStore::list_sessions() {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare(std::string("SELECT ") + kSessionColumns +
                                                         " FROM sessions ORDER BY updated_at "
                                                         "DESC, id DESC"));
  std::vector<SessionRecord> out;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read_session_row(st));
  }
  return out;
}

Result<SessionRecord> SessionStore::get_session(int64_t session_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->reader.prepare(std::string("SELECT ") + kSessionColumns +
                                                         " FROM sessions WHERE id = ?"));
  st.bind(1, session_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return not_found("session " + std::to_string(session_id) + " does not exist");
  return read_session_row(st);
}

Status SessionStore::rename_session(int64_t session_id, const std::string& name) {
  if (!session_name_error(name).empty()) return invalid_argument(session_name_error(name));
  std::lock_guard lock(ctx_->writer_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->writer.prepare("UPDATE sessions SET name = ?, updated_at = ? WHERE id = ?"));
  MEMLONG_RETURN_IF_ERROR(st.bind(1, name).bind(2, unix_now()).bind(3, session_id).run());
  if (ctx_->writer.changes() == 0)
    return not_found("session " + std::to_string(session_id) + " does not exist");
  return Status::ok();
}

Status SessionStore::set_settings(int64_t session_id, const std::string& settings_json) {
  std::lock_guard lock(ctx_->writer_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st,
      ctx_->writer.prepare("UPDATE sessions SET settings_json = ?, updated_at = ? WHERE id = ?"));
  MEMLONG_RETURN_IF_ERROR(st.bind(1, settings_json).bind(2, unix_now()).bind(3, session_id).run());
  if (ctx_->writer.changes() == 0)
    return not_found("session " + std::to_string(session_id) + " does not exist");
  return Status::ok();
}

Status SessionStore::delete_session(int64_t session_id) {
  std::lock_guard lock(ctx_->writer_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->writer.prepare("DELETE FROM sessions WHERE id = ?"));
  MEMLONG_RETURN_IF_ERROR(st.bind(1, session_id).run());
  if (ctx_->writer.changes() == 0)
    return not_found("session " + std::to_string(session_id) + " does not exist");
  return Status::ok();
}

Result<int64_t> SessionStore::fork_session(int64_t session_id, const std::string& new_name) {
  if (!session_name_error(new_name).empty()) return invalid_argument(session_name_error(new_name));
  std::lock_guard lock(ctx_->writer_mutex);
  Transaction tx(&ctx_->writer);
  MEMLONG_RETURN_IF_ERROR(tx.status());
  MEMLONG_RETURN_IF_ERROR(check_session_exists(ctx_->writer, session_id));
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins, ctx_->writer.prepare(
                    "INSERT INTO sessions(name, created_at, updated_at, settings_json, "
                    "capacity_tokens, profile_id, next_seq) SELECT ?1, ?2, ?2, settings_json, "
                    "capacity_tokens, profile_id, next_seq FROM sessions WHERE id = ?3"));
  MEMLONG_RETURN_IF_ERROR(ins.bind(1, new_name).bind(2, unix_now()).bind(3, session_id).run());
  const int64_t new_id = ctx_->writer.last_insert_id();
  for (const char* sql :
       {"INSERT INTO session_documents(session_id, doc_id) SELECT ?1, doc_id FROM "
        "session_documents WHERE session_id = ?2",
        "INSERT INTO session_memory(session_id, entry_id, hits, seq) SELECT ?1, entry_id, hits, "
        "seq FROM session_memory WHERE session_id = ?2",
        "INSERT INTO messages(session_id, ordinal, role, text, citations_json, created_at) "
        "SELECT ?1, ordinal, role, text, citations_json, created_at FROM messages WHERE "
        "session_id = ?2"}) {
    MEMLONG_ASSIGN_OR_RETURN(Stmt st, ctx_->writer.prepare(sql));
    MEMLONG_RETURN_IF_ERROR(st.bind(1, new_id).bind(2, session_id).run());
  }
  MEMLONG_RETURN_IF_ERROR(tx.commit());
  return new_id;
}

Status SessionStore::set_documents(int64_t session_id, std::span<const int64_t> doc_ids) {
  std::lock_guard lock(ctx_->writer_mutex);
  Transaction tx(&ctx_->writer);
  MEMLONG_RETURN_IF_ERROR(tx.status());
  MEMLONG_RETURN_IF_ERROR(check_session_exists(ctx_->writer, session_id));
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt del, ctx_->writer.prepare("DELETE FROM session_documents WHERE session_id = ?"));
  MEMLONG_RETURN_IF_ERROR(del.bind(1, session_id).run());
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins, ctx_->writer.prepare("INSERT OR IGNORE INTO session_documents(session_id, doc_id) "
                                     "VALUES (?, ?)"));
  for (int64_t doc : doc_ids) {
    Status st = ins.bind(1, session_id).bind(2, doc).run();
    if (!st.is_ok())
      return invalid_argument("session " + std::to_string(session_id) + ": document " +
                              std::to_string(doc) + " cannot be added (" + st.message() + ")");
    MEMLONG_RETURN_IF_ERROR(ins.reset());
  }
  MEMLONG_RETURN_IF_ERROR(touch(ctx_->writer, session_id));
  return tx.commit();
}

Result<std::vector<int64_t>> SessionStore::documents(int64_t session_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->reader.prepare(
                   "SELECT doc_id FROM session_documents WHERE session_id = ? ORDER BY doc_id"));
  st.bind(1, session_id);
  std::vector<int64_t> out;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(st.col_int(0));
  }
  return out;
}

Status SessionStore::save_memory_state(int64_t session_id, const SessionMemoryState& state) {
  std::lock_guard lock(ctx_->writer_mutex);
  Transaction tx(&ctx_->writer);
  MEMLONG_RETURN_IF_ERROR(tx.status());
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt sel, ctx_->writer.prepare("SELECT coalesce(profile_id, 0) FROM sessions WHERE id = ?"));
  sel.bind(1, session_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, sel.step());
  if (!row) return not_found("session " + std::to_string(session_id) + " does not exist");
  const int64_t profile_id = sel.col_int(0);
  MEMLONG_ASSIGN_OR_RETURN(Stmt del,
                           ctx_->writer.prepare("DELETE FROM session_memory WHERE session_id = ?"));
  MEMLONG_RETURN_IF_ERROR(del.bind(1, session_id).run());
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt chk, ctx_->writer.prepare("SELECT profile_id FROM memory_entries WHERE chunk_id = ?"));
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins, ctx_->writer.prepare("INSERT INTO session_memory(session_id, entry_id, hits, seq) "
                                     "VALUES (?, ?, ?, ?)"));
  for (const auto& e : state.entries) {
    chk.bind(1, e.entry_id);
    MEMLONG_ASSIGN_OR_RETURN(bool found, chk.step());
    if (!found || chk.col_int(0) != profile_id)
      return invalid_argument("session " + std::to_string(session_id) + ": memory entry " +
                              std::to_string(e.entry_id) +
                              (found ? " belongs to another profile" : " does not exist"));
    MEMLONG_RETURN_IF_ERROR(chk.reset());
    Status st = ins.bind(1, session_id)
                    .bind(2, e.entry_id)
                    .bind(3, static_cast<int64_t>(e.hits))
                    .bind(4, static_cast<int64_t>(e.seq))
                    .run();
    if (!st.is_ok()) return st.with_context("memory entry " + std::to_string(e.entry_id));
    MEMLONG_RETURN_IF_ERROR(ins.reset());
  }
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt upd,
      ctx_->writer.prepare("UPDATE sessions SET next_seq = ?, updated_at = ? WHERE id = ?"));
  MEMLONG_RETURN_IF_ERROR(upd.bind(1, static_cast<int64_t>(state.next_seq))
                              .bind(2, unix_now())
                              .bind(3, session_id)
                              .run());
  return tx.commit();
}

Result<SessionMemoryState> SessionStore::load_memory_state(int64_t session_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(Stmt sel,
                           ctx_->reader.prepare("SELECT next_seq FROM sessions WHERE id = ?"));
  sel.bind(1, session_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, sel.step());
  if (!row) return not_found("session " + std::to_string(session_id) + " does not exist");
  SessionMemoryState state;
  state.next_seq = static_cast<uint64_t>(sel.col_int(0));
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->reader.prepare("SELECT entry_id, hits, seq FROM session_memory WHERE "
                                    "session_id = ? ORDER BY seq"));
  st.bind(1, session_id);
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool has, st.step());
    if (!has) break;
    state.entries.push_back({st.col_int(0), static_cast<uint32_t>(st.col_int(1)),
                             static_cast<uint64_t>(st.col_int(2))});
  }
  return state;
}

Result<int32_t> SessionStore::append_message(int64_t session_id, const MessageRecord& m) {
  std::lock_guard lock(ctx_->writer_mutex);
  Transaction tx(&ctx_->writer);
  MEMLONG_RETURN_IF_ERROR(tx.status());
  MEMLONG_RETURN_IF_ERROR(check_session_exists(ctx_->writer, session_id));
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt cnt, ctx_->writer.prepare("SELECT count(*) FROM messages WHERE session_id = ?"));
  cnt.bind(1, session_id);
  MEMLONG_ASSIGN_OR_RETURN(bool row, cnt.step());
  const auto ordinal = static_cast<int32_t>(row ? cnt.col_int(0) : 0);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt ins, ctx_->writer.prepare("INSERT INTO messages(session_id, ordinal, role, text, "
                                     "citations_json, created_at) VALUES (?,?,?,?,?,?)"));
  MEMLONG_RETURN_IF_ERROR(ins.bind(1, session_id)
                              .bind(2, ordinal)
                              .bind(3, m.role)
                              .bind(4, m.text)
                              .bind(5, m.citations_json.empty() ? "[]" : m.citations_json)
                              .bind(6, m.created_at != 0 ? m.created_at : unix_now())
                              .run());
  MEMLONG_RETURN_IF_ERROR(touch(ctx_->writer, session_id));
  MEMLONG_RETURN_IF_ERROR(tx.commit());
  return ordinal;
}

Result<std::vector<MessageRecord>> SessionStore::messages(int64_t session_id) {
  std::lock_guard lock(ctx_->reader_mutex);
  MEMLONG_ASSIGN_OR_RETURN(
      Stmt st, ctx_->reader.prepare("SELECT ordinal, role, text, citations_json, created_at FROM "
                                    "messages WHERE session_id = ? ORDER BY ordinal"));
  st.bind(1, session_id);
  std::vector<MessageRecord> out;
  for (;;) {
    MEMLONG_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back({static_cast<int32_t>(st.col_int(0)), st.col_text(1), st.col_text(2),
                   st.col_text(3), st.col_int(4)});
  }
  return out;
}

}  // namespace memlong
