// The entity-store conformance suite, model part: last-known cart state, maintenance, catalog,
// the session ledger's order-tolerant facts, accounts, users and the audit chain. Instantiated for
// every backend in entity_store_conformance_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <filesystem>
#include <random>
#include <thread>

#include "store/audit_log.h"
#include "store/tests/entity_fixture.h"

namespace cw::store {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const StoreId kA = *StoreId::Parse("A");
const CartId kCart1 = CartId::FromNumber(1);
const CartId kCart2 = CartId::FromNumber(2);
const SessionId kS1 = *SessionId::Parse("11111111-1111-4111-8111-111111111111");
const SessionId kS2 = *SessionId::Parse("22222222-2222-4222-8222-222222222222");
const AccountId kAcc1 = *AccountId::Parse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
const AccountId kAcc2 = *AccountId::Parse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");

CartState Health(uint64_t seq, const std::string& state, int battery) {
  CartState s{.cart = kCart1};
  s.seq = seq;
  s.reported_at = kT0 + seconds(seq);
  s.state = state;
  s.battery_pct = battery;
  s.battery_mv = 3500 + battery;
  s.link = "wifi";
  s.rssi_dbm = -60;
  s.location_json = R"({"x_m":1.5,"y_m":2,"zone":"dairy"})";
  s.firmware = "1.4.2";
  return s;
}

ScanFact Scan(const SessionId& session, const CartId& cart, uint64_t seq, const std::string& sku, int qty,
              int64_t price, bool mismatch = false) {
  ScanFact f{.session = session, .cart = cart, .store = kA};
  f.seq = seq;
  f.ts = kT0 + seconds(seq);
  f.sku = sku;
  f.qty = qty;
  f.price_cents = price;
  f.weight_delta_g = 500 * qty;
  f.expected_weight_g = 500;
  f.weight_mismatch = mismatch;
  return f;
}

SessionEndFact End(const SessionId& session, uint64_t seq, SessionStatus status, int count, int64_t total) {
  SessionEndFact f{.session = session, .cart = kCart1, .store = kA};
  f.seq = seq;
  f.ts = kT0 + seconds(seq);
  f.status = status;
  f.item_count = count;
  f.total_cents = total;
  if (status == SessionStatus::kComplete) f.payment = PaymentRecord{"AUTH-77", total, "authorized", f.ts};
  return f;
}

// ---- cart state and maintenance ------------------------------------------------------------------

TEST_P(EntityStoreConformance, CartStateKeepsTheNewestSeqWhateverTheArrivalOrder) {
  AddStoreWithCarts();
  EXPECT_EQ(store_->GetCartState(kCart1).error().code(), Code::kNotFound);
  ASSERT_TRUE(store_->RecordCartState(Health(20, "active", 70)).ok());
  ASSERT_TRUE(store_->RecordCartState(Health(10, "idle", 90)).ok());  // late, from the buffer
  auto s = *store_->GetCartState(kCart1);
  EXPECT_EQ(s.seq, 20u);
  EXPECT_EQ(s.state, "active");
  EXPECT_EQ(s.battery_pct, 70);
  EXPECT_EQ(s.battery_mv, 3570);
  EXPECT_EQ(s.location_json, R"({"x_m":1.5,"y_m":2,"zone":"dairy"})");
  EXPECT_EQ(s.firmware, "1.4.2");
  EXPECT_EQ(s.reported_at, kT0 + seconds(20));
  ASSERT_TRUE(store_->RecordCartState(Health(30, "idle", 65)).ok());
  EXPECT_EQ(store_->GetCartState(kCart1)->battery_pct, 65);
  CartState stranger = Health(1, "idle", 1);
  stranger.cart = CartId::FromNumber(99);
  EXPECT_EQ(store_->RecordCartState(stranger).code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, MaintenanceDefaultsToInServiceAndSticks) {
  AddStoreWithCarts();
  EXPECT_FALSE(store_->GetMaintenance(kCart1)->in_maintenance);
  ASSERT_TRUE(store_->SetMaintenance(kCart1, {true, "wheel broken", kT0}).ok());
  auto m = *store_->GetMaintenance(kCart1);
  EXPECT_TRUE(m.in_maintenance);
  EXPECT_EQ(m.reason, "wheel broken");
  EXPECT_EQ(m.since, kT0);
  EXPECT_FALSE(store_->GetMaintenance(kCart2)->in_maintenance);
  ASSERT_TRUE(store_->SetMaintenance(kCart1, {false, "", kT0 + minutes(5)}).ok());
  EXPECT_FALSE(store_->GetMaintenance(kCart1)->in_maintenance);
  EXPECT_EQ(store_->SetMaintenance(CartId::FromNumber(99), {true, "x", kT0}).code(), Code::kNotFound);
  EXPECT_EQ(store_->GetMaintenance(CartId::FromNumber(99)).error().code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, StoreProfileRoundTrips) {
  StoreRecord s = MakeStore("B");
  s.geofence = Geofence{52.520008, 13.404954, 120.5};
  s.ssid = "markt-carts";
  s.opening_hours = "Mo-Sa 07:00-22:00";
  ASSERT_TRUE(store_->AddStore(s).ok());
  ASSERT_TRUE(store_->AddStore(MakeStore("C")).ok());
  auto got = *store_->GetStore(s.id);
  ASSERT_TRUE(got.geofence.has_value());
  EXPECT_EQ(*got.geofence, *s.geofence);
  EXPECT_EQ(got.ssid, "markt-carts");
  EXPECT_EQ(got.opening_hours, "Mo-Sa 07:00-22:00");
  EXPECT_FALSE(store_->GetStore(*StoreId::Parse("C"))->geofence.has_value());
}

// ---- catalog ---------------------------------------------------------------------------------------

TEST_P(EntityStoreConformance, CatalogSyncReportsAddedChangedRemovedAndIsIdempotent) {
  AddStoreWithCarts();
  std::vector<ItemRecord> v1 = {{kA, "4001", "Milk 1l", 119, 1030, "dairy"},
                                {kA, "4002", "Bread", 249, std::nullopt, "bakery"},
                                {kA, "4003", "Apples 1kg", 299, 1000, "produce"}};
  auto d1 = *store_->ReplaceCatalog(kA, v1);
  EXPECT_EQ(d1.added, (std::vector<std::string>{"4001", "4002", "4003"}));
  EXPECT_TRUE(d1.changed.empty());
  auto again = *store_->ReplaceCatalog(kA, v1);
  EXPECT_TRUE(again.added.empty() && again.changed.empty() && again.removed.empty());

  std::vector<ItemRecord> v2 = {{kA, "4001", "Milk 1l", 129, 1030, "dairy"},
                                {kA, "4003", "Apples 1kg", 299, 1000, "produce"},
                                {kA, "4004", "Eggs", 329, 700, "dairy"}};
  auto d2 = *store_->ReplaceCatalog(kA, v2);
  EXPECT_EQ(d2.added, std::vector<std::string>{"4004"});
  EXPECT_EQ(d2.changed, std::vector<std::string>{"4001"});
  EXPECT_EQ(d2.removed, std::vector<std::string>{"4002"});
  EXPECT_EQ(store_->GetItem(kA, "4001")->price_cents, 129);
  EXPECT_EQ(store_->GetItem(kA, "4002").error().code(), Code::kNotFound);
  EXPECT_FALSE(store_->GetItem(kA, "4001")->expected_weight_g != 1030);
  auto items = *store_->ListItems(kA);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2].sku, "4004");
}

TEST_P(EntityStoreConformance, CatalogWithErrorsAppliesNothing) {
  AddStoreWithCarts();
  std::vector<ItemRecord> v1 = {{kA, "4001", "Milk", 119, 1030, "dairy"}};
  ASSERT_TRUE(store_->ReplaceCatalog(kA, v1).ok());
  std::vector<ItemRecord> dup = {{kA, "4005", "New", 1, 1, "x"}, {kA, "4005", "Twice", 2, 2, "x"}};
  EXPECT_EQ(store_->ReplaceCatalog(kA, dup).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->ListItems(kA)->size(), 1u);
  EXPECT_EQ(store_->ReplaceCatalog(*StoreId::Parse("NOPE"), {}).error().code(), Code::kNotFound);
}

// ---- sessions ------------------------------------------------------------------------------------

struct SessionSnapshot {
  SessionRecord session;
  std::vector<ScanRecord> scans;
};

void ExpectSameSession(const SessionSnapshot& a, const SessionSnapshot& b, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(a.session.status, b.session.status);
  EXPECT_EQ(a.session.started_at, b.session.started_at);
  EXPECT_EQ(a.session.ended_at, b.session.ended_at);
  EXPECT_EQ(a.session.scan_count, b.session.scan_count);
  EXPECT_EQ(a.session.scan_total_cents, b.session.scan_total_cents);
  EXPECT_EQ(a.session.weight_mismatches, b.session.weight_mismatches);
  EXPECT_EQ(a.session.totals_mismatch, b.session.totals_mismatch);
  EXPECT_EQ(a.session.claimed_total_cents, b.session.claimed_total_cents);
  EXPECT_EQ(a.session.fault_codes, b.session.fault_codes);
  EXPECT_EQ(a.session.payment.has_value(), b.session.payment.has_value());
  ASSERT_EQ(a.scans.size(), b.scans.size());
  for (size_t i = 0; i < a.scans.size(); ++i) EXPECT_EQ(a.scans[i].seq, b.scans[i].seq);
}

TEST_P(EntityStoreConformance, SessionFactsInAnyOrderWithDuplicatesGiveTheSameSession) {
  AddStoreWithCarts();
  std::vector<std::function<Status(EntityStore&)>> facts = {
      [](EntityStore& s) { return s.RecordSessionStart({kS1, kCart1, kA, 1, kT0 + seconds(1)}); },
      [](EntityStore& s) { return s.RecordScan(Scan(kS1, kCart1, 2, "4001", 2, 119)); },
      [](EntityStore& s) { return s.RecordScan(Scan(kS1, kCart1, 3, "4002", 1, 249, true)); },
      [](EntityStore& s) { return s.RecordSessionFault({kS1, kCart1, kA, 4, kT0 + seconds(4), "WEIGHT_MISMATCH"}); },
      [](EntityStore& s) { return s.RecordScan(Scan(kS1, kCart1, 5, "4003", 1, 299)); },
      [](EntityStore& s) { return s.RecordSessionEnd(End(kS1, 6, SessionStatus::kComplete, 4, 786)); },
  };
  // The reference: in order, once.
  for (auto& f : facts) ASSERT_TRUE(f(*store_).ok());
  SessionSnapshot want{*store_->GetSession(kS1), *store_->ListScans(kS1)};
  EXPECT_EQ(want.session.status, SessionStatus::kComplete);
  EXPECT_EQ(want.session.started_at, kT0 + seconds(1));
  EXPECT_EQ(want.session.ended_at, kT0 + seconds(6));
  EXPECT_EQ(want.session.scan_count, 4);
  EXPECT_EQ(want.session.scan_total_cents, 2 * 119 + 249 + 299);
  EXPECT_EQ(want.session.weight_mismatches, 1);
  EXPECT_FALSE(want.session.totals_mismatch);
  EXPECT_EQ(want.session.fault_codes, std::vector<std::string>{"WEIGHT_MISMATCH"});
  ASSERT_TRUE(want.session.payment.has_value());
  EXPECT_EQ(want.session.payment->auth_token, "AUTH-77");
  EXPECT_FALSE(want.session.account.has_value());  // a guest
  EXPECT_EQ(want.scans.size(), 3u);

  std::mt19937 rng(7);
  for (int round = 0; round < 4; ++round) {
    (void)std::filesystem::create_directory(tmp_.path() + "/" + std::to_string(round));
    auto fresh = Registry::WithBuiltinBackends().OpenEntity(GetParam().uri(tmp_.path() + "/" + std::to_string(round)));
    ASSERT_TRUE(fresh.ok()) << fresh.error().ToString();
    EntityStore& s = **fresh;
    ASSERT_TRUE(s.AddStore(MakeStore("A")).ok());
    ASSERT_TRUE(s.AddCart(MakeCart(1, "A")).ok());
    std::vector<size_t> order;
    for (size_t i = 0; i < facts.size(); ++i) order.insert(order.end(), 1 + rng() % 2, i);  // some twice
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i : order) ASSERT_TRUE(facts[i](s).ok());
    ExpectSameSession(want, {*s.GetSession(kS1), *s.ListScans(kS1)}, "round " + std::to_string(round));
  }
}

