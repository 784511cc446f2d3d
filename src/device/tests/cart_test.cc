// The cart model against a recording uplink (the transport is tested in the fleet integration
// tests); every event it sends must be schema-valid and carry a valid signature.
#include "device/tests/cart_fixture.h"

namespace cw::device {
namespace {

using testing_support::CartTest;
using testing_support::kCatalog;
using testing_support::kT0;

TEST_F(CartTest, KnownCustomerPaysGoldenPath) {
  ASSERT_TRUE(cart_->StartSession().ok());
  ASSERT_TRUE(cart_->Identify("loyalty", "6012345678901234").ok());
  ASSERT_TRUE(cart_->Scan("4006381333931", 2).ok());
  ASSERT_TRUE(cart_->Scan("0012345678905").ok());
  ASSERT_TRUE(cart_->CompletePaid("AUTH-7f3a9c21d4e8").ok());
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(Type(sent[0]), "session-start");
  EXPECT_EQ(Type(sent[1]), "identify");
  EXPECT_EQ(Type(sent[4]), "session-end");
  EXPECT_EQ(*wire::GetString(sent[4], "status"), "complete");
  EXPECT_EQ(*wire::GetInt(sent[4], "item_count"), 3);
  EXPECT_EQ(*wire::GetInt(sent[4], "total_cents"), 2 * 129 + 249);
  EXPECT_EQ(*wire::GetInt(sent[4]["payment"], "amount_cents"), 2 * 129 + 249);
  for (const auto& d : sent) {
    if (d.HasMember("session_id")) {
      EXPECT_EQ(*wire::GetString(d, "session_id"), cart_->session_id());
    }
  }
  EXPECT_EQ(cart_->session_state(), SessionState::kComplete);
}

TEST_F(CartTest, GuestAbandonsAndInvalidActionsAreRefused) {
  EXPECT_EQ(cart_->Scan("4006381333931").status().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(cart_->StartSession().ok());
  EXPECT_EQ(cart_->StartSession().status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(cart_->Scan("NOT-CACHED").status().code(), Code::kNotFound);
  ASSERT_TRUE(cart_->Scan("GIFTCARD-25").ok());  // no weight check for it
  ASSERT_TRUE(cart_->EndUnpaid(SessionAction::kAbandon).ok());
  auto sent = Sent();
  EXPECT_EQ(*wire::GetString(sent.back(), "status"), "abandoned");
  EXPECT_TRUE(sent[1]["expected_weight_g"].IsNull());
  ASSERT_TRUE(cart_->Reset().ok());
  EXPECT_TRUE(cart_->StartSession().ok());
}

TEST_F(CartTest, WeightMismatchIsFlaggedByTheMaxOf20gOr5Percent) {
  ASSERT_TRUE(cart_->StartSession().ok());
  EXPECT_FALSE(cart_->Scan("4006381333931", 1, 1030 + 50)->weight_mismatch);  // 50 g < 5% of 1030
  EXPECT_TRUE(cart_->Scan("4006381333931", 1, 1030 + 60)->weight_mismatch);
  EXPECT_FALSE(cart_->Scan("0012345678905", 1, 500 + 20)->weight_mismatch);
  EXPECT_TRUE(cart_->Scan("0012345678905", 1, 500 - 26)->weight_mismatch);
  EXPECT_TRUE(cart_->Scan("0012345678905", 1, 0)->weight_mismatch);  // put nothing in the cart
}

TEST_F(CartTest, OfflineEventsAreKeptAndReplayedInOrderWithOriginalTimes) {
  ASSERT_TRUE(cart_->StartSession().ok());
  uplink_.up = false;
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(cart_->Scan("4006381333931").ok());
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(cart_->Scan("0012345678905").ok());
  ASSERT_TRUE(cart_->CompletePaid("AUTH-7f3a9c21d4e8").ok());  // paid at the in-store terminal fallback
  EXPECT_EQ(cart_->forward_queue().size(), 3u);
  EXPECT_EQ(uplink_.sent.size(), 1u);

  clock_.Advance(std::chrono::minutes(10));
  uplink_.up = true;
  cart_->OnConnected();
  EXPECT_TRUE(cart_->forward_queue().empty());
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(Type(sent[1]), "scan");
  EXPECT_EQ(Type(sent[3]), "session-end");
  for (size_t i = 1; i < 4; ++i) EXPECT_TRUE(*wire::GetBool(sent[i], "late"));
  EXPECT_EQ(*wire::GetString(sent[1], "ts"), "2026-11-22T10:00:30.000Z");  // when it happened, not when sent
  EXPECT_EQ(cart_->stats().replayed, 3u);
  // Live traffic resumes after the replay, unmarked.
  ASSERT_TRUE(cart_->Reset().ok());
  ASSERT_TRUE(cart_->StartSession().ok());
  EXPECT_FALSE(Sent().back().HasMember("late"));
}

TEST_F(CartTest, HealthCadenceIsOneMinuteInSessionAndFiveIdle) {
  auto healths = [&] {
    int n = 0;
    for (auto& [topic, p] : uplink_.sent) n += topic == wire::EventTopic(cart_->id(), wire::EventType::kHealth);
    return n;
  };
  for (int m = 0; m < 30; ++m) {  // 30 idle minutes
    cart_->Tick();
    clock_.Advance(std::chrono::minutes(1));
  }
  EXPECT_EQ(healths(), 6);
  ASSERT_TRUE(cart_->StartSession().ok());
  int before = healths();
  for (int s = 0; s < 10 * 60; s += 10) {  // 10 minutes in a session, ticking every 10 s
    cart_->Tick();
    clock_.Advance(std::chrono::seconds(10));
  }
  EXPECT_NEAR(healths() - before, 10, 1);
  auto sent = Sent();
  EXPECT_LT(*wire::GetInt(sent.back(), "battery_pct"), 100);
  EXPECT_EQ(*wire::GetString(sent.back(), "state"), "active");
}

TEST_F(CartTest, ActsOnlyOnGenuineCommands) {
  ASSERT_TRUE(cart_->StartSession().ok());
  std::string sid = cart_->session_id();
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kIdentifyResult, [&](auto& b) {
    b.Field("session_id", sid).Field("result", "matched").Field("customer_ref", "ref_8c1f2a9b").Field("first_name", "Ada");
  }));
  EXPECT_EQ(cart_->greeting(), "Ada");
  EXPECT_EQ(cart_->display(), "Hello Ada");  // the first name only, never the customer reference
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kSessionOverride, [&](auto& b) {
    b.Field("session_id", sid).Field("action", "pause");
  }));
  EXPECT_EQ(cart_->session_state(), SessionState::kPaused);
  // A forged override (signed by someone else) does nothing.
  auto attacker = *crypto::SoftKeyStore::Generate();
  wire::JsonBuilder b;
  wire::WriteCommandHeader({wire::CommandKind::kSessionOverride, random_.UuidV4(), cart_->id(), clock_.Now(),
                            clock_.Now() + std::chrono::minutes(1)}, b);
  b.Field("session_id", sid).Field("action", "cancel");
  std::string json = b.Finish();
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), wire::JoinEnvelope(json, *attacker->Sign(json)));
  EXPECT_EQ(cart_->session_state(), SessionState::kPaused);
  EXPECT_EQ(cart_->stats().commands_accepted, 2u);
  // Maintenance takes the cart out of service.
  ASSERT_TRUE(cart_->EndUnpaid(SessionAction::kVoid).ok());
  ASSERT_TRUE(cart_->Reset().ok());
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kMaintenance, [](auto& b) { b.Field("enabled", true); }));
  EXPECT_TRUE(cart_->in_maintenance());
  EXPECT_EQ(cart_->StartSession().status().code(), Code::kFailedPrecondition);
}

