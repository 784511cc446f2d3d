#include "store/audit_log.h"

#include "crypto/hash.h"
#include "store/sql.h"

namespace cw::store {
namespace {

const std::string kGenesis(64, '0');

// Length-prefixed fields, so no choice of field contents can make two entries hash alike.
std::string ChainHash(const AuditEntry& e) {
  std::string buf;
  auto add = [&](std::string_view field) {
    buf += std::to_string(field.size());
    buf += ':';
    buf += field;
  };
  add(e.prev_hash);
  add(std::to_string(e.seq));
  add(std::to_string(e.at.time_since_epoch().count()));
  add(e.actor);
  add(e.role);
  add(e.action);
  add(e.target);
  add(e.purpose);
  add(e.outcome);
  add(e.pii ? "1" : "0");
  return crypto::Sha256Hex(buf);
}

class SqlAuditLog final : public AuditLog {
 public:
  SqlAuditLog(sql::Database& db, std::string table, Clock& clock) : db_(db), table_(std::move(table)), clock_(clock) {}

  Result<AuditEntry> Append(AuditEntry e) override {
    // Two processes may race for the same seq on PostgreSQL; the loser's insert is a primary-key
    // violation and it simply tries again on top of the winner.
    for (int attempt = 0;; ++attempt) {
      Status st = db_.Transact([&](sql::Tx& tx) -> Status {
        CW_ASSIGN_OR_RETURN(sql::Rows last, tx.Query("SELECT seq, hash FROM " + table_ + " ORDER BY seq DESC LIMIT 1"));
        e.seq = last.empty() ? 1 : last[0].Int(0) + 1;
        e.prev_hash = last.empty() ? kGenesis : last[0].Text(1);
        e.at = clock_.Now();
        e.hash = ChainHash(e);
        return tx.Exec("INSERT INTO " + table_ +
                           " (seq, at_us, actor, role, action, target, purpose, outcome, pii, prev_hash, hash) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                       {e.seq, e.at.time_since_epoch().count(), e.actor, e.role, e.action, e.target, e.purpose,
                        e.outcome, int64_t{e.pii}, e.prev_hash, e.hash})
            .status();
      });
      if (st.ok()) return e;
      if (st.code() != Code::kAlreadyExists || attempt >= 20) return st.WithContext("append to " + table_);
    }
  }

  // LIKE pattern matching `target` as one whole space-separated word of an entry's targets.
  static std::string TokenPattern(const std::string& target) {
    std::string p = "% ";
    for (char c : target) {
      if (c == '%' || c == '_' || c == '!') p.push_back('!');
      p.push_back(c);
    }
    return p + " %";
  }

  Result<std::vector<AuditEntry>> List(const AuditQuery& q) override {
    CW_ASSIGN_OR_RETURN(sql::Rows rows,
                        db_.Query(std::string(kColumns) + table_ +
                                      " WHERE seq > $1 AND (CAST($2 AS TEXT) IS NULL OR actor = $2)"
                                      " AND (CAST($3 AS TEXT) IS NULL OR ' ' || target || ' ' LIKE $3 ESCAPE '!')"
                                      " AND (CAST($4 AS BIGINT) IS NULL OR at_us >= $4) ORDER BY seq LIMIT $5",
                                  {q.after_seq, sql::Opt(q.actor), q.target ? sql::Value(TokenPattern(*q.target)) : sql::Null(),
                                   q.since ? sql::Value(q.since->time_since_epoch().count()) : sql::Null(),
                                   static_cast<int64_t>(q.limit)}));
    std::vector<AuditEntry> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(Read(r));
    return out;
  }

  Result<int64_t> Verify() override {
    std::string prev = kGenesis;
    int64_t expected = 1;
    for (;;) {
      CW_ASSIGN_OR_RETURN(sql::Rows rows,
                          db_.Query(std::string(kColumns) + table_ + " WHERE seq >= $1 ORDER BY seq LIMIT 1000",
                                    {expected}));
      if (rows.empty()) return expected - 1;
      for (const auto& r : rows) {
        AuditEntry e = Read(r);
        std::string where = table_ + " entry " + std::to_string(expected);
        if (e.seq != expected) return Corruption(where + " is missing (next is " + std::to_string(e.seq) + ")");
        if (e.prev_hash != prev) return Corruption(where + " does not link to the entry before it");
        if (ChainHash(e) != e.hash) return Corruption(where + " was altered (its hash does not match its fields)");
        prev = e.hash;
        ++expected;
      }
    }
  }

  Result<std::pair<int64_t, std::string>> Head() override {
    CW_ASSIGN_OR_RETURN(sql::Rows last, db_.Query("SELECT seq, hash FROM " + table_ + " ORDER BY seq DESC LIMIT 1"));
    if (last.empty()) return std::pair<int64_t, std::string>{0, kGenesis};
    return std::pair<int64_t, std::string>{last[0].Int(0), last[0].Text(1)};
  }

 private:
  static constexpr std::string_view kColumns =
      "SELECT seq, at_us, actor, role, action, target, purpose, outcome, pii, prev_hash, hash FROM ";

  static AuditEntry Read(const sql::Row& r) {
    return AuditEntry{r.Int(0), Time(Duration(r.Int(1))), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6),
                      r.Text(7), r.Int(8) != 0, r.Text(9), r.Text(10)};
  }

  sql::Database& db_;
  std::string table_;
  Clock& clock_;
};

}  // namespace

std::string AuditTableSql(const std::string& table) {
  return "CREATE TABLE " + table +
         " (\n"
         "  seq       BIGINT PRIMARY KEY,\n"
         "  at_us     BIGINT NOT NULL,\n"
         "  actor     TEXT NOT NULL,\n"
         "  role      TEXT NOT NULL,\n"
         "  action    TEXT NOT NULL,\n"
         "  target    TEXT NOT NULL,\n"
         "  purpose   TEXT NOT NULL,\n"
         "  outcome   TEXT NOT NULL,\n"
         "  pii       INTEGER NOT NULL,\n"
         "  prev_hash TEXT NOT NULL,\n"
         "  hash      TEXT NOT NULL\n"
         ");\n"
         "CREATE INDEX " + table + "_by_actor ON " + table + " (actor, seq);\n";
}

std::unique_ptr<AuditLog> OpenSqlAuditLog(sql::Database& db, std::string table, Clock& clock) {
  return std::make_unique<SqlAuditLog>(db, std::move(table), clock);
}

}  // namespace cw::store
