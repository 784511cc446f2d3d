// The REST API's routes through the router, over real stores (SQLite entity store, in-memory
// telemetry): the access matrix, errors, paging, overrides with proximity tokens, the audit of
// every request, and the OpenAPI document naming every route. The HTTPS server around it is
// exercised by tests/integration/api_test.cc.
#include "api/routes.h"

#include <gtest/gtest.h>

#include <set>

#include "core/time_format.h"
#include "crypto/key_store.h"
#include "store/audit_log.h"
#include "store/registry.h"
#include "wire/json.h"
#include "wire/notice.h"
#include "wire/proximity.h"

namespace cw::api {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
const StoreId kA = *StoreId::Parse("STORE-001"), kB = *StoreId::Parse("STORE-002");
const CartId kCartA = CartId::FromNumber(1), kCartB = CartId::FromNumber(2);
const SessionId kSession = *SessionId::Parse("11111111-1111-4111-8111-111111111111");

class CapturedCommands final : public ingest::CommandSender {
 public:
  Status Send(const CartId& cart, std::string_view json) override {
    auto parsed = wire::ParseCommand(json);
    EXPECT_TRUE(parsed.ok()) << parsed.error().ToString() << "\n" << json;
    sent.emplace_back(cart, std::string(json));
    return Status::Ok();
  }
  std::vector<std::pair<CartId, std::string>> sent;
};

struct Reply {
  int status = 0;
  rapidjson::Document doc;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ErrorCode() const { return doc.HasMember("error") ? doc["error"]["code"].GetString() : ""; }
};

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entities_ = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:")).value();
    telemetry_ = std::move(store::OpenMemoryTelemetryStore(clock_)).value();
    for (const auto& s : {kA, kB}) {
      ASSERT_TRUE(entities_->AddStore({s, "Markt " + s.str(), "freshco", store::Region::kEu, "Europe/Berlin", kT0}).ok());
    }
    key_ = std::move(crypto::SoftKeyStore::Generate()).value();
    ASSERT_TRUE(entities_->AddCart({kCartA, kA, "SN1", "fp1", key_->public_key().ToPem(), "cert", store::CartStatus::kActive, kT0}).ok());
    ASSERT_TRUE(entities_->AddCart({kCartB, kB, "SN2", "fp2", key_->public_key().ToPem(), "cert", store::CartStatus::kActive, kT0}).ok());
    totp_ = *NewTotpSecret();
    AddUser("olga", store::Role::kOps, std::nullopt, totp_);
    AddUser("sam", store::Role::kStaff, kA, "");
    AddUser("bea", store::Role::kStaff, kB, "");
    AddUser("ann", store::Role::kAuditor, std::nullopt, "");
    auth_ = std::make_unique<Authenticator>(*entities_, clock_);
    router_ = std::make_unique<Router>(*auth_, &entities_->audit());
    services_ = std::make_unique<ApiServices>(ApiServices{{*entities_, *telemetry_, clock_}, *auth_, &commands_, random_, {}});
    AddRoutes(*router_, *services_);
  }
  void AddUser(const std::string& name, store::Role role, std::optional<StoreId> s, const std::string& totp) {
    ASSERT_TRUE(entities_->AddUser({name, role, s, *HashPassword(name + "-pw", {.log2_n = 10}), totp, kT0, false}).ok());
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& token = "", std::string body = "",
             std::map<std::string, std::string> query = {}) {
    Request r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.body = std::move(body);
    if (!token.empty()) r.authorization = "Bearer " + token;
    r.client = "10.0.0.7";
    Response res = router_->Handle(r);
    Reply out;
    out.status = res.status;
    out.body = res.body;
    out.headers = res.headers;
    if (res.content_type == "application/json") {
      out.doc.Parse(res.body.c_str());
      EXPECT_FALSE(out.doc.HasParseError()) << res.body;
    }
    return out;
  }
  std::string Login(const std::string& user) {
    std::string totp = user == "olga" ? *TotpCode(totp_, clock_.Now()) : "";
    auto r = Call("POST", "/api/v1/auth/token", "",
                  R"({"username":")" + user + R"(","password":")" + user + R"(-pw","totp":")" + totp + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.doc["access_token"].GetString();
  }
  std::string ProximityToken(const CartId& cart, Time issued, std::string nonce = "") {
    if (nonce.empty()) nonce = std::string(32, static_cast<char>('a' + (nonce_counter_++ % 6)));
    wire::ProximityClaims c{std::string(wire::kPurposeStaffOverride), cart, nonce, issued, issued + seconds(120)};
    std::string json = wire::ProximityClaimsJson(c);
    return wire::EncodeProximityToken(json, *key_->Sign(json));
  }
  void StartSession() {
    ASSERT_TRUE(entities_->RecordSessionStart({.session = kSession, .cart = kCartA, .store = kA, .seq = 1, .ts = kT0}).ok());
  }
  std::vector<store::AuditEntry> AuditOf(const std::string& actor) {
    return *entities_->audit().List({.actor = actor, .limit = 1000});
  }

  ManualClock clock_{kT0};
  SeededRandom random_{7};
  CapturedCommands commands_;
  std::unique_ptr<store::EntityStore> entities_;
  std::unique_ptr<store::TelemetryStore> telemetry_;
  std::unique_ptr<crypto::SoftKeyStore> key_;
  std::string totp_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<ApiServices> services_;
  int nonce_counter_ = 0;
};

