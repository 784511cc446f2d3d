// wire/topic.h — the four MQTT topic shapes of the contract, parsed and built in one place.
#pragma once

#include <string>
#include <string_view>

#include "core/ids.h"
#include "core/status.h"
#include "wire/types.h"

namespace cw::wire {

std::string EventTopic(const CartId& cart, EventType type);  // carts/{id}/events/{type}
std::string StatusTopic(const CartId& cart);                 // carts/{id}/status
std::string CommandsTopic(const CartId& cart);               // carts/{id}/commands
std::string ErrorsTopic(const CartId& cart);                 // devices/errors/{id}

// The ingest's shared subscriptions.
inline constexpr std::string_view kAllEventsFilter = "carts/+/events/+";
inline constexpr std::string_view kAllStatusFilter = "carts/+/status";

struct EventTopicParts {
  CartId cart;
  EventType type;
};
// Parses carts/{cart_id}/events/{type}. InvalidArgument says which segment is wrong.
Result<EventTopicParts> ParseEventTopic(std::string_view topic);

// Parses carts/{cart_id}/status.
Result<CartId> ParseStatusTopic(std::string_view topic);

}  // namespace cw::wire
