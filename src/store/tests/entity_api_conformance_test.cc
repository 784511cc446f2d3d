// The entity-store conformance suite, the parts the REST API reads and writes: the fleet view with
// each cart's activity, bearer tokens, single-use proximity nonces, session overrides and audit
// targets. Instantiated for every backend in entity_store_conformance_test.cc.
#include <gtest/gtest.h>

#include "store/audit_log.h"
#include "store/tests/entity_fixture.h"

namespace cw::store {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const StoreId kA = *StoreId::Parse("A");
const StoreId kB = *StoreId::Parse("B");
const SessionId kS1 = *SessionId::Parse("11111111-1111-4111-8111-111111111111");

CartState Health(const CartId& cart, uint64_t seq, int battery, const std::string& fw) {
  CartState s{.cart = cart};
  s.seq = seq;
  s.reported_at = kT0 + seconds(seq);
  s.state = "idle";
  s.battery_pct = battery;
  s.battery_mv = 3700;
  s.link = "wifi";
  s.rssi_dbm = -61;
  s.location_json = R"({"x_m":3,"y_m":4,"zone":"entrance"})";
  s.firmware = fw;
  return s;
}

TEST_P(EntityStoreConformance, ActivityKeepsTheLatestSightingAndTheNewestFault) {
  AddStoreWithCarts();
  const CartId cart = CartId::FromNumber(1);
  CartActivity seen{.cart = cart, .last_seen_at = kT0 + minutes(5)};
  ASSERT_TRUE(store_->RecordCartActivity(seen).ok());
  CartActivity older{.cart = cart, .last_seen_at = kT0 + minutes(1), .fault_code = "SCANNER_JAM",
                     .fault_severity = "warn", .fault_at = kT0 + minutes(1)};
  ASSERT_TRUE(store_->RecordCartActivity(older).ok());
  CartActivity newer_fault{.cart = cart, .last_seen_at = kT0 + minutes(2), .fault_code = "SENSOR_FAIL",
                           .fault_severity = "critical", .fault_at = kT0 + minutes(2)};
  ASSERT_TRUE(store_->RecordCartActivity(newer_fault).ok());
  ASSERT_TRUE(store_->RecordCartActivity(older).ok());  // late and repeated: changes nothing
  auto fleet = *store_->ListFleet({.store = kA});
  ASSERT_EQ(fleet.size(), 2u);
  ASSERT_TRUE(fleet[0].activity.has_value());
  EXPECT_EQ(fleet[0].activity->last_seen_at, kT0 + minutes(5));
  EXPECT_EQ(fleet[0].activity->fault_code, "SENSOR_FAIL");
  EXPECT_EQ(fleet[0].activity->fault_severity, "critical");
  EXPECT_EQ(fleet[0].activity->fault_at, kT0 + minutes(2));
  EXPECT_FALSE(fleet[1].activity.has_value());
  EXPECT_FALSE(fleet[0].activity->clock_offset.has_value());
  EXPECT_EQ(store_->RecordCartActivity({.cart = CartId::FromNumber(99), .last_seen_at = kT0}).code(), Code::kNotFound);
  // The clock offset follows the newest live event that measured it.
  CartActivity offset{.cart = cart, .last_seen_at = kT0, .clock_offset = -std::chrono::hours(20),
                      .clock_offset_at = kT0 + minutes(3)};
  ASSERT_TRUE(store_->RecordCartActivity(offset).ok());
  offset.clock_offset = -std::chrono::hours(30);
  offset.clock_offset_at = kT0 + minutes(1);  // older measurement: ignored
  ASSERT_TRUE(store_->RecordCartActivity(offset).ok());
  auto measured = (*store_->ListFleet({.store = kA}))[0].activity;
  EXPECT_EQ(measured->clock_offset, -std::chrono::hours(20));
  EXPECT_EQ(measured->clock_offset_at, kT0 + minutes(3));
  EXPECT_EQ(measured->last_seen_at, kT0 + minutes(5));
}

TEST_P(EntityStoreConformance, FleetViewJoinsStateAndMaintenanceAndFilters) {
  ASSERT_TRUE(store_->AddStore(MakeStore("A", Region::kEu)).ok());
  ASSERT_TRUE(store_->AddStore(MakeStore("B", Region::kUs)).ok());
  for (uint32_t n = 1; n <= 5; ++n) ASSERT_TRUE(store_->AddCart(MakeCart(n, n <= 3 ? "A" : "B")).ok());
  ASSERT_TRUE(store_->RecordCartState(Health(CartId::FromNumber(1), 10, 80, "1.4.2")).ok());
  ASSERT_TRUE(store_->RecordCartState(Health(CartId::FromNumber(2), 11, 12, "1.4.2")).ok());
  ASSERT_TRUE(store_->RecordCartState(Health(CartId::FromNumber(4), 12, 15, "1.5.0")).ok());
  ASSERT_TRUE(store_->SetMaintenance(CartId::FromNumber(3), {true, "wheel", kT0}).ok());

  auto all = *store_->ListFleet({});
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].cart.id, CartId::FromNumber(1));
  EXPECT_EQ(all[0].region, Region::kEu);
  ASSERT_TRUE(all[0].state.has_value());
  EXPECT_EQ(all[0].state->battery_pct, 80);
  EXPECT_EQ(all[0].state->firmware, "1.4.2");
  EXPECT_TRUE(all[2].maintenance.in_maintenance);
  EXPECT_EQ(all[2].maintenance.reason, "wheel");
  EXPECT_FALSE(all[2].state.has_value());
  EXPECT_EQ(all[3].region, Region::kUs);

  auto ids = [](const std::vector<CartOverview>& rows) {
    std::vector<uint32_t> out;
    for (const auto& r : rows) out.push_back(r.cart.id.number());
    return out;
  };
  EXPECT_EQ(ids(*store_->ListFleet({.store = kB})), (std::vector<uint32_t>{4, 5}));
  EXPECT_EQ(ids(*store_->ListFleet({.region = Region::kEu})), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(ids(*store_->ListFleet({.firmware = "1.4.2"})), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(ids(*store_->ListFleet({.battery_below = 20})), (std::vector<uint32_t>{2, 4}));
  EXPECT_EQ(ids(*store_->ListFleet({.store = kA, .battery_below = 20})), (std::vector<uint32_t>{2}));
  // Paging by id.
  auto first = *store_->ListFleet({.limit = 2});
  EXPECT_EQ(ids(first), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(ids(*store_->ListFleet({.after = first.back().cart.id, .limit = 2})), (std::vector<uint32_t>{3, 4}));
  EXPECT_TRUE(store_->ListFleet({.after = CartId::FromNumber(5)})->empty());
}

TEST_P(EntityStoreConformance, TokensAreKeptByDigestAndRevocable) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->AddUser({"olga", Role::kOps, std::nullopt, "h", "S", kT0, false}).ok());
  ApiToken access{"d1", "olga", "access", kT0, kT0 + minutes(15), false};
  ApiToken refresh{"d2", "olga", "refresh", kT0, kT0 + minutes(600), false};
  ASSERT_TRUE(store_->AddToken(access).ok());
  ASSERT_TRUE(store_->AddToken(refresh).ok());
  EXPECT_EQ(store_->AddToken(access).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->AddToken({"d3", "nobody", "access", kT0, kT0, false}).code(), Code::kNotFound);
  auto got = *store_->GetToken("d1");
  EXPECT_EQ(got.user, "olga");
  EXPECT_EQ(got.kind, "access");
  EXPECT_EQ(got.expires_at, kT0 + minutes(15));
  EXPECT_FALSE(got.revoked);
  ASSERT_TRUE(store_->RevokeToken("d1").ok());
  EXPECT_TRUE(store_->GetToken("d1")->revoked);
  EXPECT_FALSE(store_->GetToken("d2")->revoked);
  EXPECT_EQ(store_->RevokeToken("nope").code(), Code::kNotFound);
  ASSERT_TRUE(store_->RevokeTokensOf("olga").ok());
  EXPECT_TRUE(store_->GetToken("d2")->revoked);
  EXPECT_EQ(*store_->PurgeExpiredTokens(kT0 + minutes(16)), 1);
  EXPECT_EQ(store_->GetToken("d1").error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetToken("d2").ok());
}