TEST_F(CartTest, AStaffPauseHoldsUntilStaffResumeAndIsConfirmedAtOnce) {
  ASSERT_TRUE(cart_->StartSession().ok());
  ASSERT_TRUE(cart_->Scan("4006381333931").ok());
  std::string sid = cart_->session_id();
  auto healths = [&] {
    size_t n = 0;
    for (auto& [topic, p] : uplink_.sent) n += topic == wire::EventTopic(cart_->id(), wire::EventType::kHealth);
    return n;
  };
  size_t before = healths();
  auto override = [&](const char* action) {
    cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kSessionOverride, [&](auto& b) {
      b.Field("session_id", sid).Field("action", action);
    }));
  };
  override("pause");
  EXPECT_EQ(cart_->session_state(), SessionState::kPaused);
  EXPECT_EQ(healths(), before + 1);  // the confirmation, with state "paused"
  // The shopper cannot simply carry on.
  EXPECT_EQ(cart_->Resume().code(), Code::kFailedPrecondition);
  EXPECT_EQ(cart_->session_state(), SessionState::kPaused);
  // Staff restart it: the session goes on with an empty basket.
  override("restart");
  EXPECT_EQ(cart_->session_state(), SessionState::kActive);
  EXPECT_EQ(cart_->session_id(), sid);
  EXPECT_EQ(healths(), before + 2);
  ASSERT_TRUE(cart_->Pause().ok());  // a shopper's own pause…
  EXPECT_TRUE(cart_->Resume().ok());  // …is theirs to end
}