TEST_F(RoutesTest, NoTokenOrAnExpiredOneIs401WithTheErrorShape) {
  auto none = Call("GET", "/api/v1/stores");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.ErrorCode(), "unauthenticated");
  EXPECT_TRUE(none.doc["error"]["field"].IsNull());
  EXPECT_FALSE(std::string(none.doc["error"]["message"].GetString()).empty());
  EXPECT_EQ(none.headers.at(0).first, "WWW-Authenticate");
  std::string token = Login("sam");
  EXPECT_EQ(Call("GET", "/api/v1/stores", token).status, 200);
  clock_.Advance(minutes(16));
  auto expired = Call("GET", "/api/v1/stores", token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(std::string(expired.doc["error"]["message"].GetString()).find("expired"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/stores", "cwa_forged").status, 401);
}

TEST_F(RoutesTest, StaffSeeTheirStoreOnlyAndDenialsAreAudited) {
  std::string sam = Login("sam");
  auto stores = Call("GET", "/api/v1/stores", sam);
  ASSERT_EQ(stores.doc["items"].Size(), 1u);
  EXPECT_STREQ(stores.doc["items"][0]["id"].GetString(), "STORE-001");
  EXPECT_EQ(Call("GET", "/api/v1/carts/CART-000001", sam).status, 200);
  for (const char* path : {"/api/v1/carts/CART-000002", "/api/v1/carts/CART-000002/events",
                                  "/api/v1/stores/STORE-002/carts", "/api/v1/stores/STORE-002/loss-prevention",
                                  "/api/v1/carts/CART-000002/audit"}) {
    auto r = Call("GET", path, sam);
    EXPECT_EQ(r.status, 403) << path << " " << r.body;
    EXPECT_EQ(r.ErrorCode(), "permission_denied");
  }
  EXPECT_EQ(Call("PUT", "/api/v1/carts/CART-000002/maintenance", sam, R"({"in_maintenance":true})").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/fleet", sam).status, 403);  // ops only
  EXPECT_EQ(Call("GET", "/api/v1/audit", sam).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/rejects", sam).status, 403);  // staff name one of their carts
  EXPECT_EQ(Call("GET", "/api/v1/rejects", sam, "", {{"cart", "CART-000001"}}).status, 200);
  // Every one of those requests is in the audit log, denials as denials, with the ids.
  auto trail = AuditOf("sam");
  ASSERT_GE(trail.size(), 12u);
  int denied = 0;
  for (const auto& e : trail) denied += e.outcome == "denied 403";
  EXPECT_EQ(denied, 9);
  auto on_b = *entities_->audit().List({.target = "cart=CART-000002"});
  ASSERT_FALSE(on_b.empty());
  EXPECT_EQ(on_b[0].actor, "sam");
  EXPECT_EQ(on_b[0].role, "staff");
  EXPECT_EQ(on_b[0].action, "GET /api/v1/carts/{cart}");
  EXPECT_EQ(on_b[0].outcome, "denied 403");
  EXPECT_TRUE(*entities_->audit().Verify() > 0);
}

TEST_F(RoutesTest, AuditorsReadTheAuditLogAndWriteNothing) {
  std::string ann = Login("ann");
  auto log = Call("GET", "/api/v1/audit", ann);
  EXPECT_EQ(log.status, 200);
  EXPECT_GE(log.doc["items"].Size(), 1u);  // at least ann's own login
  EXPECT_EQ(Call("PUT", "/api/v1/carts/CART-000001/maintenance", ann, R"({"in_maintenance":true})").status, 403);
  StartSession();
  EXPECT_EQ(Call("POST", "/api/v1/sessions/" + kSession.str() + "/override", ann,
                 R"({"action":"pause","proximity_token":")" + ProximityToken(kCartA, clock_.Now()) + "\"}")
                .status,
            403);
  EXPECT_TRUE(commands_.sent.empty());
  EXPECT_FALSE(entities_->GetMaintenance(kCartA)->in_maintenance);
}

TEST_F(RoutesTest, InjectionShapedParametersAreInert) {
  std::string olga = Login("olga");
  EXPECT_EQ(Call("GET", "/api/v1/carts/CART-000001' OR '1'='1", olga).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/carts/CART-000001/events", olga, "", {{"limit", "1;DROP TABLE carts"}}).status, 400);
  auto none = Call("GET", "/api/v1/audit", olga, "", {{"actor", "' OR 1=1 --"}});
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.doc["items"].Size(), 0u);
  auto fleet = Call("GET", "/api/v1/fleet", olga, "", {{"firmware", "x' OR '1'='1"}});
  EXPECT_EQ(fleet.status, 200);
  EXPECT_EQ(fleet.doc["items"].Size(), 0u);
  EXPECT_EQ(Call("GET", "/api/v1/rejects", olga, "", {{"reason", "bad_signature' --"}}).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/fleet", olga, "", {{"cursor", "%%%"}}).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/carts/CART-000001/events", olga, "", {{"cursor", "zz"}}).status, 400);
  EXPECT_EQ(entities_->ListCarts(std::nullopt)->size(), 2u);
  auto bad_body = Call("PUT", "/api/v1/carts/CART-000001/maintenance", olga, R"({"in_maintenance":"yes"})");
  EXPECT_EQ(bad_body.status, 400);
  EXPECT_STREQ(bad_body.doc["error"]["field"].GetString(), "in_maintenance");
  EXPECT_EQ(Call("PUT", "/api/v1/carts/CART-000001/maintenance", olga, "{not json").status, 400);
}

TEST_F(RoutesTest, UnknownRoutesAndMethodsAndLimits) {
  std::string olga = Login("olga");
  EXPECT_EQ(Call("GET", "/api/v1/nope", olga).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/stores", olga).status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/carts/CART-000099", olga).status, 404);
  auto big = Call("GET", "/api/v1/fleet", olga, "", {{"limit", "501"}});
  EXPECT_EQ(big.status, 400);
  EXPECT_STREQ(big.doc["error"]["field"].GetString(), "limit");
}

TEST_F(RoutesTest, LocatorRowsPageWithCursorsAndShowState) {
  for (uint32_t n = 3; n <= 7; ++n) {
    ASSERT_TRUE(entities_->AddCart({CartId::FromNumber(n), kA, "SN" + std::to_string(n), "fp" + std::to_string(n), "pub",
                                    "cert", store::CartStatus::kActive, kT0}).ok());
  }
  store::CartState s{.cart = CartId::FromNumber(3)};
  s.seq = 5;
  s.reported_at = kT0;
  s.state = "active";
  s.battery_pct = 64;
  s.link = "wifi";
  s.location_json = R"({"x_m":4,"y_m":9,"zone":"dairy"})";
  s.firmware = "1.4.2";
  ASSERT_TRUE(entities_->RecordCartState(s).ok());
  ASSERT_TRUE(entities_->RecordCartActivity({.cart = CartId::FromNumber(3), .last_seen_at = kT0}).ok());
  s.cart = CartId::FromNumber(4);
  s.battery_pct = 9;
  s.state = "idle";
  ASSERT_TRUE(entities_->RecordCartState(s).ok());
  ASSERT_TRUE(entities_->RecordCartActivity({.cart = CartId::FromNumber(4), .last_seen_at = kT0}).ok());
  ASSERT_TRUE(entities_->RecordCartActivity({.cart = CartId::FromNumber(5), .last_seen_at = kT0, .fault_code = "SENSOR_FAIL",
                                             .fault_severity = "critical", .fault_at = kT0}).ok());
  ASSERT_TRUE(entities_->SetMaintenance(CartId::FromNumber(6), {true, "wheel", kT0}).ok());
  ASSERT_TRUE(entities_->RecordCartActivity({.cart = CartId::FromNumber(7), .last_seen_at = kT0 - minutes(20)}).ok());
  std::string sam = Login("sam");
  std::map<std::string, std::string> states;
  std::string cursor;
  int pages = 0;
  do {
    std::map<std::string, std::string> q{{"limit", "2"}};
    if (!cursor.empty()) q["cursor"] = cursor;
    auto page = Call("GET", "/api/v1/stores/STORE-001/carts", sam, "", q);
    ASSERT_EQ(page.status, 200) << page.body;
    for (const auto& row : page.doc["items"].GetArray()) states[row["cart_id"].GetString()] = row["state"].GetString();
    cursor = page.doc["next_cursor"].IsNull() ? "" : page.doc["next_cursor"].GetString();
    ++pages;
  } while (!cursor.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(states, (std::map<std::string, std::string>{{"CART-000001", "offline"}, {"CART-000003", "in_use"},
                                                        {"CART-000004", "low_battery"}, {"CART-000005", "fault"},
                                                        {"CART-000006", "maintenance"}, {"CART-000007", "offline"}}));
  auto cart = Call("GET", "/api/v1/carts/CART-000003", sam);
  EXPECT_EQ(cart.doc["battery_pct"].GetInt(), 64);
  EXPECT_STREQ(cart.doc["location"]["zone"].GetString(), "dairy");
  EXPECT_STREQ(cart.doc["firmware"].GetString(), "1.4.2");
  EXPECT_STREQ(cart.doc["last_seen_at"].GetString(), "2026-11-22T10:00:00.000Z");
  // Ops slice the whole fleet.
  std::string olga = Login("olga");
  auto low = Call("GET", "/api/v1/fleet", olga, "", {{"battery_below", "20"}});
  ASSERT_EQ(low.doc["items"].Size(), 1u);
  EXPECT_STREQ(low.doc["items"][0]["cart_id"].GetString(), "CART-000004");
  EXPECT_EQ(Call("GET", "/api/v1/fleet", olga, "", {{"store", "STORE-002"}}).doc["items"].Size(), 1u);
}

TEST_F(RoutesTest, CartEventsComeNewestFirstFilteredAndPaged) {
  store::TelemetryBatch batch;
  for (uint64_t seq = 1; seq <= 9; ++seq) {
    store::TelemetryEvent e{.cart = kCartA, .store = kA, .seq = seq, .ts = kT0 + minutes(seq), .received_at = kT0 + minutes(seq),
                            .expires_at = kT0 + std::chrono::hours(48),
                            .type = seq % 3 == 0 ? wire::EventType::kHealth : wire::EventType::kScan};
    e.body = R"({"seq":)" + std::to_string(seq) + "}";
    batch.events.push_back(e);
  }
  ASSERT_TRUE(telemetry_->Commit(batch).ok());
  std::string sam = Login("sam");
  auto seqs = [](const Reply& r) {
    std::vector<int> out;
    for (const auto& e : r.doc["items"].GetArray()) out.push_back(e["seq"].GetInt());
    return out;
  };
  auto newest = Call("GET", "/api/v1/carts/CART-000001/events", sam, "", {{"limit", "4"}});
  EXPECT_EQ(seqs(newest), (std::vector<int>{9, 8, 7, 6}));
  EXPECT_EQ(newest.doc["items"][0]["event"]["seq"].GetInt(), 9);
  auto next = Call("GET", "/api/v1/carts/CART-000001/events", sam, "",
                   {{"limit", "4"}, {"cursor", newest.doc["next_cursor"].GetString()}});
  EXPECT_EQ(seqs(next), (std::vector<int>{5, 4, 3, 2}));
  auto health = Call("GET", "/api/v1/carts/CART-000001/events", sam, "", {{"type", "health"}, {"limit", "2"}});
  EXPECT_EQ(seqs(health), (std::vector<int>{9, 6}));
  auto rest = Call("GET", "/api/v1/carts/CART-000001/events", sam, "",
                   {{"type", "health"}, {"limit", "2"}, {"cursor", health.doc["next_cursor"].GetString()}});
  EXPECT_EQ(seqs(rest), (std::vector<int>{3}));
  auto before = Call("GET", "/api/v1/carts/CART-000001/events", sam, "", {{"before", "2026-11-22T10:04:00Z"}});
  EXPECT_EQ(seqs(before), (std::vector<int>{3, 2, 1}));
  auto window = Call("GET", "/api/v1/stores/STORE-001/events", sam, "",
                     {{"since", "2026-11-22T10:02:00Z"}, {"until", "2026-11-22T10:05:00Z"}});
  EXPECT_EQ(seqs(window), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(Call("GET", "/api/v1/stores/STORE-001/events", sam).status, 400);  // since is required
  EXPECT_EQ(Call("GET", "/api/v1/carts/CART-000001/events", sam, "", {{"type", "gossip"}}).status, 400);
}

TEST_F(RoutesTest, AnOverrideNeedsAFreshUnusedTokenFromTheSessionsCart) {
  StartSession();
  std::string sam = Login("sam");
  const std::string path = "/api/v1/sessions/" + kSession.str() + "/override";
  auto body = [](const std::string& action, const std::string& token) {
    return R"({"action":")" + action + R"(","proximity_token":")" + token + R"(","reason":"customer asked"})";
  };
  auto expect_refused = [&](const std::string& token, const std::string& why) {
    auto r = Call("POST", path, sam, body("pause", token));
    EXPECT_EQ(r.status, 403) << why << ": " << r.body;
    EXPECT_STREQ(r.doc["error"]["field"].GetString(), "proximity_token");
    EXPECT_NE(std::string(r.doc["error"]["message"].GetString()).find(why), std::string::npos) << r.body;
  };
  expect_refused("garbage", "malformed");
  expect_refused(ProximityToken(kCartB, clock_.Now()), "not the session's cart");
  expect_refused(ProximityToken(kCartA, clock_.Now() - seconds(151)), "expired");
  {
    // Signed by another key.
    auto other = std::move(crypto::SoftKeyStore::Generate()).value();
    wire::ProximityClaims c{std::string(wire::kPurposeStaffOverride), kCartA, std::string(32, 'f'), clock_.Now(),
                            clock_.Now() + seconds(60)};
    std::string json = wire::ProximityClaimsJson(c);
    expect_refused(wire::EncodeProximityToken(json, *other->Sign(json)), "not signed by");
  }
  EXPECT_TRUE(commands_.sent.empty());
  std::string token = ProximityToken(kCartA, clock_.Now() - seconds(30));
  auto ok = Call("POST", path, sam, body("pause", token));
  ASSERT_EQ(ok.status, 202) << ok.body;
  EXPECT_STREQ(ok.doc["status"].GetString(), "sent");
  ASSERT_EQ(commands_.sent.size(), 1u);
  EXPECT_EQ(commands_.sent[0].first, kCartA);
  auto cmd = *wire::ParseCommand(commands_.sent[0].second);
  EXPECT_EQ(cmd.header.kind, wire::CommandKind::kSessionOverride);
  EXPECT_EQ(cmd.header.cmd_id, ok.doc["cmd_id"].GetString());
  EXPECT_EQ(*wire::GetString(cmd.doc, "action"), "pause");
  EXPECT_EQ(*wire::GetString(cmd.doc, "session_id"), kSession.str());
  EXPECT_EQ(cmd.header.issued_at, clock_.Now() - seconds(30));  // never after the cart's own clock
  // Single use.
  expect_refused(token, "already used");
  // The session shows the override.
  auto session = Call("GET", "/api/v1/sessions/" + kSession.str(), sam);
  ASSERT_EQ(session.doc["overrides"].Size(), 1u);
  EXPECT_STREQ(session.doc["overrides"][0]["action"].GetString(), "pause");
  EXPECT_STREQ(session.doc["overrides"][0]["by"].GetString(), "sam");
  // Staff of another store cannot, even with a valid token.
  std::string bea = Login("bea");
  EXPECT_EQ(Call("POST", path, bea, body("cancel", ProximityToken(kCartA, clock_.Now()))).status, 403);
  EXPECT_EQ(Call("POST", path, sam, body("explode", ProximityToken(kCartA, clock_.Now()))).status, 400);
  // A finished session cannot be overridden.
  ASSERT_TRUE(entities_->RecordSessionEnd({.session = kSession, .cart = kCartA, .store = kA, .seq = 9, .ts = kT0,
                                           .status = store::SessionStatus::kVoided}).ok());
  EXPECT_EQ(Call("POST", path, sam, body("cancel", ProximityToken(kCartA, clock_.Now()))).status, 409);
}

TEST_F(RoutesTest, ATokenIsJudgedByTheCartsOwnClock) {
  StartSession();
  // The cart's clock runs 20 hours behind ours, as its live events showed.
  ASSERT_TRUE(entities_->RecordCartActivity({.cart = kCartA, .last_seen_at = clock_.Now(),
                                             .clock_offset = -std::chrono::hours(20), .clock_offset_at = clock_.Now()}).ok());
  std::string sam = Login("sam");
  const std::string path = "/api/v1/sessions/" + kSession.str() + "/override";
  auto post = [&](Time issued) {
    return Call("POST", path, sam, R"({"action":"pause","proximity_token":")" + ProximityToken(kCartA, issued) + "\"}");
  };
  Time cart_now = clock_.Now() - std::chrono::hours(20);
  EXPECT_EQ(post(cart_now - seconds(200)).status, 403);  // old by the cart's clock
  EXPECT_EQ(post(clock_.Now()).status, 403);              // "now" by ours is the cart's future
  auto ok = post(cart_now - seconds(10));
  ASSERT_EQ(ok.status, 202) << ok.body;
  // The command is stamped in the cart's time, so the cart finds it current.
  auto cmd = *wire::ParseCommand(commands_.sent.back().second);
  EXPECT_EQ(cmd.header.issued_at, cart_now - seconds(10));
}

TEST_F(RoutesTest, ATokenAnsweringOurChallengeIsJudgedByOurClockAlone) {
  StartSession();
  std::string sam = Login("sam");
  const std::string path = "/api/v1/sessions/" + kSession.str() + "/override";
  auto post = [&](const std::string& token) {
    return Call("POST", path, sam, R"({"action":"pause","proximity_token":")" + token + "\"}");
  };
  auto challenge = [&](const std::string& who, const CartId& cart) {
    return Call("POST", "/api/v1/carts/" + cart.str() + "/proximity-challenge", who);
  };
  auto c = challenge(sam, kCartA);
  ASSERT_EQ(c.status, 201) << c.body;
  std::string nonce = c.doc["challenge"].GetString();
  EXPECT_TRUE(wire::IsProximityNonce(nonce)) << nonce;
  EXPECT_STREQ(c.doc["cart_id"].GetString(), kCartA.str().c_str());
  // The cart's clock is a day off and nothing has told us so: the challenge vouches for freshness.
  Time cart_clock = clock_.Now() - std::chrono::hours(26);
  auto ok = post(ProximityToken(kCartA, cart_clock, nonce));
  ASSERT_EQ(ok.status, 202) << ok.body;
  auto cmd = *wire::ParseCommand(commands_.sent.back().second);
  EXPECT_EQ(cmd.header.issued_at, cart_clock);  // current to the cart when it arrives
  auto again = post(ProximityToken(kCartA, cart_clock, nonce));
  EXPECT_EQ(again.status, 403);
  EXPECT_NE(again.body.find("already used"), std::string::npos) << again.body;
  // A challenge is for one cart, in the caller's store, for those who may override.
  EXPECT_EQ(challenge(sam, kCartB).status, 403);
  EXPECT_EQ(challenge(Login("ann"), kCartA).status, 403);
  auto for_b = challenge(Login("olga"), kCartB);
  ASSERT_EQ(for_b.status, 201);
  auto crossed = post(ProximityToken(kCartA, clock_.Now(), for_b.doc["challenge"].GetString()));
  EXPECT_EQ(crossed.status, 403);
  EXPECT_NE(crossed.body.find("challenge issued for CART-000002"), std::string::npos) << crossed.body;
  // Once the challenge has expired the token stands on the cart's clock alone, and fails there.
  std::string late = challenge(sam, kCartA).doc["challenge"].GetString();
  clock_.Advance(seconds(121));
  auto expired = post(ProximityToken(kCartA, cart_clock, late));
  EXPECT_EQ(expired.status, 403);
  EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;
}

TEST_F(RoutesTest, MaintenanceIsRecordedAndTheCartIsTold) {
  std::string sam = Login("sam");
  auto r = Call("PUT", "/api/v1/carts/CART-000001/maintenance", sam, R"({"in_maintenance":true,"reason":"wobbly wheel"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(r.doc["state"].GetString(), "maintenance");
  EXPECT_STREQ(r.doc["maintenance"]["reason"].GetString(), "wobbly wheel");
  EXPECT_TRUE(r.doc["cart_notified"].GetBool());
  ASSERT_EQ(commands_.sent.size(), 1u);
  auto cmd = *wire::ParseCommand(commands_.sent[0].second);
  EXPECT_EQ(cmd.header.kind, wire::CommandKind::kMaintenance);
  EXPECT_TRUE(*wire::GetBool(cmd.doc, "enabled"));
  EXPECT_TRUE(entities_->GetMaintenance(kCartA)->in_maintenance);
  auto back = Call("PUT", "/api/v1/carts/CART-000001/maintenance", sam, R"({"in_maintenance":false})");
  EXPECT_STRNE(back.doc["state"].GetString(), "maintenance");
}

TEST_F(RoutesTest, LossPreventionListsOpenFlaggedSessions) {
  StartSession();
  store::ScanFact scan{.session = kSession, .cart = kCartA, .store = kA, .seq = 2, .ts = kT0, .sku = "4001", .qty = 1,
                       .price_cents = 100, .weight_delta_g = 900, .expected_weight_g = 500, .weight_mismatch = true};
  ASSERT_TRUE(entities_->RecordScan(scan).ok());
  std::string sam = Login("sam");
  auto r = Call("GET", "/api/v1/stores/STORE-001/loss-prevention", sam);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.doc["items"].Size(), 1u);
  EXPECT_STREQ(r.doc["items"][0]["id"].GetString(), kSession.str().c_str());
  EXPECT_EQ(r.doc["items"][0]["weight_mismatches"].GetInt(), 1);
  auto session = Call("GET", "/api/v1/sessions/" + kSession.str(), sam);
  EXPECT_TRUE(session.doc["customer"].IsNull());  // a guest
  EXPECT_TRUE(session.doc["scans"][0]["weight_mismatch"].GetBool());
}

TEST_F(RoutesTest, IngestCountersAreForOpsAndSayWhenThereIsNoPipeline) {
  std::string olga = Login("olga");
  EXPECT_EQ(Call("GET", "/api/v1/ingest/stats", olga).status, 503);
  services_->ingest_counters = [] {
    return IngestCounters{.received = 12, .accepted = 9, .duplicates = 1, .rejected = 2,
                          .rejected_by_reason = {{wire::RejectReason::kBadSignature, 2}}};
  };
  auto r = Call("GET", "/api/v1/ingest/stats", olga);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.doc["received"].GetInt64(), 12);
  EXPECT_EQ(r.doc["accepted"].GetInt64(), 9);
  EXPECT_EQ(r.doc["duplicates"].GetInt64(), 1);
  EXPECT_EQ(r.doc["rejected_by_reason"]["bad_signature"].GetInt64(), 2);
  EXPECT_EQ(Call("GET", "/api/v1/ingest/stats", Login("sam")).status, 403);
}