TEST_P(EntityStoreConformance, SessionEndTotalsThatDisagreeWithTheScansAreFlagged) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->RecordSessionStart({kS1, kCart1, kA, 1, kT0}).ok());
  ASSERT_TRUE(store_->RecordScan(Scan(kS1, kCart1, 2, "4001", 1, 119)).ok());
  ASSERT_TRUE(store_->RecordSessionEnd(End(kS1, 4, SessionStatus::kComplete, 2, 368)).ok());
  EXPECT_TRUE(store_->GetSession(kS1)->totals_mismatch);  // scan seq 3 has not arrived yet
  ASSERT_TRUE(store_->RecordScan(Scan(kS1, kCart1, 3, "4002", 1, 249)).ok());
  EXPECT_FALSE(store_->GetSession(kS1)->totals_mismatch);  // now it has: they agree
  ASSERT_TRUE(store_->RecordSessionStart({kS2, kCart2, kA, 1, kT0}).ok());
  EXPECT_EQ(store_->RecordScan(Scan(kS2, kCart1, 9, "4001", 1, 1)).code(), Code::kFailedPrecondition);
}

TEST_P(EntityStoreConformance, AnOpenSessionIsPausedWhileItsCartSaysSo) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->RecordSessionStart({kS1, kCart1, kA, 5, kT0}).ok());
  ASSERT_TRUE(store_->RecordCartState(Health(4, "paused", 80)).ok());  // before the session: not it
  EXPECT_EQ(store_->GetSession(kS1)->status, SessionStatus::kActive);
  ASSERT_TRUE(store_->RecordCartState(Health(7, "paused", 80)).ok());
  EXPECT_EQ(store_->GetSession(kS1)->status, SessionStatus::kPaused);
  ASSERT_TRUE(store_->RecordCartState(Health(9, "active", 80)).ok());
  EXPECT_EQ(store_->GetSession(kS1)->status, SessionStatus::kActive);
  ASSERT_TRUE(store_->RecordSessionEnd(End(kS1, 10, SessionStatus::kAbandoned, 0, 0)).ok());
  ASSERT_TRUE(store_->RecordCartState(Health(11, "paused", 80)).ok());
  EXPECT_EQ(store_->GetSession(kS1)->status, SessionStatus::kAbandoned);
}

