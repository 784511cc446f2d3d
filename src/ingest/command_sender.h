// ingest/command_sender.h — the cloud's one way to speak to a cart: a signed command on
// carts/{cart_id}/commands (DESIGN.md §2). The ingest Service implements it over its own broker
// session; services (identity, overrides, OTA) depend only on this interface.
#pragma once

#include <string_view>

#include "core/ids.h"
#include "core/status.h"

namespace cw::ingest {

class CommandSender {
 public:
  virtual ~CommandSender() = default;
  // Signs `json` (a complete, schema-valid command for `cart`) with the cloud command key and
  // publishes it at QoS 1. Unavailable when the broker cannot take it now; the caller decides
  // whether a retry makes sense (commands carry expires_at, so a late one is ignored by the cart).
  virtual Status Send(const CartId& cart, std::string_view json) = 0;
};

}  // namespace cw::ingest