TEST_F(CartTest, ABatterySwapCarriesTheOtherCartsBasketIntoThisSessionOnce) {
  ASSERT_TRUE(cart_->StartSession().ok());
  ASSERT_TRUE(cart_->Scan("4006381333931").ok());
  std::string sid = cart_->session_id();
  auto result = [&] {
    return Command(wire::CommandKind::kIdentifyResult, [&](auto& b) {
      b.Field("session_id", sid).Field("result", "matched").Field("customer_ref", "ref_8c1f2a9b").Field("first_name", "Ada");
      auto& w = b.Key("carried_over").writer();
      w.StartObject();
      w.Key("session_id"); w.String("11111111-1111-4111-8111-111111111111");
      w.Key("items"); w.StartArray();
      w.StartObject(); w.Key("sku"); w.String("4001"); w.Key("qty"); w.Int(2); w.Key("price_cents"); w.Int(119); w.EndObject();
      w.EndArray();
      w.EndObject();
    });
  };
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), result());
  EXPECT_EQ(cart_->display(), "Hello Ada - your basket from the other cart is here");
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), result());  // redelivered: not twice
  ASSERT_EQ(cart_->basket().size(), 2u);
  EXPECT_EQ(cart_->basket()[1].sku, "4001");
  EXPECT_EQ(cart_->basket()[1].qty, 2);
  SimEmvTerminal approves(random_, 0.0);
  ASSERT_TRUE(cart_->PayAtTerminal(approves).ok());
  auto end = OfType("session-end");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(*wire::GetInt(end[0], "item_count"), 3);  // the carried lines are paid for too
}

TEST_F(CartTest, AWeightMismatchAsksTheShopperAndRaisesAFault) {
  ASSERT_TRUE(cart_->StartSession().ok());
  ASSERT_TRUE(cart_->Scan("4006381333931").ok());
  EXPECT_EQ(cart_->display(), "1 x Milk 1l 1.29");
  EXPECT_TRUE(OfType("fault").empty());
  ASSERT_TRUE(cart_->Scan("4006381333931", 1, 300)->weight_mismatch);
  EXPECT_EQ(cart_->display(), "Please check the item in the basket: Milk 1l");
  auto faults = OfType("fault");
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(*wire::GetString(faults[0], "code"), "WEIGHT_MISMATCH");
  EXPECT_EQ(*wire::GetString(faults[0], "severity"), "warn");
  EXPECT_EQ(*wire::GetString(faults[0], "session_id"), cart_->session_id());
  EXPECT_EQ(*wire::GetString(faults[0], "detail"), "platform 300 g, expected 1030 g for 4006381333931");
}

TEST_F(CartTest, MidShopTapToPayAndTheTerminalDeclineThenApprove) {
  // Golden path 3: the shopper identifies after scanning has started.
  ASSERT_TRUE(cart_->StartSession().ok());
  ASSERT_TRUE(cart_->Scan("0012345678905").ok());
  SimEmvModule reader(random_);
  ASSERT_TRUE(cart_->TapToPay(reader).ok());
  auto ids = OfType("identify");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(*wire::GetString(ids[0], "method"), "payment_token");
  EXPECT_EQ(wire::GetString(ids[0], "credential")->size(), 24u);

  SimEmvTerminal declines(random_, 1.0), approves(random_, 0.0);
  EXPECT_EQ(cart_->PayAtTerminal(declines).code(), Code::kFailedPrecondition);
  EXPECT_EQ(cart_->session_state(), SessionState::kActive);  // the shopper can try another card
  EXPECT_EQ(*wire::GetString(OfType("fault").back(), "code"), "PAYMENT_FAIL");
  ASSERT_TRUE(cart_->PayAtTerminal(approves).ok());
  auto end = OfType("session-end");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(*wire::GetString(end[0], "status"), "complete");
  EXPECT_EQ(*wire::GetInt(end[0]["payment"], "amount_cents"), 249);
  EXPECT_EQ(std::string(*wire::GetString(end[0]["payment"], "auth_token")).rfind("AUTH-", 0), 0u);
}

