#include "ingest/cart_directory.h"

namespace cw::ingest {

CartDirectory::CartDirectory(store::EntityStore& entities, Clock& clock, Duration refresh, Duration remember_unknown)
    : entities_(entities), clock_(clock), refresh_(refresh), remember_unknown_(remember_unknown) {}

Result<std::shared_ptr<const CartEntry>> CartDirectory::Lookup(const CartId& cart) {
  Time now = clock_.Now();
  {
    std::shared_lock lock(mu_);
    auto it = slots_.find(cart);
    if (it != slots_.end()) {
      const Slot& s = it->second;
      if (s.entry && now - s.fetched_at < refresh_) return s.entry;
      if (!s.entry && now - s.fetched_at < remember_unknown_) return NotFound(cart.str() + " is not registered");
    }
  }
  auto record = entities_.GetCart(cart);
  Slot slot{nullptr, now};
  if (record.ok()) {
    auto key = crypto::PublicKey::FromPem(record->public_key_pem);
    if (!key.ok()) return Corruption("registry holds an unreadable public key for " + cart.str() + ": " + key.error().message());
    slot.entry = std::make_shared<const CartEntry>(CartEntry{record->id, record->store, record->status, std::move(*key)});
  } else if (record.error().code() != Code::kNotFound) {
    return record.error();
  }
  std::unique_lock lock(mu_);
  slots_.insert_or_assign(cart, slot);
  if (!slot.entry) return NotFound(cart.str() + " is not registered");
  return slot.entry;
}

void CartDirectory::Invalidate(const CartId& cart) {
  std::unique_lock lock(mu_);
  slots_.erase(cart);
}

}  // namespace cw::ingest
