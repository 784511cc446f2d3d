// store/sqlite_db.h — a thin, error-as-value wrapper over the SQLite C API with versioned migrations.
// Shared by every SQLite-backed store (entity state now; the PII vault later).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cw::store::sqlite {

class Statement {
 public:
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  ~Statement();

  // Binds are 1-based, as in SQLite.
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);

  // Advances: true when a row is available, false when done. Errors map SQLite codes to Codes:
  // constraint violations → kAlreadyExists, busy/locked → kUnavailable, others → kInternal.
  Result<bool> Step();
  // Runs to completion, ignoring rows.
  Status Run();

  std::string Text(int column) const;
  int64_t Int(int column) const;
  bool IsNull(int column) const;

 private:
  friend class Db;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens (creating) a database file, or ":memory:". WAL, foreign keys on, fully synchronous
  // commits, and a busy timeout so a CLI reading while the server writes waits instead of failing.
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();

  Status Exec(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);

  // Applies migrations[i] for every version i+1 above the recorded one, each in a transaction.
  // Corruption if the database is newer than this binary knows.
  Status Migrate(std::span<const std::string_view> migrations);

  // Serialises use of the connection by one logical operation (statements + transaction).
  std::mutex& mutex() { return mu_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::mutex mu_;
};

// Maps the connection's last error to a Status with `what` as context.
Status LastError(sqlite3* db, int rc, std::string_view what);

}  // namespace cw::store::sqlite
