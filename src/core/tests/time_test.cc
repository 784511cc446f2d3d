#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/time_format.h"

namespace cw {
namespace {

TEST(WireTime, RoundTripsMilliseconds) {
  auto t = ParseWireTime("2026-11-22T10:15:30.123Z");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(FormatTimeMillis(*t), "2026-11-22T10:15:30.123Z");
  EXPECT_EQ(t->time_since_epoch().count() % 1000000, 123000);
}

TEST(WireTime, RejectsAnythingElse) {
  for (const char* bad : {"2026-11-22T10:15:30Z", "2026-11-22T10:15:30.12Z", "2026-11-22T10:15:30.123+00:00",
                          "2026-02-30T10:15:30.123Z", "2026-13-01T10:15:30.123Z", "2026-11-22T24:00:00.000Z",
                          "2026-11-22 10:15:30.123Z", "", "2026-11-22T10:15:60.000Z"}) {
    EXPECT_FALSE(ParseWireTime(bad).ok()) << bad;
  }
}

TEST(Rfc3339, AcceptsOperatorForms) {
  auto base = *ParseWireTime("2026-11-22T10:15:30.000Z");
  EXPECT_EQ(*ParseRfc3339("2026-11-22T10:15:30Z"), base);
  EXPECT_EQ(*ParseRfc3339("2026-11-22T11:15:30+01:00"), base);
  EXPECT_EQ(*ParseRfc3339("2026-11-22T10:15:30.5Z"), base + std::chrono::milliseconds(500));
  EXPECT_EQ(FormatTimeMillis(*ParseRfc3339("2026-11-22")), "2026-11-22T00:00:00.000Z");
  EXPECT_FALSE(ParseRfc3339("yesterday").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-22T10:15:30").ok());
}

TEST(ManualClock, MovesOnlyWhenTold) {
  auto start = *ParseWireTime("2026-11-22T10:00:00.000Z");
  ManualClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(std::chrono::minutes(5));
  EXPECT_EQ(FormatTimeMillis(clock.Now()), "2026-11-22T10:05:00.000Z");
}

TEST(Durations, ParseAndFormat) {
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration("45s"), std::chrono::seconds(45));
  EXPECT_FALSE(ParseDuration("0s").ok()) << "positive unless told otherwise (a tick of 0 would spin)";
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("10").ok());
  EXPECT_FALSE(ParseDuration("ten minutes").ok());
  EXPECT_EQ(*ParseDuration("0s", /*allow_zero=*/true), Duration::zero());
  EXPECT_EQ(*ParseDuration("0", /*allow_zero=*/true), Duration::zero());
  EXPECT_FALSE(ParseDuration("-5s", /*allow_zero=*/true).ok());
  EXPECT_EQ(FormatShortDuration(std::chrono::hours(24)), "24h");
  EXPECT_EQ(FormatShortDuration(std::chrono::seconds(90)), "90s");
  EXPECT_EQ(FormatShortDuration(std::chrono::minutes(10)), "10m");
  EXPECT_EQ(FormatShortDuration(Duration::zero()), "0s");
}

}  // namespace
}  // namespace cw
