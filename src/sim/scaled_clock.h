// sim/scaled_clock.h — virtual time that runs `speed` times faster than real time.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/clock.h"

namespace cw::sim {

// Virtual time stands at `virtual_start` until Start(), so setting up a fleet (loading keys,
// connecting a thousand carts) costs no virtual time.
class ScaledClock final : public Clock {
 public:
  ScaledClock(Time virtual_start, double speed) : start_(virtual_start), speed_(speed) {}
  // Lets virtual time run from here on. Calls after the first do nothing.
  void Start() {
    int64_t unset = 0;
    real_start_ns_.compare_exchange_strong(unset, SteadyNs());
  }
  // Thread-safe: one atomic anchor, written once.
  Time Now() const override {
    int64_t anchor = real_start_ns_.load(std::memory_order_acquire);
    if (anchor == 0) return start_;
    auto real = std::chrono::nanoseconds(SteadyNs() - anchor);
    return start_ + std::chrono::duration_cast<Duration>(real * speed_);
  }
  // Real time until virtual instant `t` (zero if it has passed; the time to it at full speed
  // before Start()).
  std::chrono::steady_clock::duration RealUntil(Time t) const {
    auto v = t - Now();
    if (v <= Duration::zero()) return {};
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(v / speed_);
  }
  double speed() const { return speed_; }

 private:
  static int64_t SteadyNs() {
    // Never 0 in practice (the steady clock counts from boot); 1 keeps "unset" unambiguous.
    return std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count());
  }
  Time start_;
  std::atomic<int64_t> real_start_ns_{0};
  double speed_;
};

}  // namespace cw::sim
