// The telemetry-store conformance suite: every backend passes every case. Adding a backend means
// adding one line to kBackends.
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include <thread>

#include "core/time_format.h"
#include "store/ordered_kv.h"
#include "store/registry.h"
#include "store/tests/conformance.h"
#include "testing/temp_dir.h"

namespace cw::store {
namespace {

const Backend kBackends[] = {
    {"Memory", [](const std::string&) { return std::string("memory:"); }, false},
    {"RocksDb", [](const std::string& dir) { return "rocksdb:" + dir + "/telemetry"; }, true},
};

const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
const CartId kCartA = CartId::FromNumber(1), kCartB = CartId::FromNumber(2);
const StoreId kStore1 = *StoreId::Parse("STORE-001"), kStore2 = *StoreId::Parse("STORE-002");

TelemetryEvent Event(const CartId& cart, const StoreId& store, uint64_t seq, Time ts,
                     Duration ttl = std::chrono::hours(24 * 90)) {
  TelemetryEvent e{.cart = cart, .store = store, .seq = seq, .ts = ts, .received_at = ts + std::chrono::milliseconds(40),
                   .expires_at = ts + ttl, .type = wire::EventType::kScan, .late = seq % 2 == 0,
                   .digest = {}, .body = "{\"seq\":" + std::to_string(seq) + "}sig"};
  e.digest[0] = static_cast<uint8_t>(seq);
  e.digest[31] = static_cast<uint8_t>(cart.number());
  return e;
}

DeadLetter Reject(std::optional<CartId> cart, wire::RejectReason reason, Time at) {
  DeadLetter d;
  d.received_at = at;
  d.expires_at = at + std::chrono::hours(24 * 90);
  d.topic = cart ? "carts/" + cart->str() + "/events/scan" : "carts/nobody/events/scan";
  d.cart = cart;
  d.seq = 7;
  d.reason = reason;
  d.detail = "detail for " + std::string(wire::Name(reason));
  d.payload = std::string("raw\0bytes", 9);
  return d;
}

std::vector<uint64_t> Seqs(const std::vector<TelemetryEvent>& events) {
  std::vector<uint64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

class TelemetryStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store_.reset();
    auto s = Registry::WithBuiltinBackends().OpenTelemetry(GetParam().uri(tmp_.path()), clock_);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(s).value();
  }
  cw::testing::TempDir tmp_;
  ManualClock clock_{kT0 + std::chrono::hours(1)};
  std::unique_ptr<TelemetryStore> store_;
};

TEST_P(TelemetryStoreConformance, OneCartsEventsComeNewestFirstInPages) {
  TelemetryBatch batch;
  for (uint64_t s = 1; s <= 25; ++s) batch.events.push_back(Event(kCartA, kStore1, s, kT0 + std::chrono::seconds(s)));
  for (uint64_t s = 1; s <= 5; ++s) batch.events.push_back(Event(kCartB, kStore1, s, kT0 + std::chrono::seconds(s)));
  ASSERT_TRUE(store_->Commit(batch).ok());

  std::vector<uint64_t> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->NewestForCart(kCartA, 10, cursor);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    for (const auto& e : page->items) EXPECT_EQ(e.cart, kCartA);
    auto s = Seqs(page->items);
    seen.insert(seen.end(), s.begin(), s.end());
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 25 - i);

  // Every field round-trips.
  auto newest = store_->NewestForCart(kCartA, 1, "")->items.at(0);
  const auto& want = batch.events[24];
  EXPECT_EQ(newest.store, kStore1);
  EXPECT_EQ(newest.ts, want.ts);
  EXPECT_EQ(newest.received_at, want.received_at);
  EXPECT_EQ(newest.expires_at, want.expires_at);
  EXPECT_EQ(newest.type, wire::EventType::kScan);
  EXPECT_EQ(newest.late, want.late);
  EXPECT_EQ(newest.digest, want.digest);
  EXPECT_EQ(newest.body, want.body);
}

