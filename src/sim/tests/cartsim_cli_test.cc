#include "sim/cartsim_cli.h"

#include <gtest/gtest.h>

#include <filesystem>

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

TEST(CartsimCli, ScenarioFaultsAreSharesAndSaySoWhenNot) {
  testing::TempDir dir;
  std::string path = dir.path() + "/faults.toml";
  ASSERT_TRUE(WriteFileAtomic(path, "[faults]\nbattery_cliff = 0.1\nparking_lot = 0.02\nweight_mismatch_per_scan = 0.2\n"
                                    "[offline]\nlte_m_minutes = 4\n").ok());
  FleetOptions o;
  ASSERT_TRUE(LoadScenario(path, o).ok());
  EXPECT_DOUBLE_EQ(o.faults.battery_cliff, 0.1);
  EXPECT_DOUBLE_EQ(o.faults.parking_lot, 0.02);
  EXPECT_DOUBLE_EQ(o.faults.weight_mismatch_per_scan, 0.2);
  EXPECT_EQ(o.offline.lte_m, std::chrono::minutes(4));
  ASSERT_TRUE(WriteFileAtomic(path, "[faults]\nparking_lot = 1.5\n").ok());
  Status st = LoadScenario(path, o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find(":2: parking_lot = 1.500000 is not a share between 0 and 1"), std::string::npos) << st.message();
  ASSERT_TRUE(WriteFileAtomic(path, "[fault]\nparking_lot = 0.5\n").ok());
  EXPECT_NE(LoadScenario(path, o).message().find("unknown section [fault]"), std::string::npos);
}

// The scenario files shipped in scenarios/ must load: the demo uses them.
TEST(CartsimCli, ShippedScenariosLoad) {
  std::string dir = std::string(CW_SOURCE_DIR) + "/scenarios";
  int loaded = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    FleetOptions o;
    Status st = LoadScenario(e.path().string(), o);
    EXPECT_TRUE(st.ok()) << st.ToString();
    ++loaded;
  }
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace cw::sim
