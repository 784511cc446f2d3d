// The SQLite backend of store/sql.h: one connection, and BEGIN IMMEDIATE so two processes queue on
// the write lock instead of failing mid-transaction.
#include <sqlite3.h>

#include <map>


#include "store/sql.h"

namespace cw::store::sql {
namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE: return AlreadyExists(msg);
    default: break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return FailedPrecondition(msg);
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

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(sqlite3* db) : db_(db) {}
  ~SqliteTx() override {
    for (auto& [_, stmt] : cache_) sqlite3_finalize(stmt);
  }

  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params) override {
    Rows rows;
    CW_RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params) override {
    CW_RETURN_IF_ERROR(Run(sql, params, nullptr));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Status Script(std::string_view sql) {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return SqliteError(db_, sqlite3_extended_errcode(db_), "sqlite script");
    return Status::Ok();
  }

 private:
  // Prepared statements are kept by their text: the stores run a fixed set of statements, and
  // preparing costs more than running most of them. (SQLite re-prepares one whose schema changed.)
  Result<sqlite3_stmt*> Prepared(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      return SqliteError(db_, rc, "prepare '" + std::string(sql.substr(0, 80)) + "'");
    }
    if (cache_.size() >= kMaxCached) {
      for (auto& [_, stmt] : cache_) sqlite3_finalize(stmt);
      cache_.clear();
    }
    cache_.emplace(std::string(sql), raw);
    return raw;
  }

  Status Run(std::string_view sql, std::initializer_list<Value> params, Rows* rows) {
    CW_ASSIGN_OR_RETURN(sqlite3_stmt* raw, Prepared(sql));
    // Done with it on every path: reset releases its locks, and the bindings must not leak into
    // the next use.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{raw};
    int rc = SQLITE_OK;
    int n = 1;
    for (const Value& v : params) {
      std::string name = "$" + std::to_string(n++);
      int index = sqlite3_bind_parameter_index(raw, name.c_str());
      if (index == 0) continue;  // a parameter the statement does not use
      if (const auto* i = std::get_if<int64_t>(&v)) {
        sqlite3_bind_int64(raw, index, *i);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        sqlite3_bind_text(raw, index, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(raw, index);
      }
    }
    for (;;) {
      rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return SqliteError(db_, sqlite3_extended_errcode(db_), "sqlite step");
      if (!rows) continue;
      int columns = sqlite3_column_count(raw);
      std::vector<std::optional<std::string>> cells;
      cells.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (sqlite3_column_type(raw, c) == SQLITE_NULL) {
          cells.emplace_back();
          continue;
        }
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
        cells.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(raw, c))));
      }
      rows->emplace_back(std::move(cells));
    }
  }

  static constexpr size_t kMaxCached = 512;
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  ~SqliteDatabase() override { sqlite3_close_v2(db_); }

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Pragmas(bool file) {
    CW_RETURN_IF_ERROR(Script("PRAGMA foreign_keys = ON"));
    if (file) CW_RETURN_IF_ERROR(Script("PRAGMA journal_mode = WAL"));
    // 64 MiB of page cache instead of SQLite's 2 MiB: the projection touches session and scan
    // pages all over a database of hundreds of MB, and each miss is a read() system call.
    CW_RETURN_IF_ERROR(Script("PRAGMA cache_size = -65536"));
    return Script("PRAGMA synchronous = FULL");
  }

 protected:
  Tx& connection() override { return tx_; }
  Status Script(std::string_view sql) override { return tx_.Script(sql); }
  std::string_view BeginStatement() const override { return "BEGIN IMMEDIATE"; }

 private:
  sqlite3* db_;
  SqliteTx tx_{db_};
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path) {
  if (path.empty()) return InvalidArgument("sqlite: needs a path (sqlite:PATH or sqlite::memory:)");
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  auto db = std::make_unique<SqliteDatabase>(raw);
  if (rc != SQLITE_OK) return SqliteError(raw, rc, "open sqlite database " + path);
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  CW_RETURN_IF_ERROR(db->Pragmas(path != ":memory:").WithContext(path));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace cw::store::sql