TEST_P(EntityStoreConformance, AProximityNonceIsAcceptedOnce) {
  AddStoreWithCarts();
  const CartId cart = CartId::FromNumber(1);
  ASSERT_TRUE(store_->ConsumeProximityNonce("n1", cart, kT0, kT0 + seconds(120)).ok());
  EXPECT_EQ(store_->ConsumeProximityNonce("n1", cart, kT0 + seconds(5), kT0 + seconds(120)).code(), Code::kAlreadyExists);
  EXPECT_TRUE(store_->ConsumeProximityNonce("n2", cart, kT0 + seconds(5), kT0 + seconds(125)).ok());
}

TEST_P(EntityStoreConformance, AProximityChallengeLivesUntilItExpires) {
  AddStoreWithCarts();
  const CartId cart = CartId::FromNumber(1);
  ProximityChallenge c{std::string(32, 'a'), cart, kT0, kT0 + seconds(120)};
  ASSERT_TRUE(store_->IssueProximityChallenge(c).ok());
  EXPECT_EQ(store_->IssueProximityChallenge(c).code(), Code::kAlreadyExists);
  auto got = store_->GetProximityChallenge(c.nonce, kT0 + seconds(119));
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->cart, cart);
  EXPECT_EQ(got->issued_at, kT0);
  EXPECT_EQ(got->expires_at, kT0 + seconds(120));
  EXPECT_EQ(store_->GetProximityChallenge(c.nonce, kT0 + seconds(120)).error().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetProximityChallenge(std::string(32, 'b'), kT0).error().code(), Code::kNotFound);
  // Issuing after the first has expired forgets it.
  ASSERT_TRUE(store_->IssueProximityChallenge({std::string(32, 'c'), cart, kT0 + minutes(5), kT0 + minutes(7)}).ok());
  EXPECT_EQ(store_->GetProximityChallenge(c.nonce, kT0).error().code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, OverridesAreRecordedPerSession) {
  AddStoreWithCarts();
  const CartId cart = CartId::FromNumber(1);
  ASSERT_TRUE(store_->RecordSessionStart({.session = kS1, .cart = cart, .store = kA, .seq = 1, .ts = kT0}).ok());
  OverrideRecord second{"cmd-2", kS1, cart, "cancel", "left the store", "sam", kT0 + minutes(2)};
  OverrideRecord first{"cmd-1", kS1, cart, "pause", "", "sam", kT0 + minutes(1)};
  ASSERT_TRUE(store_->RecordOverride(second).ok());
  ASSERT_TRUE(store_->RecordOverride(first).ok());
  EXPECT_EQ(store_->RecordOverride(first).code(), Code::kAlreadyExists);
  OverrideRecord unknown = first;
  unknown.cmd_id = "cmd-3";
  unknown.session = *SessionId::Parse("99999999-9999-4999-8999-999999999999");
  EXPECT_EQ(store_->RecordOverride(unknown).code(), Code::kNotFound);
  auto list = *store_->ListOverrides(kS1);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].cmd_id, "cmd-1");
  EXPECT_EQ(list[0].action, "pause");
  EXPECT_EQ(list[1].reason, "left the store");
  EXPECT_EQ(list[1].actor, "sam");
  EXPECT_EQ(list[1].requested_at, kT0 + minutes(2));
}

TEST_P(EntityStoreConformance, AuditQueriesMatchOneWholeTarget) {
  AuditLog& log = store_->audit();
  ASSERT_TRUE(log.Append({.actor = "sam", .action = "a", .target = "cart=CART-000001 session=s1"}).ok());
  ASSERT_TRUE(log.Append({.actor = "sam", .action = "b", .target = "cart=CART-0000011"}).ok());
  ASSERT_TRUE(log.Append({.actor = "sam", .action = "c", .target = "cart=CART-000001"}).ok());
  ASSERT_TRUE(log.Append({.actor = "sam", .action = "d", .target = "cart=CART_000001"}).ok());
  auto hits = *log.List({.target = "cart=CART-000001"});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].action, "a");
  EXPECT_EQ(hits[1].action, "c");
  // LIKE's wildcards in the query are literal.
  EXPECT_EQ(log.List({.target = "cart=CART_000001"})->size(), 1u);
  EXPECT_EQ(log.List({.target = "%"})->size(), 0u);
}

}  // namespace
}  // namespace cw::store
