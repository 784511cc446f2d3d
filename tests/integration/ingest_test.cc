// The ingest pipeline against the real managed broker: every reject reason crafted by a
// provisioned cart comes back on that cart's errors topic, signed by the cloud, and is absent from
// telemetry; valid traffic from the simulator is stored exactly once.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "core/files.h"
#include "core/time_format.h"
#include "crypto/hash.h"
#include "crypto/key_store.h"
#include "ingest/service.h"
#include "pki/pki.h"
#include "sim/fleet.h"
#include "store/registry.h"
#include "retail/projector.h"
#include "retail/receipts.h"
#include "testing/harness.h"
#include "wire/envelope.h"
#include "wire/event.h"
#include "wire/examples.h"
#include "wire/notice.h"
#include "wire/topic.h"

namespace cw {
namespace {

using wire::EventType;
using wire::RejectReason;

// The pipeline in this process, on the fleet's broker, registry and PKI.
class IngestRig {
 public:
  explicit IngestRig(testing::BrokerFleet& fleet, Duration refresh = std::chrono::seconds(30)) : layout_(fleet.data_dir()) {
    entities_ = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite:" + fleet.data_dir() + "/entity.db")).value();
    telemetry_ = std::move(store::Registry::WithBuiltinBackends().OpenTelemetry("rocksdb:" + fleet.data_dir() + "/telemetry")).value();
    notice_key_ = std::move(crypto::SoftKeyStore::OpenFile(layout_.command_key)).value();
    directory_ = std::make_unique<ingest::CartDirectory>(*entities_, Clock::System(), refresh);
    ingest::ServiceOptions o;
    o.broker = fleet.IngestOptions();
    o.broker.client_id = "cartwright-ingest";
    o.connections = 4;
    service_ = std::make_unique<ingest::Service>(o, *directory_, *telemetry_, *notice_key_, Clock::System());
    blobs_ = std::move(store::Registry::WithBuiltinBackends().OpenBlobs("memory:")).value();
    projector_ = std::make_unique<retail::Projector>(*entities_);
    receipts_ = std::make_unique<retail::ReceiptWriter>(*entities_, *blobs_, *notice_key_);
    for (auto type : retail::Projector::Types()) service_->AddSink(type, projector_.get());
    service_->AddSink(EventType::kSessionEnd, receipts_.get());
    Status st = service_->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  ~IngestRig() { service_->Stop(); }

  store::EntityStore& entities() { return *entities_; }
  store::TelemetryStore& telemetry() { return *telemetry_; }
  ingest::Service& service() { return *service_; }
  store::BlobStore& blobs() { return *blobs_; }
  const pki::Layout& layout() const { return layout_; }

 private:
  pki::Layout layout_;
  std::unique_ptr<store::EntityStore> entities_;
  std::unique_ptr<store::TelemetryStore> telemetry_;
  std::unique_ptr<crypto::SoftKeyStore> notice_key_;
  std::unique_ptr<ingest::CartDirectory> directory_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<retail::Projector> projector_;
  std::unique_ptr<retail::ReceiptWriter> receipts_;
  std::unique_ptr<ingest::Service> service_;  // last: stopped before the sinks go
};

// A provisioned cart speaking for itself: its MQTT session, its key, and what comes back on its
// errors topic.
class CraftingCart {
 public:
  CraftingCart(testing::BrokerFleet& fleet, const pki::ProvisionedCart& cart, const std::string& cloud_pub)
      : id_(cart.id), key_(std::move(crypto::SoftKeyStore::OpenFile(cart.dir + "/device.key")).value()),
        cloud_(std::move(crypto::PublicKey::FromPem(cloud_pub)).value()) {
    client_ = std::move(mqtt::Client::Create(fleet.CartOptions(id_))).value();
    client_->SetMessageHandler([this](const mqtt::Message& m) {
      std::lock_guard lock(mu_);
      notices_.push_back(m.payload);
      cv_.notify_all();
    });
    EXPECT_TRUE(client_->Connect().ok());
    EXPECT_TRUE(client_->Subscribe(wire::ErrorsTopic(id_), 1).ok());
  }

