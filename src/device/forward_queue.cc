#include "device/forward_queue.h"

#include <algorithm>

namespace cw::device {

bool ForwardQueue::DropOldestHealth() {
  auto it = std::find_if(items_.begin(), items_.end(),
                         [](const QueuedMessage& m) { return m.type == wire::EventType::kHealth; });
  if (it == items_.end()) return false;
  bytes_ -= Cost(*it);
  items_.erase(it);
  ++dropped_health_;
  return true;
}

bool ForwardQueue::Push(QueuedMessage m) {
  size_t cost = Cost(m);
  while (bytes_ + cost > capacity_) {
    if (!DropOldestHealth()) break;
  }
  if (bytes_ + cost > capacity_ && m.type == wire::EventType::kHealth) {
    ++dropped_health_;
    return false;
  }
  bytes_ += cost;
  items_.push_back(std::move(m));
  return true;
}

void ForwardQueue::PopFront() {
  bytes_ -= Cost(items_.front());
  items_.pop_front();
}

}  // namespace cw::device