TEST_P(TelemetryStoreConformance, EventsAtTheSameInstantAreOrderedBySeq) {
  TelemetryBatch batch;
  for (uint64_t s : {3, 1, 2}) batch.events.push_back(Event(kCartA, kStore1, s, kT0));
  ASSERT_TRUE(store_->Commit(batch).ok());
  EXPECT_EQ(Seqs(store_->NewestForCart(kCartA, 10, "")->items), (std::vector<uint64_t>{3, 2, 1}));
}

TEST_P(TelemetryStoreConformance, ACursorBeforeATimeStartsAtOlderEvents) {
  TelemetryBatch batch;
  for (uint64_t s = 1; s <= 6; ++s) batch.events.push_back(Event(kCartA, kStore1, s, kT0 + std::chrono::minutes(s)));
  batch.events.push_back(Event(kCartB, kStore1, 1, kT0));
  ASSERT_TRUE(store_->Commit(batch).ok());
  auto page = store_->NewestForCart(kCartA, 2, CartCursorBefore(kCartA, kT0 + std::chrono::minutes(4)));
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  EXPECT_EQ(Seqs(page->items), (std::vector<uint64_t>{3, 2}));  // ts == before is excluded
  EXPECT_EQ(Seqs(store_->NewestForCart(kCartA, 10, page->next_cursor)->items), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(store_->NewestForCart(kCartA, 10, CartCursorBefore(kCartA, kT0))->items.empty());
}

TEST_P(TelemetryStoreConformance, OneStoresWindowOldestFirstAcrossCarts) {
  TelemetryBatch batch;
  for (uint64_t s = 1; s <= 10; ++s) {
    batch.events.push_back(Event(kCartA, kStore1, s, kT0 + std::chrono::minutes(s)));
    batch.events.push_back(Event(kCartB, kStore2, s, kT0 + std::chrono::minutes(s)));
  }
  ASSERT_TRUE(store_->Commit(batch).ok());
  // [minute 3, minute 8): 5 events of store 1, none of store 2, with a page size of 2.
  std::vector<Time> times;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->ForStore(kStore1, kT0 + std::chrono::minutes(3), kT0 + std::chrono::minutes(8), 2, cursor);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    for (const auto& e : page->items) {
      EXPECT_EQ(e.store, kStore1);
      times.push_back(e.ts);
    }
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  ASSERT_EQ(times.size(), 5u);
  for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(times[i], kT0 + std::chrono::minutes(3 + i));
  EXPECT_TRUE(store_->ForStore(*StoreId::Parse("STORE-404"), kT0, kT0 + std::chrono::hours(1), 10, "")->items.empty());
}

TEST_P(TelemetryStoreConformance, FindSeqReturnsTheStoredDigest) {
  auto e = Event(kCartA, kStore1, 42, kT0);
  ASSERT_TRUE(store_->Commit({{e}, {}}).ok());
  auto found = store_->FindSeq(kCartA, 42);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, e.digest);
  EXPECT_FALSE(store_->FindSeq(kCartA, 43)->has_value());
  EXPECT_FALSE(store_->FindSeq(kCartB, 42)->has_value());
}

TEST_P(TelemetryStoreConformance, ExpiredItemsAreInvisibleAndCompactionRemovesThem) {
  TelemetryBatch batch;
  batch.events.push_back(Event(kCartA, kStore1, 1, kT0, std::chrono::hours(2)));   // expires at T0+2h
  batch.events.push_back(Event(kCartA, kStore1, 2, kT0, std::chrono::hours(48)));  // stays
  ASSERT_TRUE(store_->Commit(batch).ok());
  EXPECT_EQ(store_->NewestForCart(kCartA, 10, "")->items.size(), 2u);

  clock_.Set(kT0 + std::chrono::hours(3));
  EXPECT_EQ(Seqs(store_->NewestForCart(kCartA, 10, "")->items), (std::vector<uint64_t>{2}));
  EXPECT_FALSE(store_->FindSeq(kCartA, 1)->has_value());
  EXPECT_EQ(store_->ForStore(kStore1, kT0, kT0 + std::chrono::hours(1), 10, "")->items.size(), 1u);

  // Compaction removes it for good: with the clock turned back it does not come back.
  ASSERT_TRUE(store_->CompactExpired().ok());
  clock_.Set(kT0 + std::chrono::hours(1));
  EXPECT_EQ(Seqs(store_->NewestForCart(kCartA, 10, "")->items), (std::vector<uint64_t>{2}));
  EXPECT_FALSE(store_->FindSeq(kCartA, 1)->has_value());
}

