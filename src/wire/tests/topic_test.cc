#include "wire/topic.h"

#include <gtest/gtest.h>

namespace cw::wire {
namespace {

const CartId kCart = CartId::FromNumber(7);

TEST(Topic, BuildsTheFourShapes) {
  EXPECT_EQ(EventTopic(kCart, EventType::kSessionEnd), "carts/CART-000007/events/session-end");
  EXPECT_EQ(StatusTopic(kCart), "carts/CART-000007/status");
  EXPECT_EQ(CommandsTopic(kCart), "carts/CART-000007/commands");
  EXPECT_EQ(ErrorsTopic(kCart), "devices/errors/CART-000007");
}

TEST(Topic, ParsesEveryEventType) {
  for (EventType t : kAllEventTypes) {
    auto p = ParseEventTopic(EventTopic(kCart, t));
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    EXPECT_EQ(p->cart, kCart);
    EXPECT_EQ(p->type, t);
  }
}

TEST(Topic, NamesTheBadSegment) {
  EXPECT_NE(ParseEventTopic("carts/CART-1/events/scan").error().message().find("not a valid cart id"),
            std::string::npos);
  EXPECT_NE(ParseEventTopic("carts/CART-000001/events/teleport").error().message().find("unknown event type 'teleport'"),
            std::string::npos);
  EXPECT_FALSE(ParseEventTopic("carts/CART-000001/status").ok());
  EXPECT_FALSE(ParseEventTopic("devices/errors/CART-000001").ok());
  EXPECT_FALSE(ParseEventTopic("carts/CART-000001/events/scan/extra").ok());
  EXPECT_FALSE(ParseEventTopic("").ok());
  EXPECT_TRUE(ParseStatusTopic("carts/CART-000001/status").ok());
  EXPECT_FALSE(ParseStatusTopic("carts/CART-000001/status/x").ok());
}

}  // namespace
}  // namespace cw::wire
