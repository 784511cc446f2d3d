// wire/status.h — the connection status a cart keeps on carts/{cart_id}/status: a retained birth
// published right after CONNECT, and the last will the broker publishes when the connection ends
// without a DISCONNECT (and that the cart's clean shutdown publishes itself).
//
// Both carry the connection's start (device time, fixed before CONNECT): a will that arrives after
// the birth of a newer connection — the broker noticing a dead socket only after the cart has
// reconnected — names an older connection and is recognised as such (schemas/status.json).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace cw::wire {

enum class Presence { kOnline, kOffline };
std::string_view Name(Presence p);

struct StatusMessage {
  Presence presence = Presence::kOnline;
  // nullopt for the bare strings "online" / "offline" of older firmware: such a message cannot be
  // placed among connections and is taken at its arrival.
  std::optional<Time> connected_at;
};

// {"v":1,"status":"online","connected_at":"2026-11-22T10:15:30.123Z"}
std::string StatusPayload(Presence presence, Time connected_at);

// Accepts the JSON form (schema-checked) and the bare strings; InvalidArgument says what is wrong.
Result<StatusMessage> ParseStatusPayload(std::string_view payload);

}  // namespace cw::wire
