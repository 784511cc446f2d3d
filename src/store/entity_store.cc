#include "store/entity_store.h"

namespace cw::store {

std::string_view Name(Region r) { return r == Region::kEu ? "eu" : "us"; }
std::optional<Region> ParseRegion(std::string_view s) {
  if (s == "us") return Region::kUs;
  if (s == "eu") return Region::kEu;
  return std::nullopt;
}

std::string_view Name(CartStatus s) {
  switch (s) {
    case CartStatus::kActive: return "active";
    case CartStatus::kRevoked: return "revoked";
    case CartStatus::kRetired: return "retired";
  }
  return "?";
}
std::optional<CartStatus> ParseCartStatus(std::string_view s) {
  if (s == "active") return CartStatus::kActive;
  if (s == "revoked") return CartStatus::kRevoked;
  if (s == "retired") return CartStatus::kRetired;
  return std::nullopt;
}

}  // namespace cw::store
