// metrics/sketch.h — a mergeable quantile sketch with bounded relative error (DDSketch,
// Masson et al., VLDB 2019), for per-cart latency percentiles.
//
// A value x > 0 lands in bucket ceil(log_γ x) with γ = (1+α)/(1−α); every value in a bucket is
// within α (relative) of the bucket's representative, so any quantile is too. Two sketches with
// the same α merge by adding bucket counts, so minute slices add up to any window exactly as if
// one sketch had seen every value. Values ≤ 0 (a cart clock ahead of ours) are counted apart.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace cw::metrics {

class LatencySketch {
 public:
  explicit LatencySketch(double relative_accuracy = 0.01);

  void Add(double value, uint64_t count = 1);
  // Both sketches must have the same accuracy (checked: false, and nothing merged, if not).
  bool Merge(const LatencySketch& other);
  // The q-quantile (0 ≤ q ≤ 1, nearest rank) within the relative accuracy; nullopt when empty. Values ≤ 0 rank
  // below every positive one and are reported as 0.
  std::optional<double> Quantile(double q) const;

  uint64_t count() const { return count_; }
  uint64_t non_positive() const { return non_positive_; }
  double relative_accuracy() const { return alpha_; }
  size_t bucket_count() const { return buckets_.size(); }
  void Clear();

 private:
  int Index(double value) const;
  double Value(int index) const;

  double alpha_, gamma_, log_gamma_;
  std::map<int, uint64_t> buckets_;
  uint64_t non_positive_ = 0;
  uint64_t count_ = 0;
};

}  // namespace cw::metrics
