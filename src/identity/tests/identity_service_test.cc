// The identity service: the three ways to identify, mid-shop linking, redeliveries, the app code's
// rules and the battery-swap merge — over a real entity store and vault, with the commands it
// would send captured and checked against the wire schema.
#include "identity/identity_service.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>

#include "core/time_format.h"
#include "store/registry.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"
#include "wire/json.h"
#include "wire/notice.h"

namespace cw::identity {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const StoreId kStore = *StoreId::Parse("STORE-001");
const CartId kCart1 = CartId::FromNumber(1);
const CartId kCart2 = CartId::FromNumber(2);
const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
const Access kOperator{"cli:test", "operator", "enrol a customer"};
const std::string kLoyalty = "4000123412341234";
const std::string kCard = "TOKaaaaaaaaaaaaaaaaaaaaa";

class CapturedCommands final : public ingest::CommandSender {
 public:
  Status Send(const CartId& cart, std::string_view json) override {
    auto parsed = wire::ParseCommand(json);
    EXPECT_TRUE(parsed.ok()) << parsed.error().ToString() << "\n" << json;
    EXPECT_EQ(parsed->header.cart, cart);
    sent.emplace_back(cart, std::string(json));
    return Status::Ok();
  }
  rapidjson::Document Last() const {
    rapidjson::Document d;
    d.Parse(sent.back().second.c_str());
    return d;
  }
  std::vector<std::pair<CartId, std::string>> sent;
};

// Tier 2 and Tier 3 each in their own database, on either engine.
struct Engines {
  std::string name;
  std::function<std::string(const std::string& dir, const std::string& db)> uri;
};
void PrintTo(const Engines& e, std::ostream* os) { *os << e.name; }
const Engines kEngines[] = {
    {"Sqlite", [](const std::string& dir, const std::string& db) { return "sqlite:" + dir + "/" + db + ".db"; }},
    {"Postgres", [](const std::string&, const std::string&) { return cw::testing::FreshPostgresUri(); }},
};

class IdentityServiceTest : public ::testing::TestWithParam<Engines> {
 protected:
  void SetUp() override {
    auto entities = store::Registry::WithBuiltinBackends().OpenEntity(GetParam().uri(tmp_.path(), "entity"));
    ASSERT_TRUE(entities.ok()) << entities.error().ToString();
    entities_ = std::move(entities).value();
    auto vault = Vault::Open(GetParam().uri(tmp_.path(), "vault"), tmp_.path() + "/keys/vault.keys", clock_);
    ASSERT_TRUE(vault.ok()) << vault.error().ToString();
    vault_ = std::move(vault).value();
    ASSERT_TRUE(entities_->AddStore({kStore, "Markt", "freshco", store::Region::kEu, "Europe/Berlin", kT0}).ok());
    for (auto c : {kCart1, kCart2}) {
      ASSERT_TRUE(entities_->AddCart({c, kStore, "SN" + c.str(), "fp" + c.str(), "pub", "cert",
                                      store::CartStatus::kActive, kT0}).ok());
    }
    service_ = std::make_unique<IdentityService>(*entities_, *vault_, commands_, clock_, random_);
    auto alice = service_->Register({{"alice@example.com", "Alice Meyer", "+49 30 1", "Berlin"}, {kLoyalty}, {kCard}},
                                    kOperator);
    ASSERT_TRUE(alice.ok()) << alice.error().ToString();
    alice_ = *alice;
  }

  // An identify event as the ingest routes it (the credential apart from the doc).
  Result<Identification> Identify(const CartId& cart, uint64_t seq, const std::string& session, const std::string& method,
                                  const std::string& credential) {
    wire::JsonBuilder b;
    b.Field("v", 1).Field("type", "identify").Field("cart_id", cart.str()).Field("seq", seq)
        .Field("ts", FormatTimeMillis(clock_.Now())).Field("fw", "1.0.0").Field("session_id", session)
        .Field("method", method);
    rapidjson::Document doc;
    std::string json = b.Finish();
    doc.Parse(json.c_str());
    store::TelemetryEvent e{.cart = cart, .store = kStore};
    e.seq = seq;
    e.ts = clock_.Now();
    e.type = wire::EventType::kIdentify;
    return service_->Identify(e, doc, credential);
  }