  std::string Sign(const std::string& json) { return wire::JoinEnvelope(json, *key_->Sign(json)); }
  void Publish(EventType type, const std::string& payload) { Publish(wire::EventTopic(id_, type), payload); }
  void Publish(const std::string& topic, const std::string& payload) {
    ASSERT_TRUE(client_->Publish(topic, payload, 1).ok());
    ASSERT_TRUE(client_->WaitForPublishes().ok());
  }

  // The next reject notice, verified against the cloud key and parsed.
  std::optional<wire::RejectNotice> NextNotice() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return next_ < notices_.size(); })) return std::nullopt;
    std::string payload = notices_[next_++];
    auto env = wire::SplitEnvelope(payload);
    EXPECT_TRUE(env.ok());
    if (!env.ok()) return std::nullopt;
    EXPECT_TRUE(cloud_.Verify(env->json, env->signature)) << "reject notice not signed by the cloud key";
    auto notice = wire::ParseRejectNotice(env->json);
    EXPECT_TRUE(notice.ok());
    if (!notice.ok()) return std::nullopt;
    return *notice;
  }

  const CartId& id() const { return id_; }

 private:
  CartId id_;
  std::unique_ptr<crypto::SoftKeyStore> key_;
  crypto::PublicKey cloud_;
  std::unique_ptr<mqtt::Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> notices_;
  size_t next_ = 0;
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

// A schema violation for each type: one field out of its range or of the wrong kind.
std::string Violating(EventType t, const CartId& cart, uint64_t seq) {
  std::string json = wire::ExampleEventJson(t, cart, seq);
  switch (t) {
    case EventType::kSessionStart: return Replace(json, wire::kExampleSessionId.data(), "not-a-uuid");
    case EventType::kScan: return Replace(json, "\"qty\":1", "\"qty\":120");
    case EventType::kIdentify: return Replace(json, "\"loyalty\"", "\"fingerprint\"");
    case EventType::kSessionEnd: return Replace(json, "\"complete\"", "\"stolen\"");
    case EventType::kHealth: return Replace(json, "\"battery_pct\":", "\"battery_pct\":1");  // 1xx > 100
    case EventType::kFault: return Replace(json, "\"severity\":\"", "\"severity\":\"x");
    case EventType::kBoot: return Replace(json, "\"slot\":\"", "\"slot\":\"C");
  }
  return json;
}

bool Stored(store::TelemetryStore& t, const CartId& cart, uint64_t seq) {
  auto found = t.FindSeq(cart, seq);
  return found.ok() && found->has_value();
}

class IngestTest : public ::testing::Test {
 protected:
  IngestTest() : fleet_(3) {}
  testing::BrokerFleet fleet_;
};

