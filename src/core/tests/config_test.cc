#include "core/config.h"

#include <gtest/gtest.h>

namespace cw {
namespace {

TEST(Config, DefaultsWhenEmpty) {
  auto c = ParseConfig("/data", "", "cartwright.toml");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->broker.listen, "127.0.0.1:8883");
  EXPECT_EQ(c->stores.entity, "sqlite:/data/entity.db");
}

TEST(Config, ReadsKnownKeys) {
  auto c = ParseConfig("/d", "[broker]\nlisten = \"0.0.0.0:9883\"\n[stores]\nentity = \"sqlite:/x.db\"\n", "f");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->broker.listen, "0.0.0.0:9883");
  EXPECT_EQ(c->stores.entity, "sqlite:/x.db");
}

TEST(Config, UnknownKeyFailsWithLocation) {
  auto c = ParseConfig("/d", "[broker]\nlistn = \"x\"\n", "cartwright.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("unknown key 'listn'"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("cartwright.toml:2"), std::string::npos) << c.error().message();
  EXPECT_EQ(c.error().message().find('\n'), std::string::npos);
}

TEST(Config, BadTypeSyntaxAndValueAreErrors) {
  EXPECT_FALSE(ParseConfig("/d", "[broker]\nlisten = 8883\n", "f").ok());
  EXPECT_FALSE(ParseConfig("/d", "[broker\n", "f").ok());
  EXPECT_FALSE(ParseConfig("/d", "[brokers]\n", "f").ok());
  auto c = ParseConfig("/d", "[broker]\nlisten = \"localhost\"\n", "f");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("not host:port"), std::string::npos);
}

TEST(Config, MonitorDurationsAndWebhook) {
  auto d = ParseConfig("/data", "", "f");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->monitor.latency_for, std::chrono::minutes(15));
  EXPECT_EQ(d->monitor.broker_log, "/data/broker/mosquitto.log");
  auto c = ParseConfig("/d",
                       "[monitor]\ntick = \"1s\"\nlatency_for = \"15s\"\nwebhook = \"https://hooks.example/cw\"\n"
                       "broker_log = \"off\"\n",
                       "f");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->monitor.tick, std::chrono::seconds(1));
  EXPECT_EQ(c->monitor.latency_for, std::chrono::seconds(15));
  EXPECT_EQ(c->monitor.webhook, "https://hooks.example/cw");
  EXPECT_EQ(c->monitor.broker_log, "");
  auto bad = ParseConfig("/d", "[monitor]\nerror_rate_for = \"ten minutes\"\n", "cartwright.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("cartwright.toml:2: [monitor] error_rate_for must be a duration"),
            std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(ParseConfig("/d", "[monitor]\nwebhook = \"ftp://x\"\n", "f").ok());
}

TEST(Config, OtaSettingsAndTheDeviceUrl) {
  auto d = ParseConfig("/data", "", "f");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->ota.resend_after, std::chrono::hours(1));
  EXPECT_EQ(d->ota.error_window, std::chrono::minutes(30));
  EXPECT_DOUBLE_EQ(d->ota.min_cart_hours, 0.5);
  EXPECT_EQ(d->api.device_url, "");
  auto c = ParseConfig("/d",
                       "[ota]\ntick = \"2s\"\nresend_after = \"10m\"\nerror_window = \"5m\"\nmin_cart_hours = 2\n"
                       "[api]\ndevice_url = \"https://ota.example.net:8444\"\n",
                       "f");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->ota.tick, std::chrono::seconds(2));
  EXPECT_EQ(c->ota.resend_after, std::chrono::minutes(10));
  EXPECT_EQ(c->ota.error_window, std::chrono::minutes(5));
  EXPECT_DOUBLE_EQ(c->ota.min_cart_hours, 2.0);
  EXPECT_EQ(c->api.device_url, "https://ota.example.net:8444");
  auto bad = ParseConfig("/d", "[ota]\nmin_cart_hours = -1\n", "f");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("[ota] min_cart_hours must be a number"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(ParseConfig("/d", "[api]\ndevice_url = \"http://x\"\n", "f").ok());
  EXPECT_FALSE(ParseConfig("/d", "[ota]\nspeed = 1\n", "f").ok());
}

TEST(HostPort, Parses) {
  auto hp = ParseHostPort("127.0.0.1:8883");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 8883);
  EXPECT_FALSE(ParseHostPort("127.0.0.1:70000").ok());
  EXPECT_FALSE(ParseHostPort(":80").ok());
  EXPECT_FALSE(ParseHostPort("host:").ok());
}

}  // namespace
}  // namespace cw
