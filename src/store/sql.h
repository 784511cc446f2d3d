// store/sql.h — one small relational interface over SQLite and PostgreSQL, so each relational store
// (entity state, the PII vault) is written once and runs on both engines.
//
// Statements are written in PostgreSQL's dialect with `$1..$n` parameters; the SQLite backend binds
// `$n` by name, so the same text serves both. Keep to the common subset: TEXT, BIGINT/INTEGER
// (booleans as 0/1), CHECK, UNIQUE, REFERENCES, `INSERT … ON CONFLICT … DO UPDATE/NOTHING`,
// `RETURNING`, CASE (not GREATEST/LEAST or scalar MAX/MIN, which differ). Times are bound as
// integers (microseconds) from the injected clock, never computed by the database.
//
// Every value crosses as NULL, a 64-bit integer or text, and every cell is read back as text; a
// row decodes its integers itself.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace cw::store::sql {

// A statement parameter.
using Value = std::variant<std::nullptr_t, int64_t, std::string>;
inline Value Null() { return nullptr; }
template <typename T>
Value Opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_integral_v<T>) return static_cast<int64_t>(*v);
  else return std::string(*v);
}

class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t column) const { return !cells_.at(column); }
  // "" for NULL.
  const std::string& Text(size_t column) const;
  // 0 for NULL; a cell that is not an integer reads as 0 too (the schema's CHECKs prevent it).
  int64_t Int(size_t column) const;
  std::optional<std::string> OptText(size_t column) const { return cells_.at(column); }
  std::optional<int64_t> OptInt(size_t column) const;

 private:
  std::vector<std::optional<std::string>> cells_;
};
using Rows = std::vector<Row>;

// The statements of one transaction. Only valid inside Database::Transact's callback.
class Tx {
 public:
  virtual ~Tx() = default;
  // Runs one statement and returns its rows (SELECT, or … RETURNING). Errors are classified:
  // a unique/primary-key violation is kAlreadyExists, a foreign-key or CHECK violation
  // kFailedPrecondition, a lost connection / busy database / serialisation failure kUnavailable.
  virtual Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {}) = 0;
  // Runs one statement and returns how many rows it inserted, updated or deleted.
  virtual Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params = {}) = 0;
};

enum class Dialect { kSqlite, kPostgres };

// One versioned schema step. `postgres` is used on PostgreSQL when the two dialects must differ.
struct Migration {
  std::string_view sql;
  std::string_view postgres = {};
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;

  // Runs `fn` in one transaction: commits when it returns Ok and rolls back otherwise, returning
  // its status. Transactions of one Database are serialised (one connection); between processes
  // the engine's locking applies (SQLite waits up to its busy timeout; PostgreSQL READ COMMITTED).
  // A dropped PostgreSQL connection is re-established on the next call.
  //
  // Nesting: a Transact called by the thread already inside one runs in a savepoint of it — its
  // failure rolls back only its own statements, and the outer transaction decides the rest. That
  // is how a batch of independent writes shares one commit (one fsync) without one bad write
  // spoiling the others.
  Status Transact(const std::function<Status(Tx&)>& fn);

  // Applies migrations[i] for every version i+1 above the one recorded in schema_migrations, each
  // in its own transaction with the version row. Corruption if the database is newer than the
  // binary. Safe to run from two processes at once (the loser sees the rows and skips).
  Status Migrate(std::span<const Migration> migrations, int64_t now_us);

  // Shorthands for one-statement transactions.
  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {});
  Result<int64_t> Exec(std::string_view sql, std::initializer_list<Value> params = {});

 protected:
  // The connection's statements. Called with the transaction mutex held.
  virtual Tx& connection() = 0;
  // Runs a multi-statement script without parameters (DDL, BEGIN/COMMIT…) on the connection.
  virtual Status Script(std::string_view sql) = 0;
  // Before a transaction: re-establish a lost connection (PostgreSQL).
  virtual Status EnsureConnected() { return Status::Ok(); }
  // SQLite takes the write lock up front so two processes queue instead of deadlocking.
  virtual std::string_view BeginStatement() const { return "BEGIN"; }
  // False when the connection is gone (nothing left to roll back).
  virtual bool Connected() const { return true; }

 private:
  std::mutex mu_;
  std::atomic<std::thread::id> owner_{};  // the thread inside a transaction, if any
  int depth_ = 0;                         // savepoint nesting; only the owner touches it
};

// "PATH" or ":memory:". WAL, foreign keys on, fully synchronous commits, 5 s busy timeout.
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path);
// A libpq connection string or URI ("postgresql://user@127.0.0.1:5432/db").
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& conninfo);

}  // namespace cw::store::sql