TEST_P(TelemetryStoreConformance, DeadLettersNewestFirstByCartAndReason) {
  TelemetryBatch batch;
  batch.rejects.push_back(Reject(kCartA, wire::RejectReason::kBadSignature, kT0 + std::chrono::seconds(1)));
  batch.rejects.push_back(Reject(kCartB, wire::RejectReason::kSchemaViolation, kT0 + std::chrono::seconds(2)));
  batch.rejects.push_back(Reject(kCartA, wire::RejectReason::kSchemaViolation, kT0 + std::chrono::seconds(3)));
  batch.rejects.push_back(Reject(std::nullopt, wire::RejectReason::kMalformedEnvelope, kT0 + std::chrono::seconds(4)));
  ASSERT_TRUE(store_->Commit(batch).ok());

  auto all = store_->Rejects({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->items.size(), 4u);
  EXPECT_EQ(all->items[0].reason, wire::RejectReason::kMalformedEnvelope);
  EXPECT_FALSE(all->items[0].cart.has_value());
  EXPECT_EQ(all->items[3].reason, wire::RejectReason::kBadSignature);
  EXPECT_EQ(all->items[3].payload, std::string("raw\0bytes", 9));
  EXPECT_EQ(all->items[3].detail, "detail for bad_signature");
  EXPECT_EQ(all->items[3].seq, 7u);
  EXPECT_EQ(all->items[3].topic, "carts/CART-000001/events/scan");

  auto a = store_->Rejects({.cart = kCartA});
  ASSERT_EQ(a->items.size(), 2u);
  EXPECT_EQ(a->items[0].reason, wire::RejectReason::kSchemaViolation);
  auto schema = store_->Rejects({.reason = wire::RejectReason::kSchemaViolation});
  EXPECT_EQ(schema->items.size(), 2u);
  auto both = store_->Rejects({.cart = kCartA, .reason = wire::RejectReason::kBadSignature});
  ASSERT_EQ(both->items.size(), 1u);

  // Paging.
  auto first = store_->Rejects({.limit = 3});
  ASSERT_EQ(first->items.size(), 3u);
  ASSERT_FALSE(first->next_cursor.empty());
  auto rest = store_->Rejects({.limit = 3, .cursor = first->next_cursor});
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].reason, wire::RejectReason::kBadSignature);
  EXPECT_TRUE(rest->next_cursor.empty());
}

TEST_P(TelemetryStoreConformance, AForeignCursorIsRefused) {
  EXPECT_EQ(store_->NewestForCart(kCartA, 10, "not-hex").error().code(), Code::kInvalidArgument);
  ASSERT_TRUE(store_->Commit({{Event(kCartB, kStore1, 1, kT0), Event(kCartB, kStore1, 2, kT0)}, {}}).ok());
  auto page = store_->NewestForCart(kCartB, 1, "");
  ASSERT_FALSE(page->next_cursor.empty());
  EXPECT_EQ(store_->NewestForCart(kCartA, 10, page->next_cursor).error().code(), Code::kInvalidArgument);
}

