// The projection: a day's events of one cart, applied in order once, and then shuffled and
// duplicated in random batches (as redeliveries), must give the same sessions, scans and cart
// state; weight checks and reconciliation flag what they should; receipts are signed and
// written once.
#include "retail/projector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/time_format.h"
#include "crypto/key_store.h"
#include "retail/receipts.h"
#include "store/registry.h"
#include "store/tests/conformance.h"
#include "testing/postgres_server.h"
#include "wire/json.h"

namespace cw::retail {
namespace {

using std::chrono::seconds;

const StoreId kStore = *StoreId::Parse("STORE-001");
const CartId kCart = CartId::FromNumber(7);
const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
const std::string kS1 = "11111111-1111-4111-8111-111111111111";  // paid, one weight mismatch
const std::string kS2 = "22222222-2222-4222-8222-222222222222";  // abandoned at the battery cliff
const std::string kS3 = "33333333-3333-4333-8333-333333333333";  // totals disagree with the scans

struct Event {
  store::TelemetryEvent meta;
  std::shared_ptr<rapidjson::Document> doc;
};

class EventStream {
 public:
  Event Add(wire::EventType type, const std::function<void(wire::JsonBuilder&)>& fields) {
    ++seq_;
    wire::JsonBuilder b;
    b.Field("v", 1).Field("type", std::string(wire::Name(type))).Field("cart_id", kCart.str()).Field("seq", seq_)
        .Field("ts", FormatTimeMillis(kT0 + seconds(seq_))).Field("fw", "1.4.2");
    fields(b);
    auto doc = std::make_shared<rapidjson::Document>();
    std::string json = b.Finish();
    doc->Parse(json.c_str());
    store::TelemetryEvent meta{.cart = kCart, .store = kStore};
    meta.seq = seq_;
    meta.ts = kT0 + seconds(seq_);
    meta.received_at = kT0 + seconds(seq_) + std::chrono::milliseconds(40);
    meta.type = type;
    meta.body = json;
    events_.push_back({meta, doc});
    return events_.back();
  }
  void Start(const std::string& s) {
    Add(wire::EventType::kSessionStart, [&](auto& b) { b.Field("session_id", s); });
  }
  void Scan(const std::string& s, const std::string& sku, int qty, int price, int delta) {
    Add(wire::EventType::kScan, [&](auto& b) {
      b.Field("session_id", s).Field("sku", sku).Field("symbology", "ean13").Field("qty", qty).Field("price_cents", price)
          .Field("weight_delta_g", delta).Null("expected_weight_g");
    });
  }
  void End(const std::string& s, const std::string& status, int count, int total) {
    Add(wire::EventType::kSessionEnd, [&](auto& b) {
      b.Field("session_id", s).Field("status", status).Field("item_count", count).Field("total_cents", total);
      auto& w = b.Key("items").writer();
      w.StartArray();
      w.EndArray();
      if (status == "complete") {
        b.Key("payment").writer().StartObject();
        w.Key("auth_token"); w.String("AUTH-1");
        w.Key("amount_cents"); w.Int(total);
        w.EndObject();
      }
    });
  }
  void Health(const std::string& state, int battery) {
    Add(wire::EventType::kHealth, [&](auto& b) {
      b.Field("state", state).Field("battery_pct", battery).Field("battery_mv", 3600).Field("charging", false)
          .Field("link", "wifi").Field("rssi_dbm", -55).Field("scanner_temp_c", 30).Field("weight_drift_g", 0);
      auto& w = b.Key("location").writer();
      w.StartObject();
      w.Key("x_m"); w.Double(3.5);
      w.Key("y_m"); w.Double(7.25);
      w.Key("zone"); w.String("produce");
      w.EndObject();
      b.Field("uptime_s", 100).Field("buffered", 0);
    });
  }
  void Fault(const std::string& s, const std::string& code) {
    Add(wire::EventType::kFault, [&](auto& b) {
      b.Field("code", code).Field("severity", "critical").Field("detail", "x").Field("session_id", s);
    });
  }
  const std::vector<Event>& events() const { return events_; }

