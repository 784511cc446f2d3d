// sim/scaled_clock.h — virtual time that runs `speed` times faster than real time until it
// catches up with the wall clock, then keeps pace with it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>

#include "core/clock.h"

namespace cw::sim {

// A fleet replays the recent past fast and then goes on live: virtual time never passes the wall
// clock, so no cart ever stamps an event from the future. Virtual time stands at `virtual_start`
// until Start(), so setting up a fleet (loading keys, connecting a thousand carts) costs none.
// `wall` is the wall clock it may not pass (injected for tests).
class ScaledClock final : public Clock {
 public:
  ScaledClock(Time virtual_start, double speed, Clock& wall = Clock::System())
      : start_(virtual_start), speed_(speed), wall_(wall) {}
  // Lets virtual time run from here on. Calls after the first do nothing.
  void Start() {
    int64_t unset = 0;
    int64_t now = SteadyNs();
    if (real_start_ns_.compare_exchange_strong(unset, now)) {
      wall_at_start_us_.store(wall_.Now().time_since_epoch().count(), std::memory_order_release);
      started_.store(true, std::memory_order_release);
    }
  }
  // Thread-safe: the anchors are written once, before `started_`.
  Time Now() const override {
    if (!started_.load(std::memory_order_acquire)) return start_;
    auto real = Real();
    Time fast = start_ + std::chrono::duration_cast<Duration>(real * speed_);
    Time wall = WallAtStart() + std::chrono::duration_cast<Duration>(real);
    return start_ <= WallAtStart() ? std::min(fast, wall) : fast;
  }
  // Real time until virtual instant `t` (zero if it has passed; the time to it from the start
  // before Start()).
  std::chrono::steady_clock::duration RealUntil(Time t) const {
    if (t <= Now()) return {};
    bool started = started_.load(std::memory_order_acquire);
    Time wall_at_start = started ? WallAtStart() : wall_.Now();
    // Virtual time reaches t when both the fast clock and (if it caps) the wall clock have.
    auto by_fast = std::chrono::duration_cast<std::chrono::nanoseconds>((t - start_) / speed_);
    auto by_wall = start_ <= wall_at_start ? std::chrono::duration_cast<std::chrono::nanoseconds>(t - wall_at_start)
                                           : std::chrono::nanoseconds(0);
    auto elapsed = started ? Real() : std::chrono::nanoseconds(0);
    auto left = std::max(by_fast, by_wall) - elapsed;
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::max(left, std::chrono::nanoseconds(0)));
  }
  double speed() const { return speed_; }

 private:
  static int64_t SteadyNs() {
    // Never 0 in practice (the steady clock counts from boot); 1 keeps "unset" unambiguous.
    return std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count());
  }
  std::chrono::nanoseconds Real() const {
    return std::chrono::nanoseconds(SteadyNs() - real_start_ns_.load(std::memory_order_acquire));
  }
  Time WallAtStart() const { return Time(Duration(wall_at_start_us_.load(std::memory_order_acquire))); }

  Time start_;
  double speed_;
  Clock& wall_;
  std::atomic<int64_t> real_start_ns_{0};
  std::atomic<int64_t> wall_at_start_us_{0};
  std::atomic<bool> started_{false};
};

}  // namespace cw::sim
