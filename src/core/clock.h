// core/clock.h — injected time.
//
// Nothing in Cartwright reads the system clock directly: it asks a Clock. Production code gets
// SystemClock; tests and the simulator get a ManualClock (or a scaled virtual clock) so that hours of
// fleet behaviour run in seconds and deterministically.
#pragma once

#include <atomic>
#include <chrono>

namespace cw {

// Wall-clock instants, microsecond resolution, UTC.
using Time = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;
using Duration = std::chrono::microseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Current wall time. Thread-safe. May jump (NTP, or a test advancing it); never use for timeouts
  // of real waits — those use std::chrono::steady_clock.
  virtual Time Now() const = 0;

  // The process-wide real clock.
  static Clock& System();
};

class SystemClock final : public Clock {
 public:
  Time Now() const override;
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start) : now_us_(start.time_since_epoch().count()) {}
  Time Now() const override { return Time(Duration(now_us_.load(std::memory_order_acquire))); }
  void Set(Time t) { now_us_.store(t.time_since_epoch().count(), std::memory_order_release); }
  void Advance(Duration d) { now_us_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> now_us_;
};

// Another clock, off by a fixed amount: a device whose clock drifted or was reset (cartsim's
// clock-skew knob).
class OffsetClock final : public Clock {
 public:
  OffsetClock(const Clock& base, Duration offset) : base_(base), offset_(offset) {}
  Time Now() const override { return base_.Now() + offset_; }

 private:
  const Clock& base_;
  Duration offset_;
};

}  // namespace cw
