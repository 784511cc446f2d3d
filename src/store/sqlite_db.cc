#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <memory>

namespace cw::store::sqlite {

Status LastError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return AlreadyExists(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Unavailable(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Corruption(msg);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY: return FailedPrecondition(msg);
    default: return Internal(msg);
  }
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::Bind(int i, std::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return LastError(db_, sqlite3_extended_errcode(db_), "sqlite step");
}

Status Statement::Run() {
  for (;;) {
    CW_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

std::string Statement::Text(int c) const {
  const unsigned char* t = sqlite3_column_text(stmt_, c);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, c)))
           : std::string();
}
int64_t Statement::Int(int c) const { return sqlite3_column_int64(stmt_, c); }
bool Statement::IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<Db> db(new Db(raw));
  if (rc != SQLITE_OK) return LastError(raw, rc, "open sqlite database " + path);
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  CW_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  if (path != ":memory:") CW_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL"));
  CW_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = FULL"));
  return db;
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    return LastError(db_, sqlite3_extended_errcode(db_), "sqlite exec");
  }
  return Status::Ok();
}

Result<Statement> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return LastError(db_, rc, "prepare '" + std::string(sql.substr(0, 60)) + "'");
  return Statement(db_, stmt);
}

Status Db::Migrate(std::span<const std::string_view> migrations) {
  CW_RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_us INTEGER NOT NULL)"));
  CW_ASSIGN_OR_RETURN(auto q, Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  CW_ASSIGN_OR_RETURN(bool row, q.Step());
  int64_t current = row ? q.Int(0) : 0;
  if (current > static_cast<int64_t>(migrations.size())) {
    return Corruption("database schema version " + std::to_string(current) + " is newer than this binary (" +
                      std::to_string(migrations.size()) + "); upgrade cartwright");
  }
  for (size_t v = static_cast<size_t>(current); v < migrations.size(); ++v) {
    CW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = Exec(migrations[v]);
    if (st.ok()) {
      auto ins = Prepare("INSERT INTO schema_migrations (version, applied_at_us) VALUES (?, strftime('%s','now') * 1000000)");
      st = ins.ok() ? ins->Bind(1, static_cast<int64_t>(v + 1)).Run() : ins.error();
    }
    if (!st.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return st.WithContext("migration " + std::to_string(v + 1));
    }
    CW_RETURN_IF_ERROR(Exec("COMMIT"));
  }
  return Status::Ok();
}

}  // namespace cw::store::sqlite
