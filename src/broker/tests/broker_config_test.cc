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
                           "plugin /d/broker/cartwright_acl.so\n", "plugin_opt_service_user cartwright-ingest\n",
                           "cafile /d/broker/tls/ca.crt\n"}) {
    EXPECT_NE(conf.find(line), std::string::npos) << line;
  }
  // The plugin owns the ACL: a second ACL source would be consulted after it and could widen it.
  EXPECT_EQ(conf.find("acl_file"), std::string::npos);
  // No password path at all.
  EXPECT_EQ(conf.find("password_file"), std::string::npos);
  EXPECT_EQ(conf.find("psk"), std::string::npos);
}

// The embedded plugin is a loadable shared object exporting the v5 plugin entry points.
TEST(BrokerConfig, EmbeddedAclPluginIsASharedObject) {
  std::string_view image = AclPluginImage();
  ASSERT_GT(image.size(), 1000u);
  EXPECT_EQ(image.substr(0, 4), std::string_view("\x7f" "ELF", 4));
  for (const char* symbol : {"mosquitto_plugin_version", "mosquitto_plugin_init", "mosquitto_plugin_cleanup"}) {
    EXPECT_NE(image.find(symbol), std::string_view::npos) << symbol;
  }
  // Loaded into an uninstrumented Mosquitto: it must not need the sanitizer runtimes.
  EXPECT_EQ(image.find("libasan"), std::string_view::npos);
  EXPECT_EQ(image.find("libubsan"), std::string_view::npos);
}

}  // namespace
}  // namespace cw::broker
