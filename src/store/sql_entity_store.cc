// The entity store, written once over store/sql.h: SQLite and PostgreSQL run the same statements.
//
// Sessions are projected from facts. Each fact is kept in its own row keyed by the event that
// carried it, and everything a reader sees (status, totals, flags) is re-derived from the facts by
// Refresh() in the same transaction — a pure function of the set of facts, so any arrival order
// and any duplicates give the same state, and a batch of facts (RecordFacts) can re-derive each
// session once at its end rather than after every fact.
#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "store/audit_log.h"
#include "store/entity_store.h"
#include "store/sql.h"
#include "wire/json.h"

namespace cw::store {
namespace {

using sql::Rows;
using sql::Tx;
using sql::Value;

const std::vector<sql::Migration>& Migrations() {
  static const std::string v1 = R"sql(
CREATE TABLE stores (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  partner       TEXT NOT NULL,
  region        TEXT NOT NULL CHECK (region IN ('us', 'eu')),
  timezone      TEXT NOT NULL,
  created_at_us BIGINT NOT NULL
);
CREATE TABLE carts (
  id               TEXT PRIMARY KEY,
  store_id         TEXT NOT NULL REFERENCES stores (id),
  serial           TEXT NOT NULL UNIQUE,
  cert_fingerprint TEXT NOT NULL UNIQUE,
  public_key_pem   TEXT NOT NULL,
  certificate_pem  TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'retired')),
  registered_at_us BIGINT NOT NULL
);
CREATE INDEX carts_by_store ON carts (store_id, id);
)sql";
  static const std::string v2 = R"sql(
ALTER TABLE stores ADD COLUMN geofence_lat DOUBLE PRECISION;
ALTER TABLE stores ADD COLUMN geofence_lon DOUBLE PRECISION;
ALTER TABLE stores ADD COLUMN geofence_radius_m DOUBLE PRECISION;
ALTER TABLE stores ADD COLUMN ssid TEXT NOT NULL DEFAULT '';
ALTER TABLE stores ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';
CREATE TABLE cart_state (
  cart_id        TEXT PRIMARY KEY REFERENCES carts (id),
  seq            BIGINT NOT NULL,
  reported_at_us BIGINT NOT NULL,
  state          TEXT NOT NULL,
  battery_pct    INTEGER NOT NULL,
  battery_mv     INTEGER NOT NULL,
  charging       INTEGER NOT NULL,
  link           TEXT NOT NULL,
  rssi_dbm       INTEGER NOT NULL,
  location_json  TEXT NOT NULL,
  firmware       TEXT NOT NULL
);
CREATE TABLE cart_maintenance (
  cart_id        TEXT PRIMARY KEY REFERENCES carts (id),
  in_maintenance INTEGER NOT NULL,
  reason         TEXT NOT NULL,
  since_us       BIGINT NOT NULL
);
CREATE TABLE items (
  store_id          TEXT NOT NULL REFERENCES stores (id),
  sku               TEXT NOT NULL,
  name              TEXT NOT NULL,
  price_cents       BIGINT NOT NULL CHECK (price_cents >= 0),
  expected_weight_g INTEGER,
  category          TEXT NOT NULL,
  PRIMARY KEY (store_id, sku)
);
CREATE TABLE accounts (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('registered', 'card_holder')),
  created_at_us BIGINT NOT NULL
);
CREATE TABLE loyalty_numbers (
  number     TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id)
);
CREATE INDEX loyalty_by_account ON loyalty_numbers (account_id);
CREATE TABLE card_holders (
  token_index TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL UNIQUE REFERENCES accounts (id)
);
CREATE TABLE app_codes (
  code_digest   TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts (id),
  issued_at_us  BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  used_at_us    BIGINT
);
CREATE TABLE sessions (
  id                  TEXT PRIMARY KEY,
  cart_id             TEXT NOT NULL REFERENCES carts (id),
  store_id            TEXT NOT NULL REFERENCES stores (id),
  start_seq           BIGINT,
  start_ts_us         BIGINT,
  first_seen_us       BIGINT NOT NULL,
  end_seq             BIGINT,
  end_ts_us           BIGINT,
  end_status          TEXT CHECK (end_status IN ('complete', 'abandoned', 'voided')),
  claimed_item_count  INTEGER,
  claimed_total_cents BIGINT,
  account_id          TEXT REFERENCES accounts (id),
  customer_ref        TEXT NOT NULL DEFAULT '',
  identified_by       TEXT NOT NULL DEFAULT '',
  merged_into         TEXT REFERENCES sessions (id),
  status              TEXT NOT NULL CHECK (status IN ('active', 'paused', 'complete', 'abandoned', 'voided')),
  scan_count          INTEGER NOT NULL DEFAULT 0,
  scan_total_cents    BIGINT NOT NULL DEFAULT 0,
  weight_mismatches   INTEGER NOT NULL DEFAULT 0,
  totals_mismatch     INTEGER NOT NULL DEFAULT 0,
  exit_without_pay    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_store ON sessions (store_id, first_seen_us);
CREATE INDEX sessions_by_cart ON sessions (cart_id, first_seen_us);
CREATE INDEX sessions_by_account ON sessions (account_id, first_seen_us);
CREATE TABLE scans (
  session_id        TEXT NOT NULL REFERENCES sessions (id),
  cart_id           TEXT NOT NULL,
  seq               BIGINT NOT NULL,
  ts_us             BIGINT NOT NULL,
  sku               TEXT NOT NULL,
  qty               INTEGER NOT NULL,
  price_cents       BIGINT NOT NULL,
  weight_delta_g    INTEGER NOT NULL,
  expected_weight_g INTEGER,
  weight_mismatch   INTEGER NOT NULL,
  carried_from      TEXT,
  PRIMARY KEY (session_id, cart_id, seq)
);
CREATE TABLE session_lines (
  session_id  TEXT NOT NULL REFERENCES sessions (id),
  line        INTEGER NOT NULL,
  sku         TEXT NOT NULL,
  qty         INTEGER NOT NULL,
  price_cents BIGINT NOT NULL,
  PRIMARY KEY (session_id, line)
);
CREATE TABLE session_faults (
  cart_id    TEXT NOT NULL,
  seq        BIGINT NOT NULL,
  session_id TEXT NOT NULL REFERENCES sessions (id),
  ts_us      BIGINT NOT NULL,
  code       TEXT NOT NULL,
  PRIMARY KEY (cart_id, seq)
);
CREATE INDEX session_faults_by_session ON session_faults (session_id);
CREATE TABLE payments (
  session_id   TEXT PRIMARY KEY REFERENCES sessions (id),
  auth_token   TEXT NOT NULL,
  amount_cents BIGINT NOT NULL,
  status       TEXT NOT NULL,
  ts_us        BIGINT NOT NULL
);
CREATE TABLE users (
  name          TEXT PRIMARY KEY,
  role          TEXT NOT NULL CHECK (role IN ('ops', 'staff', 'auditor')),
  store_id      TEXT REFERENCES stores (id),
  password_hash TEXT NOT NULL,
  totp_secret   TEXT NOT NULL,
  created_at_us BIGINT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0
);
)sql" + AuditTableSql("audit_log");
  static const std::string v3 = R"sql(
CREATE TABLE cart_activity (
  cart_id        TEXT PRIMARY KEY REFERENCES carts (id),
  last_seen_us   BIGINT NOT NULL,
  fault_code     TEXT NOT NULL DEFAULT '',
  fault_severity TEXT NOT NULL DEFAULT '',
  fault_at_us    BIGINT
);
CREATE TABLE api_tokens (
  digest        TEXT PRIMARY KEY,
  user_name     TEXT NOT NULL REFERENCES users (name),
  kind          TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  issued_at_us  BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL,
  revoked       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_name);
CREATE TABLE proximity_nonces (
  nonce         TEXT PRIMARY KEY,
  cart_id       TEXT NOT NULL,
  used_at_us    BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL
);
CREATE TABLE session_overrides (
  cmd_id          TEXT PRIMARY KEY,
  session_id      TEXT NOT NULL REFERENCES sessions (id),
  cart_id         TEXT NOT NULL,
  action          TEXT NOT NULL CHECK (action IN ('pause', 'cancel', 'restart')),
  reason          TEXT NOT NULL,
  actor           TEXT NOT NULL,
  requested_at_us BIGINT NOT NULL
);
CREATE INDEX session_overrides_by_session ON session_overrides (session_id, requested_at_us);
)sql";
  static const std::string v4 = R"sql(
ALTER TABLE cart_activity ADD COLUMN clock_offset_us BIGINT;
ALTER TABLE cart_activity ADD COLUMN clock_offset_at_us BIGINT;
)sql";
  static const std::string v5 = R"sql(
CREATE TABLE proximity_challenges (
  nonce         TEXT PRIMARY KEY,
  cart_id       TEXT NOT NULL,
  issued_at_us  BIGINT NOT NULL,
  expires_at_us BIGINT NOT NULL
);
)sql";
  // The fleet monitor: each cart's link state with its history, and alarm notifications.
  static const std::string v6 = R"sql(
CREATE TABLE cart_connectivity (
  cart_id       TEXT PRIMARY KEY REFERENCES carts (id),
  state         TEXT NOT NULL CHECK (state IN ('online', 'stale', 'offline')),
  since_us      BIGINT NOT NULL,
  cause         TEXT NOT NULL,
  connection_us BIGINT
);
CREATE TABLE connectivity_transitions (
  cart_id       TEXT NOT NULL REFERENCES carts (id),
  at_us         BIGINT NOT NULL,
  from_state    TEXT NOT NULL CHECK (from_state IN ('online', 'stale', 'offline')),
  to_state      TEXT NOT NULL CHECK (to_state IN ('online', 'stale', 'offline')),
  cause         TEXT NOT NULL,
  connection_us BIGINT,
  PRIMARY KEY (cart_id, at_us, from_state, to_state)
);
CREATE TABLE alarm_events (
  alarm     TEXT NOT NULL,
  subject   TEXT NOT NULL,
  at_us     BIGINT NOT NULL,
  firing    INTEGER NOT NULL,
  severity  TEXT NOT NULL CHECK (severity IN ('page', 'notify')),
  value     TEXT NOT NULL,
  threshold TEXT NOT NULL,
  summary   TEXT NOT NULL,
  PRIMARY KEY (alarm, subject, at_us, firing)
);
CREATE INDEX alarm_events_by_time ON alarm_events (at_us);
)sql";
  // OTA rollouts: the rollout, a job per target cart, what each cart trusts, and opt-outs.
  static const std::string v7 = R"sql(