TEST_P(TelemetryStoreConformance, CommitsFromManyThreadsAllLand) {
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t s = 1; s <= 50; ++s) {
        EXPECT_TRUE(store_->Commit({{Event(CartId::FromNumber(10 + t), kStore1, s, kT0 + std::chrono::seconds(s))}, {}}).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (uint32_t t = 0; t < 4; ++t) EXPECT_EQ(store_->NewestForCart(CartId::FromNumber(10 + t), 100, "")->items.size(), 50u);
}

TEST_P(TelemetryStoreConformance, CommittedDataSurvivesReopening) {
  if (!GetParam().persistent) GTEST_SKIP() << "an in-memory backend keeps nothing";
  ASSERT_TRUE(store_->Commit({{Event(kCartA, kStore1, 9, kT0)}, {Reject(kCartA, wire::RejectReason::kOversize, kT0)}}).ok());
  Open();
  EXPECT_EQ(Seqs(store_->NewestForCart(kCartA, 10, "")->items), (std::vector<uint64_t>{9}));
  EXPECT_EQ(store_->Rejects({})->items.size(), 1u);
}

TEST_P(TelemetryStoreConformance, UnroutedEventsAreListedInArrivalOrderUntilMarkedRouted) {
  // Arrival (received_at) order differs from device-time order on purpose: a late replay.
  auto late = Event(kCartB, kStore1, 5, kT0 - std::chrono::minutes(30));
  late.received_at = kT0 + std::chrono::seconds(2);
  TelemetryBatch first{.events = {Event(kCartA, kStore1, 1, kT0), Event(kCartA, kStore1, 2, kT0), late},
                       .rejects = {},
                       .unrouted = {0, 2}};  // seq 2 was routed before its acknowledgement
  ASSERT_TRUE(store_->Commit(first).ok());
  ASSERT_TRUE(store_->Commit({.events = {Event(kCartA, kStore1, 3, kT0 + std::chrono::seconds(5))}, .unrouted = {0}}).ok());

  auto listed = store_->Unrouted(10);
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  EXPECT_EQ(Seqs(*listed), (std::vector<uint64_t>{1, 5, 3}));
  EXPECT_EQ((*listed)[1].cart, kCartB);
  EXPECT_EQ((*listed)[1].body, late.body);
  EXPECT_EQ((*listed)[1].digest, late.digest);
  EXPECT_EQ(Seqs(*store_->Unrouted(2)), (std::vector<uint64_t>{1, 5}));

  ASSERT_TRUE(store_->MarkRouted({&(*listed)[0], &(*listed)[1]}).ok());
  EXPECT_EQ(Seqs(*store_->Unrouted(10)), (std::vector<uint64_t>{3}));
  ASSERT_TRUE(store_->MarkRouted({&(*listed)[2], &(*listed)[2]}).ok()) << "marking twice is harmless";
  EXPECT_TRUE(store_->Unrouted(10)->empty());
  // The outbox only points at the events: they stay stored.
  EXPECT_EQ(store_->NewestForCart(kCartA, 10, "")->items.size(), 3u);
}

TEST_P(TelemetryStoreConformance, AnUnroutedEventThatExpiredIsNoLongerListed) {
  ASSERT_TRUE(store_->Commit({.events = {Event(kCartA, kStore1, 1, kT0, std::chrono::hours(2)),
                                         Event(kCartA, kStore1, 2, kT0, std::chrono::hours(48))},
                              .unrouted = {0, 1}})
                  .ok());
  clock_.Set(kT0 + std::chrono::hours(3));
  EXPECT_EQ(Seqs(*store_->Unrouted(10)), (std::vector<uint64_t>{2}));
  ASSERT_TRUE(store_->CompactExpired().ok());
  EXPECT_EQ(Seqs(*store_->Unrouted(10)), (std::vector<uint64_t>{2}));
}

TEST_P(TelemetryStoreConformance, AnUnroutedIndexOutsideTheBatchIsRefusedAndNothingLands) {
  auto st = store_->Commit({.events = {Event(kCartA, kStore1, 1, kT0)}, .unrouted = {1}});
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_TRUE(store_->NewestForCart(kCartA, 10, "")->items.empty());
}

TEST_P(TelemetryStoreConformance, TheOutboxSurvivesReopening) {
  if (!GetParam().persistent) GTEST_SKIP() << "an in-memory backend keeps nothing";
  ASSERT_TRUE(store_->Commit({.events = {Event(kCartA, kStore1, 1, kT0), Event(kCartA, kStore1, 2, kT0)},
                              .unrouted = {0, 1}})
                  .ok());
  Open();
  auto listed = *store_->Unrouted(10);
  ASSERT_EQ(Seqs(listed), (std::vector<uint64_t>{1, 2}));
  ASSERT_TRUE(store_->MarkRouted({&listed[0]}).ok());
  Open();
  EXPECT_EQ(Seqs(*store_->Unrouted(10)), (std::vector<uint64_t>{2}));
}

INSTANTIATE_TEST_SUITE_P(Backends, TelemetryStoreConformance, ::testing::ValuesIn(kBackends),
                         BackendName);

// The by-store index now carries each event; a store written before that (index values holding
// only the expiry) must still answer window queries, through the events table.
TEST(RocksTelemetryStore, AWindowStillReadsIndexEntriesWrittenBeforeTheyCarriedTheEvent) {
  testing::TempDir tmp;
  ManualClock clock{kT0};
  std::string dir = tmp.path() + "/telemetry";
  TelemetryEvent e = Event(kCartA, kStore1, 3, kT0);
  {
    auto store = OpenRocksTelemetryStore(dir, clock);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    ASSERT_TRUE((*store)->Commit({.events = {e}}).ok());
  }
  {
    auto kv = OpenRocksKv(dir, clock);
    ASSERT_TRUE(kv.ok()) << kv.error().ToString();
    std::vector<OrderedKv::Put> old_format;
    ASSERT_TRUE((*kv)->Scan(OrderedKv::kByStore, "", "", false, [&](std::string_view k, std::string_view v) {
      EXPECT_GT(v.size(), 8u) << "a new index entry carries the event";
      old_format.push_back({OrderedKv::kByStore, std::string(k), std::string(v.substr(0, 8))});
      return true;
    }).ok());
    ASSERT_EQ(old_format.size(), 1u);
    ASSERT_TRUE((*kv)->Write(old_format).ok());
  }
  auto store = OpenRocksTelemetryStore(dir, clock);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  auto page = (*store)->ForStore(kStore1, kT0 - std::chrono::minutes(1), kT0 + std::chrono::minutes(1), 10, "");
  ASSERT_TRUE(page.ok()) << page.error().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].seq, 3u);
  EXPECT_EQ(page->items[0].body, e.body);
  EXPECT_EQ(page->items[0].digest, e.digest);
}

