#include "metrics/sketch.h"

#include <cmath>

namespace cw::metrics {

LatencySketch::LatencySketch(double relative_accuracy)
    : alpha_(relative_accuracy),
      gamma_((1 + relative_accuracy) / (1 - relative_accuracy)),
      log_gamma_(std::log(gamma_)) {}

int LatencySketch::Index(double value) const { return static_cast<int>(std::ceil(std::log(value) / log_gamma_)); }

// The point that is within α of every value in (γ^(i-1), γ^i].
double LatencySketch::Value(int index) const { return 2 * std::pow(gamma_, index) / (gamma_ + 1); }

void LatencySketch::Add(double value, uint64_t count) {
  if (count == 0) return;
  count_ += count;
  if (!(value > 0)) {  // also NaN
    non_positive_ += count;
    return;
  }
  buckets_[Index(value)] += count;
}

bool LatencySketch::Merge(const LatencySketch& other) {
  if (other.alpha_ != alpha_) return false;
  for (const auto& [i, n] : other.buckets_) buckets_[i] += n;
  non_positive_ += other.non_positive_;
  count_ += other.count_;
  return true;
}

std::optional<double> LatencySketch::Quantile(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::min(1.0, std::max(0.0, q));
  // Nearest rank: the smallest value with at least q of all values at or below it (0-based).
  auto rank = static_cast<uint64_t>(std::max(0.0, std::ceil(q * static_cast<double>(count_)) - 1));
  if (rank < non_positive_) return 0.0;
  uint64_t seen = non_positive_;
  for (const auto& [i, n] : buckets_) {
    seen += n;
    if (seen > rank) return Value(i);
  }
  return Value(buckets_.rbegin()->first);
}

void LatencySketch::Clear() {
  buckets_.clear();
  non_positive_ = 0;
  count_ = 0;
}

}  // namespace cw::metrics
