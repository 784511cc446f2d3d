// device/forward_queue.h — store-and-forward: what the cart keeps while it cannot reach the cloud.
//
// A bounded FIFO of already-signed messages (4 MB per cart on the v2 hardware). Replay is in
// order, with the original bytes — so original `ts`, and `late: true` set when the event was built.
// Overflow policy: when a push would exceed the bound, the oldest *health* events are dropped first
// (they are periodic and superseded by the next one). Scans, session, identify, fault and boot
// events are never dropped: if the queue holds nothing droppable, a new health event is dropped
// instead, and any other event is kept even beyond the bound (counted in over_capacity_bytes) —
// losing a paid basket is worse than running the flash budget over.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "wire/types.h"

namespace cw::device {

struct QueuedMessage {
  wire::EventType type;
  uint64_t seq = 0;
  std::string topic;
  std::string payload;  // signed envelope, replayed byte for byte
};

class ForwardQueue {
 public:
  static constexpr size_t kDefaultCapacityBytes = 4 * 1024 * 1024;
  explicit ForwardQueue(size_t capacity_bytes = kDefaultCapacityBytes) : capacity_(capacity_bytes) {}

  // Appends `m` under the policy above. Returns false if `m` itself was dropped.
  bool Push(QueuedMessage m);

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  size_t bytes() const { return bytes_; }
  const QueuedMessage& front() const { return items_.front(); }
  // Removes the front message once the broker has acknowledged it.
  void PopFront();

  uint64_t dropped_health() const { return dropped_health_; }
  size_t over_capacity_bytes() const { return bytes_ > capacity_ ? bytes_ - capacity_ : 0; }

 private:
  static size_t Cost(const QueuedMessage& m) { return m.topic.size() + m.payload.size(); }
  bool DropOldestHealth();

  size_t capacity_;
  size_t bytes_ = 0;
  uint64_t dropped_health_ = 0;
  std::deque<QueuedMessage> items_;
};

}  // namespace cw::device
