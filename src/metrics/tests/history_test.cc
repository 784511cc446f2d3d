#include "metrics/history.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace cw::metrics {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Time kT0 = *ParseWireTime("2026-11-23T10:00:00.000Z");

TEST(History, GaugesIncreasesAndQuantilesAtEvenSteps) {
  Registry r;
  auto& connected = r.AddGauge("cw_carts_connected", "c").With();
  auto& received = r.AddCounter("cw_ingest_received_total", "r", {"type"});
  auto& latency = r.AddHistogram("cw_publish_to_cloud_seconds", "l", {0.1, 0.2, 0.4}).With();
  History h;
  // Ten minutes, a sample every 10 s: 100 → 80 carts at minute 5; 60 scans and 6 health a minute;
  // latency 0.15 s in the first five minutes, 0.3 s after.
  for (int s = 0; s <= 600; s += 10) {
    Time at = kT0 + seconds(s);
    connected.Set(s < 300 ? 100 : 80);
    if (s > 0) {
      received.With({"scan"}).Inc(10);
      received.With({"health"}).Inc(1);
      for (int i = 0; i < 10; ++i) latency.Observe(s <= 300 ? 0.15 : 0.3);
    }
    h.Record(at, r.Snapshot());
  }
  auto steps = History::Steps(kT0 + minutes(10), minutes(10), minutes(1));
  ASSERT_EQ(steps.size(), 10u);
  EXPECT_EQ(steps.front(), kT0 + minutes(1));
  auto g = h.Gauge("cw_carts_connected", steps);
  EXPECT_EQ(g[3], 100);
  EXPECT_EQ(g[5], 80);
  auto by_type = h.Increase("cw_ingest_received_total", "type", steps, minutes(1));
  ASSERT_EQ(by_type.size(), 2u);
  EXPECT_EQ(by_type["scan"][4], 60);
  EXPECT_EQ(by_type["health"][4], 6);
  auto total = h.Increase("cw_ingest_received_total", "", steps, minutes(1));
  EXPECT_EQ(total[""][9], 66);
  auto p50 = h.Quantile("cw_publish_to_cloud_seconds", 0.5, steps, minutes(1));
  ASSERT_TRUE(p50[1].has_value());
  EXPECT_GT(*p50[1], 0.1);
  EXPECT_LE(*p50[1], 0.2);
  EXPECT_GT(*p50[8], 0.2);
  EXPECT_LE(*p50[8], 0.4);
  // Before the first sample there is nothing to say.
  auto early = History::Steps(kT0, minutes(3), minutes(1));
  EXPECT_FALSE(h.Gauge("cw_carts_connected", early)[0].has_value());
  EXPECT_FALSE(h.Quantile("cw_publish_to_cloud_seconds", 0.5, early, minutes(1))[0].has_value());
}

TEST(History, ACounterThatRestartsCountsFromZeroAndOldSamplesAreDropped) {
  History h(minutes(5));
  h.Record(kT0, {{"cw_x_total", 50}});
  h.Record(kT0 + minutes(1), {{"cw_x_total", 80}});
  h.Record(kT0 + minutes(2), {{"cw_x_total", 5}});  // the process restarted
  auto inc = h.Increase("cw_x_total", "", History::Steps(kT0 + minutes(2), minutes(2), minutes(1)), minutes(1));
  EXPECT_EQ(inc[""][0], 30);
  EXPECT_EQ(inc[""][1], 5);
  h.Record(kT0 + minutes(10), {{"cw_x_total", 9}});
  EXPECT_FALSE(h.Gauge("cw_x_total", {kT0 + minutes(2)})[0].has_value());
  EXPECT_EQ(ParseSeries("cw_a_bucket{reason=\"x\\\"y\",le=\"0.5\"}").labels.at("reason"), "x\"y");
}

}  // namespace
}  // namespace cw::metrics
