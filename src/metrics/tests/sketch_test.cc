#include "metrics/sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace cw::metrics {
namespace {

double ExactQuantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = std::max(0.0, std::ceil(q * static_cast<double>(v.size())) - 1);  // nearest rank
  return v[static_cast<size_t>(rank)];
}

TEST(LatencySketch, QuantilesAreWithinTheRelativeAccuracy) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> dist(std::log(0.08), 0.9);  // ~80 ms, long tail
  std::vector<double> values;
  LatencySketch s(0.01);
  for (int i = 0; i < 50000; ++i) {
    double v = dist(rng);
    values.push_back(v);
    s.Add(v);
  }
  for (double q : {0.0, 0.5, 0.95, 0.99, 1.0}) {
    double exact = ExactQuantile(values, q);
    EXPECT_NEAR(*s.Quantile(q), exact, exact * 0.01 + 1e-12) << "q=" << q;
  }
  EXPECT_EQ(s.count(), 50000u);
  EXPECT_LT(s.bucket_count(), 1000u);  // bounded by the value range, not the number of values
}

TEST(LatencySketch, MergingSlicesEqualsOneSketchOfEverything) {
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> dist(10);
  LatencySketch whole(0.01), merged(0.01);
  std::vector<LatencySketch> minutes(15, LatencySketch(0.01));
  for (int i = 0; i < 15000; ++i) {
    double v = dist(rng);
    whole.Add(v);
    minutes[static_cast<size_t>(i % 15)].Add(v);
  }
  for (const auto& m : minutes) ASSERT_TRUE(merged.Merge(m));
  for (double q : {0.5, 0.9, 0.99}) EXPECT_DOUBLE_EQ(*merged.Quantile(q), *whole.Quantile(q)) << q;
  EXPECT_EQ(merged.count(), whole.count());
  LatencySketch coarse(0.05);
  EXPECT_FALSE(merged.Merge(coarse));
}

TEST(LatencySketch, NonPositiveValuesRankFirstAndEmptyHasNoQuantile) {
  LatencySketch s;
  EXPECT_FALSE(s.Quantile(0.5).has_value());
  s.Add(-2.0);  // a cart clock ahead of ours
  s.Add(0.0);
  s.Add(1.0, 2);
  EXPECT_EQ(s.count(), 4u);
  EXPECT_EQ(s.non_positive(), 2u);
  EXPECT_EQ(*s.Quantile(0.0), 0.0);
  EXPECT_NEAR(*s.Quantile(1.0), 1.0, 0.01);
  s.Clear();
  EXPECT_EQ(s.count(), 0u);
}

}  // namespace
}  // namespace cw::metrics
