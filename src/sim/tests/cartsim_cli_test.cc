#include "sim/cartsim_cli.h"

#include <gtest/gtest.h>

#include "core/files.h"
#include "testing/temp_dir.h"

namespace cw::sim {
namespace {

TEST(CartsimCli, Durations) {
  EXPECT_EQ(*ParseDuration("2h"), std::chrono::hours(2));
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration("45s"), std::chrono::seconds(45));
  for (const char* bad : {"", "h", "10", "5x", "0s", "-1m"}) EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
}

TEST(CartsimCli, BrokerUrlMustBeTls) {
  SessionOptions o;
  ASSERT_TRUE(ParseBrokerUrl("mqtts://127.0.0.1:18883", o).ok());
  EXPECT_EQ(o.port, 18883);
  EXPECT_FALSE(ParseBrokerUrl("mqtt://127.0.0.1:1883", o).ok());
  EXPECT_FALSE(ParseBrokerUrl("mqtts://nohost", o).ok());
}

TEST(CartsimCli, ScenarioOverridesTheMixAndRefusesUnknownKeys) {
  testing::TempDir dir;
  std::string path = dir.path() + "/busy.toml";
  ASSERT_TRUE(WriteFileAtomic(path, "[shoppers]\nmean_idle_minutes = 1\nloyalty = 0.9\npayment_token = 0.1\napp_qr = 0\n").ok());
  FleetOptions o;
  ASSERT_TRUE(LoadScenario(path, o).ok());
  EXPECT_EQ(o.mix.mean_idle, std::chrono::minutes(1));
  EXPECT_DOUBLE_EQ(o.mix.loyalty, 0.9);
  ASSERT_TRUE(WriteFileAtomic(path, "[shoppers]\nloyalty = 0.5\n\nlyalty = 0.5\n").ok());
  Status st = LoadScenario(path, o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(":4: unknown key 'lyalty'"), std::string::npos) << st.message();
  ASSERT_TRUE(WriteFileAtomic(path, "[shoppers]\nloyalty = 0.8\npayment_token = 0.5\n").ok());
  EXPECT_FALSE(LoadScenario(path, o).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "[offline]\nfraction = 0.5\nafter_minutes = 2\nlength_minutes = 3\n").ok());
  FleetOptions off;
  ASSERT_TRUE(LoadScenario(path, off).ok());
  EXPECT_DOUBLE_EQ(off.offline.fraction, 0.5);
  EXPECT_EQ(off.offline.length, std::chrono::minutes(3));
}

}  // namespace
}  // namespace cw::sim
