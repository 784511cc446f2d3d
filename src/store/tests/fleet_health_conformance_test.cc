// The entity-store conformance suite, the fleet monitor's part: connectivity transitions with each
// cart's current state, and alarm history. Instantiated for every backend in
// entity_store_conformance_test.cc.
#include <gtest/gtest.h>

#include "store/tests/entity_fixture.h"

namespace cw::store {
namespace {

using std::chrono::minutes;

const StoreId kA = *StoreId::Parse("A");

TEST_P(EntityStoreConformance, ConnectivityKeepsEveryTransitionAndTheNewestAsTheState) {
  AddStoreWithCarts();
  const CartId one = CartId::FromNumber(1), two = CartId::FromNumber(2);
  std::vector<ConnectivityTransition> first = {
      {one, LinkState::kOffline, LinkState::kOnline, kT0, "birth", kT0 - std::chrono::seconds(1)},
      {one, LinkState::kOnline, LinkState::kStale, kT0 + minutes(10), "silence", std::nullopt},
      {two, LinkState::kOffline, LinkState::kOnline, kT0 + minutes(1), "event", std::nullopt},
  };
  ASSERT_TRUE(store_->RecordConnectivity(first).ok());
  ASSERT_TRUE(store_->RecordConnectivity(first).ok());  // a retry changes nothing

  auto now = store_->ListConnectivity();
  ASSERT_TRUE(now.ok()) << now.error().ToString();
  ASSERT_EQ(now->size(), 2u);
  EXPECT_EQ((*now)[0].cart, one);
  EXPECT_EQ((*now)[0].state, LinkState::kStale);
  EXPECT_EQ((*now)[0].since, kT0 + minutes(10));
  EXPECT_EQ((*now)[0].cause, "silence");
  // The newest announced connection is remembered through transitions that name none.
  EXPECT_EQ((*now)[0].connection, kT0 - std::chrono::seconds(1));
  EXPECT_EQ((*now)[1].state, LinkState::kOnline);
  EXPECT_FALSE((*now)[1].connection.has_value());

  // A will of that connection: offline, and the connection stays the newest one.
  ConnectivityTransition will{one, LinkState::kStale, LinkState::kOffline, kT0 + minutes(11), "will",
                              kT0 - std::chrono::seconds(1)};
  ASSERT_TRUE(store_->RecordConnectivity({&will, 1}).ok());
  auto history = store_->ListConnectivityTransitions(one, 10, std::nullopt);
  ASSERT_TRUE(history.ok()) << history.error().ToString();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0], will);
  EXPECT_EQ((*history)[1], first[1]);
  EXPECT_EQ((*history)[2], first[0]);
  auto page = store_->ListConnectivityTransitions(one, 1, kT0 + minutes(11));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0], first[1]);

  // The fleet view carries the state.
  auto fleet = *store_->ListFleet({.store = kA});
  ASSERT_TRUE(fleet[0].connectivity.has_value());
  EXPECT_EQ(fleet[0].connectivity->state, LinkState::kOffline);
  EXPECT_EQ(fleet[0].connectivity->cause, "will");

  // An unregistered cart anywhere in the batch: nothing of it is applied.
  std::vector<ConnectivityTransition> bad = {
      {two, LinkState::kOnline, LinkState::kStale, kT0 + minutes(20), "silence", std::nullopt},
      {CartId::FromNumber(99), LinkState::kOffline, LinkState::kOnline, kT0, "birth", std::nullopt},
  };
  EXPECT_EQ(store_->RecordConnectivity(bad).code(), Code::kNotFound);
  EXPECT_EQ((*store_->ListConnectivity())[1].state, LinkState::kOnline);
}

TEST_P(EntityStoreConformance, AlarmHistoryIsKeptAndWhatFiresNowIsDerivedFromIt) {
  AlarmEvent drop{"connected_carts_drop", "", true, AlarmSeverity::kPage, kT0, 0.45, 0.2,
                  "connected carts fell 45% in 5 minutes (20 -> 11)"};
  AlarmEvent latency{"cart_latency", "CART-000002", true, AlarmSeverity::kNotify, kT0 + minutes(1), 0.812, 0.3,
                     "p99 0.812 s is above 2x its baseline"};
  ASSERT_TRUE(store_->RecordAlarmEvent(drop).ok());
  ASSERT_TRUE(store_->RecordAlarmEvent(drop).ok());  // the same notification again: kept once
  ASSERT_TRUE(store_->RecordAlarmEvent(latency).ok());
  auto firing = store_->ListFiringAlarms();
  ASSERT_TRUE(firing.ok()) << firing.error().ToString();
  ASSERT_EQ(firing->size(), 2u);
  EXPECT_EQ((*firing)[0], latency);  // ordered by alarm, then subject
  EXPECT_EQ((*firing)[1], drop);

  AlarmEvent resolved = drop;
  resolved.firing = false;
  resolved.at = kT0 + minutes(7);
  resolved.value = 0.05;
  ASSERT_TRUE(store_->RecordAlarmEvent(resolved).ok());
  AlarmEvent again = drop;
  again.at = kT0 + minutes(30);
  firing = store_->ListFiringAlarms();
  ASSERT_EQ(firing->size(), 1u);
  EXPECT_EQ((*firing)[0].alarm, "cart_latency");
  ASSERT_TRUE(store_->RecordAlarmEvent(again).ok());
  firing = store_->ListFiringAlarms();
  ASSERT_EQ(firing->size(), 2u);
  EXPECT_EQ((*firing)[1], again);

  auto history = store_->ListAlarmEvents(10, std::nullopt);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[0], again);
  EXPECT_EQ((*history)[1], resolved);
  EXPECT_EQ((*history)[3], drop);
  EXPECT_EQ(store_->ListAlarmEvents(10, kT0 + minutes(7))->size(), 2u);
}

}  // namespace
}  // namespace cw::store
