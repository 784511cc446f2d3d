#include "store/sqlite_entity_store.h"

#include <array>
#include <mutex>

#include "store/sqlite_db.h"

namespace cw::store {
namespace {

using sqlite::Db;
using sqlite::Statement;

constexpr std::array<std::string_view, 1> kMigrations = {
    // 1: the device registry.
    R"sql(
CREATE TABLE stores (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  partner       TEXT NOT NULL,
  region        TEXT NOT NULL CHECK (region IN ('us', 'eu')),
  timezone      TEXT NOT NULL,
  created_at_us INTEGER NOT NULL
);
CREATE TABLE carts (
  id               TEXT PRIMARY KEY,
  store_id         TEXT NOT NULL REFERENCES stores (id),
  serial           TEXT NOT NULL UNIQUE,
  cert_fingerprint TEXT NOT NULL UNIQUE,
  public_key_pem   TEXT NOT NULL,
  certificate_pem  TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'retired')),
  registered_at_us INTEGER NOT NULL
);
CREATE INDEX carts_by_store ON carts (store_id, id);
)sql",
};

int64_t Micros(Time t) { return t.time_since_epoch().count(); }
Time FromMicros(int64_t us) { return Time(Duration(us)); }

class SqliteEntityStore final : public EntityStore {
 public:
  explicit SqliteEntityStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  Status AddStore(const StoreRecord& s) override {
    std::lock_guard lock(db_->mutex());
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare(
        "INSERT INTO stores (id, name, partner, region, timezone, created_at_us) VALUES (?, ?, ?, ?, ?, ?)"));
    q.Bind(1, s.id.str()).Bind(2, s.name).Bind(3, s.partner).Bind(4, Name(s.region)).Bind(5, s.timezone)
        .Bind(6, Micros(s.created_at));
    Status st = q.Run();
    if (st.code() == Code::kAlreadyExists) return AlreadyExists("store " + s.id.str() + " already exists");
    return st;
  }

  Result<StoreRecord> GetStore(const StoreId& id) override {
    std::lock_guard lock(db_->mutex());
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare(std::string(kStoreColumns) + " WHERE id = ?"));
    q.Bind(1, id.str());
    CW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("store " + id.str() + " does not exist");
    return ReadStore(q);
  }

  Result<std::vector<StoreRecord>> ListStores() override {
    std::lock_guard lock(db_->mutex());
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare(std::string(kStoreColumns) + " ORDER BY id"));
    std::vector<StoreRecord> out;
    for (;;) {
      CW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      CW_ASSIGN_OR_RETURN(StoreRecord s, ReadStore(q));
      out.push_back(std::move(s));
    }
    return out;
  }

  Status AddCart(const CartRecord& c) override {
    std::lock_guard lock(db_->mutex());
    CW_ASSIGN_OR_RETURN(auto exists, db_->Prepare("SELECT 1 FROM stores WHERE id = ?"));
    exists.Bind(1, c.store.str());
    CW_ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return NotFound("store " + c.store.str() + " does not exist");
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare(
        "INSERT INTO carts (id, store_id, serial, cert_fingerprint, public_key_pem, certificate_pem, status, "
        "registered_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    q.Bind(1, c.id.str()).Bind(2, c.store.str()).Bind(3, c.serial).Bind(4, c.cert_fingerprint)
        .Bind(5, c.public_key_pem).Bind(6, c.certificate_pem).Bind(7, Name(c.status))
        .Bind(8, Micros(c.registered_at));
    Status st = q.Run();
    if (st.code() == Code::kAlreadyExists) {
      return AlreadyExists("cart " + c.id.str() + ", serial " + c.serial +
                           " or its certificate is already registered");
    }
    return st;
  }

  Result<CartRecord> GetCart(const CartId& id) override {
    std::lock_guard lock(db_->mutex());
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare(std::string(kCartColumns) + " WHERE id = ?"));
    q.Bind(1, id.str());
    CW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("cart " + id.str() + " is not registered");
    return ReadCart(q);
  }

  Result<std::vector<CartRecord>> ListCarts(const std::optional<StoreId>& store) override {
    std::lock_guard lock(db_->mutex());
    std::string sql = std::string(kCartColumns) + (store ? " WHERE store_id = ?" : "") + " ORDER BY id";
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare(sql));
    if (store) q.Bind(1, store->str());
    std::vector<CartRecord> out;
    for (;;) {
      CW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      CW_ASSIGN_OR_RETURN(CartRecord c, ReadCart(q));
      out.push_back(std::move(c));
    }
    return out;
  }

  Status SetCartStatus(const CartId& id, CartStatus status) override {
    std::lock_guard lock(db_->mutex());
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE carts SET status = ? WHERE id = ? RETURNING id"));
    q.Bind(1, Name(status)).Bind(2, id.str());
    CW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("cart " + id.str() + " is not registered");
    return q.Run();
  }

  Result<uint32_t> NextCartNumber() override {
    std::lock_guard lock(db_->mutex());
    CW_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT MAX(id) FROM carts"));
    CW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.IsNull(0)) return 1u;
    CW_ASSIGN_OR_RETURN(CartId max, CartId::Parse(q.Text(0)));
    if (max.number() >= 999999) return FailedPrecondition("cart id space CART-000001..CART-999999 is exhausted");
    return max.number() + 1;
  }

 private:
  static constexpr std::string_view kStoreColumns =
      "SELECT id, name, partner, region, timezone, created_at_us FROM stores";
  static constexpr std::string_view kCartColumns =
      "SELECT id, store_id, serial, cert_fingerprint, public_key_pem, certificate_pem, status, registered_at_us "
      "FROM carts";

  static Result<StoreRecord> ReadStore(const Statement& q) {
    CW_ASSIGN_OR_RETURN(StoreId id, StoreId::Parse(q.Text(0)));
    auto region = ParseRegion(q.Text(3));
    if (!region) return Corruption("store " + id.str() + " has unknown region " + q.Text(3));
    return StoreRecord{id, q.Text(1), q.Text(2), *region, q.Text(4), FromMicros(q.Int(5))};
  }

  static Result<CartRecord> ReadCart(const Statement& q) {
    CW_ASSIGN_OR_RETURN(CartId id, CartId::Parse(q.Text(0)));
    CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(q.Text(1)));
    auto status = ParseCartStatus(q.Text(6));
    if (!status) return Corruption("cart " + id.str() + " has unknown status " + q.Text(6));
    return CartRecord{id, store, q.Text(2), q.Text(3), q.Text(4), q.Text(5), *status, FromMicros(q.Int(7))};
  }

  std::unique_ptr<Db> db_;
};

}  // namespace

Result<std::unique_ptr<EntityStore>> OpenSqliteEntityStore(const std::string& path) {
  if (path.empty()) return InvalidArgument("sqlite: URI needs a path (sqlite:PATH or sqlite::memory:)");
  CW_ASSIGN_OR_RETURN(auto db, Db::Open(path));
  CW_RETURN_IF_ERROR(db->Migrate(kMigrations).WithContext(path));
  return std::unique_ptr<EntityStore>(new SqliteEntityStore(std::move(db)));
}

}  // namespace cw::store