TEST_P(EntityStoreConformance, IdentificationLinksTheWholeSessionOnce) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->AddAccount({kAcc1, AccountKind::kRegistered, kT0, {"1234567890123456"}}).ok());
  ASSERT_TRUE(store_->AddAccount({kAcc2, AccountKind::kRegistered, kT0, {}}).ok());
  ASSERT_TRUE(store_->RecordScan(Scan(kS1, kCart1, 2, "4001", 1, 119)).ok());
  ASSERT_TRUE(store_->IdentifySession(kS1, kCart1, kA, kAcc1, "loyalty", "ref-1", kT0 + seconds(3)).ok());
  ASSERT_TRUE(store_->IdentifySession(kS1, kCart1, kA, kAcc1, "loyalty", "ref-1", kT0 + seconds(3)).ok());
  EXPECT_EQ(store_->IdentifySession(kS1, kCart1, kA, kAcc2, "app_qr", "ref-2", kT0).code(), Code::kFailedPrecondition);
  auto s = *store_->GetSession(kS1);
  ASSERT_TRUE(s.account.has_value());
  EXPECT_EQ(*s.account, kAcc1);
  EXPECT_EQ(s.identified_by, "loyalty");
  EXPECT_EQ(s.customer_ref, "ref-1");
  EXPECT_EQ(store_->ListSessions({.account = kAcc1})->size(), 1u);
  EXPECT_EQ(store_->ListSessions({.account = kAcc2})->size(), 0u);
  EXPECT_EQ(store_->IdentifySession(kS2, kCart1, kA, *AccountId::Parse("cccccccc-cccc-4ccc-8ccc-cccccccccccc"), "loyalty",
                                    "r", kT0).code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, MergedSessionsCarryScansOverIncludingLateOnes) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->RecordScan(Scan(kS1, kCart1, 2, "4001", 1, 119)).ok());
  ASSERT_TRUE(store_->RecordSessionFault({kS1, kCart1, kA, 4, kT0 + seconds(4), "BATTERY_CLIFF"}).ok());
  SessionStartFact start2{kS2, kCart2, kA, 1, kT0 + minutes(10)};
  ASSERT_TRUE(store_->RecordSessionStart(start2).ok());
  ASSERT_TRUE(store_->RecordScan(Scan(kS2, kCart2, 20, "4003", 1, 299)).ok());
  ASSERT_TRUE(store_->MergeSessions(kS1, kS2).ok());
  ASSERT_TRUE(store_->MergeSessions(kS1, kS2).ok());  // idempotent
  // The dead cart's last scan drains from its buffer after the merge.
  ASSERT_TRUE(store_->RecordScan(Scan(kS1, kCart1, 3, "4002", 1, 249)).ok());
  auto into = *store_->GetSession(kS2);
  EXPECT_EQ(into.scan_count, 3);
  EXPECT_EQ(into.scan_total_cents, 119 + 249 + 299);
  auto scans = *store_->ListScans(kS2);
  ASSERT_EQ(scans.size(), 3u);
  EXPECT_EQ(scans[0].cart, kCart1);
  ASSERT_TRUE(scans[0].carried_from.has_value());
  EXPECT_EQ(*scans[0].carried_from, kS1);
  EXPECT_FALSE(scans[2].carried_from.has_value());
  auto from = *store_->GetSession(kS1);
  ASSERT_TRUE(from.merged_into.has_value());
  EXPECT_EQ(*from.merged_into, kS2);
  EXPECT_EQ(from.fault_codes, std::vector<std::string>{"BATTERY_CLIFF"});
  SessionId s3 = *SessionId::Parse("33333333-3333-4333-8333-333333333333");
  ASSERT_TRUE(store_->RecordSessionStart({s3, kCart2, kA, 50, kT0 + minutes(20)}).ok());
  EXPECT_EQ(store_->MergeSessions(kS1, s3).code(), Code::kFailedPrecondition);
}

