#include "core/ticker.h"

namespace cw {

void Ticker::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      tick_();
      lock.lock();
      cv_.wait_for(lock, period_, [this] { return stopping_; });
    }
  });
}

void Ticker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cw
