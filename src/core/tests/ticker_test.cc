#include "core/ticker.h"

#include <gtest/gtest.h>

#include <atomic>

namespace cw {
namespace {

TEST(Ticker, TicksAtOnceThenEveryPeriodUntilStoppedAndMayStartAgain) {
  std::atomic<int> ticks{0};
  Ticker t(std::chrono::milliseconds(10), [&] { ticks++; });
  t.Start();
  t.Start();  // already running: nothing more
  while (ticks < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t.Stop();
  int after_stop = ticks;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(ticks, after_stop) << "no tick after Stop";
  t.Start();
  while (ticks == after_stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  t.Stop();
  t.Stop();  // harmless
}

TEST(Ticker, StopWakesALongWait) {
  std::atomic<int> ticks{0};
  Ticker t(std::chrono::hours(1), [&] { ticks++; });
  t.Start();
  while (ticks < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto t0 = std::chrono::steady_clock::now();
  t.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(ticks, 1);
}

}  // namespace
}  // namespace cw
