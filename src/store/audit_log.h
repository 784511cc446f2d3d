// store/audit_log.h — an append-only, hash-chained audit log in a relational store.
//
// Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields, so
// editing, deleting or reordering any entry breaks every hash after it, and Verify() names the
// first entry where the chain stops holding. (Somebody with write access can rewrite the whole
// tail consistently; anchoring the head elsewhere — printing it, shipping it to a log store — is
// what detects that, and Head() exists for it.)
//
// One implementation serves the API's request log (in the entity store) and the PII vault's
// decrypt log (in the vault's own database).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace cw::store {
namespace sql { class Database; }

struct AuditEntry {
  int64_t seq = 0;        // 1, 2, 3… assigned by Append
  Time at{};              // assigned by Append from the log's clock
  std::string actor;      // a user name, a service ("identity"), or "cli:<user>"
  std::string role;       // ops|staff|auditor|service|operator
  std::string action;     // an API route ("GET /api/v1/carts/{id}") or an operation ("decrypt")
  std::string target;     // the ids acted on, space-separated: "cart=CART-000001 session=…"
  std::string purpose;    // why (the vault requires one for every decrypt)
  std::string outcome;    // ok|denied|error…
  bool pii = false;       // Tier-3 data was read
  std::string prev_hash;  // lowercase hex; 64 zeros for the first entry
  std::string hash;
};

struct AuditQuery {
  std::optional<std::string> actor;
  std::optional<std::string> target;  // one whole word of the entry's space-separated targets
  std::optional<Time> since;
  int64_t after_seq = 0;  // paging: entries with seq above this
  size_t limit = 100;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends `entry` (seq, at and hashes are assigned) durably and returns it as stored. Safe from
  // many threads and processes: concurrent appends are serialised into one chain.
  virtual Result<AuditEntry> Append(AuditEntry entry) = 0;
  // Entries in seq order matching the query.
  virtual Result<std::vector<AuditEntry>> List(const AuditQuery& query) = 0;
  // Re-computes the whole chain: the number of entries when it holds; Corruption naming the first
  // entry whose hash or link does not match otherwise.
  virtual Result<int64_t> Verify() = 0;
  // The newest entry's seq and hash (0 and 64 zeros when empty).
  virtual Result<std::pair<int64_t, std::string>> Head() = 0;
};

// The table DDL for a log named `table` (for a store's migrations).
std::string AuditTableSql(const std::string& table);
// A log over `table` in `db` (which must outlive it).
std::unique_ptr<AuditLog> OpenSqlAuditLog(sql::Database& db, std::string table, Clock& clock);

}  // namespace cw::store