CREATE TABLE rollouts (
  id                     TEXT PRIMARY KEY,
  version                TEXT NOT NULL,
  state                  TEXT NOT NULL CHECK (state IN ('running', 'halted', 'completed', 'aborted')),
  stages                 TEXT NOT NULL,
  stage                  BIGINT NOT NULL,
  stage_started_at_us    BIGINT NOT NULL,
  stores                 TEXT NOT NULL,
  carts                  TEXT NOT NULL,
  pace_per_minute        BIGINT NOT NULL,
  jitter_us              BIGINT NOT NULL,
  created_by             TEXT NOT NULL,
  created_at_us          BIGINT NOT NULL,
  updated_at_us          BIGINT NOT NULL,
  halt_reason            TEXT NOT NULL,
  released_at_us         BIGINT,
  acknowledged_rollbacks BIGINT NOT NULL
);
CREATE INDEX rollouts_by_created ON rollouts (created_at_us);
CREATE TABLE rollout_jobs (
  rollout_id    TEXT NOT NULL REFERENCES rollouts (id),
  cart_id       TEXT NOT NULL REFERENCES carts (id),
  job_id        TEXT NOT NULL UNIQUE,
  stage         BIGINT NOT NULL,
  position      BIGINT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'ROLLED_BACK')),
  from_version  TEXT NOT NULL,
  send_at_us    BIGINT,
  sent_at_us    BIGINT,
  updated_at_us BIGINT NOT NULL,
  decided_seq   BIGINT NOT NULL,
  detail        TEXT NOT NULL,
  PRIMARY KEY (rollout_id, cart_id)
);
CREATE TABLE cart_trust (
  cart_id TEXT PRIMARY KEY REFERENCES carts (id),
  seq     BIGINT NOT NULL,
  keys    TEXT NOT NULL
);
CREATE TABLE ota_opt_outs (
  subject TEXT PRIMARY KEY,
  reason  TEXT NOT NULL,
  actor   TEXT NOT NULL,
  at_us   BIGINT NOT NULL
);
)sql";
  // A cart's open session, found without reading its whole history (a health report asks).
  static const std::string v8 = R"sql(
CREATE INDEX sessions_open_by_cart ON sessions (cart_id) WHERE end_seq IS NULL;
)sql";
  static const std::vector<sql::Migration> migrations = {{v1}, {v2}, {v3}, {v4}, {v5}, {v6}, {v7}, {v8}};
  return migrations;
}

int64_t Micros(Time t) { return t.time_since_epoch().count(); }
Time FromMicros(int64_t us) { return Time(Duration(us)); }

