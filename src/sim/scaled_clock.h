// sim/scaled_clock.h — virtual time that runs `speed` times faster than real time.
#pragma once

#include <chrono>

#include "core/clock.h"

namespace cw::sim {

class ScaledClock final : public Clock {
 public:
  ScaledClock(Time virtual_start, double speed)
      : start_(virtual_start), real_start_(std::chrono::steady_clock::now()), speed_(speed) {}
  // Thread-safe (reads only immutable state and the steady clock).
  Time Now() const override {
    auto real = std::chrono::steady_clock::now() - real_start_;
    return start_ + std::chrono::duration_cast<Duration>(real * speed_);
  }
  // Real time until virtual instant `t` (zero if it has passed).
  std::chrono::steady_clock::duration RealUntil(Time t) const {
    auto v = t - Now();
    if (v <= Duration::zero()) return {};
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(v / speed_);
  }
  double speed() const { return speed_; }

 private:
  Time start_;
  std::chrono::steady_clock::time_point real_start_;
  double speed_;
};

}  // namespace cw::sim
