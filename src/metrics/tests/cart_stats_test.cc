#include "metrics/cart_stats.h"

#include <gtest/gtest.h>

namespace cw::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const Time kT0 = Time(std::chrono::duration_cast<Duration>(std::chrono::hours(24 * 20000)));  // on a slice boundary
const CartId kCart = CartId::FromNumber(7), kOther = CartId::FromNumber(8);

TEST(CartStatsTable, CountsWhatEachCartSentAndWhenItWasLastSeen) {
  CartStatsTable t;
  EXPECT_FALSE(t.Get(kCart, kT0, minutes(15)).has_value());
  t.RecordStored(kCart, kT0, milliseconds(80), false);
  t.RecordStored(kCart, kT0 + minutes(1), std::nullopt, true);  // late: no latency
  t.RecordStored(kCart, kT0 + minutes(2), milliseconds(120), false, "SCANNER_JAM");
  t.RecordRejected(kCart, kT0 + minutes(3), "bad_signature");
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
  t.RecordRejected(kOther, kT0 + minutes(4), "schema_violation");
  EXPECT_EQ(t.LastSeen(), (std::vector<std::pair<CartId, Time>>{{kCart, kT0 + minutes(3)}, {kOther, kT0 + minutes(4)}}));
}

TEST(CartStatsTable, PercentilesCoverTheWindowAskedForAndTheHourIsKept) {
  CartStatsTable t;
  // An hour of 100 ms, then 15 minutes of 900 ms.
  for (int m = 0; m < 60; ++m) t.RecordStored(kCart, kT0 + minutes(m), milliseconds(100), false);
  for (int m = 60; m < 75; ++m) t.RecordStored(kCart, kT0 + minutes(m), milliseconds(900), false);
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
  t.RecordStored(kCart, kT0, milliseconds(5000), false);
  EXPECT_EQ(t.Get(kCart, now, minutes(60))->latency_samples, 60u);
}

TEST(CartStatsTable, ErrorsByDeviceAreTheLargestCartAndCodePairsOfTheWindow) {
  CartStatsTable t;
  for (int i = 0; i < 5; ++i) t.RecordRejected(kCart, kT0 + minutes(50) + seconds(i), "schema_violation");
  for (int i = 0; i < 3; ++i) t.RecordStored(kOther, kT0 + minutes(55), std::nullopt, false, "SCANNER_JAM");
  t.RecordStored(kCart, kT0 + minutes(56), milliseconds(10), false, "BATTERY_LOW");
  t.RecordRejected(kOther, kT0 + minutes(5), "bad_signature");  // an hour ago: outside a 30-minute window
  using E = CartStatsTable::ErrorCount;
  EXPECT_EQ(t.TopErrors(kT0 + minutes(59), minutes(30), 20),
            (std::vector<E>{{kCart, "schema_violation", 5}, {kOther, "SCANNER_JAM", 3}, {kCart, "BATTERY_LOW", 1}}));
  EXPECT_EQ(t.TopErrors(kT0 + minutes(59), minutes(30), 1), (std::vector<E>{{kCart, "schema_violation", 5}}));
  EXPECT_EQ(t.TopErrors(kT0 + minutes(59), minutes(60), 20).size(), 4u);
  EXPECT_EQ(t.Get(kOther, kT0 + minutes(59), minutes(60))->faults, 3u);
}

TEST(CartStatsTable, AMessageForAnEarlierSliceStillKeptJoinsIt) {
  CartStatsTable t;
  t.RecordStored(kCart, kT0 + minutes(20), milliseconds(50), false);
  t.RecordStored(kCart, kT0 + minutes(6), milliseconds(70), false);  // a slow session thread
  EXPECT_EQ(t.Latency(kCart, kT0, kT0 + minutes(5)).count(), 1u);
  EXPECT_EQ(t.Get(kCart, kT0 + minutes(20), minutes(60))->latency_samples, 2u);
}

}  // namespace
}  // namespace cw::metrics