TEST_F(IngestTest, EveryRejectReasonComesBackSignedAndNothingIsStored) {
  IngestRig rig(fleet_, /*refresh=*/std::chrono::milliseconds(0));
  std::string cloud_pub = *ReadFile(rig.layout().command_pub);
  CraftingCart cart(fleet_, fleet_.carts()[0], cloud_pub);
  CraftingCart other(fleet_, fleet_.carts()[1], cloud_pub);
  uint64_t seq = 100;

  struct Case {
    std::string name;
    RejectReason want;
    std::function<void(uint64_t)> send;
  };
  std::vector<Case> cases = {
      {"malformed envelope", RejectReason::kMalformedEnvelope,
       [&](uint64_t) { cart.Publish(EventType::kScan, "hello"); }},
      {"signed by another cart", RejectReason::kBadSignature,
       [&](uint64_t s) { cart.Publish(EventType::kScan, other.Sign(wire::ExampleEventJson(EventType::kScan, cart.id(), s))); }},
      {"one tampered byte", RejectReason::kBadSignature,
       [&](uint64_t s) {
         std::string p = cart.Sign(wire::ExampleEventJson(EventType::kScan, cart.id(), s));
         p[p.find("249")] = '9';
         cart.Publish(EventType::kScan, p);
       }},
      {"payload of another type", RejectReason::kTopicMismatch,
       [&](uint64_t s) { cart.Publish(EventType::kScan, cart.Sign(wire::ExampleEventJson(EventType::kHealth, cart.id(), s))); }},
      {"payload naming another cart", RejectReason::kTopicMismatch,
       [&](uint64_t s) { cart.Publish(EventType::kScan, cart.Sign(wire::ExampleEventJson(EventType::kScan, other.id(), s))); }},
      {"oversize", RejectReason::kOversize,
       [&](uint64_t) { cart.Publish(EventType::kScan, std::string(5000, '{')); }},
      {"25 h in the future", RejectReason::kClockSkew,
       [&](uint64_t s) {
         std::string future = FormatTimeMillis(Clock::System().Now() + std::chrono::hours(25));
         cart.Publish(EventType::kScan, cart.Sign(Replace(wire::ExampleEventJson(EventType::kScan, cart.id(), s),
                                                          "2026-11-22T10:15:30.123Z", future)));
       }},
  };
  for (EventType t : wire::kAllEventTypes) {
    cases.push_back({"schema violation in " + std::string(wire::Name(t)), RejectReason::kSchemaViolation,
                     [&, t](uint64_t s) { cart.Publish(t, cart.Sign(Violating(t, cart.id(), s))); }});
  }
  for (const auto& c : cases) {
    uint64_t s = ++seq;
    c.send(s);
    auto notice = cart.NextNotice();
    ASSERT_TRUE(notice.has_value()) << c.name << ": no reject notice";
    EXPECT_EQ(notice->reason, c.want) << c.name << ": " << notice->detail;
    EXPECT_EQ(notice->cart, cart.id());
    EXPECT_FALSE(notice->detail.empty());
    EXPECT_FALSE(Stored(rig.telemetry(), cart.id(), s)) << c.name;
  }

  // seq_conflict: the same seq again with other bytes; the first copy stays.
  std::string first = cart.Sign(wire::ExampleEventJson(EventType::kScan, cart.id(), 500));
  cart.Publish(EventType::kScan, first);
  // (Sent one after the other: copies in flight together may be taken in either order.)
  for (int i = 0; i < 250 && !Stored(rig.telemetry(), cart.id(), 500); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cart.Publish(EventType::kScan, cart.Sign(Replace(wire::ExampleEventJson(EventType::kScan, cart.id(), 500), "\"qty\":1", "\"qty\":2")));
  auto conflict = cart.NextNotice();
  ASSERT_TRUE(conflict.has_value());
  EXPECT_EQ(conflict->reason, RejectReason::kSeqConflict);
  EXPECT_EQ(conflict->seq, 500u);
  auto stored = rig.telemetry().NewestForCart(cart.id(), 10, "");
  ASSERT_EQ(stored->items.size(), 1u);
  EXPECT_EQ(stored->items[0].body, first);
  // An identical redelivery is not a reject: counted as a duplicate.
  cart.Publish(EventType::kScan, first);
  for (int i = 0; i < 500 && rig.service().stats().duplicates == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(rig.service().stats().duplicates, 1u);

  // revoked_cart, once the registry says so.
  ASSERT_TRUE(rig.entities().SetCartStatus(other.id(), store::CartStatus::kRevoked).ok());
  other.Publish(EventType::kScan, other.Sign(wire::ExampleEventJson(EventType::kScan, other.id(), 1)));
  auto revoked = other.NextNotice();
  ASSERT_TRUE(revoked.has_value());
  EXPECT_EQ(revoked->reason, RejectReason::kRevokedCart);

  // Every reject is in the dead letters, with the reason.
  auto dead = rig.telemetry().Rejects({.limit = 1000});
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(dead->items.size(), cases.size() + 2);
  // The notice goes out at the commit; stats count a batch once its sinks have it, a moment later.
  for (int i = 0; i < 500 && rig.service().stats().rejected < cases.size() + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto stats = rig.service().stats();
  EXPECT_EQ(stats.rejected, cases.size() + 2);
  EXPECT_EQ(stats.rejected_by_cart[cart.id().str()], cases.size() + 1);
}

TEST_F(IngestTest, AnUnregisteredCartWithAValidCertificateIsUnknown) {
  IngestRig rig(fleet_);
  // A certificate from the fleet CA for a cart the registry never heard of.
  std::string dir = fleet_.data_dir() + "/stranger";
  ASSERT_TRUE(MakeDirs(dir, 0755).ok());
  CartId stranger = CartId::FromNumber(999);
  ASSERT_TRUE(pki::IssueClientIdentity(rig.layout(), stranger.str(), dir + "/device.crt", dir + "/device.key", Clock::System()).ok());
  ::chmod((dir + "/device.key").c_str(), 0644);  // the test process reads it as root or not
  pki::ProvisionedCart as_cart{stranger, "", "", dir};
  std::filesystem::copy_file(rig.layout().ca_crt, dir + "/ca.crt");
  mqtt::ClientOptions o = fleet_.CartOptions(fleet_.carts()[0].id);
  o.client_id = stranger.str();
  o.cert_file = dir + "/device.crt";
  o.key_file = dir + "/device.key";
  auto client = std::move(mqtt::Client::Create(o)).value();
  std::mutex mu;
  std::vector<std::string> got;
  client->SetMessageHandler([&](const mqtt::Message& m) {
    std::lock_guard lock(mu);
    got.push_back(m.payload);
  });
  ASSERT_TRUE(client->Connect().ok());
  ASSERT_TRUE(client->Subscribe(wire::ErrorsTopic(stranger), 1).ok());
  auto key = *crypto::SoftKeyStore::OpenFile(dir + "/device.key");
  std::string json = wire::ExampleEventJson(EventType::kScan, stranger, 1);
  ASSERT_TRUE(client->Publish(wire::EventTopic(stranger, EventType::kScan), wire::JoinEnvelope(json, *key->Sign(json)), 1).ok());
  for (int i = 0; i < 250; ++i) {
    {
      std::lock_guard lock(mu);
      if (!got.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(got.size(), 1u);
  auto notice = wire::ParseRejectNotice(wire::SplitEnvelope(got[0])->json);
  ASSERT_TRUE(notice.ok());
  EXPECT_EQ(notice->reason, RejectReason::kUnknownCart);
  EXPECT_FALSE(Stored(rig.telemetry(), stranger, 1));
}

TEST_F(IngestTest, OperatorCommandsReadTheStoresWhileServeRuns) {
  std::string bin = testing::BinaryPath("cartwright");
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), bin);
    args.insert(args.end(), {"--data-dir", fleet_.data_dir()});
    return testing::RunProcess(args);
  };
  testing::BackgroundProcess serve({bin, "serve", "--device-api", "127.0.0.1:0", "--api", "127.0.0.1:0", "--data-dir", fleet_.data_dir(), "--broker",
                                    "127.0.0.1:" + std::to_string(fleet_.port())},
                                   fleet_.data_dir() + "/serve.log");
  pki::Layout layout(fleet_.data_dir());
  // Wait for the sessions to subscribe before the cart speaks.
  for (int i = 0; i < 200; ++i) {
    auto log = ReadFile(fleet_.data_dir() + "/serve.log");
    if (log.ok() && log->find("sessions on mqtts://") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CraftingCart cart(fleet_, fleet_.carts()[0], *ReadFile(layout.command_pub));
  CraftingCart other(fleet_, fleet_.carts()[1], *ReadFile(layout.command_pub));
  cart.Publish(EventType::kScan, cart.Sign(wire::ExampleEventJson(EventType::kScan, cart.id(), 41)));
  cart.Publish(EventType::kScan, other.Sign(wire::ExampleEventJson(EventType::kScan, cart.id(), 42)));
  ASSERT_TRUE(cart.NextNotice().has_value());  // the forged one was refused, so both are processed

  testing::ProcessResult events;
  for (int i = 0; i < 100; ++i) {
    events = cli({"events", "--cart", cart.id().str()});
    if (events.out.find("seq 41") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(events.exit_code, 0) << events.err;
  EXPECT_NE(events.out.find("CART-000001  seq 41"), std::string::npos) << events.out;
  EXPECT_EQ(events.out.find("seq 42"), std::string::npos);
  auto json = cli({"events", "--cart", cart.id().str(), "--json", "--type", "scan"});
  EXPECT_NE(json.out.find("\"seq\":41"), std::string::npos) << json.out;
  auto window = cli({"events", "--store", "STORE-001", "--since", "2026-11-22T10:00:00Z", "--until", "2026-11-22T11:00:00Z"});
  EXPECT_NE(window.out.find("seq 41"), std::string::npos) << window.out << window.err;
  auto outside = cli({"events", "--store", "STORE-001", "--since", "2026-11-22T11:00:00Z", "--until", "2026-11-22T12:00:00Z"});
  EXPECT_EQ(outside.out, "");
  auto rejects = cli({"rejects", "--reason", "bad_signature", "--json"});
  EXPECT_EQ(rejects.exit_code, 0) << rejects.err;
  EXPECT_NE(rejects.out.find("\"seq\":42"), std::string::npos) << rejects.out;
  EXPECT_NE(rejects.out.find("\"cart_id\":\"CART-000001\""), std::string::npos);
  EXPECT_EQ(cli({"rejects", "--reason", "schema_violation"}).out, "");

  // Bad input: one line, exit 2.
  for (auto args : std::vector<std::vector<std::string>>{{"events"},
                                                       {"events", "--cart", "CART-1"},
                                                       {"events", "--cart", "CART-000001", "--type", "scans"},
                                                       {"events", "--store", "STORE-001", "--since", "yesterday", "--until", "now"},
                                                       {"rejects", "--reason", "bad"}}) {
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(serve.Stop(SIGTERM), 0);
}

TEST_F(IngestTest, TheSimulatorsTrafficIsStoredExactlyOnce) {
  testing::BrokerFleet fleet(20);
  IngestRig rig(fleet);
  sim::FleetOptions o;
  o.carts_dir = fleet.data_dir() + "/carts";
  o.broker.port = fleet.port();
  o.speed = 120;
  o.duration = std::chrono::minutes(10);
  o.mix.mean_idle = std::chrono::minutes(2);
  o.offline = {0.5, std::chrono::minutes(3), std::chrono::minutes(3), std::chrono::minutes(1)};  // redeliveries too
  auto f = sim::Fleet::Open(o);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  auto summary = (*f)->Run();
  ASSERT_TRUE(summary.ok());
  uint64_t sent = summary->published_live + summary->replayed;
  for (int i = 0; i < 300 && rig.service().stats().accepted < sent; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto stats = rig.service().stats();
  EXPECT_EQ(stats.accepted, sent) << summary->ToText();
  EXPECT_EQ(stats.rejected, 0u);
  // Per cart: the stored seqs are distinct and each verifies as the cart's own event.
  uint64_t stored = 0;
  for (const auto& c : fleet.carts()) {
    std::set<uint64_t> seqs;
    std::string cursor;
    do {
      auto page = rig.telemetry().NewestForCart(c.id, 500, cursor);
      ASSERT_TRUE(page.ok());
      for (const auto& e : page->items) {
        EXPECT_TRUE(seqs.insert(e.seq).second) << c.id.str() << " seq " << e.seq << " stored twice";
        if (e.type != EventType::kIdentify) {
          EXPECT_TRUE(wire::CheckEvent(wire::EventTopic(c.id, e.type), e.body).ok());
        }
      }
      cursor = page->next_cursor;
    } while (!cursor.empty());
    stored += seqs.size();
  }
  EXPECT_EQ(stored, sent);

  // The projection: every session the carts finished is in the entity store, reconciled with its
  // scans, and every completed one has exactly one receipt that verifies.
  auto sessions = *rig.entities().ListSessions({.limit = 100000});
  uint64_t complete = 0, abandoned = 0;
  for (const auto& s : sessions) {
    complete += s.status == store::SessionStatus::kComplete;
    abandoned += s.status == store::SessionStatus::kAbandoned;
    if (s.status == store::SessionStatus::kComplete) {
      EXPECT_FALSE(s.totals_mismatch) << s.id.str() << ": " << s.scan_total_cents << " vs " << *s.claimed_total_cents;
      ASSERT_TRUE(s.payment.has_value());
      EXPECT_EQ(s.payment->amount_cents, s.scan_total_cents);
    }
  }
  EXPECT_GT(complete, 0u) << summary->ToText();
  EXPECT_EQ(complete, summary->sessions_completed) << summary->ToText();
  EXPECT_EQ(abandoned, summary->sessions_abandoned) << summary->ToText();
  auto receipts = *rig.blobs().List("receipts/STORE-001/");
  EXPECT_EQ(receipts.size(), complete);
  auto command_key = *crypto::PublicKey::FromPem(*ReadFile(rig.layout().command_pub));
  for (const auto& key : receipts) EXPECT_TRUE(retail::VerifyReceipt(*rig.blobs().Get(key), command_key).ok()) << key;
  for (const auto& c : fleet.carts()) {
    auto state = rig.entities().GetCartState(c.id);
    ASSERT_TRUE(state.ok()) << c.id.str() << " has no last-known state";
    EXPECT_FALSE(state->state.empty());
  }
}

// The sinks run after the acknowledgement; what a crash left in the routing outbox (stored and
// acknowledged, never routed) reaches them when the ingest starts again, before new messages.
TEST_F(IngestTest, WhatTheOutboxHoldsIsRoutedAtStart) {
  const auto& cart = fleet_.carts()[0];
  auto key = std::move(crypto::SoftKeyStore::OpenFile(cart.dir + "/device.key")).value();
  std::string json = wire::ExampleEventJson(EventType::kSessionStart, cart.id, 7);
  std::string payload = wire::JoinEnvelope(json, *key->Sign(json));
  Time now = Clock::System().Now();
  store::TelemetryEvent stored{.cart = cart.id, .store = *StoreId::Parse("STORE-001"), .seq = 7, .ts = now,
                               .received_at = now, .expires_at = now + std::chrono::hours(24),
                               .type = EventType::kSessionStart, .late = false, .digest = crypto::Sha256(payload),
                               .body = payload};
  {
    // What the committer of a process killed before its router ran had written.
    auto telemetry = std::move(store::Registry::WithBuiltinBackends().OpenTelemetry("rocksdb:" + fleet_.data_dir() + "/telemetry")).value();
    ASSERT_TRUE(telemetry->Commit({.events = {stored}, .unrouted = {0}}).ok());
  }
  auto session = *SessionId::Parse(wire::kExampleSessionId);
  IngestRig rig(fleet_);
  auto projected = rig.entities().GetSession(session);
  ASSERT_TRUE(projected.ok()) << projected.error().ToString();
  EXPECT_EQ(projected->cart, cart.id);
  EXPECT_TRUE(rig.telemetry().Unrouted(10)->empty());
}

}  // namespace
}  // namespace cw
