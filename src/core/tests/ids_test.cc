#include "core/ids.h"

#include <gtest/gtest.h>

#include <unordered_set>

namespace cw {
namespace {

TEST(CartId, AcceptsOnlyTheWireFormat) {
  EXPECT_TRUE(CartId::Parse("CART-000001").ok());
  EXPECT_TRUE(CartId::Parse("CART-999999").ok());
  for (const char* bad : {"CART-00001", "CART-0000001", "cart-000001", "CART-00000a", "CART000001",
                          "", "CART-000001\n", "CART-+00001"}) {
    auto r = CartId::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_EQ(CartId::Parse("CART-1").error().message(),
            "'CART-1' is not a valid cart id (CART- followed by 6 digits)");
}

TEST(CartId, NumberRoundTrips) {
  CartId id = CartId::FromNumber(42);
  EXPECT_EQ(id.str(), "CART-000042");
  EXPECT_EQ(id.number(), 42u);
  EXPECT_EQ(CartId::Parse("CART-123456")->number(), 123456u);
}

TEST(StoreId, RulesArePathSafe) {
  EXPECT_TRUE(StoreId::Parse("STORE-001").ok());
  EXPECT_TRUE(StoreId::Parse("berlin_mitte-2").ok());
  for (const char* bad : {"", "-lead", "a/b", "../x", "has space", "x.y",
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}) {
    EXPECT_FALSE(StoreId::Parse(bad).ok()) << bad;
  }
}

TEST(SessionId, RequiresLowercaseUuidV4) {
  EXPECT_TRUE(SessionId::Parse("3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f").ok());
  EXPECT_FALSE(SessionId::Parse("3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F").ok());  // uppercase
  EXPECT_FALSE(SessionId::Parse("3f1c2d4e-5a6b-1c7d-8e9f-0a1b2c3d4e5f").ok());  // version 1
  EXPECT_FALSE(SessionId::Parse("3f1c2d4e-5a6b-4c7d-cе9f-0a1b2c3d4e5f").ok());  // variant / non-ascii
}

TEST(TypedIds, HashAndCompare) {
  std::unordered_set<CartId> set{CartId::FromNumber(1), CartId::FromNumber(2), CartId::FromNumber(1)};
  EXPECT_EQ(set.size(), 2u);
  EXPECT_LT(CartId::FromNumber(1), CartId::FromNumber(2));
}

}  // namespace
}  // namespace cw
