// core/ticker.h — a thread that runs one function every period until stopped: the heartbeat of
// the fleet monitor and the rollout engine.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/clock.h"

namespace cw {

class Ticker {
 public:
  Ticker(Duration period, std::function<void()> tick) : period_(period), tick_(std::move(tick)) {}
  ~Ticker() { Stop(); }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  // Starts the thread: a tick at once, then one `period` after each tick ends. Does nothing while
  // running; a stopped ticker may be started again.
  void Start();
  // Wakes the thread, lets a tick in progress finish and joins. Harmless when not running.
  void Stop();

 private:
  Duration period_;
  std::function<void()> tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // started and joined by the owner's thread only
};

}  // namespace cw