double ToDouble(const std::string& s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}
std::string FromDouble(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

class SqlEntityStore final : public EntityStore {
 public:
  SqlEntityStore(std::unique_ptr<sql::Database> db, Clock& clock)
      : db_(std::move(db)), audit_(OpenSqlAuditLog(*db_, "audit_log", clock)) {}

  AuditLog& audit() override { return *audit_; }

  Status Batch(const std::function<Status()>& fn) override {
    return db_->Transact([&](Tx&) { return fn(); });
  }

  // ---- DeviceRegistry ----------------------------------------------------------------------------

  Status AddStore(const StoreRecord& s) override {
    auto n = db_->Exec(
        "INSERT INTO stores (id, name, partner, region, timezone, created_at_us, geofence_lat, geofence_lon, "
        "geofence_radius_m, ssid, opening_hours) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        {s.id.str(), s.name, s.partner, std::string(Name(s.region)), s.timezone, Micros(s.created_at),
         s.geofence ? Value(FromDouble(s.geofence->lat)) : sql::Null(),
         s.geofence ? Value(FromDouble(s.geofence->lon)) : sql::Null(),
         s.geofence ? Value(FromDouble(s.geofence->radius_m)) : sql::Null(), s.ssid, s.opening_hours});
    if (!n.ok() && n.error().code() == Code::kAlreadyExists) return AlreadyExists("store " + s.id.str() + " already exists");
    return n.status();
  }

  Result<StoreRecord> GetStore(const StoreId& id) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kStoreColumns) + " WHERE id = $1", {id.str()}));
    if (rows.empty()) return NotFound("store " + id.str() + " does not exist");
    return ReadStore(rows[0]);
  }

  Result<std::vector<StoreRecord>> ListStores() override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kStoreColumns) + " ORDER BY id"));
    return ReadAll<StoreRecord>(rows, ReadStore);
  }

  Status AddCart(const CartRecord& c) override {
    return db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows store, tx.Query("SELECT 1 FROM stores WHERE id = $1", {c.store.str()}));
      if (store.empty()) return NotFound("store " + c.store.str() + " does not exist");
      auto n = tx.Exec(
          "INSERT INTO carts (id, store_id, serial, cert_fingerprint, public_key_pem, certificate_pem, status, "
          "registered_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {c.id.str(), c.store.str(), c.serial, c.cert_fingerprint, c.public_key_pem, c.certificate_pem,
           std::string(Name(c.status)), Micros(c.registered_at)});
      if (!n.ok() && n.error().code() == Code::kAlreadyExists) {
        return AlreadyExists("cart " + c.id.str() + ", serial " + c.serial + " or its certificate is already registered");
      }
      return n.status();
    });
  }

  Result<CartRecord> GetCart(const CartId& id) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kCartColumns) + " WHERE id = $1", {id.str()}));
    if (rows.empty()) return NotFound("cart " + id.str() + " is not registered");
    return ReadCart(rows[0]);
  }

  Result<std::vector<CartRecord>> ListCarts(const std::optional<StoreId>& store) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kCartColumns) + " WHERE (CAST($1 AS TEXT) IS NULL OR store_id = $1) ORDER BY id",
                                              {store ? Value(store->str()) : sql::Null()}));
    return ReadAll<CartRecord>(rows, ReadCart);
  }

  Status SetCartStatus(const CartId& id, CartStatus status) override {
    CW_ASSIGN_OR_RETURN(int64_t n, db_->Exec("UPDATE carts SET status = $1 WHERE id = $2",
                                             {std::string(Name(status)), id.str()}));
    if (n == 0) return NotFound("cart " + id.str() + " is not registered");
    return Status::Ok();
  }

  Result<uint32_t> NextCartNumber() override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT MAX(id) FROM carts"));
    if (rows.empty() || rows[0].IsNull(0)) return 1u;
    CW_ASSIGN_OR_RETURN(CartId max, CartId::Parse(rows[0].Text(0)));
    if (max.number() >= 999999) return FailedPrecondition("cart id space CART-000001..CART-999999 is exhausted");
    return max.number() + 1;
  }

  Status RecordCartState(const CartState& s) override { return RecordOne(s); }

  Result<CartState> GetCartState(const CartId& cart) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(
        "SELECT seq, reported_at_us, state, battery_pct, battery_mv, charging, link, rssi_dbm, location_json, firmware "
        "FROM cart_state WHERE cart_id = $1", {cart.str()}));
    if (rows.empty()) return NotFound("cart " + cart.str() + " has not reported its state");
    const auto& r = rows[0];
    return CartState{cart, static_cast<uint64_t>(r.Int(0)), FromMicros(r.Int(1)), r.Text(2), static_cast<int>(r.Int(3)),
                     static_cast<int>(r.Int(4)), r.Int(5) != 0, r.Text(6), static_cast<int>(r.Int(7)), r.Text(8), r.Text(9)};
  }

  Status SetMaintenance(const CartId& cart, const Maintenance& m) override {
    return db_->Transact([&](Tx& tx) -> Status {
      CW_RETURN_IF_ERROR(RequireCart(tx, cart));
      return tx.Exec("INSERT INTO cart_maintenance (cart_id, in_maintenance, reason, since_us) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (cart_id) DO UPDATE SET in_maintenance = excluded.in_maintenance, "
                     "reason = excluded.reason, since_us = excluded.since_us",
                     {cart.str(), int64_t{m.in_maintenance}, m.reason, Micros(m.since)})
          .status();
    });
  }

  Result<Maintenance> GetMaintenance(const CartId& cart) override {
    Maintenance m;
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_RETURN_IF_ERROR(RequireCart(tx, cart));
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT in_maintenance, reason, since_us FROM cart_maintenance "
                                              "WHERE cart_id = $1", {cart.str()}));
      if (!rows.empty()) m = Maintenance{rows[0].Int(0) != 0, rows[0].Text(1), FromMicros(rows[0].Int(2))};
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return m;
  }

  Status RecordCartActivity(const CartActivity& a) override { return RecordOne(a); }

  Result<std::vector<CartOverview>> ListFleet(const FleetQuery& q) override {
    CW_ASSIGN_OR_RETURN(
        Rows rows,
        db_->Query(
            "SELECT c.id, c.store_id, c.serial, c.cert_fingerprint, c.public_key_pem, c.certificate_pem, c.status, "
            "c.registered_at_us, s.region, st.seq, st.reported_at_us, st.state, st.battery_pct, st.battery_mv, "
            "st.charging, st.link, st.rssi_dbm, st.location_json, st.firmware, m.in_maintenance, m.reason, m.since_us, "
            "a.last_seen_us, a.fault_code, a.fault_severity, a.fault_at_us, a.clock_offset_us, a.clock_offset_at_us, "
            "k.cart_id, k.state, k.since_us, k.cause, k.connection_us "
            "FROM carts c JOIN stores s ON s.id = c.store_id "
            "LEFT JOIN cart_state st ON st.cart_id = c.id "
            "LEFT JOIN cart_maintenance m ON m.cart_id = c.id "
            "LEFT JOIN cart_activity a ON a.cart_id = c.id "
            "LEFT JOIN cart_connectivity k ON k.cart_id = c.id "
            "WHERE (CAST($1 AS TEXT) IS NULL OR c.store_id = $1) AND (CAST($2 AS TEXT) IS NULL OR s.region = $2) "
            "AND (CAST($3 AS TEXT) IS NULL OR st.firmware = $3) "
            "AND (CAST($4 AS BIGINT) IS NULL OR st.battery_pct < $4) AND c.id > $5 "
            "ORDER BY c.id LIMIT $6",
            {q.store ? Value(q.store->str()) : sql::Null(), q.region ? Value(std::string(Name(*q.region))) : sql::Null(),
             sql::Opt(q.firmware), q.battery_below ? Value(int64_t{*q.battery_below}) : sql::Null(),
             q.after ? q.after->str() : std::string(), static_cast<int64_t>(q.limit)}));
    std::vector<CartOverview> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
      CW_ASSIGN_OR_RETURN(CartRecord cart, ReadCart(r));
      CartOverview o{.cart = cart};
      auto region = ParseRegion(r.Text(8));
      if (!region) return Corruption("store " + cart.store.str() + " has unknown region " + r.Text(8));
      o.region = *region;
      if (!r.IsNull(9)) {
        o.state = CartState{cart.id, static_cast<uint64_t>(r.Int(9)), FromMicros(r.Int(10)), r.Text(11),
                            static_cast<int>(r.Int(12)), static_cast<int>(r.Int(13)), r.Int(14) != 0, r.Text(15),
                            static_cast<int>(r.Int(16)), r.Text(17), r.Text(18)};
      }
      if (!r.IsNull(19)) o.maintenance = Maintenance{r.Int(19) != 0, r.Text(20), FromMicros(r.Int(21))};
      if (!r.IsNull(22)) {
        o.activity = CartActivity{.cart = cart.id, .last_seen_at = FromMicros(r.Int(22)), .fault_code = r.Text(23),
                                  .fault_severity = r.Text(24)};
        if (auto at = r.OptInt(25)) o.activity->fault_at = FromMicros(*at);
        if (auto off = r.OptInt(26)) {
          o.activity->clock_offset = Duration(*off);
          o.activity->clock_offset_at = FromMicros(r.Int(27));
        }
      }
      if (!r.IsNull(28)) {
        CW_ASSIGN_OR_RETURN(o.connectivity, ReadConnectivity(r, 28));
      }
      out.push_back(std::move(o));
    }
    return out;
  }

  // ---- Catalog ---------------------------------------------------------------------------------

  Result<CatalogDiff> ReplaceCatalog(const StoreId& store, std::span<const ItemRecord> items) override {
    std::map<std::string, const ItemRecord*> wanted;
    for (const auto& item : items) {
      if (item.store != store) {
        return InvalidArgument("item " + item.sku + " belongs to store " + item.store.str() + ", not " + store.str());
      }
      if (!wanted.emplace(item.sku, &item).second) return InvalidArgument("sku " + item.sku + " appears twice");
    }
    CatalogDiff diff;
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows exists, tx.Query("SELECT 1 FROM stores WHERE id = $1", {store.str()}));
      if (exists.empty()) return NotFound("store " + store.str() + " does not exist");
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string(kItemColumns) + " WHERE store_id = $1", {store.str()}));
      std::map<std::string, ItemRecord> current;
      for (const auto& r : rows) {
        CW_ASSIGN_OR_RETURN(ItemRecord item, ReadItem(r));
        current.emplace(item.sku, std::move(item));
      }
      for (const auto& [sku, item] : wanted) {
        auto it = current.find(sku);
        if (it != current.end() && it->second == *item) continue;
        (it == current.end() ? diff.added : diff.changed).push_back(sku);
        CW_RETURN_IF_ERROR(tx.Exec(
            "INSERT INTO items (store_id, sku, name, price_cents, expected_weight_g, category) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (store_id, sku) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents, "
            "expected_weight_g = excluded.expected_weight_g, category = excluded.category",
            {store.str(), sku, item->name, item->price_cents, sql::Opt(item->expected_weight_g), item->category})
                               .status());
      }
      for (const auto& [sku, _] : current) {
        if (wanted.count(sku)) continue;
        diff.removed.push_back(sku);
        CW_RETURN_IF_ERROR(tx.Exec("DELETE FROM items WHERE store_id = $1 AND sku = $2", {store.str(), sku}).status());
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return diff;
  }

  Result<ItemRecord> GetItem(const StoreId& store, const std::string& sku) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kItemColumns) + " WHERE store_id = $1 AND sku = $2",
                                              {store.str(), sku}));
    if (rows.empty()) return NotFound("store " + store.str() + " has no item " + sku);
    return ReadItem(rows[0]);
  }

  Result<std::vector<ItemRecord>> ListItems(const StoreId& store) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kItemColumns) + " WHERE store_id = $1 ORDER BY sku",
                                              {store.str()}));
    return ReadAll<ItemRecord>(rows, ReadItem);
  }

  // ---- SessionLedger -----------------------------------------------------------------------------

  Status RecordSessionStart(const SessionStartFact& f) override { return RecordOne(f); }
  Status RecordScan(const ScanFact& f) override { return RecordOne(f); }
  Status RecordSessionEnd(const SessionEndFact& f) override { return RecordOne(f); }
  Status RecordSessionFault(const SessionFaultFact& f) override { return RecordOne(f); }

  Result<std::vector<Status>> RecordFacts(std::span<const ProjectedFact> facts) override {
    std::vector<Status> verdicts(facts.size());
    bool unforeseen = false;  // a write refused a fact its checks had let through
    Status st = db_->Transact([&](Tx& tx) -> Status {
      Projection pass(tx);
      for (size_t i = 0; i < facts.size(); ++i) {
        Status verdict = pass.Record(facts[i]);
        if (!verdict.ok() && (pass.wrote() || !IsRefusal(verdict))) {
          unforeseen = IsRefusal(verdict);
          return verdict;
        }
        verdicts[i] = verdict;
      }
      Status finished = pass.Finish();
      unforeseen = IsRefusal(finished);
      return finished;
    });
    if (st.ok()) return verdicts;
    if (!unforeseen) return st;
    // Find the fact the database refused (a store it does not know, say) by giving every fact a
    // savepoint of its own: slower, and only taken when the cheap checks were not enough.
    st = db_->Transact([&](Tx&) -> Status {
      for (size_t i = 0; i < facts.size(); ++i) {
        Status verdict = db_->Transact([&](Tx& tx) -> Status {
          Projection pass(tx);
          CW_RETURN_IF_ERROR(pass.Record(facts[i]));
          return pass.Finish();
        });
        if (!verdict.ok() && !IsRefusal(verdict)) return verdict;
        verdicts[i] = verdict;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return verdicts;
  }

  Status IdentifySession(const SessionId& session, const CartId& cart, const StoreId& store, const AccountId& account,
                         const std::string& method, const std::string& customer_ref, Time ts) override {
    return db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows acc, tx.Query("SELECT 1 FROM accounts WHERE id = $1", {account.str()}));
      if (acc.empty()) return NotFound("account " + account.str() + " does not exist");
      Projection pass(tx);
      CW_RETURN_IF_ERROR(pass.Touch(session, cart, store, ts));
      CW_ASSIGN_OR_RETURN(Rows cur, tx.Query("SELECT account_id FROM sessions WHERE id = $1", {session.str()}));
      if (!cur[0].IsNull(0)) {
        if (cur[0].Text(0) == account.str()) return pass.Finish();
        return FailedPrecondition("session " + session.str() + " is already identified as another customer");
      }
      CW_RETURN_IF_ERROR(tx.Exec("UPDATE sessions SET account_id = $2, identified_by = $3, customer_ref = $4 WHERE id = $1",
                                 {session.str(), account.str(), method, customer_ref})
                             .status());
      return pass.Finish();
    });
  }

  Status MergeSessions(const SessionId& from, const SessionId& into) override {
    if (from == into) return InvalidArgument("cannot merge session " + from.str() + " into itself");
    return db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows f, tx.Query("SELECT merged_into FROM sessions WHERE id = $1", {from.str()}));
      if (f.empty()) return NotFound("session " + from.str() + " does not exist");
      CW_ASSIGN_OR_RETURN(Rows t, tx.Query("SELECT 1 FROM sessions WHERE id = $1", {into.str()}));
      if (t.empty()) return NotFound("session " + into.str() + " does not exist");
      if (!f[0].IsNull(0)) {
        if (f[0].Text(0) == into.str()) return Status::Ok();
        return FailedPrecondition("session " + from.str() + " was already merged into " + f[0].Text(0));
      }
      CW_RETURN_IF_ERROR(tx.Exec("UPDATE sessions SET merged_into = $2 WHERE id = $1", {from.str(), into.str()}).status());
      CW_RETURN_IF_ERROR(tx.Exec(
          "INSERT INTO scans (session_id, cart_id, seq, ts_us, sku, qty, price_cents, weight_delta_g, expected_weight_g, "
          "weight_mismatch, carried_from) SELECT $2, cart_id, seq, ts_us, sku, qty, price_cents, weight_delta_g, "
          "expected_weight_g, weight_mismatch, $1 FROM scans WHERE session_id = $1 AND carried_from IS NULL "
          "ON CONFLICT (session_id, cart_id, seq) DO NOTHING",
          {from.str(), into.str()})
                             .status());
      return Refresh(tx, into.str());
    });
  }

  Result<SessionRecord> GetSession(const SessionId& id) override {
    std::optional<SessionRecord> out;
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string(kSessionColumns) + " WHERE s.id = $1", {id.str()}));
      if (rows.empty()) return NotFound("session " + id.str() + " does not exist");
      CW_ASSIGN_OR_RETURN(out, ReadSession(tx, rows[0]));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return *std::move(out);
  }

  Result<std::vector<ScanRecord>> ListScans(const SessionId& id) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(
        "SELECT cart_id, seq, ts_us, sku, qty, price_cents, weight_delta_g, expected_weight_g, weight_mismatch, "
        "carried_from FROM scans WHERE session_id = $1 ORDER BY ts_us, cart_id, seq", {id.str()}));
    std::vector<ScanRecord> out;
    for (const auto& r : rows) {
      CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(r.Text(0)));
      ScanRecord s{.cart = cart};
      s.seq = static_cast<uint64_t>(r.Int(1));
      s.ts = FromMicros(r.Int(2));
      s.sku = r.Text(3);
      s.qty = static_cast<int>(r.Int(4));
      s.price_cents = r.Int(5);
      s.weight_delta_g = static_cast<int>(r.Int(6));
      if (auto w = r.OptInt(7)) s.expected_weight_g = static_cast<int>(*w);
      s.weight_mismatch = r.Int(8) != 0;
      if (!r.IsNull(9)) {
        CW_ASSIGN_OR_RETURN(SessionId from, SessionId::Parse(r.Text(9)));
        s.carried_from = from;
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<std::vector<SessionRecord>> ListSessions(const SessionQuery& q) override {
    std::vector<SessionRecord> out;
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query(
          std::string(kSessionColumns) +
              " WHERE (CAST($1 AS TEXT) IS NULL OR s.store_id = $1) AND (CAST($2 AS TEXT) IS NULL OR s.cart_id = $2) AND (CAST($3 AS TEXT) IS NULL OR s.account_id = $3)"
              " AND (CAST($4 AS TEXT) IS NULL OR s.status = $4) AND ($5 = 0 OR s.weight_mismatches > 0 OR s.totals_mismatch = 1"
              " OR s.exit_without_pay = 1) ORDER BY COALESCE(s.start_ts_us, s.first_seen_us) DESC, s.id LIMIT $6",
          {q.store ? Value(q.store->str()) : sql::Null(), q.cart ? Value(q.cart->str()) : sql::Null(),
           q.account ? Value(q.account->str()) : sql::Null(),
           q.status ? Value(std::string(Name(*q.status))) : sql::Null(), int64_t{q.flagged_only},
           static_cast<int64_t>(q.limit)}));
      for (const auto& r : rows) {
        CW_ASSIGN_OR_RETURN(SessionRecord s, ReadSession(tx, r));
        out.push_back(std::move(s));
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  // ---- AccountDirectory --------------------------------------------------------------------------

  Status AddAccount(const AccountRecord& a) override {
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_RETURN_IF_ERROR(tx.Exec("INSERT INTO accounts (id, kind, created_at_us) VALUES ($1, $2, $3)",
                                 {a.id.str(), std::string(Name(a.kind)), Micros(a.created_at)})
                             .status());
      for (const auto& number : a.loyalty_numbers) {
        CW_RETURN_IF_ERROR(tx.Exec("INSERT INTO loyalty_numbers (number, account_id) VALUES ($1, $2)",
                                   {number, a.id.str()})
                               .status());
      }
      return Status::Ok();
    });
    if (st.code() == Code::kAlreadyExists) return AlreadyExists("account " + a.id.str() + " or one of its loyalty numbers already exists");
    return st;
  }

  Result<AccountRecord> GetAccount(const AccountId& id) override {
    AccountRecord out{.id = id};
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT kind, created_at_us FROM accounts WHERE id = $1", {id.str()}));
      if (rows.empty()) return NotFound("account " + id.str() + " does not exist");
      out.kind = rows[0].Text(0) == "card_holder" ? AccountKind::kCardHolder : AccountKind::kRegistered;
      out.created_at = FromMicros(rows[0].Int(1));
      CW_ASSIGN_OR_RETURN(Rows numbers, tx.Query("SELECT number FROM loyalty_numbers WHERE account_id = $1 ORDER BY number",
                                                 {id.str()}));
      for (const auto& r : numbers) out.loyalty_numbers.push_back(r.Text(0));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<AccountId> FindByLoyalty(const std::string& number) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT account_id FROM loyalty_numbers WHERE number = $1", {number}));
    if (rows.empty()) return NotFound("no account has that loyalty number");
    return AccountId::Parse(rows[0].Text(0));
  }

  Result<AccountId> CardHolderFor(const std::string& token_index, const AccountId& new_id, Time now) override {
    std::string id;
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT account_id FROM card_holders WHERE token_index = $1", {token_index}));
      if (!rows.empty()) {
        id = rows[0].Text(0);
        return Status::Ok();
      }
      CW_RETURN_IF_ERROR(tx.Exec("INSERT INTO accounts (id, kind, created_at_us) VALUES ($1, 'card_holder', $2)",
                                 {new_id.str(), Micros(now)})
                             .status());
      CW_RETURN_IF_ERROR(tx.Exec("INSERT INTO card_holders (token_index, account_id) VALUES ($1, $2)",
                                 {token_index, new_id.str()})
                             .status());
      id = new_id.str();
      return Status::Ok();
    });
    if (st.code() == Code::kAlreadyExists) return CardHolderFor(token_index, new_id, now);  // lost a race: read theirs
    if (!st.ok()) return st;
    return AccountId::Parse(id);
  }

  Status AddAppCode(const std::string& code_digest, const AccountId& account, Time issued_at, Time expires_at) override {
    return db_->Exec("INSERT INTO app_codes (code_digest, account_id, issued_at_us, expires_at_us) VALUES ($1, $2, $3, $4)",
                     {code_digest, account.str(), Micros(issued_at), Micros(expires_at)})
        .status();
  }

  Result<AccountId> RedeemAppCode(const std::string& code_digest, Time now) override {
    std::string id;
    Status st = db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT account_id, expires_at_us, used_at_us FROM app_codes "
                                              "WHERE code_digest = $1", {code_digest}));
      if (rows.empty()) return NotFound("unknown app code");
      if (!rows[0].IsNull(2)) return FailedPrecondition("app code was already used");
      if (Micros(now) >= rows[0].Int(1)) return DeadlineExceeded("app code has expired");
      // The conditional update makes a concurrent second redeem lose even across processes.
      CW_ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE app_codes SET used_at_us = $2 WHERE code_digest = $1 "
                                             "AND used_at_us IS NULL", {code_digest, Micros(now)}));
      if (n == 0) return FailedPrecondition("app code was already used");
      id = rows[0].Text(0);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return AccountId::Parse(id);
  }

  Status ConsumeProximityNonce(const std::string& nonce, const CartId& cart, Time now, Time expires_at) override {
    return db_->Transact([&](Tx& tx) -> Status {
      // Forgetting expired nonces here keeps the table as small as the tokens alive.
      CW_RETURN_IF_ERROR(tx.Exec("DELETE FROM proximity_nonces WHERE expires_at_us < $1", {Micros(now)}).status());
      auto n = tx.Exec("INSERT INTO proximity_nonces (nonce, cart_id, used_at_us, expires_at_us) VALUES ($1, $2, $3, $4)",
                       {nonce, cart.str(), Micros(now), Micros(expires_at)});
      if (!n.ok() && n.error().code() == Code::kAlreadyExists) return AlreadyExists("proximity token already used");
      return n.status();
    });
  }

  Status IssueProximityChallenge(const ProximityChallenge& c) override {
    return db_->Transact([&](Tx& tx) -> Status {
      CW_RETURN_IF_ERROR(tx.Exec("DELETE FROM proximity_challenges WHERE expires_at_us < $1", {Micros(c.issued_at)}).status());
      auto n = tx.Exec("INSERT INTO proximity_challenges (nonce, cart_id, issued_at_us, expires_at_us) VALUES ($1, $2, $3, $4)",
                       {c.nonce, c.cart.str(), Micros(c.issued_at), Micros(c.expires_at)});
      if (!n.ok() && n.error().code() == Code::kAlreadyExists) return AlreadyExists("proximity challenge already issued");
      return n.status();
    });
  }

  Result<ProximityChallenge> GetProximityChallenge(const std::string& nonce, Time now) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT cart_id, issued_at_us, expires_at_us FROM proximity_challenges "
                                              "WHERE nonce = $1 AND expires_at_us > $2", {nonce, Micros(now)}));
    if (rows.empty()) return NotFound("no live proximity challenge " + nonce);
    CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(rows[0].Text(0)));
    return ProximityChallenge{nonce, cart, FromMicros(rows[0].Int(1)), FromMicros(rows[0].Int(2))};
  }

  Status RecordOverride(const OverrideRecord& o) override {
    return db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT 1 FROM sessions WHERE id = $1", {o.session.str()}));
      if (rows.empty()) return NotFound("session " + o.session.str() + " does not exist");
      auto n = tx.Exec("INSERT INTO session_overrides (cmd_id, session_id, cart_id, action, reason, actor, "
                       "requested_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       {o.cmd_id, o.session.str(), o.cart.str(), o.action, o.reason, o.actor, Micros(o.requested_at)});
      if (!n.ok() && n.error().code() == Code::kAlreadyExists) return AlreadyExists("override " + o.cmd_id + " already recorded");
      return n.status();
    });
  }

  Result<std::vector<OverrideRecord>> ListOverrides(const SessionId& session) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT cmd_id, cart_id, action, reason, actor, requested_at_us "
                                              "FROM session_overrides WHERE session_id = $1 "
                                              "ORDER BY requested_at_us, cmd_id", {session.str()}));
    std::vector<OverrideRecord> out;
    for (const auto& r : rows) {
      CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(r.Text(1)));
      out.push_back(OverrideRecord{r.Text(0), session, cart, r.Text(2), r.Text(3), r.Text(4), FromMicros(r.Int(5))});
    }
    return out;
  }

  // ---- UserDirectory -----------------------------------------------------------------------------

  Status AddUser(const UserRecord& u) override {
    if (u.role == Role::kStaff && !u.store) return InvalidArgument("a staff user needs a store");
    if (u.role != Role::kStaff && u.store) return InvalidArgument(std::string(Name(u.role)) + " users see every store; drop the store");
    return db_->Transact([&](Tx& tx) -> Status {
      if (u.store) {
        CW_ASSIGN_OR_RETURN(Rows s, tx.Query("SELECT 1 FROM stores WHERE id = $1", {u.store->str()}));
        if (s.empty()) return NotFound("store " + u.store->str() + " does not exist");
      }
      auto n = tx.Exec("INSERT INTO users (name, role, store_id, password_hash, totp_secret, created_at_us, disabled) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       {u.name, std::string(Name(u.role)), u.store ? Value(u.store->str()) : sql::Null(),
                        u.password_hash, u.totp_secret, Micros(u.created_at), int64_t{u.disabled}});
      if (!n.ok() && n.error().code() == Code::kAlreadyExists) return AlreadyExists("user " + u.name + " already exists");
      return n.status();
    });
  }

  Result<UserRecord> GetUser(const std::string& name) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kUserColumns) + " WHERE name = $1", {name}));
    if (rows.empty()) return NotFound("user " + name + " does not exist");
    return ReadUser(rows[0]);
  }

  Result<std::vector<UserRecord>> ListUsers() override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kUserColumns) + " ORDER BY name"));
    return ReadAll<UserRecord>(rows, ReadUser);
  }

  Status AddToken(const ApiToken& t) override {
    return db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows user, tx.Query("SELECT 1 FROM users WHERE name = $1", {t.user}));
      if (user.empty()) return NotFound("user " + t.user + " does not exist");
      auto n = tx.Exec("INSERT INTO api_tokens (digest, user_name, kind, issued_at_us, expires_at_us, revoked) "
                       "VALUES ($1, $2, $3, $4, $5, $6)",
                       {t.digest, t.user, t.kind, Micros(t.issued_at), Micros(t.expires_at), int64_t{t.revoked}});
      if (!n.ok() && n.error().code() == Code::kAlreadyExists) return AlreadyExists("token already exists");
      return n.status();
    });
  }

  Result<ApiToken> GetToken(const std::string& digest) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT user_name, kind, issued_at_us, expires_at_us, revoked "
                                              "FROM api_tokens WHERE digest = $1", {digest}));
    if (rows.empty()) return NotFound("unknown token");
    const auto& r = rows[0];
    return ApiToken{digest, r.Text(0), r.Text(1), FromMicros(r.Int(2)), FromMicros(r.Int(3)), r.Int(4) != 0};
  }

  Status RevokeToken(const std::string& digest) override {
    CW_ASSIGN_OR_RETURN(int64_t n, db_->Exec("UPDATE api_tokens SET revoked = 1 WHERE digest = $1", {digest}));
    if (n == 0) return NotFound("unknown token");
    return Status::Ok();
  }

  Status RevokeTokensOf(const std::string& user) override {
    return db_->Exec("UPDATE api_tokens SET revoked = 1 WHERE user_name = $1", {user}).status();
  }

  Result<int64_t> PurgeExpiredTokens(Time now) override {
    return db_->Exec("DELETE FROM api_tokens WHERE expires_at_us < $1", {Micros(now)});
  }

  // ---- FleetHealthLog ----------------------------------------------------------------------------

  Status RecordConnectivity(std::span<const ConnectivityTransition> transitions) override {
    return db_->Transact([&](Tx& tx) -> Status {
      for (const auto& t : transitions) {
        CW_RETURN_IF_ERROR(RequireCart(tx, t.cart));
        Value connection = t.connection ? Value(Micros(*t.connection)) : sql::Null();
        CW_ASSIGN_OR_RETURN(int64_t added,
                            tx.Exec("INSERT INTO connectivity_transitions (cart_id, at_us, from_state, to_state, cause, "
                                    "connection_us) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                                    {t.cart.str(), Micros(t.at), std::string(Name(t.from)), std::string(Name(t.to)),
                                     t.cause, connection}));
        if (added == 0) continue;  // a retry of one already kept
        CW_RETURN_IF_ERROR(
            tx.Exec("INSERT INTO cart_connectivity (cart_id, state, since_us, cause, connection_us) VALUES "
                    "($1, $2, $3, $4, $5) ON CONFLICT (cart_id) DO UPDATE SET state = excluded.state, "
                    "since_us = excluded.since_us, cause = excluded.cause, connection_us = CASE WHEN "
                    "excluded.connection_us IS NOT NULL AND (cart_connectivity.connection_us IS NULL OR "
                    "excluded.connection_us > cart_connectivity.connection_us) THEN excluded.connection_us "
                    "ELSE cart_connectivity.connection_us END",
                    {t.cart.str(), std::string(Name(t.to)), Micros(t.at), t.cause, connection})
                .status());
      }
      return Status::Ok();
    });
  }

  Result<std::vector<CartConnectivity>> ListConnectivity() override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT cart_id, state, since_us, cause, connection_us FROM "
                                              "cart_connectivity ORDER BY cart_id"));
    std::vector<CartConnectivity> out;
    for (const auto& r : rows) {
      CW_ASSIGN_OR_RETURN(CartConnectivity c, ReadConnectivity(r, 0));
      out.push_back(std::move(c));
    }
    return out;
  }

  Result<std::vector<ConnectivityTransition>> ListConnectivityTransitions(const CartId& cart, size_t limit,
                                                                          std::optional<Time> before) override {
    CW_ASSIGN_OR_RETURN(
        Rows rows, db_->Query("SELECT from_state, to_state, at_us, cause, connection_us FROM connectivity_transitions "
                              "WHERE cart_id = $1 AND at_us < $2 ORDER BY at_us DESC, from_state, to_state LIMIT $3",
                              {cart.str(), before ? Micros(*before) : INT64_MAX, static_cast<int64_t>(limit)}));
    std::vector<ConnectivityTransition> out;
    for (const auto& r : rows) {
      auto from = ParseLinkState(r.Text(0));
      auto to = ParseLinkState(r.Text(1));
      if (!from || !to) return Corruption("cart " + cart.str() + " has a transition with an unknown state");
      ConnectivityTransition t{cart, *from, *to, FromMicros(r.Int(2)), r.Text(3), std::nullopt};
      if (auto c = r.OptInt(4)) t.connection = FromMicros(*c);
      out.push_back(std::move(t));
    }
    return out;
  }

  Status RecordAlarmEvent(const AlarmEvent& e) override {
    return db_
        ->Exec("INSERT INTO alarm_events (alarm, subject, at_us, firing, severity, value, threshold, summary) VALUES "
               "($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
               {e.alarm, e.subject, Micros(e.at), int64_t{e.firing}, std::string(Name(e.severity)), FromDouble(e.value),
                FromDouble(e.threshold), e.summary})
        .status();
  }

  Result<std::vector<AlarmEvent>> ListAlarmEvents(size_t limit, std::optional<Time> before) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kAlarmColumns) +
                                                  " WHERE at_us < $1 ORDER BY at_us DESC, alarm, subject, firing LIMIT $2",
                                              {before ? Micros(*before) : INT64_MAX, static_cast<int64_t>(limit)}));
    return ReadAlarms(rows);
  }

  Result<std::vector<AlarmEvent>> ListFiringAlarms() override {
    CW_ASSIGN_OR_RETURN(
        Rows rows,
        db_->Query(std::string(kAlarmColumns) +
                   " e WHERE firing = 1 AND NOT EXISTS (SELECT 1 FROM alarm_events r WHERE r.alarm = e.alarm AND "
                   "r.subject = e.subject AND r.at_us >= e.at_us AND r.firing = 0) AND NOT EXISTS (SELECT 1 FROM "
                   "alarm_events f WHERE f.alarm = e.alarm AND f.subject = e.subject AND f.firing = 1 AND "
                   "f.at_us > e.at_us) ORDER BY alarm, subject"));
    return ReadAlarms(rows);
  }

  // ---- RolloutLedger -----------------------------------------------------------------------------

  Status AddRollout(const RolloutRecord& r, std::span<const RolloutJob> jobs) override {
    return db_->Transact([&](Tx& tx) -> Status {
      CW_ASSIGN_OR_RETURN(Rows active, tx.Query("SELECT id FROM rollouts WHERE state IN ('running', 'halted')"));
      if (!active.empty()) {
        return FailedPrecondition("rollout " + active[0].Text(0) + " is still active; halt-and-abort it or wait for it to complete");
      }
      auto n = tx.Exec(
          "INSERT INTO rollouts (id, version, state, stages, stage, stage_started_at_us, stores, carts, pace_per_minute, "
          "jitter_us, created_by, created_at_us, updated_at_us, halt_reason, released_at_us, acknowledged_rollbacks) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
          {r.id, r.version, std::string(Name(r.state)), StagesJson(r.stages), int64_t{r.stage}, Micros(r.stage_started_at),
           JoinIds(r.stores), JoinIds(r.carts), int64_t{r.pace_per_minute}, r.jitter.count(), r.created_by,
           Micros(r.created_at), Micros(r.updated_at), r.halt_reason,
           r.released_at ? Value(Micros(*r.released_at)) : sql::Null(), int64_t{r.acknowledged_rollbacks}});
      if (!n.ok() && n.error().code() == Code::kAlreadyExists) return AlreadyExists("rollout " + r.id + " already exists");
      CW_RETURN_IF_ERROR(n.status());
      for (const auto& j : jobs) {
        CW_RETURN_IF_ERROR(
            tx.Exec("INSERT INTO rollout_jobs (rollout_id, cart_id, job_id, stage, position, state, from_version, "
                    "send_at_us, sent_at_us, updated_at_us, decided_seq, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                    "$9, $10, $11, $12)",
                    {r.id, j.cart.str(), j.job_id, int64_t{j.stage}, int64_t{j.position}, std::string(Name(j.state)),
                     j.from_version, j.send_at ? Value(Micros(*j.send_at)) : sql::Null(),
                     j.sent_at ? Value(Micros(*j.sent_at)) : sql::Null(), Micros(j.updated_at),
                     static_cast<int64_t>(j.decided_seq), j.detail})
                .status()
                .WithContext("job for " + j.cart.str()));
      }
      return Status::Ok();
    });
  }

  Result<RolloutRecord> GetRollout(const std::string& id) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kRolloutColumns) + " WHERE id = $1", {id}));
    if (rows.empty()) return NotFound("rollout " + id + " does not exist");
    return ReadRollout(rows[0]);
  }

  Result<std::vector<RolloutRecord>> ListRollouts(size_t limit) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query(std::string(kRolloutColumns) + " ORDER BY created_at_us DESC, id LIMIT $1",
                                              {static_cast<int64_t>(limit)}));
    std::vector<RolloutRecord> out;
    for (const auto& row : rows) {
      CW_ASSIGN_OR_RETURN(auto r, ReadRollout(row));
      out.push_back(std::move(r));
    }
    return out;
  }

  Status UpdateRollout(const RolloutRecord& r) override {
    CW_ASSIGN_OR_RETURN(
        int64_t n, db_->Exec("UPDATE rollouts SET state = $2, stage = $3, stage_started_at_us = $4, updated_at_us = $5, "
                             "halt_reason = $6, released_at_us = $7, acknowledged_rollbacks = $8 WHERE id = $1",
                             {r.id, std::string(Name(r.state)), int64_t{r.stage}, Micros(r.stage_started_at),
                              Micros(r.updated_at), r.halt_reason,
                              r.released_at ? Value(Micros(*r.released_at)) : sql::Null(),
                              int64_t{r.acknowledged_rollbacks}}));
    if (n == 0) return NotFound("rollout " + r.id + " does not exist");
    return Status::Ok();
  }

  Result<std::vector<RolloutJob>> ListJobs(const std::string& rollout) override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT rollout_id, cart_id, job_id, stage, position, state, from_version, "
                                              "send_at_us, sent_at_us, updated_at_us, decided_seq, detail FROM "
                                              "rollout_jobs WHERE rollout_id = $1 ORDER BY position",
                                              {rollout}));
    std::vector<RolloutJob> out;
    for (const auto& r : rows) {
      auto state = ParseJobState(r.Text(5));
      auto cart = CartId::Parse(r.Text(1));
      if (!state || !cart.ok()) return Corruption("rollout " + rollout + " has an unreadable job");
      RolloutJob j{r.Text(0), *cart, r.Text(2), static_cast<int>(r.Int(3)), static_cast<int>(r.Int(4)), *state,
                   r.Text(6), std::nullopt, std::nullopt, FromMicros(r.Int(9)), static_cast<uint64_t>(r.Int(10)),
                   r.Text(11)};
      if (auto t = r.OptInt(7)) j.send_at = FromMicros(*t);
      if (auto t = r.OptInt(8)) j.sent_at = FromMicros(*t);
      out.push_back(std::move(j));
    }
    return out;
  }

  Status UpdateJobs(std::span<const RolloutJob> jobs) override {
    return db_->Transact([&](Tx& tx) -> Status {
      for (const auto& j : jobs) {
        CW_ASSIGN_OR_RETURN(
            int64_t n, tx.Exec("UPDATE rollout_jobs SET state = $3, send_at_us = $4, sent_at_us = $5, updated_at_us = $6, "
                               "decided_seq = $7, detail = $8 WHERE rollout_id = $1 AND cart_id = $2",
                               {j.rollout, j.cart.str(), std::string(Name(j.state)),
                                j.send_at ? Value(Micros(*j.send_at)) : sql::Null(),
                                j.sent_at ? Value(Micros(*j.sent_at)) : sql::Null(), Micros(j.updated_at),
                                static_cast<int64_t>(j.decided_seq), j.detail}));
        if (n == 0) return NotFound("rollout " + j.rollout + " has no job for " + j.cart.str());
      }
      return Status::Ok();
    });
  }

  Result<int64_t> DeleteUnsentJobs(const std::string& rollout) override {
    return db_->Exec("DELETE FROM rollout_jobs WHERE rollout_id = $1 AND sent_at_us IS NULL", {rollout});
  }

  Status RecordCartTrust(const CartTrust& t) override {
    auto n = db_->Exec(
        "INSERT INTO cart_trust (cart_id, seq, keys) VALUES ($1, $2, $3) ON CONFLICT (cart_id) DO UPDATE SET "
        "seq = excluded.seq, keys = excluded.keys WHERE excluded.seq > cart_trust.seq",
        {t.cart.str(), static_cast<int64_t>(t.seq), JoinWords(t.keys)});
    if (!n.ok() && n.error().code() == Code::kFailedPrecondition) return NotFound("cart " + t.cart.str() + " is not registered");
    return n.status();
  }

  Result<std::vector<CartTrust>> ListCartTrust() override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT cart_id, seq, keys FROM cart_trust ORDER BY cart_id"));
    std::vector<CartTrust> out;
    for (const auto& r : rows) {
      auto cart = CartId::Parse(r.Text(0));
      if (!cart.ok()) return Corruption("cart_trust holds a bad cart id");
      out.push_back({*cart, static_cast<uint64_t>(r.Int(1)), SplitWords(r.Text(2))});
    }
    return out;
  }

  Status SetOtaOptOut(const OtaOptOut& o) override {
    bool known = false;
    if (auto cart = CartId::Parse(o.subject); cart.ok()) known = GetCart(*cart).ok();
    if (auto store = StoreId::Parse(o.subject); store.ok()) known = known || GetStore(*store).ok();
    if (!known) return NotFound(o.subject + " is neither a registered store nor a registered cart");
    return db_
        ->Exec("INSERT INTO ota_opt_outs (subject, reason, actor, at_us) VALUES ($1, $2, $3, $4) ON CONFLICT (subject) "
               "DO UPDATE SET reason = excluded.reason, actor = excluded.actor, at_us = excluded.at_us",
               {o.subject, o.reason, o.actor, Micros(o.at)})
        .status();
  }

  Status ClearOtaOptOut(const std::string& subject) override {
    CW_ASSIGN_OR_RETURN(int64_t n, db_->Exec("DELETE FROM ota_opt_outs WHERE subject = $1", {subject}));
    if (n == 0) return NotFound(subject + " has no OTA opt-out");
    return Status::Ok();
  }

  Result<std::vector<OtaOptOut>> ListOtaOptOuts() override {
    CW_ASSIGN_OR_RETURN(Rows rows, db_->Query("SELECT subject, reason, actor, at_us FROM ota_opt_outs ORDER BY subject"));
    std::vector<OtaOptOut> out;
    for (const auto& r : rows) out.push_back({r.Text(0), r.Text(1), r.Text(2), FromMicros(r.Int(3))});
    return out;
  }

  Status Migrate(Clock& clock) { return db_->Migrate(Migrations(), Micros(clock.Now())); }

 private:
  // In an upsert of cart_activity: the incoming fault is newer than the stored one.
  static constexpr std::string_view kNewerFault =
      "excluded.fault_at_us IS NOT NULL AND (cart_activity.fault_at_us IS NULL OR "
      "excluded.fault_at_us > cart_activity.fault_at_us)";
  static constexpr std::string_view kNewerOffset =
      "excluded.clock_offset_at_us IS NOT NULL AND (cart_activity.clock_offset_at_us IS NULL OR "
      "excluded.clock_offset_at_us > cart_activity.clock_offset_at_us)";
  static constexpr std::string_view kRolloutColumns =
      "SELECT id, version, state, stages, stage, stage_started_at_us, stores, carts, pace_per_minute, jitter_us, "
      "created_by, created_at_us, updated_at_us, halt_reason, released_at_us, acknowledged_rollbacks FROM rollouts";

  static std::string JoinWords(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
  }
  static std::vector<std::string> SplitWords(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) out.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
  template <typename Id>
  static std::string JoinIds(const std::vector<Id>& ids) {
    std::vector<std::string> words;
    for (const auto& id : ids) words.push_back(id.str());
    return JoinWords(words);
  }

  static std::string StagesJson(const std::vector<RolloutStage>& stages) {
    std::string out = "[";
    for (const auto& st : stages) {
      wire::JsonBuilder b;
      b.Field("name", st.name);
      if (st.carts) b.Field("carts", *st.carts);
      b.Field("percent", st.percent).Field("bake_us", static_cast<int64_t>(st.bake.count()));
      out += (out.size() > 1 ? "," : "") + b.Finish();
    }
    return out + "]";
  }

  static Result<RolloutRecord> ReadRollout(const sql::Row& r) {
    RolloutRecord o;
    o.id = r.Text(0);
    o.version = r.Text(1);
    auto state = ParseRolloutState(r.Text(2));
    if (!state) return Corruption("rollout " + o.id + " has an unknown state");
    o.state = *state;
    rapidjson::Document d;
    d.Parse(r.Text(3).c_str());
    if (d.HasParseError() || !d.IsArray()) return Corruption("rollout " + o.id + " has unreadable stages");
    for (const auto& v : d.GetArray()) {
      RolloutStage st;
      st.name = std::string(wire::GetString(v, "name").value_or(""));
      if (auto c = wire::GetInt(v, "carts")) st.carts = static_cast<int>(*c);
      if (v.HasMember("percent") && v["percent"].IsNumber()) st.percent = v["percent"].GetDouble();
      st.bake = Duration(wire::GetInt(v, "bake_us").value_or(0));
      o.stages.push_back(std::move(st));
    }
    o.stage = static_cast<int>(r.Int(4));
    o.stage_started_at = FromMicros(r.Int(5));
    for (const auto& w : SplitWords(r.Text(6))) {
      auto id = StoreId::Parse(w);
      if (!id.ok()) return Corruption("rollout " + o.id + " targets a bad store id");
      o.stores.push_back(*id);
    }
    for (const auto& w : SplitWords(r.Text(7))) {
      auto id = CartId::Parse(w);
      if (!id.ok()) return Corruption("rollout " + o.id + " targets a bad cart id");
      o.carts.push_back(*id);
    }
    o.pace_per_minute = static_cast<int>(r.Int(8));
    o.jitter = Duration(r.Int(9));
    o.created_by = r.Text(10);
    o.created_at = FromMicros(r.Int(11));
    o.updated_at = FromMicros(r.Int(12));
    o.halt_reason = r.Text(13);
    if (auto t = r.OptInt(14)) o.released_at = FromMicros(*t);
    o.acknowledged_rollbacks = static_cast<int>(r.Int(15));
    return o;
  }

  static constexpr std::string_view kStoreColumns =
      "SELECT id, name, partner, region, timezone, created_at_us, geofence_lat, geofence_lon, geofence_radius_m, ssid, "
      "opening_hours FROM stores";
  static constexpr std::string_view kCartColumns =
      "SELECT id, store_id, serial, cert_fingerprint, public_key_pem, certificate_pem, status, registered_at_us FROM carts";
  static constexpr std::string_view kItemColumns =
      "SELECT store_id, sku, name, price_cents, expected_weight_g, category FROM items";
  static constexpr std::string_view kUserColumns =
      "SELECT name, role, store_id, password_hash, totp_secret, created_at_us, disabled FROM users";
  static constexpr std::string_view kSessionColumns =
      "SELECT s.id, s.cart_id, s.store_id, s.status, COALESCE(s.start_ts_us, s.first_seen_us), s.end_ts_us, s.account_id, "
      "s.customer_ref, s.identified_by, s.scan_count, s.scan_total_cents, s.weight_mismatches, s.claimed_item_count, "
      "s.claimed_total_cents, s.totals_mismatch, s.merged_into, p.auth_token, p.amount_cents, p.status, p.ts_us "
      "FROM sessions s LEFT JOIN payments p ON p.session_id = s.id";

  template <typename T, typename F>
  static Result<std::vector<T>> ReadAll(const Rows& rows, F read) {
    std::vector<T> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
      CW_ASSIGN_OR_RETURN(T item, read(r));
      out.push_back(std::move(item));
    }
    return out;
  }

  static Result<StoreRecord> ReadStore(const sql::Row& r) {
    CW_ASSIGN_OR_RETURN(StoreId id, StoreId::Parse(r.Text(0)));
    auto region = ParseRegion(r.Text(3));
    if (!region) return Corruption("store " + id.str() + " has unknown region " + r.Text(3));
    StoreRecord s{id, r.Text(1), r.Text(2), *region, r.Text(4), FromMicros(r.Int(5))};
    if (!r.IsNull(6)) s.geofence = Geofence{ToDouble(r.Text(6)), ToDouble(r.Text(7)), ToDouble(r.Text(8))};
    s.ssid = r.Text(9);
    s.opening_hours = r.Text(10);
    return s;
  }

  static Result<CartRecord> ReadCart(const sql::Row& r) {
    CW_ASSIGN_OR_RETURN(CartId id, CartId::Parse(r.Text(0)));
    CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(r.Text(1)));
    auto status = ParseCartStatus(r.Text(6));
    if (!status) return Corruption("cart " + id.str() + " has unknown status " + r.Text(6));
    return CartRecord{id, store, r.Text(2), r.Text(3), r.Text(4), r.Text(5), *status, FromMicros(r.Int(7))};
  }

  static Result<ItemRecord> ReadItem(const sql::Row& r) {
    CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(r.Text(0)));
    ItemRecord item{store, r.Text(1), r.Text(2), r.Int(3), std::nullopt, r.Text(5)};
    if (auto w = r.OptInt(4)) item.expected_weight_g = static_cast<int>(*w);
    return item;
  }

  static Result<UserRecord> ReadUser(const sql::Row& r) {
    auto role = ParseRole(r.Text(1));
    if (!role) return Corruption("user " + r.Text(0) + " has unknown role " + r.Text(1));
    UserRecord u{r.Text(0), *role, std::nullopt, r.Text(3), r.Text(4), FromMicros(r.Int(5)), r.Int(6) != 0};
    if (!r.IsNull(2)) {
      CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(r.Text(2)));
      u.store = store;
    }
    return u;
  }

  static Result<SessionRecord> ReadSession(Tx& tx, const sql::Row& r) {
    CW_ASSIGN_OR_RETURN(SessionId id, SessionId::Parse(r.Text(0)));
    CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(r.Text(1)));
    CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(r.Text(2)));
    auto status = ParseSessionStatus(r.Text(3));
    if (!status) return Corruption("session " + id.str() + " has unknown status " + r.Text(3));
    SessionRecord s{.id = id, .cart = cart, .store = store};
    s.status = *status;
    s.started_at = FromMicros(r.Int(4));
    if (auto end = r.OptInt(5)) s.ended_at = FromMicros(*end);
    if (!r.IsNull(6)) {
      CW_ASSIGN_OR_RETURN(AccountId account, AccountId::Parse(r.Text(6)));
      s.account = account;
    }
    s.customer_ref = r.Text(7);
    s.identified_by = r.Text(8);
    s.scan_count = static_cast<int>(r.Int(9));
    s.scan_total_cents = r.Int(10);
    s.weight_mismatches = static_cast<int>(r.Int(11));
    if (auto n = r.OptInt(12)) s.claimed_item_count = static_cast<int>(*n);
    s.claimed_total_cents = r.OptInt(13);
    s.totals_mismatch = r.Int(14) != 0;
    if (!r.IsNull(15)) {
      CW_ASSIGN_OR_RETURN(SessionId into, SessionId::Parse(r.Text(15)));
      s.merged_into = into;
    }
    if (!r.IsNull(16)) s.payment = PaymentRecord{r.Text(16), r.Int(17), r.Text(18), FromMicros(r.Int(19))};
    CW_ASSIGN_OR_RETURN(Rows faults, tx.Query("SELECT DISTINCT code FROM session_faults WHERE session_id = $1 ORDER BY code",
                                              {id.str()}));
    for (const auto& f : faults) s.fault_codes.push_back(f.Text(0));
    return s;
  }

  static constexpr std::string_view kAlarmColumns =
      "SELECT alarm, subject, at_us, firing, severity, value, threshold, summary FROM alarm_events";

  static Result<std::vector<AlarmEvent>> ReadAlarms(const Rows& rows) {
    std::vector<AlarmEvent> out;
    for (const auto& r : rows) {
      AlarmEvent e{r.Text(0), r.Text(1), r.Int(3) != 0,
                   r.Text(4) == "page" ? AlarmSeverity::kPage : AlarmSeverity::kNotify,
                   FromMicros(r.Int(2)), ToDouble(r.Text(5)), ToDouble(r.Text(6)), r.Text(7)};
      out.push_back(std::move(e));
    }
    return out;
  }

  // Columns: cart_id, state, since_us, cause, connection_us from `first`.
  static Result<CartConnectivity> ReadConnectivity(const sql::Row& r, size_t first) {
    auto state = ParseLinkState(r.Text(first + 1));
    if (!state) return Corruption("cart " + r.Text(first) + " has unknown link state " + r.Text(first + 1));
    CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(r.Text(first)));
    CartConnectivity c{cart, *state, FromMicros(r.Int(first + 2)), r.Text(first + 3), std::nullopt};
    if (auto at = r.OptInt(first + 4)) c.connection = FromMicros(*at);
    return c;
  }

  static Status RequireCart(Tx& tx, const CartId& cart) {
    CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT 1 FROM carts WHERE id = $1", {cart.str()}));
    if (rows.empty()) return NotFound("cart " + cart.str() + " is not registered");
    return Status::Ok();
  }

  // A fact the store refuses, as opposed to trouble with the store.
  static bool IsRefusal(const Status& st) {
    Code c = st.code();
    return c == Code::kInvalidArgument || c == Code::kNotFound || c == Code::kFailedPrecondition ||
           c == Code::kAlreadyExists;
  }

  // Projected facts written in one transaction. Each fact is checked before it writes anything,
  // so a refused fact leaves no trace and a batch needs no savepoint per fact; the sessions the
  // facts touch are re-derived once, by Finish, and the rows each check reads are remembered
  // for the rest of the pass.
  class Projection {
   public:
    explicit Projection(Tx& tx) : tx_(tx) {}

    // Ok, or why the fact failed; wrote() then tells a refusal (nothing written, the pass may go
    // on) from trouble after a write (the pass must be rolled back).
    Status Record(const ProjectedFact& fact) {
      wrote_ = false;
      return std::visit([this](const auto& f) { return Apply(f); }, fact);
    }
    bool wrote() const { return wrote_; }

    // The session's row, created by its first fact. first_seen becomes the earliest fact's time
    // whatever the order. A fact naming another cart than the session's is refused (a session id
    // is its cart's).
    Status Touch(const SessionId& session, const CartId& cart, const StoreId& store, Time ts) {
      CW_RETURN_IF_ERROR(RequireCart(cart));
      auto it = sessions_.find(session.str());
      if (it == sessions_.end()) {
        CW_ASSIGN_OR_RETURN(Rows rows, tx_.Query("SELECT cart_id, merged_into, first_seen_us FROM sessions WHERE id = $1",
                                                 {session.str()}));
        SessionRow row{cart.str(), std::nullopt, Micros(ts), Micros(ts)};
        if (!rows.empty()) {
          row = {rows[0].Text(0), rows[0].OptText(1), rows[0].Int(2), rows[0].Int(2)};
        }
        if (row.cart != cart.str()) {
          return FailedPrecondition("session " + session.str() + " belongs to " + row.cart + ", not " + cart.str());
        }
        if (rows.empty()) {
          CW_RETURN_IF_ERROR(Exec("INSERT INTO sessions (id, cart_id, store_id, first_seen_us, status) "
                                  "VALUES ($1, $2, $3, $4, 'active')",
                                  {session.str(), cart.str(), store.str(), Micros(ts)}));
        }
        it = sessions_.emplace(session.str(), std::move(row)).first;
      } else if (it->second.cart != cart.str()) {
        return FailedPrecondition("session " + session.str() + " belongs to " + it->second.cart + ", not " + cart.str());
      }
      it->second.earliest_us = std::min(it->second.earliest_us, Micros(ts));
      dirty_.insert(session.str());
      return Status::Ok();
    }

    // Re-derives every session touched since the last Finish.
    Status Finish() {
      for (auto& [id, row] : sessions_) {
        if (row.earliest_us >= row.first_seen_us) continue;
        CW_RETURN_IF_ERROR(Exec("UPDATE sessions SET first_seen_us = $2 WHERE id = $1", {id, row.earliest_us}));
        row.first_seen_us = row.earliest_us;
      }
      // A paused or resumed cart changes the status of its open session.
      for (const auto& cart : state_changed_) {
        CW_ASSIGN_OR_RETURN(Rows open, tx_.Query("SELECT id FROM sessions WHERE cart_id = $1 AND end_seq IS NULL", {cart}));
        for (const auto& r : open) dirty_.insert(r.Text(0));
      }
      for (const auto& id : dirty_) CW_RETURN_IF_ERROR(Refresh(tx_, id));
      state_changed_.clear();
      dirty_.clear();
      return Status::Ok();
    }

   private:
    struct SessionRow {
      std::string cart;
      std::optional<std::string> merged_into;
      int64_t first_seen_us = 0;  // as stored
      int64_t earliest_us = 0;    // of the facts seen, and first_seen_us
    };

    Status Exec(std::string_view statement, std::initializer_list<Value> params) {
      wrote_ = true;
      return tx_.Exec(statement, params).status();
    }

    Status RequireCart(const CartId& cart) {
      if (registered_.contains(cart.str())) return Status::Ok();
      CW_RETURN_IF_ERROR(SqlEntityStore::RequireCart(tx_, cart));
      registered_.insert(cart.str());
      return Status::Ok();
    }

    Status Apply(const CartActivity& a) {
      CW_RETURN_IF_ERROR(RequireCart(a.cart));
      static const std::string kUpsert =
          "INSERT INTO cart_activity (cart_id, last_seen_us, fault_code, fault_severity, fault_at_us, clock_offset_us, "
          "clock_offset_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cart_id) DO UPDATE SET "
          "last_seen_us = CASE WHEN excluded.last_seen_us > cart_activity.last_seen_us THEN excluded.last_seen_us "
          "ELSE cart_activity.last_seen_us END, "
          "fault_code = CASE WHEN " + std::string(kNewerFault) + " THEN excluded.fault_code ELSE cart_activity.fault_code END, "
          "fault_severity = CASE WHEN " + std::string(kNewerFault) + " THEN excluded.fault_severity "
          "ELSE cart_activity.fault_severity END, "
          "fault_at_us = CASE WHEN " + std::string(kNewerFault) + " THEN excluded.fault_at_us ELSE cart_activity.fault_at_us END, "
          "clock_offset_us = CASE WHEN " + std::string(kNewerOffset) + " THEN excluded.clock_offset_us "
          "ELSE cart_activity.clock_offset_us END, "
          "clock_offset_at_us = CASE WHEN " + std::string(kNewerOffset) + " THEN excluded.clock_offset_at_us "
          "ELSE cart_activity.clock_offset_at_us END";
      Value fault_at = a.fault_at ? Value(Micros(*a.fault_at)) : sql::Null();
      bool offset = a.clock_offset && a.clock_offset_at;
      return Exec(kUpsert, {a.cart.str(), Micros(a.last_seen_at), a.fault_at ? a.fault_code : std::string(),
                            a.fault_at ? a.fault_severity : std::string(), fault_at,
                            offset ? Value(a.clock_offset->count()) : sql::Null(),
                            offset ? Value(Micros(*a.clock_offset_at)) : sql::Null()});
    }

    Status Apply(const CartState& s) {
      CW_RETURN_IF_ERROR(RequireCart(s.cart));
      CW_RETURN_IF_ERROR(Exec(
          "INSERT INTO cart_state (cart_id, seq, reported_at_us, state, battery_pct, battery_mv, charging, link, "
          "rssi_dbm, location_json, firmware) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
          "ON CONFLICT (cart_id) DO UPDATE SET seq = excluded.seq, reported_at_us = excluded.reported_at_us, "
          "state = excluded.state, battery_pct = excluded.battery_pct, battery_mv = excluded.battery_mv, "
          "charging = excluded.charging, link = excluded.link, rssi_dbm = excluded.rssi_dbm, "
          "location_json = excluded.location_json, firmware = excluded.firmware WHERE cart_state.seq < excluded.seq",
          {s.cart.str(), static_cast<int64_t>(s.seq), Micros(s.reported_at), s.state, int64_t{s.battery_pct},
           int64_t{s.battery_mv}, int64_t{s.charging}, s.link, int64_t{s.rssi_dbm}, s.location_json, s.firmware}));
      state_changed_.insert(s.cart.str());
      return Status::Ok();
    }

    Status Apply(const SessionStartFact& f) {
      CW_RETURN_IF_ERROR(Touch(f.session, f.cart, f.store, f.ts));
      // Two starts for one session cannot happen on a correct cart; the lowest seq wins so the
      // outcome does not depend on arrival order.
      return Exec("UPDATE sessions SET start_seq = $2, start_ts_us = $3 "
                  "WHERE id = $1 AND (start_seq IS NULL OR start_seq > $2)",
                  {f.session.str(), static_cast<int64_t>(f.seq), Micros(f.ts)});
    }

    Status Apply(const ScanFact& f) {
      CW_RETURN_IF_ERROR(Touch(f.session, f.cart, f.store, f.ts));
      CW_RETURN_IF_ERROR(InsertScan(f.session.str(), f, std::nullopt));
      // A scan that arrives after its session was merged (a dead cart's buffer draining late)
      // is carried over too.
      const auto& merged_into = sessions_.at(f.session.str()).merged_into;
      if (merged_into) {
        CW_RETURN_IF_ERROR(InsertScan(*merged_into, f, f.session));
        dirty_.insert(*merged_into);
      }
      return Status::Ok();
    }

    Status Apply(const SessionEndFact& f) {
      CW_RETURN_IF_ERROR(Touch(f.session, f.cart, f.store, f.ts));
      wrote_ = true;
      CW_ASSIGN_OR_RETURN(int64_t won, tx_.Exec(
          "UPDATE sessions SET end_seq = $2, end_ts_us = $3, end_status = $4, claimed_item_count = $5, "
          "claimed_total_cents = $6 WHERE id = $1 AND (end_seq IS NULL OR end_seq > $2)",
          {f.session.str(), static_cast<int64_t>(f.seq), Micros(f.ts), std::string(Name(f.status)),
           int64_t{f.item_count}, f.total_cents}));
      if (won == 0) return Status::Ok();
      CW_RETURN_IF_ERROR(Exec("DELETE FROM session_lines WHERE session_id = $1", {f.session.str()}));
      for (size_t i = 0; i < f.items.size(); ++i) {
        const LineItem& line = f.items[i];
        CW_RETURN_IF_ERROR(Exec("INSERT INTO session_lines (session_id, line, sku, qty, price_cents) "
                                "VALUES ($1, $2, $3, $4, $5)",
                                {f.session.str(), static_cast<int64_t>(i), line.sku, int64_t{line.qty}, line.price_cents}));
      }
      CW_RETURN_IF_ERROR(Exec("DELETE FROM payments WHERE session_id = $1", {f.session.str()}));
      if (!f.payment) return Status::Ok();
      return Exec("INSERT INTO payments (session_id, auth_token, amount_cents, status, ts_us) VALUES ($1, $2, $3, $4, $5)",
                  {f.session.str(), f.payment->auth_token, f.payment->amount_cents, f.payment->status,
                   Micros(f.payment->ts)});
    }

    Status Apply(const SessionFaultFact& f) {
      CW_RETURN_IF_ERROR(Touch(f.session, f.cart, f.store, f.ts));
      return Exec("INSERT INTO session_faults (cart_id, seq, session_id, ts_us, code) "
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cart_id, seq) DO NOTHING",
                  {f.cart.str(), static_cast<int64_t>(f.seq), f.session.str(), Micros(f.ts), f.code});
    }

    Status InsertScan(const std::string& session, const ScanFact& f, const std::optional<SessionId>& carried_from) {
      return Exec("INSERT INTO scans (session_id, cart_id, seq, ts_us, sku, qty, price_cents, weight_delta_g, "
                  "expected_weight_g, weight_mismatch, carried_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                  "ON CONFLICT (session_id, cart_id, seq) DO NOTHING",
                  {session, f.cart.str(), static_cast<int64_t>(f.seq), Micros(f.ts), f.sku, int64_t{f.qty},
                   f.price_cents, int64_t{f.weight_delta_g}, sql::Opt(f.expected_weight_g), int64_t{f.weight_mismatch},
                   carried_from ? Value(carried_from->str()) : sql::Null()});
    }

    Tx& tx_;
    bool wrote_ = false;
    std::set<std::string> registered_;                // carts checked in this pass
    std::map<std::string, SessionRow> sessions_;      // sessions touched, by id
    std::set<std::string> dirty_;                     // sessions to re-derive
    std::set<std::string> state_changed_;             // carts whose state was recorded
  };

  Status RecordOne(const ProjectedFact& fact) {
    CW_ASSIGN_OR_RETURN(std::vector<Status> verdicts, RecordFacts(std::span(&fact, 1)));
    return verdicts[0];
  }

  // Re-derives everything a reader sees from the session's facts (its scans read once).
  static Status Refresh(Tx& tx, const std::string& session) {
    return tx.Exec(R"sql(
UPDATE sessions SET
  scan_count = totals.units,
  scan_total_cents = totals.cents,
  weight_mismatches = totals.mismatches,
  exit_without_pay = CASE WHEN EXISTS (SELECT 1 FROM session_faults WHERE session_id = $1 AND code = 'EXIT_WITHOUT_PAY')
                     THEN 1 ELSE 0 END,
  totals_mismatch = CASE
    WHEN end_seq IS NULL THEN 0
    WHEN claimed_total_cents <> totals.cents OR claimed_item_count <> totals.units THEN 1
    ELSE 0 END,
  status = CASE
    WHEN end_status IS NOT NULL THEN end_status
    WHEN EXISTS (SELECT 1 FROM cart_state c WHERE c.cart_id = sessions.cart_id AND c.state = 'paused'
                 AND c.seq > COALESCE(sessions.start_seq, 0)) THEN 'paused'
    ELSE 'active' END
FROM (SELECT COALESCE(SUM(qty), 0) AS units, COALESCE(SUM(qty * price_cents), 0) AS cents,
             COALESCE(SUM(CASE WHEN weight_mismatch = 1 THEN 1 ELSE 0 END), 0) AS mismatches
      FROM scans WHERE session_id = $1) AS totals
WHERE id = $1)sql",
                   {session})
        .status();
  }

  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<AuditLog> audit_;
};

Result<std::unique_ptr<EntityStore>> Open(Result<std::unique_ptr<sql::Database>> db, Clock& clock,
                                          const std::string& where) {
  if (!db.ok()) return db.error();
  auto store = std::make_unique<SqlEntityStore>(std::move(db).value(), clock);
  CW_RETURN_IF_ERROR(store->Migrate(clock).WithContext(where));
  return std::unique_ptr<EntityStore>(std::move(store));
}

}  // namespace

Result<std::unique_ptr<EntityStore>> OpenSqliteEntityStore(const std::string& path, Clock& clock) {
  return Open(sql::OpenSqlite(path), clock, path);
}

Result<std::unique_ptr<EntityStore>> OpenPostgresEntityStore(const std::string& conninfo, Clock& clock) {
  return Open(sql::OpenPostgres(conninfo), clock, "postgresql entity store");
}

}  // namespace cw::store