TEST_F(CartTest, InterruptedShopSleepsHoldingTheSessionAndResumesAfterAPowerCycle) {
  // Golden path 4.
  ASSERT_TRUE(cart_->StartSession().ok());
  std::string sid = cart_->session_id();
  ASSERT_TRUE(cart_->Scan("4006381333931", 2).ok());
  EXPECT_EQ(cart_->Sleep().code(), Code::kFailedPrecondition);  // not in the middle of an active shop
  ASSERT_TRUE(cart_->Pause().ok());
  ASSERT_TRUE(cart_->Sleep().ok());
  EXPECT_EQ(*wire::GetString(OfType("health").back(), "state"), "sleep");

  clock_.Advance(std::chrono::minutes(40));
  PowerOn();  // the cart lost power while asleep; only flash remains
  EXPECT_EQ(cart_->session_state(), SessionState::kPaused);
  EXPECT_EQ(cart_->session_id(), sid);
  ASSERT_EQ(cart_->basket().size(), 1u);
  EXPECT_EQ(cart_->basket()[0].qty, 2);
  EXPECT_EQ(cart_->display(), "Welcome back - touch to continue shopping");

  ASSERT_TRUE(cart_->Resume().ok());
  ASSERT_TRUE(cart_->Scan("0012345678905").ok());
  ASSERT_TRUE(cart_->CompletePaid("AUTH-00000001").ok());
  auto end = OfType("session-end");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(*wire::GetString(end[0], "session_id"), sid);
  EXPECT_EQ(*wire::GetInt(end[0], "item_count"), 3);
  EXPECT_EQ(*wire::GetInt(end[0], "total_cents"), 2 * 129 + 249);

  // Once ended, nothing is held: the next boot is a fresh cart.
  ASSERT_TRUE(cart_->Reset().ok());
  PowerOn();
  EXPECT_EQ(cart_->session_state(), SessionState::kIdle);
}

TEST_F(CartTest, AResumedSessionIsNoLongerHeld) {
  ASSERT_TRUE(cart_->StartSession().ok());
  ASSERT_TRUE(cart_->Pause().ok());
  ASSERT_TRUE(cart_->Resume().ok());
  ASSERT_TRUE(cart_->Scan("0012345678905").ok());
  PowerOn();  // crash while shopping: the cart does not resurrect a stale basket
  EXPECT_EQ(cart_->session_state(), SessionState::kIdle);
}

TEST_F(CartTest, ACorruptHeldSessionFailsTheBootClearly) {
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/session.json", "{\"session_id\": 5}").ok());
  auto booted = Cart::Boot(Cart::Parts{CartId::FromNumber(7), "2.0.0", se_.get(), seq_.get(), &clock_, &random_,
                                       &catalog_, &uplink_, cloud_->public_key(), Battery(), dir_.path()});
  ASSERT_FALSE(booted.ok());
  EXPECT_EQ(booted.error().code(), Code::kCorruption);
  EXPECT_NE(booted.error().message().find("session.json: missing session_id or items"), std::string::npos);
}

TEST_F(CartTest, OfflineEventsSurviveAPowerCycleAndAreReplayedOnce) {
  ASSERT_TRUE(cart_->StartSession().ok());
  uplink_.up = false;
  ASSERT_TRUE(cart_->Scan("4006381333931").ok());
  ASSERT_TRUE(cart_->Scan("0012345678905").ok());
  ASSERT_EQ(cart_->forward_queue().size(), 2u);
  PowerOn();
  EXPECT_EQ(cart_->forward_queue().size(), 3u);  // the boot, offline too, queues behind them
  uplink_.up = true;
  cart_->OnConnected();
  EXPECT_EQ(Types(), (std::vector<std::string>{"session-start", "scan", "scan", "boot"}));
  PowerOn();
  EXPECT_TRUE(cart_->forward_queue().empty());
}

