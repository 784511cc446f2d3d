#include "device/battery.h"

#include <gtest/gtest.h>

namespace cw::device {
namespace {

TEST(Battery, TwelveHourShiftAtTheMixedAverage) {
  Battery b;
  EXPECT_EQ(b.percent(), 100);
  int minutes = 0;
  while (!b.at_cutoff() && minutes < 24 * 60) {
    b.Draw(b.spec().active_a, std::chrono::minutes(1));
    ++minutes;
  }
  EXPECT_NEAR(minutes / 60.0, 12.0, 0.25);
  EXPECT_NEAR(b.HoursToCutoff(0.4), 12.09, 0.01);
}

TEST(Battery, SleepLastsFourTimesLonger) {
  Battery b;
  EXPECT_NEAR(b.HoursToCutoff(b.spec().sleep_a) / b.HoursToCutoff(b.spec().active_a), 4.0, 1e-9);
}

TEST(Battery, VoltageFallsFromFullToCutoffAndSagsUnderLoad) {
  Battery full;
  EXPECT_EQ(full.millivolts(0), 8400);
  EXPECT_LT(full.millivolts(0.4), full.millivolts(0));
  Battery empty({}, 0.0);
  EXPECT_EQ(empty.millivolts(0), 6400);
  EXPECT_TRUE(empty.at_cutoff());
  Battery half({}, 0.5);
  EXPECT_GT(half.millivolts(0), 7200);
  EXPECT_LT(half.millivolts(0), 7800);
}

TEST(Battery, ChargingRaisesAndClamps) {
  Battery b({}, 0.1);
  b.Draw(-b.spec().charge_a, std::chrono::hours(10));
  EXPECT_EQ(b.percent(), 100);
  b.Draw(100.0, std::chrono::hours(10));
  EXPECT_EQ(b.percent(), 0);
}

}  // namespace
}  // namespace cw::device
