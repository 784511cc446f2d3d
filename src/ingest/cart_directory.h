// ingest/cart_directory.h — what the ingest needs to know about a cart, parsed once and cached.
//
// Every message names a cart; checking it means the registry's status, the cart's store (for the
// telemetry index) and its public key (parsed from PEM, which costs far more than a verify). The
// directory keeps those in memory and re-reads a cart from the entity store after `refresh`, so a
// revocation takes effect within that time without a lookup per message. Unknown carts are
// remembered for a shorter time, so a freshly provisioned cart is admitted soon and a flood from
// an unknown id does not hit the database per message.
//
// Thread-safe: the verification workers share one directory.
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/clock.h"
#include "core/ids.h"
#include "crypto/ecdsa.h"
#include "store/entity_store.h"

namespace cw::ingest {

struct CartEntry {
  CartId id;
  StoreId store;
  store::CartStatus status;
  crypto::PublicKey key;
};

class CartDirectory {
 public:
  CartDirectory(store::EntityStore& entities, Clock& clock, Duration refresh = std::chrono::seconds(30),
                Duration remember_unknown = std::chrono::seconds(5));

  // The cart's entry; NotFound if the registry does not know it; other errors from the store
  // (Unavailable, Corruption) pass through and must not be taken as "unknown".
  Result<std::shared_ptr<const CartEntry>> Lookup(const CartId& cart);

  // Forgets a cart now (after a status change made by this process).
  void Invalidate(const CartId& cart);

 private:
  struct Slot {
    std::shared_ptr<const CartEntry> entry;  // null: known to be unknown
    Time fetched_at;
  };
  store::EntityStore& entities_;
  Clock& clock_;
  Duration refresh_, remember_unknown_;
  std::shared_mutex mu_;
  std::unordered_map<CartId, Slot> slots_;  // guarded by mu_
};

}  // namespace cw::ingest
