#include "device/forward_queue.h"

#include <gtest/gtest.h>

#include "core/files.h"
#include "testing/temp_dir.h"
#include "wire/topic.h"

namespace cw::device {
namespace {

using wire::EventType;

QueuedMessage Msg(EventType t, uint64_t seq, size_t size = 100) {
  return {t, seq, "t", std::string(size - 1, 'x')};  // cost = topic (1) + payload
}

TEST(ForwardQueue, ReplaysInOrder) {
  ForwardQueue q(10000);
  for (uint64_t s = 1; s <= 5; ++s) ASSERT_TRUE(*q.Push(Msg(s % 2 ? EventType::kScan : EventType::kHealth, s)));
  for (uint64_t s = 1; s <= 5; ++s) {
    ASSERT_FALSE(q.empty());
    EXPECT_EQ(q.front().seq, s);
    ASSERT_TRUE(q.PopFront().ok());
  }
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(ForwardQueue, FullQueueDropsOldestHealthFirst) {
  ForwardQueue q(500);  // room for five 100-byte messages
  ASSERT_TRUE(*q.Push(Msg(EventType::kHealth, 1)));
  ASSERT_TRUE(*q.Push(Msg(EventType::kScan, 2)));
  ASSERT_TRUE(*q.Push(Msg(EventType::kHealth, 3)));
  ASSERT_TRUE(*q.Push(Msg(EventType::kSessionStart, 4)));
  ASSERT_TRUE(*q.Push(Msg(EventType::kHealth, 5)));
  ASSERT_TRUE(*q.Push(Msg(EventType::kScan, 6)));  // evicts health 1
  ASSERT_TRUE(*q.Push(Msg(EventType::kHealth, 7)));  // evicts health 3
  EXPECT_EQ(q.dropped_health(), 2u);
  std::vector<uint64_t> order;
  while (!q.empty()) {
    order.push_back(q.front().seq);
    ASSERT_TRUE(q.PopFront().ok());
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{2, 4, 5, 6, 7}));
}

TEST(ForwardQueue, ScansAndSessionEventsAreNeverDropped) {
  ForwardQueue q(300);
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(*q.Push(Msg(EventType::kScan, s)));
  // Full of scans: a new health event is the one dropped ...
  EXPECT_FALSE(*q.Push(Msg(EventType::kHealth, 4)));
  EXPECT_EQ(q.dropped_health(), 1u);
  // ... and a session-end is kept even beyond the bound, and reported.
  EXPECT_TRUE(*q.Push(Msg(EventType::kSessionEnd, 5)));
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.over_capacity_bytes(), 100u);
}

// Messages as the cart journals them: real topics, so the type survives the round trip.
QueuedMessage Real(EventType t, uint64_t seq) {
  return {t, seq, wire::EventTopic(CartId::FromNumber(7), t), "{\"seq\":" + std::to_string(seq) + "}" + std::string(64, 's')};
}

std::vector<uint64_t> Drain(ForwardQueue& q) {
  std::vector<uint64_t> seqs;
  while (!q.empty()) {
    seqs.push_back(q.front().seq);
    EXPECT_TRUE(q.PopFront().ok());
  }
  return seqs;
}

class FlashQueueTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.path() + "/queue.log"; }
  testing::TempDir dir_;
};

TEST_F(FlashQueueTest, WhatWasQueuedSurvivesARestartInOrderWithTheOriginalBytes) {
  std::vector<QueuedMessage> sent;
  {
    auto q = *ForwardQueue::Open(path());
    for (uint64_t s = 1; s <= 6; ++s) {
      sent.push_back(Real(s % 3 ? EventType::kScan : EventType::kHealth, s));
      ASSERT_TRUE(*q.Push(sent.back()));
    }
    ASSERT_TRUE(q.PopFront().ok());  // seq 1 reached the broker before the "crash"
  }
  auto q = *ForwardQueue::Open(path());
  ASSERT_EQ(q.size(), 5u);
  for (size_t i = 1; i < sent.size(); ++i) {
    EXPECT_EQ(q.front().seq, sent[i].seq);
    EXPECT_EQ(q.front().type, sent[i].type);
    EXPECT_EQ(q.front().topic, sent[i].topic);
    EXPECT_EQ(q.front().payload, sent[i].payload);
    ASSERT_TRUE(q.PopFront().ok());
  }
}