  cw::testing::TempDir tmp_;
  ManualClock clock_{kT0};
  SeededRandom random_{7};
  CapturedCommands commands_;
  std::unique_ptr<store::EntityStore> entities_;
  std::unique_ptr<Vault> vault_;
  std::unique_ptr<IdentityService> service_;
  AccountId alice_ = *AccountId::Parse("00000000-0000-4000-8000-000000000000");
};

const std::string kS1 = "11111111-1111-4111-8111-111111111111";
const std::string kS2 = "22222222-2222-4222-8222-222222222222";

TEST_P(IdentityServiceTest, ALoyaltyNumberGreetsByFirstNameAndLinksTheWholeSession) {
  store::ScanFact scan{.session = *SessionId::Parse(kS1), .cart = kCart1, .store = kStore};
  scan.seq = 2;
  scan.ts = kT0;
  scan.sku = "4001";
  scan.price_cents = 119;
  ASSERT_TRUE(entities_->RecordScan(scan).ok());  // shopping had started: identified mid-shop
  auto id = Identify(kCart1, 3, kS1, "loyalty", kLoyalty);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(id->result, IdentifyResult::kMatched);
  EXPECT_EQ(*id->account, alice_);
  auto cmd = commands_.Last();
  EXPECT_EQ(wire::GetString(cmd, "cmd"), "identify-result");
  EXPECT_EQ(wire::GetString(cmd, "result"), "matched");
  EXPECT_EQ(wire::GetString(cmd, "first_name"), "Alice");  // never the surname, never contact data
  EXPECT_EQ(commands_.sent.back().second.find("Meyer"), std::string::npos);
  std::string ref(*wire::GetString(cmd, "customer_ref"));
  EXPECT_GE(ref.size(), 16u);
  auto session = *entities_->GetSession(*SessionId::Parse(kS1));
  EXPECT_EQ(*session.account, alice_);
  EXPECT_EQ(session.customer_ref, ref);
  EXPECT_EQ(session.scan_count, 1);
  // A redelivery answers the same, without resolving again.
  auto again = Identify(kCart1, 3, kS1, "loyalty", kLoyalty);
  EXPECT_EQ(wire::GetString(commands_.Last(), "customer_ref"), ref);
  EXPECT_EQ(service_->stats().matched, 2u);
  // The greeting's decrypt is in the vault's audit log, with its purpose.
  auto audit = *vault_->audit().List({.actor = std::string("identity")});
  bool greeted = false;
  for (const auto& e : audit) greeted |= e.action == "decrypt" && e.target.find("first_name") != std::string::npos;
  EXPECT_TRUE(greeted);
}

TEST_P(IdentityServiceTest, UnknownLoyaltyNumbersAreAnsweredUnknown) {
  auto id = *Identify(kCart1, 3, kS1, "loyalty", "9999999999999999");
  EXPECT_EQ(id.result, IdentifyResult::kUnknown);
  auto cmd = commands_.Last();
  EXPECT_EQ(wire::GetString(cmd, "result"), "unknown");
  EXPECT_TRUE(cmd["customer_ref"].IsNull());
  EXPECT_FALSE(entities_->GetSession(*SessionId::Parse(kS1)).ok());  // nothing linked, nothing made
}

TEST_P(IdentityServiceTest, ARegisteredCardFindsItsAccountAndAnUnknownCardAStableCardHolder) {
  EXPECT_EQ(*Identify(kCart1, 3, kS1, "payment_token", kCard)->account, alice_);
  const std::string stranger = "TOKbbbbbbbbbbbbbbbbbbbbb";
  auto first = *Identify(kCart2, 3, kS2, "payment_token", stranger);
  EXPECT_EQ(first.result, IdentifyResult::kMatched);
  EXPECT_NE(*first.account, alice_);
  EXPECT_EQ(entities_->GetAccount(*first.account)->kind, store::AccountKind::kCardHolder);
  EXPECT_TRUE(commands_.Last()["first_name"].IsNull());  // nobody's name is known
  auto later = *Identify(kCart1, 9, "33333333-3333-4333-8333-333333333333", "payment_token", stranger);
  EXPECT_EQ(*later.account, *first.account);  // the same card, the same card holder, next visit
}

TEST_P(IdentityServiceTest, AppCodesWorkOnceAndForFiveMinutes) {
  auto code = *service_->IssueAppCode(alice_);
  EXPECT_EQ(code.size(), 32u);
  EXPECT_EQ(*Identify(kCart1, 3, kS1, "app_qr", code)->account, alice_);
  auto reused = *Identify(kCart2, 3, kS2, "app_qr", code);
  EXPECT_EQ(reused.result, IdentifyResult::kRejected);
  EXPECT_EQ(wire::GetString(commands_.Last(), "result"), "rejected");
  auto late = *service_->IssueAppCode(alice_);
  clock_.Advance(minutes(5) + seconds(1));
  EXPECT_EQ(Identify(kCart2, 4, kS2, "app_qr", late)->result, IdentifyResult::kRejected);
  EXPECT_EQ(Identify(kCart2, 5, kS2, "app_qr", "qr_neverissued1")->result, IdentifyResult::kUnknown);
}

TEST_P(IdentityServiceTest, ABatterySwapWithin30MinutesMergesAndSendsTheBasket) {
  SessionId dead = *SessionId::Parse(kS1);
  ASSERT_TRUE(Identify(kCart1, 2, kS1, "loyalty", kLoyalty).ok());
  for (uint64_t seq : {3, 4}) {
    store::ScanFact scan{.session = dead, .cart = kCart1, .store = kStore};
    scan.seq = seq;
    scan.ts = clock_.Now();
    scan.sku = "400" + std::to_string(seq);
    scan.price_cents = 100 * static_cast<int64_t>(seq);
    ASSERT_TRUE(entities_->RecordScan(scan).ok());
  }
  ASSERT_TRUE(entities_->RecordSessionFault({dead, kCart1, kStore, 5, clock_.Now(), "BATTERY_CLIFF"}).ok());
  store::SessionEndFact end{.session = dead, .cart = kCart1, .store = kStore};
  end.seq = 6;
  end.ts = clock_.Now();
  end.status = store::SessionStatus::kAbandoned;
  ASSERT_TRUE(entities_->RecordSessionEnd(end).ok());

  clock_.Advance(minutes(12));
  auto id = *Identify(kCart2, 2, kS2, "loyalty", kLoyalty);
  ASSERT_TRUE(id.merged_from.has_value());
  EXPECT_EQ(*id.merged_from, dead);
  auto cmd = commands_.Last();
  ASSERT_TRUE(cmd.HasMember("carried_over"));
  EXPECT_EQ(cmd["carried_over"]["items"].Size(), 2u);
  auto merged = *entities_->GetSession(*SessionId::Parse(kS2));
  EXPECT_EQ(merged.scan_count, 2);
  EXPECT_EQ(merged.scan_total_cents, 700);
  EXPECT_EQ(*entities_->GetSession(dead)->merged_into, merged.id);
  EXPECT_EQ(service_->stats().merged, 1u);

  // Too late: 31 minutes after another cliff, no merge.
  const std::string s3 = "33333333-3333-4333-8333-333333333333", s4 = "44444444-4444-4444-8444-444444444444";
  ASSERT_TRUE(Identify(kCart1, 10, s3, "loyalty", kLoyalty).ok());
  ASSERT_TRUE(entities_->RecordSessionFault({*SessionId::Parse(s3), kCart1, kStore, 11, clock_.Now(), "BATTERY_CLIFF"}).ok());
  end.session = *SessionId::Parse(s3);
  end.seq = 12;
  end.ts = clock_.Now();
  ASSERT_TRUE(entities_->RecordSessionEnd(end).ok());
  clock_.Advance(minutes(31));
  EXPECT_FALSE(Identify(kCart2, 20, s4, "loyalty", kLoyalty)->merged_from.has_value());
}

TEST_P(IdentityServiceTest, RegistrationValidatesAndRefusesADuplicateEmail) {
  EXPECT_EQ(service_->Register({{"bob@example.com", "Bob", "", ""}, {"123"}, {}}, kOperator).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(service_->Register({{"ALICE@example.com", "Alice Two", "", ""}, {}, {}}, kOperator).error().code(),
            Code::kAlreadyExists);
  EXPECT_EQ(service_->Register({{"bob@example.com", "Bob", "", ""}, {kLoyalty}, {}}, kOperator).error().code(),
            Code::kAlreadyExists);  // the loyalty number is Alice's
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityServiceTest, ::testing::ValuesIn(kEngines),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace cw::identity
