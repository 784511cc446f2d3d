#include <gtest/gtest.h>

#include "broker/managed_broker.h"

namespace cw::broker {
namespace {

TEST(BrokerConfig, MutualTlsOnlyWithIdentityAsUsername) {
  BrokerOptions o;
  o.listen = {"127.0.0.1", 18883};
  std::string conf = RenderMosquittoConf(o, "/d/broker");
  for (const char* line : {"allow_anonymous false\n", "require_certificate true\n", "use_identity_as_username true\n",
                           "tls_version tlsv1.2\n", "listener 18883 127.0.0.1\n", "persistence true\n",
                           "acl_file /d/broker/acl\n", "cafile /d/broker/tls/ca.crt\n"}) {
    EXPECT_NE(conf.find(line), std::string::npos) << line;
  }
  // No password path at all.
  EXPECT_EQ(conf.find("password_file"), std::string::npos);
  EXPECT_EQ(conf.find("psk"), std::string::npos);
}

TEST(BrokerConfig, AclGivesCartsOnlyTheirOwnTopics) {
  std::string acl = RenderAcl();
  EXPECT_NE(acl.find("pattern write carts/%u/events/+\n"), std::string::npos);
  EXPECT_NE(acl.find("pattern write carts/%u/status\n"), std::string::npos);
  EXPECT_NE(acl.find("pattern read carts/%u/commands\n"), std::string::npos);
  EXPECT_NE(acl.find("pattern read devices/errors/%u\n"), std::string::npos);
  EXPECT_NE(acl.find("user cartwright-ingest\ntopic read carts/+/events/+\n"), std::string::npos);
  // No pattern grants a cart anything beyond its own id.
  EXPECT_EQ(acl.find("pattern readwrite"), std::string::npos);
  EXPECT_EQ(acl.find("pattern read carts/+"), std::string::npos);
}

}  // namespace
}  // namespace cw::broker