TEST_F(RoutesTest, MetricsAreForOpsAndTheScrapeTokenOnly) {
  metrics::Registry registry;
  registry.AddCounter("cw_test_total", "a counter").With().Inc(5);
  std::string olga = Login("olga");
  EXPECT_EQ(Call("GET", "/metrics", olga).status, 503);  // no registry yet
  services_->metrics = &registry;
  services_->scrape_token = std::string(40, 's');
  auto ops = Call("GET", "/metrics", olga);
  ASSERT_EQ(ops.status, 200);
  EXPECT_NE(ops.body.find("cw_test_total 5\n"), std::string::npos) << ops.body;
  EXPECT_EQ(Call("GET", "/metrics", services_->scrape_token).status, 200);
  EXPECT_EQ(Call("GET", "/metrics", std::string(40, 't')).status, 401);  // a wrong token is no user either
  EXPECT_EQ(Call("GET", "/metrics").status, 401);
  EXPECT_EQ(Call("GET", "/metrics", Login("sam")).status, 403);
  EXPECT_EQ(Call("GET", "/metrics", Login("ann")).status, 403);
  // Audited, the token under "scraper".
  EXPECT_FALSE(AuditOf("scraper").empty());
  EXPECT_EQ(AuditOf("sam").back().outcome, "denied 403");
}