 private:
  uint64_t seq_ = 0;
  std::vector<Event> events_;
};

EventStream ADay() {
  EventStream s;
  s.Health("idle", 95);
  s.Start(kS1);
  s.Scan(kS1, "4001", 2, 119, 2060);  // milk ×2: 2 × 1030 g, exact
  s.Scan(kS1, "4003", 1, 299, 1200);  // apples: 1000 g expected, 200 g off > max(20, 50) → flagged
  s.Scan(kS1, "9999", 1, 50, 77);     // unknown to the catalog and the cart: not checked
  s.Health("paused", 90);
  s.Health("active", 90);
  s.End(kS1, "complete", 4, 2 * 119 + 299 + 50);
  s.Start(kS2);
  s.Scan(kS2, "4002", 1, 249, 400);  // bread: no expected weight in the catalog
  s.Fault(kS2, "BATTERY_CLIFF");
  s.End(kS2, "abandoned", 1, 249);
  s.Start(kS3);
  s.Scan(kS3, "4001", 1, 119, 1040);  // within 20 g
  s.End(kS3, "complete", 2, 500);     // claims more than was scanned
  s.Health("idle", 85);
  return s;
}

// The projection's order tolerance rests on the store's Record* semantics: check it on both engines.
const store::Backend kBackends[] = {
    {"Sqlite", [](const std::string&) { return std::string("sqlite::memory:"); }, false},
    {"Postgres", [](const std::string&) { return cw::testing::FreshPostgresUri(); }},
};

class ProjectorTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  std::unique_ptr<store::EntityStore> FreshStore() {
    auto opened = store::Registry::WithBuiltinBackends().OpenEntity(GetParam().uri(""));
    EXPECT_TRUE(opened.ok()) << opened.error().ToString();
    auto e = std::move(opened).value();
    EXPECT_TRUE(e->AddStore({kStore, "Markt", "freshco", store::Region::kEu, "Europe/Berlin", kT0}).ok());
    EXPECT_TRUE(e->AddCart({kCart, kStore, "SN7", "fp7", "pub", "cert", store::CartStatus::kActive, kT0}).ok());
    std::vector<store::ItemRecord> catalog = {{kStore, "4001", "Milk 1l", 119, 1030, "dairy"},
                                              {kStore, "4002", "Bread", 249, std::nullopt, "bakery"},
                                              {kStore, "4003", "Apples 1kg", 299, 1000, "produce"}};
    EXPECT_TRUE(e->ReplaceCatalog(kStore, catalog).ok());
    return e;
  }

