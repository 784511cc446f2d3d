// store/entity_store.h — entity state: the relational, transactional store (DESIGN.md §3).
//
// This slice is the device registry: stores (tenant partner + data-residency region from
// the start) and carts (identity, certificate, status). Later modules grow the model (sessions,
// scans, accounts...) behind the same interface.
//
// Contract for every method of every backend:
//  - Thread-safe: may be called from any thread concurrently.
//  - Not-found is reported as Code::kNotFound, never as an empty record.
//  - Create calls are not idempotent: a second Add of the same key is kAlreadyExists and changes
//    nothing. Updates of a missing key are kNotFound.
//  - Returned records are copies owned by the caller.
//  - Backend trouble (disk, connection) is kUnavailable (retryable) or kInternal/kCorruption.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"

namespace cw::store {

enum class Region { kUs, kEu };
std::string_view Name(Region r);
std::optional<Region> ParseRegion(std::string_view s);

struct StoreRecord {
  StoreId id;
  std::string name;
  std::string partner;   // the supermarket chain (the platform's tenant)
  Region region = Region::kUs;
  std::string timezone;  // IANA, e.g. Europe/Berlin
  Time created_at;
};

enum class CartStatus { kActive, kRevoked, kRetired };
std::string_view Name(CartStatus s);
std::optional<CartStatus> ParseCartStatus(std::string_view s);

struct CartRecord {
  CartId id;
  StoreId store;
  std::string serial;            // factory serial (certificate serialNumber attribute)
  std::string cert_fingerprint;  // SHA-256 of the DER certificate, lowercase hex
  std::string public_key_pem;    // the cart's signing key (also in the certificate)
  std::string certificate_pem;
  CartStatus status = CartStatus::kActive;
  Time registered_at;
};

class EntityStore {
 public:
  virtual ~EntityStore() = default;

  // Adds a store. kAlreadyExists if the id is taken.
  virtual Status AddStore(const StoreRecord& store) = 0;
  // kNotFound if no such store.
  virtual Result<StoreRecord> GetStore(const StoreId& id) = 0;
  // All stores ordered by id.
  virtual Result<std::vector<StoreRecord>> ListStores() = 0;

  // Registers a cart. kNotFound if its store does not exist; kAlreadyExists if the cart id, the
  // serial or the certificate fingerprint is already registered (one identity, one cart).
  virtual Status AddCart(const CartRecord& cart) = 0;
  // kNotFound if no such cart.
  virtual Result<CartRecord> GetCart(const CartId& id) = 0;
  // Carts ordered by id, of one store or of all.
  virtual Result<std::vector<CartRecord>> ListCarts(const std::optional<StoreId>& store) = 0;
  // kNotFound if no such cart.
  virtual Status SetCartStatus(const CartId& id, CartStatus status) = 0;
  // The smallest cart number above every registered one (1 for an empty registry). Two
  // provisioners may get the same number; the loser's AddCart fails with kAlreadyExists and retries.
  virtual Result<uint32_t> NextCartNumber() = 0;
};

}  // namespace cw::store