TEST_P(EntityStoreConformance, SessionListsFilterAndPutTheNewestFirst) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->RecordSessionStart({kS1, kCart1, kA, 1, kT0}).ok());
  ASSERT_TRUE(store_->RecordSessionStart({kS2, kCart2, kA, 1, kT0 + minutes(1)}).ok());
  ASSERT_TRUE(store_->RecordScan(Scan(kS2, kCart2, 2, "4001", 1, 119, true)).ok());
  auto all = *store_->ListSessions({.store = kA});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, kS2);
  auto flagged = *store_->ListSessions({.store = kA, .flagged_only = true});
  ASSERT_EQ(flagged.size(), 1u);
  EXPECT_EQ(flagged[0].id, kS2);
  ASSERT_TRUE(store_->RecordSessionFault({kS1, kCart1, kA, 3, kT0, "EXIT_WITHOUT_PAY"}).ok());
  EXPECT_EQ(store_->ListSessions({.store = kA, .flagged_only = true})->size(), 2u);
  EXPECT_EQ(store_->ListSessions({.cart = kCart1})->size(), 1u);
  EXPECT_EQ(store_->ListSessions({.status = SessionStatus::kComplete})->size(), 0u);
  EXPECT_EQ(store_->ListSessions({.store = kA, .limit = 1})->size(), 1u);
  EXPECT_EQ(store_->GetSession(*SessionId::Parse("33333333-3333-4333-8333-333333333333")).error().code(),
            Code::kNotFound);
}

