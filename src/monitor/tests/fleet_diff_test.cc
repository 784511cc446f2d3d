#include "monitor/fleet_diff.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "monitor/opening_hours.h"

namespace cw::monitor {
namespace {

constexpr int kMo = 0, kFr = 4, kSa = 5, kSu = 6;
int At(int h, int m = 0) { return h * 60 + m; }

TEST(OpeningHours, DaysTimesOverridesAndPastMidnight) {
  auto h = OpeningHours::Parse("Mo-Sa 07:00-22:00; Su 09:00-18:00");
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  EXPECT_FALSE(h->OpenAt(kMo, At(6, 59)));
  EXPECT_TRUE(h->OpenAt(kMo, At(7)));
  EXPECT_TRUE(h->OpenAt(kSa, At(21, 59)));
  EXPECT_FALSE(h->OpenAt(kSa, At(22)));
  EXPECT_FALSE(h->OpenAt(kSu, At(8)));
  EXPECT_TRUE(h->OpenAt(kSu, At(9)));

  // A lunch break, a later rule closing a day the first one opened, a late night into Saturday.
  auto split = OpeningHours::Parse("Mo-Sa 08:00-12:00, 13:00-20:00; Sa off; Fr 18:00-02:00");
  ASSERT_TRUE(split.ok()) << split.error().ToString();
  EXPECT_TRUE(split->OpenAt(kMo, At(11, 59)));
  EXPECT_FALSE(split->OpenAt(kMo, At(12, 30)));
  EXPECT_FALSE(split->OpenAt(kFr, At(9))) << "the Friday rule replaced the Mo-Sa hours for Friday";
  EXPECT_TRUE(split->OpenAt(kFr, At(23)));
  EXPECT_TRUE(split->OpenAt(kSa, At(1, 30))) << "Friday night spills into Saturday";
  EXPECT_FALSE(split->OpenAt(kSa, At(2)));
  EXPECT_FALSE(split->OpenAt(kSa, At(10)));

  auto always = OpeningHours::Parse("24/7");
  ASSERT_TRUE(always.ok());
  EXPECT_TRUE(always->OpenAt(kSu, At(3)));
  auto daily = OpeningHours::Parse("07:00-24:00");
  ASSERT_TRUE(daily.ok());
  EXPECT_TRUE(daily->OpenAt(kSu, At(23, 59)));
  auto wrap = OpeningHours::Parse("Sa-Mo 10:00-16:00");
  ASSERT_TRUE(wrap.ok());
  EXPECT_TRUE(wrap->OpenAt(kSu, At(12)));
  EXPECT_FALSE(wrap->OpenAt(2, At(12)));
}

TEST(OpeningHours, WhatItCannotReadIsRefusedWithTheRule) {
  for (const char* bad : {"", "Mo-Sa", "Mo-Sa 7-22", "PH off", "Jan-Mar 08:00-12:00", "Mo-Sa 08:00-25:00",
                          "Mx 08:00-12:00", "Mo-Sa 08:00"}) {
    auto h = OpeningHours::Parse(bad);
    ASSERT_FALSE(h.ok()) << bad;
    EXPECT_EQ(h.error().code(), Code::kInvalidArgument);
  }
  auto h = OpeningHours::Parse("Mo-Fr 08:00-20:00; PH off");
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message().find("'PH'"), std::string::npos) << h.error().message();
}

TEST(OpeningHours, LocalTimeFollowsTheStoresZoneAcrossDaylightSaving) {
  // 2026-03-29 is the day Europe/Berlin moves to summer time (01:00 UTC).
  auto winter = ToLocalTime("Europe/Berlin", *ParseWireTime("2026-03-29T00:30:00.000Z"));
  ASSERT_TRUE(winter.ok()) << winter.error().ToString();
  EXPECT_EQ(winter->weekday, kSu);
  EXPECT_EQ(winter->minute, At(1, 30));
  auto summer = ToLocalTime("Europe/Berlin", *ParseWireTime("2026-03-29T01:30:00.000Z"));
  EXPECT_EQ(summer->minute, At(3, 30));
  auto ny = ToLocalTime("America/New_York", *ParseWireTime("2026-11-23T02:00:00.000Z"));
  EXPECT_EQ(ny->weekday, kSu);  // still Sunday evening there
  EXPECT_EQ(ny->minute, At(21));
  EXPECT_FALSE(ToLocalTime("Mars/Olympus_Mons", Time{}).ok());
  // A store closes at 22:00 local, whatever UTC says.
  EXPECT_EQ(StoreOpenAt("Mo-Sa 07:00-22:00", "Europe/Berlin", *ParseWireTime("2026-11-23T20:59:00.000Z")).value(), true);
  EXPECT_EQ(StoreOpenAt("Mo-Sa 07:00-22:00", "Europe/Berlin", *ParseWireTime("2026-11-23T21:00:00.000Z")).value(), false);
  EXPECT_EQ(StoreOpenAt("", "Europe/Berlin", Time{}).value(), true) << "no hours recorded: open";
}

store::CartOverview Cart(uint32_t n, const std::string& store, bool maintenance = false) {
  store::CartOverview c{
      .cart = {CartId::FromNumber(n), *StoreId::Parse(store), "SN", "fp", "pub", "cert", store::CartStatus::kActive, Time{}}};
  c.maintenance.in_maintenance = maintenance;
  return c;
}

TEST(FleetDiff, ExpectsCartsOfOpenStoresOutsideMaintenanceAndListsTheMissing) {
  // Monday 2026-11-23, 21:30 UTC: 22:30 in Berlin (closed), 16:30 in New York (open).
  Time now = *ParseWireTime("2026-11-23T21:30:00.000Z");
  std::vector<store::StoreRecord> stores = {
      {*StoreId::Parse("BERLIN"), "Berlin", "p", store::Region::kEu, "Europe/Berlin", Time{}, {}, "", "Mo-Sa 07:00-22:00"},
      {*StoreId::Parse("NYC"), "NYC", "p", store::Region::kUs, "America/New_York", Time{}, {}, "", "Mo-Su 06:00-23:00"},
  };
  std::vector<store::CartOverview> fleet = {Cart(1, "BERLIN"), Cart(2, "NYC"), Cart(3, "NYC"), Cart(4, "NYC", true),
                                            Cart(5, "NYC"), Cart(6, "NYC")};
  fleet[5].cart.status = store::CartStatus::kRetired;
  ConnectivityTracker tracker;
  Time t = now - std::chrono::minutes(1);
  tracker.OnEvent(CartId::FromNumber(1), t, Cadence::kIdle);  // online, though its store is closed
  tracker.OnEvent(CartId::FromNumber(2), t, Cadence::kIdle);
  tracker.OnEvent(CartId::FromNumber(4), t, Cadence::kIdle);  // in maintenance, still connected
  tracker.OnStatus(CartId::FromNumber(3), {wire::Presence::kOffline, std::nullopt}, t);

  FleetDiff d = DiffFleet(fleet, stores, tracker, now);
  EXPECT_EQ(d.carts, 5u);     // the retired cart is not part of the fleet
  EXPECT_EQ(d.expected, 3u);  // 2, 3, 5: NYC is open, 4 is in maintenance, Berlin closed
  EXPECT_EQ(d.connected, 1u);
  ASSERT_EQ(d.missing.size(), 2u);
  EXPECT_EQ(d.missing[0].cart, CartId::FromNumber(3));
  EXPECT_EQ(d.missing[0].cause, "will");
  EXPECT_EQ(d.missing[1].cart, CartId::FromNumber(5));
  EXPECT_EQ(d.missing[1].cause, "never_seen");
  EXPECT_EQ(d.unexpected, (std::vector<CartId>{CartId::FromNumber(1), CartId::FromNumber(4)}));
  EXPECT_EQ(d.closed_stores, (std::vector<StoreId>{*StoreId::Parse("BERLIN")}));
  EXPECT_TRUE(d.problems.empty());

  // Hours nobody can read do not hide a store's carts: counted open, and said.
  stores[0].opening_hours = "Mo-Sa 7-22";
  FleetDiff odd = DiffFleet(fleet, stores, tracker, now);
  EXPECT_EQ(odd.expected, 4u);
  ASSERT_EQ(odd.problems.size(), 1u);
  EXPECT_NE(odd.problems[0].find("BERLIN"), std::string::npos);
}

}  // namespace
}  // namespace cw::monitor
