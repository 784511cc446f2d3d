#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace cw::metrics {
namespace {

TEST(Registry, ExposesCountersGaugesAndHistogramsInTheTextFormat) {
  Registry r;
  auto& rejects = r.AddCounter("cw_ingest_rejects_total", "Messages rejected, by reason", {"reason"});
  rejects.With({"bad_signature"}).Inc(3);
  rejects.With({"malformed_envelope"}).Inc();
  r.AddGauge("cw_connected_carts", "Carts connected now").With().Set(20);  // not "2e+01"
  auto& latency = r.AddHistogram("cw_publish_to_cloud_seconds", "Device ts to server receive", {0.1, 0.5, 1});
  for (double v : {0.05, 0.1, 0.3, 2.0}) latency.With().Observe(v);
  r.AddGaugeFunction("cw_ingest_queue_depth", "Messages waiting for a commit", [] { return 7.0; });

  EXPECT_EQ(r.Exposition(),
            "# HELP cw_ingest_rejects_total Messages rejected, by reason\n"
            "# TYPE cw_ingest_rejects_total counter\n"
            "cw_ingest_rejects_total{reason=\"bad_signature\"} 3\n"
            "cw_ingest_rejects_total{reason=\"malformed_envelope\"} 1\n"
            "# HELP cw_connected_carts Carts connected now\n"
            "# TYPE cw_connected_carts gauge\n"
            "cw_connected_carts 20\n"
            "# HELP cw_publish_to_cloud_seconds Device ts to server receive\n"
            "# TYPE cw_publish_to_cloud_seconds histogram\n"
            "cw_publish_to_cloud_seconds_bucket{le=\"0.1\"} 2\n"
            "cw_publish_to_cloud_seconds_bucket{le=\"0.5\"} 3\n"
            "cw_publish_to_cloud_seconds_bucket{le=\"1\"} 3\n"
            "cw_publish_to_cloud_seconds_bucket{le=\"+Inf\"} 4\n"
            "cw_publish_to_cloud_seconds_sum 2.45\n"
            "cw_publish_to_cloud_seconds_count 4\n"
            "# HELP cw_ingest_queue_depth Messages waiting for a commit\n"
            "# TYPE cw_ingest_queue_depth gauge\n"
            "cw_ingest_queue_depth 7\n");
  EXPECT_EQ(r.SeriesNames(), (std::vector<std::string>{"cw_ingest_rejects_total", "cw_connected_carts",
                                                        "cw_publish_to_cloud_seconds_bucket", "cw_publish_to_cloud_seconds_sum",
                                                        "cw_publish_to_cloud_seconds_count", "cw_ingest_queue_depth"}));
}

TEST(Registry, LabelValuesAreEscaped) {
  Registry r;
  r.AddCounter("c_total", "help with \\ and\nnewline", {"v"}).With({"a\"b\\c\nd"}).Inc();
  std::string text = r.Exposition();
  EXPECT_NE(text.find("# HELP c_total help with \\\\ and\\nnewline\n"), std::string::npos) << text;
  EXPECT_NE(text.find("c_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

TEST(Registry, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& family = r.AddCounter("events_total", "events", {"type"});
  auto& h = r.AddHistogram("latency_seconds", "latency", ExponentialBuckets(0.001, 2, 12));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        family.With({t % 2 ? "scan" : "health"}).Inc();
        h.With().Observe(0.002);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.With({"scan"}).value() + family.With({"health"}).value(), 40000u);
  EXPECT_EQ(h.With().count(), 40000u);
  EXPECT_NEAR(h.With().sum(), 80.0, 1e-6);
}

TEST(RegistryDeathTest, NamesAreCheckedAtRegistration) {
  EXPECT_DEATH({ Registry r; r.AddCounter("bad-name", "x"); }, "invalid metric name");
  EXPECT_DEATH({ Registry r; r.AddCounter("ok_total", "x", {"le"}); }, "invalid label name");
  EXPECT_DEATH({ Registry r; r.AddGauge("twice", "x"); r.AddGauge("twice", "x"); }, "registered twice");
  EXPECT_DEATH({ Registry r; r.AddHistogram("h", "x", {1, 0.5}); }, "ascend");
  EXPECT_DEATH({ Registry r; r.AddCounter("c_total", "x", {"a"}).With(); }, "takes 1 label values");
}

TEST(Registry, ExponentialBucketsGrowByTheFactor) {
  EXPECT_EQ(ExponentialBuckets(0.005, 2, 4), (std::vector<double>{0.005, 0.01, 0.02, 0.04}));
}

}  // namespace
}  // namespace cw::metrics