TEST_P(EntityStoreConformance, ABatchCommitsOnceAndAFailedCallInsideIsUndoneAlone) {
  AddStoreWithCarts();
  Status st = store_->Batch([&]() -> Status {
    EXPECT_TRUE(store_->RecordScan(Scan(kS1, kCart1, 2, "4001", 1, 119)).ok());
    // Refused (the session is cart 1's): only this call is undone.
    EXPECT_EQ(store_->RecordScan(Scan(kS1, kCart2, 3, "4002", 1, 249)).code(), Code::kFailedPrecondition);
    EXPECT_TRUE(store_->RecordScan(Scan(kS1, kCart1, 4, "4003", 1, 299)).ok());
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(store_->GetSession(kS1)->scan_total_cents, 119 + 299);
  st = store_->Batch([&]() -> Status {
    EXPECT_TRUE(store_->RecordScan(Scan(kS2, kCart2, 5, "4001", 1, 119)).ok());
    return Unavailable("the caller gives up");
  });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(store_->GetSession(kS2).error().code(), Code::kNotFound);  // nothing of it kept
}

// The projection's batch write leaves what the single calls leave, fact by fact, refusals included.
TEST_P(EntityStoreConformance, RecordFactsLeavesWhatTheSingleCallsLeave) {
  const SessionId s3 = *SessionId::Parse("33333333-3333-4333-8333-333333333333");
  const CartId stranger = CartId::FromNumber(99);
  // Both stores: session 3 (cart 2) was merged into session 2 by a battery swap.
  auto prepare = [&](EntityStore& s) {
    ASSERT_TRUE(s.AddStore(MakeStore("A")).ok());
    ASSERT_TRUE(s.AddCart(MakeCart(1, "A")).ok());
    ASSERT_TRUE(s.AddCart(MakeCart(2, "A")).ok());
    ASSERT_TRUE(s.RecordScan(Scan(s3, kCart2, 1, "4009", 1, 50)).ok());
    ASSERT_TRUE(s.RecordSessionStart({kS2, kCart2, kA, 18, kT0 + seconds(18)}).ok());
    ASSERT_TRUE(s.MergeSessions(s3, kS2).ok());
  };
  CartActivity activity{.cart = kCart1, .last_seen_at = kT0 + seconds(30)};
  activity.fault_code = "SCANNER_JAM";
  activity.fault_severity = "warn";
  activity.fault_at = kT0 + seconds(6);
  CartActivity unknown_activity{.cart = stranger, .last_seen_at = kT0};
  CartState unknown_state = Health(3, "idle", 50);
  unknown_state.cart = stranger;
  ScanFact unknown_scan = Scan(kS1, stranger, 4, "4001", 1, 119);
  std::vector<ProjectedFact> facts = {
      activity,
      unknown_activity,
      SessionStartFact{kS1, kCart1, kA, 5, kT0 + seconds(5)},
      Health(7, "paused", 80),
      Scan(kS1, kCart1, 3, "4001", 2, 119),  // stamped before the start: the session began at seq 3
      Scan(kS1, kCart1, 6, "4002", 1, 249, true),
      Scan(kS1, kCart2, 8, "4002", 1, 249),  // session 1 is cart 1's: refused
      unknown_scan,                          // an unregistered cart: refused
      unknown_state,
      SessionFaultFact{kS1, kCart1, kA, 9, kT0 + seconds(9), "WEIGHT_MISMATCH"},
      Scan(kS2, kCart2, 20, "4003", 1, 299),
      Scan(s3, kCart2, 2, "4004", 1, 75),  // drains after the merge: carried over into session 2
      Health(10, "active", 79),
      Health(11, "paused", 78),
      Scan(kS2, kCart2, 21, "4001", 3, 119),
      Scan(kS1, kCart1, 6, "4002", 1, 249, true),  // a duplicate
  };

  prepare(*store_);
  std::vector<Status> one_by_one;
  for (const auto& f : facts) {
    one_by_one.push_back(std::visit(
        [&](const auto& fact) -> Status {
          using T = std::decay_t<decltype(fact)>;
          if constexpr (std::is_same_v<T, CartActivity>) return store_->RecordCartActivity(fact);
          else if constexpr (std::is_same_v<T, CartState>) return store_->RecordCartState(fact);
          else if constexpr (std::is_same_v<T, SessionStartFact>) return store_->RecordSessionStart(fact);
          else if constexpr (std::is_same_v<T, ScanFact>) return store_->RecordScan(fact);
          else if constexpr (std::is_same_v<T, SessionEndFact>) return store_->RecordSessionEnd(fact);
          else return store_->RecordSessionFault(fact);
        },
        f));
  }

  (void)std::filesystem::create_directory(tmp_.path() + "/batch");
  auto fresh = Registry::WithBuiltinBackends().OpenEntity(GetParam().uri(tmp_.path() + "/batch"));
  ASSERT_TRUE(fresh.ok()) << fresh.error().ToString();
  EntityStore& batched = **fresh;
  prepare(batched);
  auto verdicts = batched.RecordFacts(facts);
  ASSERT_TRUE(verdicts.ok()) << verdicts.error().ToString();
  ASSERT_EQ(verdicts->size(), facts.size());
  for (size_t i = 0; i < facts.size(); ++i) {
    EXPECT_EQ((*verdicts)[i].code(), one_by_one[i].code()) << "fact " << i << ": " << (*verdicts)[i].ToString();
  }
  EXPECT_EQ((*verdicts)[1].code(), Code::kNotFound);
  EXPECT_EQ((*verdicts)[6].code(), Code::kFailedPrecondition);
  EXPECT_EQ((*verdicts)[7].code(), Code::kNotFound);

  for (const SessionId& id : {kS1, kS2, s3}) {
    SessionSnapshot want{*store_->GetSession(id), *store_->ListScans(id)};
    ExpectSameSession(want, {*batched.GetSession(id), *batched.ListScans(id)}, "session " + id.str());
  }
  // What the batch derived, checked outright rather than only against the single calls.
  auto s1 = *batched.GetSession(kS1);
  EXPECT_EQ(s1.status, SessionStatus::kPaused);  // the newest state of cart 1 is paused
  EXPECT_EQ(s1.started_at, kT0 + seconds(5));
  EXPECT_EQ(s1.scan_count, 3);
  EXPECT_EQ(s1.scan_total_cents, 2 * 119 + 249);
  EXPECT_EQ(s1.weight_mismatches, 1);
  EXPECT_EQ(s1.fault_codes, std::vector<std::string>{"WEIGHT_MISMATCH"});
  auto s2 = *batched.GetSession(kS2);
  EXPECT_EQ(s2.scan_count, 1 + 1 + 1 + 3);  // session 3's two scans carried over, and its own two
  EXPECT_EQ(s2.scan_total_cents, 50 + 75 + 299 + 3 * 119);
  EXPECT_EQ(batched.GetCartState(kCart1)->seq, 11u);
  auto fleet = *batched.ListFleet({});
  auto mine = std::find_if(fleet.begin(), fleet.end(), [](const CartOverview& c) { return c.cart.id == kCart1; });
  ASSERT_NE(mine, fleet.end());
  ASSERT_TRUE(mine->activity.has_value());
  EXPECT_EQ(mine->activity->fault_code, "SCANNER_JAM");
  EXPECT_EQ(mine->activity->last_seen_at, kT0 + seconds(30));
}

// A session first seen through a late fact keeps the earliest fact's time, within a batch too.
TEST_P(EntityStoreConformance, RecordFactsKeepsTheEarliestFirstSeenOfABatch) {
  AddStoreWithCarts();
  std::vector<ProjectedFact> facts = {Scan(kS1, kCart1, 20, "4001", 1, 119), Scan(kS1, kCart1, 15, "4002", 1, 249)};
  ASSERT_TRUE(store_->RecordFacts(facts).ok());
  EXPECT_EQ(store_->GetSession(kS1)->started_at, kT0 + seconds(15));
  std::vector<ProjectedFact> earlier = {Scan(kS1, kCart1, 12, "4003", 1, 299)};
  ASSERT_TRUE(store_->RecordFacts(earlier).ok());
  EXPECT_EQ(store_->GetSession(kS1)->started_at, kT0 + seconds(12));
}

// A fact the cheap checks let through but the database refuses (a session in a store that does not
// exist) is singled out: the rest of the batch is kept.
TEST_P(EntityStoreConformance, RecordFactsSinglesOutAFactTheDatabaseRefuses) {
  AddStoreWithCarts();
  ScanFact nowhere = Scan(kS2, kCart2, 7, "4001", 1, 119);
  nowhere.store = *StoreId::Parse("NOWHERE");
  std::vector<ProjectedFact> facts = {Scan(kS1, kCart1, 2, "4001", 1, 119), nowhere, Scan(kS1, kCart1, 3, "4002", 1, 249)};
  auto verdicts = store_->RecordFacts(facts);
  ASSERT_TRUE(verdicts.ok()) << verdicts.error().ToString();
  EXPECT_TRUE((*verdicts)[0].ok());
  EXPECT_EQ((*verdicts)[1].code(), Code::kFailedPrecondition) << (*verdicts)[1].ToString();
  EXPECT_TRUE((*verdicts)[2].ok());
  EXPECT_EQ(store_->GetSession(kS1)->scan_total_cents, 119 + 249);
  EXPECT_EQ(store_->GetSession(kS2).error().code(), Code::kNotFound);
}

// ---- accounts --------------------------------------------------------------------------------------

TEST_P(EntityStoreConformance, AccountsResolveByLoyaltyNumberAndRefuseTakenOnes) {
  ASSERT_TRUE(store_->AddAccount({kAcc1, AccountKind::kRegistered, kT0, {"1111222233334444", "5555666677778888"}}).ok());
  EXPECT_EQ(*store_->FindByLoyalty("5555666677778888"), kAcc1);
  EXPECT_EQ(store_->FindByLoyalty("0000000000000000").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->AddAccount({kAcc2, AccountKind::kRegistered, kT0, {"9999", "1111222233334444"}}).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(store_->GetAccount(kAcc2).error().code(), Code::kNotFound);  // nothing of it was added
  EXPECT_EQ(store_->FindByLoyalty("9999").error().code(), Code::kNotFound);
  auto a = *store_->GetAccount(kAcc1);
  EXPECT_EQ(a.loyalty_numbers, (std::vector<std::string>{"1111222233334444", "5555666677778888"}));
  EXPECT_EQ(a.created_at, kT0);
}

TEST_P(EntityStoreConformance, ACardHolderIsStablePerTokenIndex) {
  AccountId first = *store_->CardHolderFor("idx-1", kAcc1, kT0);
  EXPECT_EQ(first, kAcc1);
  EXPECT_EQ(*store_->CardHolderFor("idx-1", kAcc2, kT0), kAcc1);
  EXPECT_EQ(*store_->CardHolderFor("idx-2", kAcc2, kT0), kAcc2);
  EXPECT_EQ(store_->GetAccount(kAcc1)->kind, AccountKind::kCardHolder);
}

TEST_P(EntityStoreConformance, AppCodesAreSingleUseAndExpire) {
  ASSERT_TRUE(store_->AddAccount({kAcc1, AccountKind::kRegistered, kT0, {}}).ok());
  ASSERT_TRUE(store_->AddAppCode("d1", kAcc1, kT0, kT0 + minutes(5)).ok());
  ASSERT_TRUE(store_->AddAppCode("d2", kAcc1, kT0, kT0 + minutes(5)).ok());
  EXPECT_EQ(*store_->RedeemAppCode("d1", kT0 + minutes(1)), kAcc1);
  EXPECT_EQ(store_->RedeemAppCode("d1", kT0 + minutes(2)).error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(store_->RedeemAppCode("d2", kT0 + minutes(5)).error().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(store_->RedeemAppCode("nope", kT0).error().code(), Code::kNotFound);
}

// ---- users and audit -------------------------------------------------------------------------------

TEST_P(EntityStoreConformance, UsersHaveRolesAndStaffHaveOneStore) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->AddUser({"olga", Role::kOps, std::nullopt, "h1", "SECRET", kT0, false}).ok());
  ASSERT_TRUE(store_->AddUser({"sam", Role::kStaff, kA, "h2", "", kT0, false}).ok());
  EXPECT_EQ(store_->AddUser({"sam", Role::kAuditor, std::nullopt, "h", "", kT0, false}).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->AddUser({"x", Role::kStaff, std::nullopt, "h", "", kT0, false}).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->AddUser({"y", Role::kOps, kA, "h", "", kT0, false}).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->AddUser({"z", Role::kStaff, *StoreId::Parse("NOPE"), "h", "", kT0, false}).code(), Code::kNotFound);
  auto sam = *store_->GetUser("sam");
  EXPECT_EQ(sam.role, Role::kStaff);
  ASSERT_TRUE(sam.store.has_value());
  EXPECT_EQ(*sam.store, kA);
  EXPECT_EQ(store_->GetUser("olga")->totp_secret, "SECRET");
  EXPECT_EQ(store_->ListUsers()->size(), 2u);
  EXPECT_EQ(store_->GetUser("nobody").error().code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, TheAuditChainVerifiesAndNamesTheFirstTamperedEntry) {
  AuditLog& log = store_->audit();
  EXPECT_EQ(*log.Verify(), 0);
  for (int i = 0; i < 5; ++i) {
    auto e = log.Append({.actor = "olga", .role = "ops", .action = "GET /api/v1/carts/{id}",
                         .target = "cart=CART-00000" + std::to_string(i), .outcome = "ok"});
    ASSERT_TRUE(e.ok()) << e.error().ToString();
    EXPECT_EQ(e->seq, i + 1);
  }
  EXPECT_EQ(*log.Verify(), 5);
  auto listed = *log.List({.actor = "olga", .after_seq = 2});
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].prev_hash, (*log.List({.after_seq = 1, .limit = 1}))[0].hash);
  EXPECT_EQ(log.Head()->first, 5);

  auto raw = OpenRaw();
  if (!raw) GTEST_SKIP() << "an in-memory database cannot be opened a second time to tamper with";
  ASSERT_TRUE(raw->Exec("UPDATE audit_log SET outcome = 'denied' WHERE seq = 3").ok());
  auto broken = log.Verify();
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code(), Code::kCorruption);
  EXPECT_NE(broken.error().message().find("entry 3 was altered"), std::string::npos) << broken.error().ToString();
  ASSERT_TRUE(raw->Exec("UPDATE audit_log SET outcome = 'ok' WHERE seq = 3").ok());
  ASSERT_TRUE(raw->Exec("DELETE FROM audit_log WHERE seq = 2").ok());
  broken = log.Verify();
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("entry 2 is missing"), std::string::npos) << broken.error().ToString();
}

TEST_P(EntityStoreConformance, ConcurrentAuditAppendsFormOneChain) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(store_->audit().Append({.actor = "t" + std::to_string(t), .role = "service", .action = "x"}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(*store_->audit().Verify(), 40);
}

}  // namespace
}  // namespace cw::store