TEST_F(RoutesTest, CartStatsShowCountsAndLatencyPercentilesForTheWindow) {
  std::string sam = Login("sam");
  const std::string path = "/api/v1/carts/" + kCartA.str() + "/stats";
  EXPECT_EQ(Call("GET", path, sam).status, 503);
  metrics::CartStatsTable table;
  services_->cart_stats = &table;
  auto empty = Call("GET", path, sam);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.doc["messages"].GetInt64(), 0);
  EXPECT_TRUE(empty.doc["last_seen_at"].IsNull());
  EXPECT_TRUE(empty.doc["latency"]["p99_ms"].IsNull());
  for (int i = 1; i <= 100; ++i) {
    table.RecordStored(kCartA, clock_.Now() - seconds(i), std::chrono::milliseconds(i), false, i == 100 ? "SENSOR_FAIL" : "");
  }
  table.RecordRejected(kCartA, clock_.Now(), "schema_violation");
  auto r = Call("GET", path, sam, "", {{"window", "30m"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.doc["window_s"].GetInt64(), 1800);
  EXPECT_EQ(r.doc["messages"].GetInt64(), 101);
  EXPECT_EQ(r.doc["rejects"].GetInt64(), 1);
  EXPECT_EQ(r.doc["faults"].GetInt64(), 1);
  EXPECT_EQ(r.doc["latency"]["samples"].GetInt64(), 100);
  EXPECT_NEAR(r.doc["latency"]["p50_ms"].GetDouble(), 50, 0.6);
  EXPECT_NEAR(r.doc["latency"]["p99_ms"].GetDouble(), 99, 1.1);
  EXPECT_EQ(Call("GET", path, sam, "", {{"window", "7m"}}).status, 400);
  // Errors by device (ops): the schema violation and the sensor fault recorded above.
  std::string olga = Login("olga");
  auto errors = Call("GET", "/api/v1/insights/errors", olga, "", {{"window", "1h"}});
  ASSERT_EQ(errors.status, 200) << errors.body;
  EXPECT_EQ(errors.doc["window_s"].GetInt64(), 3600);
  ASSERT_EQ(errors.doc["items"].Size(), 2u);
  EXPECT_STREQ(errors.doc["items"][0]["cart_id"].GetString(), kCartA.str().c_str());
  EXPECT_EQ(errors.doc["items"][0]["count"].GetInt64(), 1);
  std::set<std::string> kinds;
  for (const auto& e : errors.doc["items"].GetArray()) kinds.insert(std::string(e["kind"].GetString()) + ":" + e["code"].GetString());
  EXPECT_EQ(kinds, (std::set<std::string>{"fault:SENSOR_FAIL", "reject:schema_violation"}));
  EXPECT_EQ(Call("GET", "/api/v1/insights/errors", sam).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/insights/errors", olga, "", {{"window", "2h"}}).status, 400);
  EXPECT_EQ(Call("GET", path, sam, "", {{"window", "2h"}}).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/carts/" + kCartB.str() + "/stats", sam).status, 403);
}

TEST_F(RoutesTest, ConnectivityShowsTheMonitorsJudgementAndItsHistoryPagedNewestFirst) {
  std::string sam = Login("sam");
  const std::string path = "/api/v1/carts/" + kCartA.str() + "/connectivity";
  auto never = Call("GET", path, sam);
  ASSERT_EQ(never.status, 200) << never.body;
  EXPECT_STREQ(never.doc["state"].GetString(), "offline");
  EXPECT_STREQ(never.doc["cause"].GetString(), "never_seen");
  std::vector<store::ConnectivityTransition> ts = {
      {kCartA, store::LinkState::kOffline, store::LinkState::kOnline, kT0 + seconds(1), "birth", kT0},
      {kCartA, store::LinkState::kOnline, store::LinkState::kStale, kT0 + seconds(200), "silence", std::nullopt},
      {kCartA, store::LinkState::kStale, store::LinkState::kOffline, kT0 + seconds(300), "will", kT0},
  };
  ASSERT_TRUE(entities_->RecordConnectivity(ts).ok());
  auto page = Call("GET", path, sam, "", {{"limit", "2"}});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_STREQ(page.doc["state"].GetString(), "offline");
  EXPECT_STREQ(page.doc["cause"].GetString(), "will");
  EXPECT_STREQ(page.doc["connection_started_at"].GetString(), "2026-11-22T10:00:00.000Z");
  ASSERT_EQ(page.doc["transitions"].Size(), 2u);
  EXPECT_STREQ(page.doc["transitions"][0]["to"].GetString(), "offline");
  EXPECT_STREQ(page.doc["transitions"][1]["cause"].GetString(), "silence");
  auto rest = Call("GET", path, sam, "", {{"limit", "2"}, {"cursor", page.doc["next_cursor"].GetString()}});
  ASSERT_EQ(rest.status, 200) << rest.body;
  ASSERT_EQ(rest.doc["transitions"].Size(), 1u);
  EXPECT_STREQ(rest.doc["transitions"][0]["cause"].GetString(), "birth");
  EXPECT_TRUE(rest.doc["next_cursor"].IsNull());
  // The locator follows the monitor: offline by the will at once, though last seen a moment ago.
  ASSERT_TRUE(entities_->RecordCartActivity({.cart = kCartA, .last_seen_at = clock_.Now()}).ok());
  auto cart = Call("GET", "/api/v1/carts/" + kCartA.str(), sam);
  EXPECT_STREQ(cart.doc["state"].GetString(), "offline");
  EXPECT_STREQ(cart.doc["connectivity"]["cause"].GetString(), "will");
  EXPECT_EQ(Call("GET", "/api/v1/carts/" + kCartB.str() + "/connectivity", sam).status, 403);
  EXPECT_EQ(Call("GET", path, sam, "", {{"cursor", "bm90LWEtdGltZQ"}}).status, 400);
}

TEST_F(RoutesTest, AlarmsListWhatIsActiveAndTheHistoryForOpsOnly) {
  std::string olga = Login("olga");
  store::AlarmEvent fired{"auth_failures", "", true, store::AlarmSeverity::kPage, kT0, 134, 100, "134 failures"};
  store::AlarmEvent resolved = fired;
  resolved.firing = false;
  resolved.at = kT0 + seconds(400);
  ASSERT_TRUE(entities_->RecordAlarmEvent(fired).ok());
  ASSERT_TRUE(entities_->RecordAlarmEvent(resolved).ok());
  services_->active_alarms = [] {
    return std::vector<monitor::AlarmStatus>{{"cart_latency", "CART-000001", monitor::AlarmStatus::State::kPending,
                                              store::AlarmSeverity::kNotify, kT0, 0.9, 0.16, "p99 0.900 s"}};
  };
  auto r = Call("GET", "/api/v1/alarms", olga);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.doc["active"].Size(), 1u);
  EXPECT_STREQ(r.doc["active"][0]["state"].GetString(), "pending");
  EXPECT_STREQ(r.doc["active"][0]["subject"].GetString(), "CART-000001");
  EXPECT_STREQ(r.doc["active"][0]["severity"].GetString(), "notify");
  ASSERT_EQ(r.doc["history"].Size(), 2u);
  EXPECT_STREQ(r.doc["history"][0]["state"].GetString(), "resolved");
  EXPECT_TRUE(r.doc["history"][0]["subject"].IsNull());
  EXPECT_EQ(r.doc["history"][1]["value"].GetDouble(), 134);
  EXPECT_EQ(Call("GET", "/api/v1/alarms", Login("sam")).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/alarms", Login("ann")).status, 403);
}

TEST_F(RoutesTest, FleetDiffServesTheMonitorsNewestComparison) {
  std::string olga = Login("olga");
  EXPECT_EQ(Call("GET", "/api/v1/fleet/diff", olga).status, 503);
  monitor::FleetDiff d;
  d.at = kT0;
  d.carts = 2;
  d.expected = 1;
  d.missing.push_back({kCartA, kA, store::LinkState::kOffline, "will", kT0 - seconds(30)});
  d.closed_stores.push_back(kB);
  services_->fleet_diff = [d] { return Result<monitor::FleetDiff>(d); };
  auto r = Call("GET", "/api/v1/fleet/diff", olga);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.doc["expected"].GetInt64(), 1);
  EXPECT_EQ(r.doc["connected"].GetInt64(), 0);
  ASSERT_EQ(r.doc["missing"].Size(), 1u);
  EXPECT_STREQ(r.doc["missing"][0]["cart_id"].GetString(), kCartA.str().c_str());
  EXPECT_STREQ(r.doc["missing"][0]["cause"].GetString(), "will");
  EXPECT_STREQ(r.doc["closed_stores"][0].GetString(), kB.str().c_str());
  EXPECT_EQ(Call("GET", "/api/v1/fleet/diff", Login("sam")).status, 403);
}

TEST_F(RoutesTest, FleetHealthChartsTheSampledMetrics) {
  std::string olga = Login("olga");
  EXPECT_EQ(Call("GET", "/api/v1/fleet/health", olga).status, 503);
  metrics::Registry registry;
  auto& connected = registry.AddGauge("cw_carts_connected", "c").With();
  auto& received = registry.AddCounter("cw_ingest_received_total", "r", {"type"});
  auto& rejects = registry.AddCounter("cw_ingest_rejects_total", "x", {"reason"});
  metrics::History history;
  for (int s = 0; s <= 300; s += 10) {  // five minutes: 6 scans and a reject every 10 s
    connected.Set(s < 200 ? 10 : 7);
    if (s > 0) {
      received.With({"scan"}).Inc(6);
      rejects.With({"bad_signature"}).Inc(1);
    }
    history.Record(clock_.Now() - seconds(300 - s), registry.Snapshot());
  }
  services_->history = &history;
  auto r = Call("GET", "/api/v1/fleet/health", olga, "", {{"window", "5m"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.doc["step_s"].GetInt64(), 60);
  ASSERT_EQ(r.doc["times"].Size(), 5u);
  const auto& fleet = r.doc["fleet"];
  EXPECT_EQ(fleet["connected"][0].GetDouble(), 10);
  EXPECT_EQ(fleet["connected"][4].GetDouble(), 7);
  EXPECT_EQ(fleet["messages_per_min"]["scan"][4].GetDouble(), 36);
  EXPECT_NEAR(fleet["error_rate"][4].GetDouble(), 1.0 / 6, 1e-9);
  EXPECT_TRUE(fleet["latency_p99_s"][4].IsNull()) << "no latency histogram sampled";
  EXPECT_EQ(r.doc["pipeline"]["rejects_per_min"]["bad_signature"][4].GetDouble(), 6);
  EXPECT_EQ(Call("GET", "/api/v1/fleet/health", olga, "", {{"step", "5s"}}).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/fleet/health", Login("sam")).status, 403);
}

TEST_F(RoutesTest, LoginsAreAuditedAndThrottledWithRetryAfter) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Call("POST", "/api/v1/auth/token", "", R"({"username":"sam","password":"wrong"})").status, 401);
  }
  auto locked = Call("POST", "/api/v1/auth/token", "", R"({"username":"sam","password":"sam-pw"})");
  EXPECT_EQ(locked.status, 429);
  bool retry_after = false;
  for (const auto& [k, v] : locked.headers) retry_after |= k == "Retry-After" && std::stoi(v) > 0;
  EXPECT_TRUE(retry_after);
  auto trail = AuditOf("sam");
  ASSERT_EQ(trail.size(), 6u);
  EXPECT_EQ(trail[0].action, "POST /api/v1/auth/token");
  EXPECT_EQ(trail[0].outcome, "denied 401");
  EXPECT_EQ(trail[5].outcome, "throttled 429");
  EXPECT_EQ(trail[0].purpose, "from 10.0.0.7");
}

TEST_F(RoutesTest, TheOpenApiDocumentNamesEveryRouteAndNothingElse) {
  rapidjson::Document doc;
  std::string_view text = OpenApiDocument();
  doc.Parse(text.data(), text.size());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["openapi"].GetString(), "3.0.3");
  std::set<std::string> documented, routed;
  for (const auto& path : doc["paths"].GetObject()) {
    for (const auto& op : path.value.GetObject()) {
      std::string method = op.name.GetString();
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      // OpenAPI names path parameters like the router does: {cart}, {store}, {session}.
      documented.insert(method + " " + path.name.GetString());
      EXPECT_TRUE(op.value.HasMember("responses")) << path.name.GetString();
    }
  }
  for (const auto& r : router_->routes()) routed.insert(r.method + " " + r.pattern);
  for (const auto& r : routed) EXPECT_TRUE(documented.count(r)) << r << " is routed but missing from openapi.json";
  for (const auto& d : documented) EXPECT_TRUE(routed.count(d)) << d << " is documented but not routed";
  // And it is served.
  auto served = Call("GET", "/api/v1/openapi.json");
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body, std::string(text));
}

}  // namespace
}  // namespace cw::api
