#include "device/forward_queue.h"

#include <gtest/gtest.h>

namespace cw::device {
namespace {

using wire::EventType;

QueuedMessage Msg(EventType t, uint64_t seq, size_t size = 100) {
  return {t, seq, "t", std::string(size - 1, 'x')};  // cost = topic (1) + payload
}

TEST(ForwardQueue, ReplaysInOrder) {
  ForwardQueue q(10000);
  for (uint64_t s = 1; s <= 5; ++s) ASSERT_TRUE(q.Push(Msg(s % 2 ? EventType::kScan : EventType::kHealth, s)));
  for (uint64_t s = 1; s <= 5; ++s) {
    ASSERT_FALSE(q.empty());
    EXPECT_EQ(q.front().seq, s);
    q.PopFront();
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(ForwardQueue, FullQueueDropsOldestHealthFirst) {
  ForwardQueue q(500);  // room for five 100-byte messages
  ASSERT_TRUE(q.Push(Msg(EventType::kHealth, 1)));
  ASSERT_TRUE(q.Push(Msg(EventType::kScan, 2)));
  ASSERT_TRUE(q.Push(Msg(EventType::kHealth, 3)));
  ASSERT_TRUE(q.Push(Msg(EventType::kSessionStart, 4)));
  ASSERT_TRUE(q.Push(Msg(EventType::kHealth, 5)));
  ASSERT_TRUE(q.Push(Msg(EventType::kScan, 6)));  // evicts health 1
  ASSERT_TRUE(q.Push(Msg(EventType::kHealth, 7)));  // evicts health 3
  EXPECT_EQ(q.dropped_health(), 2u);
  std::vector<uint64_t> order;
  while (!q.empty()) {
    order.push_back(q.front().seq);
    q.PopFront();
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{2, 4, 5, 6, 7}));
}

TEST(ForwardQueue, ScansAndSessionEventsAreNeverDropped) {
  ForwardQueue q(300);
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(q.Push(Msg(EventType::kScan, s)));
  // Full of scans: a new health event is the one dropped ...
  EXPECT_FALSE(q.Push(Msg(EventType::kHealth, 4)));
  EXPECT_EQ(q.dropped_health(), 1u);
  // ... and a session-end is kept even beyond the bound, and reported.
  EXPECT_TRUE(q.Push(Msg(EventType::kSessionEnd, 5)));
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.over_capacity_bytes(), 100u);
}

}  // namespace
}  // namespace cw::device