TEST_F(CartTest, BatteryCliffWarnsAbandonsTheSessionAndPowersOff) {
  PowerOn(Battery(BatterySpec{}, 0.12));  // about 1.5 hours left at 0.4 A
  ASSERT_TRUE(cart_->StartSession().ok());
  ASSERT_TRUE(cart_->Scan("0012345678905").ok());
  for (int m = 0; m < 180 && !cart_->powered_off(); ++m) {
    cart_->Tick();
    clock_.Advance(std::chrono::minutes(1));
  }
  ASSERT_TRUE(cart_->powered_off());
  auto faults = OfType("fault");
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(*wire::GetString(faults[0], "code"), "BATTERY_LOW");
  EXPECT_EQ(*wire::GetString(faults[1], "code"), "BATTERY_CLIFF");
  EXPECT_EQ(*wire::GetString(faults[1], "severity"), "critical");
  auto types = Types();
  ASSERT_GE(types.size(), 2u);
  EXPECT_EQ(types.back(), "session-end");  // the last thing sent over the last watts
  EXPECT_EQ(*wire::GetString(OfType("session-end")[0], "status"), "abandoned");
  size_t sent = uplink_.sent.size();
  cart_->Tick();
  clock_.Advance(std::chrono::minutes(10));
  cart_->Tick();
  EXPECT_EQ(uplink_.sent.size(), sent);  // nothing more from a dead cart
  EXPECT_EQ(cart_->StartSession().status().code(), Code::kFailedPrecondition);
}

TEST_F(CartTest, ParkingLotRaisesGeofenceExitThenPingsHourlyOverLteM) {
  cart_->Tick();  // the first idle health, inside the store
  ASSERT_TRUE(cart_->LeaveStore(52.37021, 4.89517).ok());
  uplink_.link_name = "lte-m";  // out of Wi-Fi range
  for (int m = 0; m < 3 * 60; ++m) {
    clock_.Advance(std::chrono::minutes(1));
    cart_->Tick();
  }
  EXPECT_EQ(*wire::GetString(OfType("fault")[0], "code"), "GEOFENCE_EXIT");
  auto health = OfType("health");
  ASSERT_EQ(health.size(), 1u + 3u);  // inside once, then one ping an hour
  EXPECT_TRUE(health[0]["location"].HasMember("zone"));
  for (size_t i = 1; i < health.size(); ++i) {
    EXPECT_DOUBLE_EQ(health[i]["location"]["lat"].GetDouble(), 52.37021);
    EXPECT_DOUBLE_EQ(health[i]["location"]["lon"].GetDouble(), 4.89517);
    EXPECT_EQ(*wire::GetString(health[i], "link"), "lte-m");
  }
  cart_->ReturnToStore();
  clock_.Advance(std::chrono::minutes(5));
  cart_->Tick();
  EXPECT_TRUE(OfType("health").back()["location"].HasMember("zone"));
}

TEST_F(CartTest, SleepAndWakeCommands) {
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kSleep, [](auto&) {}));
  EXPECT_TRUE(cart_->asleep());
  EXPECT_EQ(*wire::GetString(OfType("health").back(), "state"), "sleep");
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kWake, [](auto&) {}));
  EXPECT_FALSE(cart_->asleep());
  // Asleep until a time: the cart wakes by itself then.
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kSleep, [&](auto& b) {
    b.Field("until", FormatTimeMillis(clock_.Now() + std::chrono::hours(8)));
  }));
  EXPECT_TRUE(cart_->asleep());
  clock_.Advance(std::chrono::hours(7));
  cart_->Tick();
  EXPECT_TRUE(cart_->asleep());
  clock_.Advance(std::chrono::hours(1));
  cart_->Tick();
  EXPECT_FALSE(cart_->asleep());
  // A shopper in an active session is never put to sleep by the cloud.
  ASSERT_TRUE(cart_->StartSession().ok());
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kSleep, [](auto&) {}));
  EXPECT_FALSE(cart_->asleep());
}

TEST_F(CartTest, LocateBeepsAndReportsWhereTheCartIsNow) {
  cart_->Tick();
  size_t healths = OfType("health").size();
  clock_.Advance(std::chrono::minutes(1));  // the next scheduled health is 4 minutes away
  cart_->OnMessage(wire::CommandsTopic(cart_->id()), Command(wire::CommandKind::kLocate, [](auto& b) { b.Field("duration_s", 20); }));
  EXPECT_TRUE(cart_->locating());
  EXPECT_EQ(OfType("health").size(), healths + 1);
  clock_.Advance(std::chrono::seconds(21));
  EXPECT_FALSE(cart_->locating());
}

TEST(CatalogTest, KeepsTheTopSkusAndNamesBadLines) {
  auto c = Catalog::Parse(kCatalog, 2);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->items().size(), 2u);
  EXPECT_NE(c->Find("0012345678905"), nullptr);
  EXPECT_EQ(c->Find("GIFTCARD-25"), nullptr);  // ranked third: not cached
  auto bad = Catalog::Parse("sku,name,price_cents,expected_weight_g,category\nA,x,1,,c\nB,y,-3,,c\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "catalog line 3: price_cents must be a whole number >= 0");
}

}  // namespace
}  // namespace cw::device
