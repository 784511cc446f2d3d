#include "store/sql.h"

#include <charconv>

namespace cw::store::sql {

const std::string& Row::Text(size_t c) const {
  static const std::string kEmpty;
  const auto& cell = cells_.at(c);
  return cell ? *cell : kEmpty;
}

int64_t Row::Int(size_t c) const { return OptInt(c).value_or(0); }

std::optional<int64_t> Row::OptInt(size_t c) const {
  const auto& cell = cells_.at(c);
  if (!cell) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(cell->data(), cell->data() + cell->size(), v);
  if (ec != std::errc() || end != cell->data() + cell->size()) return 0;
  return v;
}

Status Database::Transact(const std::function<Status(Tx&)>& fn) {
  if (owner_.load() == std::this_thread::get_id()) {
    std::string savepoint = "cw_sp" + std::to_string(++depth_);
    Status st = Script("SAVEPOINT " + savepoint);
    if (st.ok()) {
      st = fn(connection());
      if (!st.ok() && Connected()) Script("ROLLBACK TO SAVEPOINT " + savepoint).IgnoreError();
      if (Connected()) {
        Status released = Script("RELEASE SAVEPOINT " + savepoint);
        if (st.ok()) st = released;
      }
    }
    --depth_;
    return st;
  }
  std::lock_guard lock(mu_);
  CW_RETURN_IF_ERROR(EnsureConnected());
  CW_RETURN_IF_ERROR(Script(BeginStatement()));
  owner_ = std::this_thread::get_id();
  Status st = fn(connection());
  owner_ = std::thread::id();
  if (st.ok()) st = Script("COMMIT");
  if (!st.ok() && Connected()) Script("ROLLBACK").IgnoreError();
  return st;
}

Result<Rows> Database::Query(std::string_view sql, std::initializer_list<Value> params) {
  Rows out;
  Status st = Transact([&](Tx& tx) -> Status {
    CW_ASSIGN_OR_RETURN(out, tx.Query(sql, params));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<int64_t> Database::Exec(std::string_view sql, std::initializer_list<Value> params) {
  int64_t n = 0;
  Status st = Transact([&](Tx& tx) -> Status {
    CW_ASSIGN_OR_RETURN(n, tx.Exec(sql, params));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

Status Database::Migrate(std::span<const Migration> migrations, int64_t now_us) {
  const int64_t known = static_cast<int64_t>(migrations.size());
  for (;;) {
    bool done = false;
    Status st = Transact([&](Tx& tx) -> Status {
      if (dialect() == Dialect::kPostgres) {
        // Two processes migrating at once: the second waits here, then sees the first's rows.
        CW_RETURN_IF_ERROR(tx.Query("SELECT pg_advisory_xact_lock(7263540001)").status());
      }
      CW_RETURN_IF_ERROR(tx.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
                                 "applied_at_us BIGINT NOT NULL)").status());
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
      int64_t current = rows.empty() ? 0 : rows[0].Int(0);
      if (current > known) {
        return Corruption("database schema version " + std::to_string(current) + " is newer than this binary (" +
                          std::to_string(known) + "); upgrade cartwright");
      }
      if (current == known) {
        done = true;
        return Status::Ok();
      }
      const Migration& m = migrations[static_cast<size_t>(current)];
      std::string_view text = dialect() == Dialect::kPostgres && !m.postgres.empty() ? m.postgres : m.sql;
      CW_RETURN_IF_ERROR(Script(text).WithContext("migration " + std::to_string(current + 1)));
      return tx.Exec("INSERT INTO schema_migrations (version, applied_at_us) VALUES ($1, $2)",
                     {current + 1, now_us}).status();
    });
    if (!st.ok()) return st;
    if (done) return Status::Ok();
  }
}

}  // namespace cw::store::sql