TEST_F(FlashQueueTest, DrainingEmptiesTheJournal) {
  auto q = *ForwardQueue::Open(path());
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(*q.Push(Real(EventType::kScan, s)));
  EXPECT_GT(q.journal_bytes(), 0u);
  Drain(q);
  EXPECT_EQ(q.journal_bytes(), 0u);
  EXPECT_EQ(ReadFile(path())->size(), 0u);
  EXPECT_TRUE(ForwardQueue::Open(path())->empty());
}

TEST_F(FlashQueueTest, OverflowDropsAreJournalled) {
  {
    auto q = *ForwardQueue::Open(path(), 500);
    ASSERT_TRUE(*q.Push(Real(EventType::kHealth, 1)));
    for (uint64_t s = 2; s <= 6; ++s) ASSERT_TRUE(*q.Push(Real(EventType::kScan, s)));
    EXPECT_EQ(q.dropped_health(), 1u);
  }
  auto q = *ForwardQueue::Open(path(), 500);
  EXPECT_EQ(Drain(q), (std::vector<uint64_t>{2, 3, 4, 5, 6}));
}

TEST_F(FlashQueueTest, ATornLastRecordIsCutOffAndTheRestKept) {
  {
    auto q = *ForwardQueue::Open(path());
    for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(*q.Push(Real(EventType::kScan, s)));
  }
  // kill -9 in the middle of appending the fourth record.
  std::string whole = *ReadFile(path());
  std::string torn = whole + whole.substr(0, 40);
  ASSERT_TRUE(WriteFileAtomic(path(), torn).ok());
  {
    auto q = *ForwardQueue::Open(path());
    EXPECT_EQ(q.size(), 3u);
    EXPECT_EQ(ReadFile(path())->size(), whole.size());  // the torn bytes are gone
    ASSERT_TRUE(*q.Push(Real(EventType::kScan, 4)));    // and appending continues cleanly
  }
  auto q = *ForwardQueue::Open(path());
  EXPECT_EQ(Drain(q), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST_F(FlashQueueTest, AFlippedBitEndsTheReadableJournalThere) {
  {
    auto q = *ForwardQueue::Open(path());
    for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(*q.Push(Real(EventType::kScan, s)));
  }
  std::string bytes = *ReadFile(path());
  bytes[bytes.size() - 20] ^= 0x40;  // inside the third record
  ASSERT_TRUE(WriteFileAtomic(path(), bytes).ok());
  auto q = *ForwardQueue::Open(path());
  EXPECT_EQ(Drain(q), (std::vector<uint64_t>{1, 2}));
}

TEST_F(FlashQueueTest, RemovedRecordsAreCompactedAway) {
  auto q = *ForwardQueue::Open(path());
  // A long outage with replay keeping pace: the journal must not grow without bound.
  uint64_t seq = 1;
  for (int round = 0; round < 2000; ++round) {
    ASSERT_TRUE(*q.Push(Real(EventType::kScan, seq++)));
    ASSERT_TRUE(*q.Push(Real(EventType::kScan, seq++)));
    ASSERT_TRUE(q.PopFront().ok());
  }
  EXPECT_EQ(q.size(), 2000u);
  EXPECT_LT(q.journal_bytes(), 3 * q.bytes() + 300 * 1024);
  auto reopened = *ForwardQueue::Open(path());
  EXPECT_EQ(reopened.size(), 2000u);
  EXPECT_EQ(reopened.front().seq, 2001u);
}

TEST_F(FlashQueueTest, AnUnwritableJournalIsAnErrorAndQueuesNothing) {
  auto q = *ForwardQueue::Open(dir_.path() + "/missing-dir/queue.log");
  auto pushed = q.Push(Real(EventType::kScan, 1));
  ASSERT_FALSE(pushed.ok());
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace cw::device
