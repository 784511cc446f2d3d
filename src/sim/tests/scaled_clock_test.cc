#include "sim/scaled_clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace cw::sim {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Time kWall = Time(std::chrono::duration_cast<Duration>(std::chrono::seconds(1'800'000'000)));

TEST(ScaledClock, StandsStillUntilStartedAndKnowsHowLongTheWaitIs) {
  ManualClock wall(kWall);
  ScaledClock clock(kWall - hours(1), 60, wall);
  EXPECT_EQ(clock.Now(), kWall - hours(1));
  // One virtual minute takes a real second; catching up with the wall clock, an hour at 60x.
  EXPECT_EQ(clock.RealUntil(kWall - hours(1) + std::chrono::minutes(1)), seconds(1));
  EXPECT_EQ(clock.RealUntil(kWall), std::chrono::minutes(1));
  EXPECT_EQ(clock.RealUntil(kWall - hours(2)), std::chrono::steady_clock::duration::zero());
  // Past the wall clock, virtual time goes at the wall clock's pace.
  ScaledClock near(kWall - std::chrono::minutes(1), 600, wall);
  EXPECT_EQ(near.RealUntil(kWall + seconds(10)), seconds(10));
}

TEST(ScaledClock, RunsFastThenKeepsPaceWithTheWallClock) {
  ManualClock wall(kWall);
  // A second behind at a million times: it catches up within microseconds of real time.
  ScaledClock clock(kWall - seconds(1), 1e6, wall);
  auto before = std::chrono::steady_clock::now();
  clock.Start();
  std::this_thread::sleep_for(milliseconds(20));
  Time now = clock.Now();
  auto real = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - before);
  EXPECT_GE(now, kWall + milliseconds(20));  // caught up and kept going
  EXPECT_LE(now, kWall + real);              // never ahead of the wall clock
  auto wait = clock.RealUntil(kWall + seconds(1));
  EXPECT_LE(wait, seconds(1) - milliseconds(20));
  EXPECT_GE(wait, seconds(1) - real - milliseconds(1));
}

TEST(ScaledClock, AClockStartingInTheFutureIsNotHeldBack) {
  ManualClock wall(kWall);
  ScaledClock clock(kWall + hours(1), 2, wall);
  clock.Start();
  EXPECT_GE(clock.Now(), kWall + hours(1));
}

}  // namespace
}  // namespace cw::sim
