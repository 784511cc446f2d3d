// The fleet ACL as the broker plugin applies it: carts get their own topics only, the ingest gets
// every cart's uplink, and a subscription is judged by everything it could match.
#include "broker/acl.h"

#include <gtest/gtest.h>

namespace cw::broker {
namespace {

constexpr std::string_view kService = "cartwright-ingest";

bool Allows(std::string_view user, std::string_view topic, AclAccess access) {
  return AclAllows(kService, user, topic, access);
}

TEST(Acl, CartPublishesOnlyItsOwnEventsAndStatus) {
  EXPECT_TRUE(Allows("cart-a", "carts/cart-a/events/scan", AclAccess::kWrite));
  EXPECT_TRUE(Allows("cart-a", "carts/cart-a/status", AclAccess::kWrite));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-b/events/scan", AclAccess::kWrite));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-b/status", AclAccess::kWrite));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-a/commands", AclAccess::kWrite));
  EXPECT_FALSE(Allows("cart-a", "devices/errors/cart-a", AclAccess::kWrite));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-a/events/scan/extra", AclAccess::kWrite));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-a/events", AclAccess::kWrite));
}

TEST(Acl, CartReadsAndSubscribesOnlyItsOwnCommandsAndErrors) {
  EXPECT_TRUE(Allows("cart-a", "carts/cart-a/commands", AclAccess::kRead));
  EXPECT_TRUE(Allows("cart-a", "devices/errors/cart-a", AclAccess::kRead));
  EXPECT_TRUE(Allows("cart-a", "carts/cart-a/commands", AclAccess::kSubscribe));
  EXPECT_TRUE(Allows("cart-a", "devices/errors/cart-a", AclAccess::kSubscribe));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-b/commands", AclAccess::kRead));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-b/commands", AclAccess::kSubscribe));
  EXPECT_FALSE(Allows("cart-a", "carts/cart-a/events/scan", AclAccess::kRead));
  for (const char* wide : {"#", "carts/#", "carts/+/commands", "devices/errors/+", "carts/cart-a/#", "+/cart-a/commands",
                           "$SYS/#", "$share/g/carts/cart-b/commands"}) {
    EXPECT_FALSE(Allows("cart-a", wide, AclAccess::kSubscribe)) << wide;
  }
  EXPECT_TRUE(Allows("cart-a", "$share/g/carts/cart-a/commands", AclAccess::kSubscribe));
}

TEST(Acl, IngestReadsEveryCartsUplinkIncludingSharedSubscriptions) {
  EXPECT_TRUE(Allows(kService, "carts/+/events/+", AclAccess::kSubscribe));
  EXPECT_TRUE(Allows(kService, "$share/ingest/carts/+/events/+", AclAccess::kSubscribe));
  EXPECT_TRUE(Allows(kService, "carts/+/status", AclAccess::kSubscribe));
  EXPECT_TRUE(Allows(kService, "carts/cart-a/events/scan", AclAccess::kSubscribe));
  EXPECT_TRUE(Allows(kService, "carts/cart-a/events/scan", AclAccess::kRead));
  EXPECT_TRUE(Allows(kService, "carts/+/commands", AclAccess::kWrite) == false);  // a publish names one topic
  EXPECT_TRUE(Allows(kService, "carts/cart-a/commands", AclAccess::kWrite));
  EXPECT_TRUE(Allows(kService, "devices/errors/cart-a", AclAccess::kWrite));
  EXPECT_FALSE(Allows(kService, "carts/#", AclAccess::kSubscribe));
  EXPECT_FALSE(Allows(kService, "carts/+/commands", AclAccess::kSubscribe));
  EXPECT_FALSE(Allows(kService, "carts/cart-a/events/scan", AclAccess::kWrite));
  for (const char* bad : {"$share//carts/+/status", "$share/ingest", "$share/ingest/"}) {
    EXPECT_FALSE(Allows(kService, bad, AclAccess::kSubscribe)) << bad;
  }
}

TEST(Acl, IdentitiesThatCouldWidenAPatternGetNothing) {
  for (const char* user : {"", "+", "#", "a/b", "cart+"}) {
    EXPECT_FALSE(Allows(user, std::string("carts/") + user + "/status", AclAccess::kWrite)) << user;
  }
  // `+` as a cart id would otherwise turn the own-commands pattern into every cart's.
  EXPECT_FALSE(Allows("+", "carts/+/commands", AclAccess::kSubscribe));
}

TEST(Acl, TopicMatching) {
  EXPECT_TRUE(TopicMatchesFilter("a/+/c", "a/b/c"));
  EXPECT_FALSE(TopicMatchesFilter("a/+/c", "a/b/c/d"));
  EXPECT_TRUE(TopicMatchesFilter("a/#", "a"));
  EXPECT_TRUE(TopicMatchesFilter("a/#", "a/b/c"));
  EXPECT_TRUE(TopicMatchesFilter("#", "a"));
  EXPECT_FALSE(TopicMatchesFilter("#", "$SYS/x"));
  EXPECT_FALSE(TopicMatchesFilter("+/x", "$SYS/x"));
  EXPECT_TRUE(TopicMatchesFilter("+/+", "a/"));  // an empty level is a level
  EXPECT_FALSE(TopicMatchesFilter("a/b", "a/+"));  // a concrete topic carries no wildcards
}

TEST(Acl, FilterCoverage) {
  EXPECT_TRUE(FilterCovers("carts/+/events/+", "carts/+/events/+"));
  EXPECT_TRUE(FilterCovers("carts/+/events/+", "carts/x/events/scan"));
  EXPECT_TRUE(FilterCovers("carts/+/events/+", "carts/x/events/+"));
  EXPECT_FALSE(FilterCovers("carts/+/events/+", "carts/+/events/#"));
  EXPECT_FALSE(FilterCovers("carts/+/events/+", "carts/+/+/+"));
  EXPECT_FALSE(FilterCovers("carts/x/status", "carts/+/status"));
  EXPECT_TRUE(FilterCovers("a/#", "a/+/c"));
  EXPECT_TRUE(FilterCovers("a/#", "a"));
  EXPECT_TRUE(FilterCovers("a/#", "a/#"));
  EXPECT_FALSE(FilterCovers("a/+", "a/#"));
  EXPECT_FALSE(FilterCovers("a/b", "a/b/c"));
}

TEST(Acl, RenderedFileStatesTheSameRules) {
  std::string acl = RenderAcl(kService);
  EXPECT_NE(acl.find("pattern write carts/%u/events/+\n"), std::string::npos);
  EXPECT_NE(acl.find("user cartwright-ingest\ntopic read carts/+/events/+\ntopic read carts/+/status\n"
                     "topic write carts/+/commands\ntopic write devices/errors/+\n"),
            std::string::npos);
  // No pattern grants a cart anything beyond its own id.
  EXPECT_EQ(acl.find("pattern readwrite"), std::string::npos);
  EXPECT_EQ(acl.find("pattern read carts/+"), std::string::npos);
}

}  // namespace
}  // namespace cw::broker
