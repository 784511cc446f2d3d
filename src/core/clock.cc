#include "core/clock.h"

namespace cw {

Time SystemClock::Now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

Clock& Clock::System() {
  static SystemClock clock;
  return clock;
}

}  // namespace cw