// A reader (an operator command, read-only) may open a store written by an older release that had
// no outbox table yet: it reads what is there and sees an empty outbox.
TEST(RocksTelemetryStore, AReadOnlyOpenReadsAStoreThatPredatesTheOutbox) {
  testing::TempDir tmp;
  ManualClock clock{kT0};
  std::string dir = tmp.path() + "/telemetry";
  {
    auto store = OpenRocksTelemetryStore(dir, clock);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    ASSERT_TRUE((*store)->Commit({.events = {Event(kCartA, kStore1, 3, kT0)}}).ok());
  }
  {
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {{rocksdb::kDefaultColumnFamilyName, {}}};
    for (int t = 0; t < OrderedKv::kTableCount; ++t) families.push_back({OrderedKv::TableName(static_cast<OrderedKv::Table>(t)), {}});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->DropColumnFamily(handles[1 + OrderedKv::kUnrouted]).ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  auto store = OpenRocksTelemetryStore(dir, clock, OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_EQ(Seqs((*store)->NewestForCart(kCartA, 10, "")->items), (std::vector<uint64_t>{3}));
  auto unrouted = (*store)->Unrouted(10);
  ASSERT_TRUE(unrouted.ok()) << unrouted.error().ToString();
  EXPECT_TRUE(unrouted->empty());
}

}  // namespace
}  // namespace cw::store
