#include "metrics/cart_stats.h"

#include <gtest/gtest.h>

namespace cw::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

const Time kT0 = Time(std::chrono::duration_cast<Duration>(std::chrono::hours(24 * 20000)));  // on a slice boundary
const CartId kCart = CartId::FromNumber(7), kOther = CartId::FromNumber(8);

TEST(CartStatsTable, CountsWhatEachCartSentAndWhenItWasLastSeen) {
  CartStatsTable t;
  EXPECT_FALSE(t.Get(kCart, kT0, minutes(15)).has_value());
  t.RecordStored(kCart, kT0, milliseconds(80), false, false);
  t.RecordStored(kCart, kT0 + minutes(1), std::nullopt, true, false);  // late: no latency
  t.RecordStored(kCart, kT0 + minutes(2), milliseconds(120), false, true);
  t.RecordRejected(kCart, kT0 + minutes(3));
  t.RecordDuplicate(kCart, kT0 + minutes(1));
  auto s = *t.Get(kCart, kT0 + minutes(3), minutes(15));
  EXPECT_EQ(s.messages, 5u);
  EXPECT_EQ(s.stored, 3u);
  EXPECT_EQ(s.late, 1u);
  EXPECT_EQ(s.faults, 1u);
  EXPECT_EQ(s.rejects, 1u);
  EXPECT_EQ(s.last_seen_at, kT0 + minutes(3));
  EXPECT_EQ(s.latency_samples, 2u);
  EXPECT_NEAR(*s.p50, 0.080, 0.080 * 0.01);
  EXPECT_NEAR(*s.p99, 0.120, 0.120 * 0.01);
  EXPECT_FALSE(t.Get(kOther, kT0, minutes(15)).has_value());
  EXPECT_EQ(t.Carts(), std::vector<CartId>{kCart});
  // A rejected message is a sign of life too.
  t.RecordRejected(kOther, kT0 + minutes(4));
  EXPECT_EQ(t.LastSeen(), (std::vector<std::pair<CartId, Time>>{{kCart, kT0 + minutes(3)}, {kOther, kT0 + minutes(4)}}));
}

TEST(CartStatsTable, PercentilesCoverTheWindowAskedForAndTheHourIsKept) {
  CartStatsTable t;
  // An hour of 100 ms, then 15 minutes of 900 ms.
  for (int m = 0; m < 60; ++m) t.RecordStored(kCart, kT0 + minutes(m), milliseconds(100), false, false);
  for (int m = 60; m < 75; ++m) t.RecordStored(kCart, kT0 + minutes(m), milliseconds(900), false, false);
  Time now = kT0 + minutes(74);
  auto recent = *t.Get(kCart, now, minutes(15));
  EXPECT_EQ(recent.latency_samples, 15u);
  EXPECT_NEAR(*recent.p50, 0.9, 0.009);
  auto hour = *t.Get(kCart, now, minutes(60));
  EXPECT_EQ(hour.latency_samples, 60u);  // 12 slices: minutes 15..74
  EXPECT_NEAR(*hour.p50, 0.1, 0.001);
  // What left the hour is gone; counters are not windowed.
  EXPECT_EQ(t.Latency(kCart, kT0 - minutes(5), kT0 + minutes(10)).count(), 0u);
  EXPECT_EQ(recent.stored, 75u);
  // A message for a slice already forgotten changes counters only.
  t.RecordStored(kCart, kT0, milliseconds(5000), false, false);
  EXPECT_EQ(t.Get(kCart, now, minutes(60))->latency_samples, 60u);
}

TEST(CartStatsTable, AMessageForAnEarlierSliceStillKeptJoinsIt) {
  CartStatsTable t;
  t.RecordStored(kCart, kT0 + minutes(20), milliseconds(50), false, false);
  t.RecordStored(kCart, kT0 + minutes(6), milliseconds(70), false, false);  // a slow session thread
  EXPECT_EQ(t.Latency(kCart, kT0, kT0 + minutes(5)).count(), 1u);
  EXPECT_EQ(t.Get(kCart, kT0 + minutes(20), minutes(60))->latency_samples, 2u);
}

}  // namespace
}  // namespace cw::metrics
