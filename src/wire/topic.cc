#include "wire/topic.h"

namespace cw::wire {

std::string EventTopic(const CartId& cart, EventType type) {
  std::string t = "carts/" + cart.str() + "/events/";
  t += Name(type);
  return t;
}
std::string StatusTopic(const CartId& cart) { return "carts/" + cart.str() + "/status"; }
std::string CommandsTopic(const CartId& cart) { return "carts/" + cart.str() + "/commands"; }
std::string ErrorsTopic(const CartId& cart) { return "devices/errors/" + cart.str(); }

namespace {
// Splits "carts/{id}/{rest}" and parses the id.
Result<CartId> CartSegment(std::string_view topic, std::string_view& rest) {
  constexpr std::string_view kPrefix = "carts/";
  if (topic.substr(0, kPrefix.size()) != kPrefix) {
    return InvalidArgument("topic '" + std::string(topic) + "' does not start with carts/");
  }
  std::string_view tail = topic.substr(kPrefix.size());
  size_t slash = tail.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgument("topic '" + std::string(topic) + "' has no segment after the cart id");
  }
  rest = tail.substr(slash + 1);
  auto id = CartId::Parse(tail.substr(0, slash));
  if (!id.ok()) return id.error().WithContext("topic '" + std::string(topic) + "'");
  return *id;
}
}  // namespace

Result<EventTopicParts> ParseEventTopic(std::string_view topic) {
  std::string_view rest;
  CW_ASSIGN_OR_RETURN(CartId cart, CartSegment(topic, rest));
  constexpr std::string_view kEvents = "events/";
  if (rest.substr(0, kEvents.size()) != kEvents) {
    return InvalidArgument("topic '" + std::string(topic) + "' is not carts/{cart_id}/events/{type}");
  }
  std::string_view type_name = rest.substr(kEvents.size());
  auto type = ParseEventType(type_name);
  if (!type) {
    return InvalidArgument("topic '" + std::string(topic) + "' names unknown event type '" +
                           std::string(type_name.substr(0, 40)) + "'");
  }
  return EventTopicParts{cart, *type};
}

Result<CartId> ParseStatusTopic(std::string_view topic) {
  std::string_view rest;
  CW_ASSIGN_OR_RETURN(CartId cart, CartSegment(topic, rest));
  if (rest != "status") return InvalidArgument("topic '" + std::string(topic) + "' is not carts/{cart_id}/status");
  return cart;
}

}  // namespace cw::wire