  // Everything a reader of the entity store can see about the cart's day, as one string.
  static std::string Snapshot(store::EntityStore& e) {
    std::string out;
    for (const auto& id : {kS1, kS2, kS3}) {
      auto s = e.GetSession(*SessionId::Parse(id));
      if (!s.ok()) {
        out += id + " missing\n";
        continue;
      }
      out += id + " " + std::string(store::Name(s->status)) + " start=" + FormatTimeMillis(s->started_at) +
             " end=" + (s->ended_at ? FormatTimeMillis(*s->ended_at) : "-") + " n=" + std::to_string(s->scan_count) +
             " total=" + std::to_string(s->scan_total_cents) + " weight=" + std::to_string(s->weight_mismatches) +
             " mismatch=" + std::to_string(s->totals_mismatch) + " paid=" + (s->payment ? s->payment->auth_token : "-");
      for (const auto& f : s->fault_codes) out += " fault=" + f;
      out += "\n";
      auto scans = *e.ListScans(s->id);
      for (const auto& scan : scans) {
        out += "  " + std::to_string(scan.seq) + " " + scan.sku + " x" + std::to_string(scan.qty) +
               (scan.weight_mismatch ? " FLAG" : "") + "\n";
      }
    }
    auto state = e.GetCartState(kCart);
    out += state.ok() ? "cart " + state->state + " " + std::to_string(state->battery_pct) + " " + state->location_json
                      : "cart -";
    auto fleet = *e.ListFleet({.store = kStore});
    if (!fleet.empty() && fleet[0].activity) {
      const auto& a = *fleet[0].activity;
      out += " seen=" + FormatTimeMillis(a.last_seen_at) + " fault=" + a.fault_code + "/" + a.fault_severity + "@" +
             (a.fault_at ? FormatTimeMillis(*a.fault_at) : "-");
    }
    return out;
  }
};

TEST_P(ProjectorTest, ADayProjectsToTheExpectedSessions) {
  auto e = FreshStore();
  Projector p(*e);
  EventStream day = ADay();
  for (const auto& ev : day.events()) ASSERT_TRUE(p.Apply(ev.meta, *ev.doc).ok());
  auto s1 = *e->GetSession(*SessionId::Parse(kS1));
  EXPECT_EQ(s1.status, store::SessionStatus::kComplete);
  EXPECT_EQ(s1.scan_count, 4);
  EXPECT_EQ(s1.weight_mismatches, 1);
  EXPECT_FALSE(s1.totals_mismatch);
  ASSERT_TRUE(s1.payment.has_value());
  EXPECT_EQ(s1.payment->amount_cents, 2 * 119 + 299 + 50);
  auto scans = *e->ListScans(s1.id);
  ASSERT_EQ(scans.size(), 3u);
  EXPECT_FALSE(scans[0].weight_mismatch);
  EXPECT_TRUE(scans[1].weight_mismatch);
  EXPECT_EQ(scans[1].expected_weight_g, 1000);
  EXPECT_FALSE(scans[2].expected_weight_g.has_value());
  auto s2 = *e->GetSession(*SessionId::Parse(kS2));
  EXPECT_EQ(s2.status, store::SessionStatus::kAbandoned);
  EXPECT_EQ(s2.fault_codes, std::vector<std::string>{"BATTERY_CLIFF"});
  EXPECT_TRUE(e->GetSession(*SessionId::Parse(kS3))->totals_mismatch);
  EXPECT_EQ(e->ListSessions({.store = kStore, .flagged_only = true})->size(), 2u);  // S1 weight, S3 totals
  auto state = *e->GetCartState(kCart);
  EXPECT_EQ(state.state, "idle");
  EXPECT_EQ(state.battery_pct, 85);
  EXPECT_EQ(state.location_json, R"({"x_m":3.5,"y_m":7.25,"zone":"produce"})");
  EXPECT_EQ(p.stats().applied, 0u);  // Apply is the unbatched path; OnBatch counts
}

TEST_P(ProjectorTest, ShuffledAndDuplicatedBatchesGiveTheSameState) {
  EventStream day = ADay();
  auto reference = FreshStore();
  {
    Projector p(*reference);
    std::vector<ingest::RoutedEvent> in_order;
    for (const auto& ev : day.events()) in_order.push_back({&ev.meta, ev.doc.get(), false});
    ASSERT_TRUE(p.OnBatch(in_order).ok());
  }
  const std::string want = Snapshot(*reference);
  // The cart's activity: the last event's receive time, the one fault of the day.
  EXPECT_NE(want.find(" seen=" + FormatTimeMillis(day.events().back().meta.received_at) + " fault=BATTERY_CLIFF/critical@"),
            std::string::npos) << want;
  std::mt19937 rng(20261122);
  for (int round = 0; round < 12; ++round) {
    auto e = FreshStore();
    Projector p(*e);
    std::vector<ingest::RoutedEvent> stream;
    for (const auto& ev : day.events()) {
      int copies = 1 + static_cast<int>(rng() % 3);  // at-least-once: some come twice or three times
      for (int c = 0; c < copies; ++c) stream.push_back({&ev.meta, ev.doc.get(), c > 0});
    }
    std::shuffle(stream.begin(), stream.end(), rng);
    for (size_t at = 0; at < stream.size();) {
      size_t n = std::min<size_t>(1 + rng() % 8, stream.size() - at);
      ASSERT_TRUE(p.OnBatch(std::span(stream).subspan(at, n)).ok());
      at += n;
    }
    EXPECT_EQ(Snapshot(*e), want) << "round " << round;
    EXPECT_EQ(p.stats().applied, stream.size());
    EXPECT_EQ(p.stats().skipped, 0u);
  }
}

TEST_P(ProjectorTest, ASessionIdReusedByAnotherCartIsSkippedNotFatal) {
  auto e = FreshStore();
  CartId other = CartId::FromNumber(8);
  ASSERT_TRUE(e->AddCart({other, kStore, "SN8", "fp8", "pub", "cert", store::CartStatus::kActive, kT0}).ok());
  EventStream day = ADay();
  Projector p(*e);
  std::vector<ingest::RoutedEvent> batch;
  for (const auto& ev : day.events()) batch.push_back({&ev.meta, ev.doc.get(), false});
  Event forged = day.events()[2];  // a scan of S1…
  forged.meta.cart = other;        // …claimed by cart 8
  forged.meta.seq = 1000;
  batch.push_back({&forged.meta, forged.doc.get(), false});
  ASSERT_TRUE(p.OnBatch(batch).ok());
  EXPECT_EQ(p.stats().skipped, 1u);
  EXPECT_EQ(p.stats().applied, day.events().size());
  EXPECT_EQ(e->GetSession(*SessionId::Parse(kS1))->scan_count, 4);
}

TEST(WeightCheck, ToleranceIsTheLargerOf20GramsAnd5Percent) {
  EXPECT_FALSE(WeightMismatch(120, 100, 1));   // 20 g off a 100 g item: at the 20 g floor
  EXPECT_TRUE(WeightMismatch(121, 100, 1));
  EXPECT_FALSE(WeightMismatch(2100, 1000, 2));  // 100 g off 2 kg: 5%
  EXPECT_TRUE(WeightMismatch(2101, 1000, 2));
  EXPECT_TRUE(WeightMismatch(-1000, 1000, 1));  // taken out instead of put in
  EXPECT_FALSE(WeightMismatch(5000, std::nullopt, 1));
}

TEST_P(ProjectorTest, CompletedSessionsGetOneSignedReceipt) {
  auto e = FreshStore();
  auto blobs = *store::Registry::WithBuiltinBackends().OpenBlobs("memory:");
  auto key = *crypto::SoftKeyStore::Generate();
  Projector p(*e);
  ReceiptWriter receipts(*e, *blobs, *key);
  EventStream day = ADay();
  std::vector<ingest::RoutedEvent> batch;
  for (const auto& ev : day.events()) batch.push_back({&ev.meta, ev.doc.get(), false});
  ASSERT_TRUE(p.OnBatch(batch).ok());
  ASSERT_TRUE(receipts.OnBatch(batch).ok());
  ASSERT_TRUE(receipts.OnBatch(batch).ok());  // redelivered: left alone
  auto listed = *blobs->List("receipts/");
  ASSERT_EQ(listed.size(), 2u);  // S1 and S3 completed; S2 was abandoned
  std::string k1 = ReceiptKey(kStore, *SessionId::Parse(kS1), kT0 + seconds(8));
  EXPECT_EQ(k1, "receipts/STORE-001/2026/11/22/" + kS1 + ".json");
  auto blob = *blobs->Get(k1);
  auto payload = VerifyReceipt(blob, key->public_key());
  ASSERT_TRUE(payload.ok()) << payload.error().ToString();
  rapidjson::Document d;
  d.Parse(payload->c_str());
  EXPECT_EQ(wire::GetString(d, "store_id"), "STORE-001");
  EXPECT_EQ(wire::GetInt(d, "total_cents"), 2 * 119 + 299 + 50);
  EXPECT_TRUE(d["account"].IsNull());  // a guest
  EXPECT_EQ(wire::GetString(d["payment"], "auth_token"), "AUTH-1");
  std::string tampered = blob;
  tampered.replace(tampered.find("\\\"total_cents\\\":"), 16, "\\\"total_cents\\\":1");
  EXPECT_FALSE(VerifyReceipt(tampered, key->public_key()).ok());
  auto other = *crypto::SoftKeyStore::Generate();
  EXPECT_EQ(VerifyReceipt(blob, other->public_key()).error().code(), Code::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Backends, ProjectorTest, ::testing::ValuesIn(kBackends), store::BackendName);

}  // namespace
}  // namespace cw::retail
