// The cart model against a recording uplink (the transport is tested in the fleet integration
// tests); every event it sends must be schema-valid and carry a valid signature.
#include "device/cart.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "testing/temp_dir.h"
#include "wire/envelope.h"
#include "wire/event.h"
#include "wire/json.h"
#include "wire/topic.h"

namespace cw::device {
namespace {

const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
constexpr char kCatalog[] =
    "sku,name,price_cents,expected_weight_g,category\n"
    "4006381333931,Milk 1l,129,1030,dairy\n"
    "0012345678905,Bread,249,500,bakery\n"
    "GIFTCARD-25,Gift card,2500,,misc\n";

class RecordingUplink : public Uplink {
 public:
  bool connected() const override { return up; }
  bool Publish(const std::string& topic, const std::string& payload) override {
    if (!up) return false;
    sent.push_back({topic, payload});
    return true;
  }
  bool up = true;
  std::vector<std::pair<std::string, std::string>> sent;
};

class CartTest : public ::testing::Test {
 protected:
  CartTest() {
    se_ = *crypto::SoftKeyStore::Generate();
    cloud_ = *crypto::SoftKeyStore::Generate();
    seq_ = *SeqCounter::Open(dir_.path() + "/seq");
    catalog_ = *Catalog::Parse(kCatalog);
    cart_ = std::make_unique<Cart>(Cart::Parts{CartId::FromNumber(7), "2.0.0", se_.get(), seq_.get(), &clock_,
                                               &random_, &catalog_, &uplink_, cloud_->public_key()});
  }

  // Decodes every sent message, asserting wire validity, a valid signature and rising seq.
  std::vector<rapidjson::Document> Sent() {
    std::vector<rapidjson::Document> out;
    uint64_t last = 0;
    for (const auto& [topic, payload] : uplink_.sent) {
      auto checked = wire::CheckEvent(topic, payload);
      EXPECT_TRUE(checked.ok()) << topic << ": " << (checked.ok() ? "" : checked.error().detail);
      auto env = *wire::SplitEnvelope(payload);
      EXPECT_TRUE(se_->public_key().Verify(env.json, env.signature));
      rapidjson::Document d;
      EXPECT_TRUE(wire::ParseStrictObject(env.json, d).ok());
      EXPECT_GT(*wire::GetUint(d, "seq"), last);
      last = *wire::GetUint(d, "seq");
      out.push_back(std::move(d));
    }
    return out;
  }

  static std::string Type(const rapidjson::Document& d) { return std::string(*wire::GetString(d, "type")); }

  std::string Command(wire::CommandKind kind, const std::function<void(wire::JsonBuilder&)>& fields) {
    wire::JsonBuilder b;
    wire::WriteCommandHeader({kind, random_.UuidV4(), cart_->id(), clock_.Now(), clock_.Now() + std::chrono::minutes(5)}, b);
    fields(b);
    std::string json = b.Finish();
    return wire::JoinEnvelope(json, *cloud_->Sign(json));
  }

  testing::TempDir dir_;
  ManualClock clock_{kT0};
  SeededRandom random_{11};
  std::unique_ptr<crypto::SoftKeyStore> se_, cloud_;
  std::unique_ptr<SeqCounter> seq_;
  Catalog catalog_;
  RecordingUplink uplink_;
  std::unique_ptr<Cart> cart_;
};

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
