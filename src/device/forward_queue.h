// device/forward_queue.h — store-and-forward: what the cart keeps while it cannot reach the cloud.
//
// A bounded FIFO of already-signed messages (4 MB per cart on the v2 hardware). Replay is in
// order, with the original bytes — so original `ts`, and `late: true` set when the event was built.
// Overflow policy: when a push would exceed the bound, the oldest *health* events are dropped first
// (they are periodic and superseded by the next one). Scans, session, identify, fault and boot
// events are never dropped: if the queue holds nothing droppable, a new health event is dropped
// instead, and any other event is kept even beyond the bound (counted in over_capacity_bytes) —
// losing a paid basket is worse than running the flash budget over.
//
// Flash: a queue opened on a journal file survives a crash or power-off. The journal is an
// append-only log of framed records (push a message / remove a seq), each with a CRC-32, so a
// record torn by a crash mid-write is recognised and cut off on the next open; everything before it
// is intact. The journal is emptied when the queue drains and rewritten (atomically) when removed
// records make up most of it. Records are written with write(2) and no fsync: they survive the
// process being killed (kill -9) but not the machine losing power — real flash has no page cache.
// A message leaves the queue when it is handed to the MQTT stack, which retries it until the
// broker acknowledges it for as long as the process lives.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "core/status.h"
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
  // A queue in RAM only.
  explicit ForwardQueue(size_t capacity_bytes = kDefaultCapacityBytes) : capacity_(capacity_bytes) {}
  // A queue backed by the journal at `path` (created if missing), holding what an earlier run left
  // queued. Corruption only if the file cannot be read at all; a torn tail is truncated and logged.
  static Result<ForwardQueue> Open(const std::string& path, size_t capacity_bytes = kDefaultCapacityBytes);

  // Appends `m` under the policy above. Returns false if `m` itself was dropped (a health event
  // with no room); fails only if the journal cannot be written, and then `m` is not queued.
  Result<bool> Push(QueuedMessage m);

  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  size_t bytes() const { return bytes_; }
  const QueuedMessage& front() const { return items_.front(); }
  // Removes the front message once the transport has taken it.
  Status PopFront();

  uint64_t dropped_health() const { return dropped_health_; }
  size_t over_capacity_bytes() const { return bytes_ > capacity_ ? bytes_ - capacity_ : 0; }
  // Bytes of journal on flash (0 for a RAM queue).
  size_t journal_bytes() const { return journal_bytes_; }

 private:
  static size_t Cost(const QueuedMessage& m) { return m.topic.size() + m.payload.size(); }
  // Journals the removal of `seq`, compacting or emptying the journal when that pays.
  Status JournalRemove(uint64_t seq);
  Status Append(const std::string& record);
  Status RewriteJournal();

  size_t capacity_;
  size_t bytes_ = 0;
  uint64_t dropped_health_ = 0;
  std::deque<QueuedMessage> items_;
  std::string journal_;  // empty: RAM only
  size_t journal_bytes_ = 0;
};

}  // namespace cw::device
