// The durability guarantee of `cartwright serve`: 100,000 messages from the simulator while the
// ingest is kill -9'd at random moments and restarted 10 times. Every event a cart sent is stored
// exactly once, with the bytes the cart sent; nothing is lost and nothing is rejected. And the
// session projection, which runs after the acknowledgement, has every stored session fact: what a
// kill left in the routing outbox was replayed.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>
#include <mutex>
#include <random>
#include <thread>

#include "core/files.h"
#include "core/time_format.h"
#include "crypto/hash.h"
#include "sim/fleet.h"
#include "store/registry.h"
#include "wire/envelope.h"
#include "wire/json.h"
#include "testing/harness.h"
#include "wire/event.h"
#include "wire/topic.h"

namespace cw {
namespace {

TEST(IngestCrash, KillNineTenTimesLosesNothingAndDuplicatesNothing) {
  testing::BrokerFleet fleet(200);
  std::string bin = testing::BinaryPath("cartwright");
  std::string log = fleet.data_dir() + "/serve.log";
  std::vector<std::string> serve = {bin, "serve", "--device-api", "127.0.0.1:0", "--api", "127.0.0.1:0", "--data-dir", fleet.data_dir(), "--broker",
                                    "127.0.0.1:" + std::to_string(fleet.port()), "--log-level", "warn"};

  // What the carts sent, as an independent subscriber saw it. The handler only copies, so this
  // subscriber keeps up and the broker never drops messages queued for it; decoding comes later.
  std::mutex mu;
  std::vector<mqtt::Message> raw;
  auto watcher = fleet.ConnectIngest();
  watcher->SetMessageHandler([&](const mqtt::Message& m) {
    std::lock_guard lock(mu);
    raw.push_back(m);
  });
  ASSERT_TRUE(watcher->Subscribe("carts/+/events/+", 1).ok());
  auto sent_count = [&] {
    std::lock_guard lock(mu);
    return raw.size();
  };

  auto ingest = std::make_unique<testing::BackgroundProcess>(serve, log);
  sim::FleetOptions o;
  o.carts_dir = fleet.data_dir() + "/carts";
  o.broker.port = fleet.port();
  o.speed = 600;
  // Long enough to reach the target on a loaded machine; the run is stopped once it has.
  o.duration = std::chrono::hours(40);
  o.mix.mean_idle = std::chrono::minutes(2);
  o.mix.mean_scan_gap = std::chrono::seconds(10);
  std::atomic<bool> stop{false};
  auto f = sim::Fleet::Open(o);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  std::thread sim([&] { ASSERT_TRUE((*f)->Run(&stop).ok()); });

  // Ten kill -9s at random moments while the 100,000 messages flow, each followed by a restart.
  std::mt19937 rng(20261122);
  const size_t kTarget = 100000;
  int kills = 0;
  while (kills < 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 2500)(rng)));
    ASSERT_EQ(ingest->Stop(SIGKILL), -SIGKILL) << "serve exited on its own; see " << log;
    ++kills;
    ingest = std::make_unique<testing::BackgroundProcess>(serve, log);
    if (sent_count() >= kTarget) stop = true;
  }
  for (int i = 0; i < 600 && sent_count() < kTarget; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  sim.join();
  ASSERT_GE(sent_count(), kTarget) << "the simulator produced too little";

  // Let the last incarnation drain what the broker still holds for it, then stop it cleanly.
  auto count_stored = [&]() -> size_t {
    auto t = store::Registry::WithBuiltinBackends().OpenTelemetry("rocksdb:" + fleet.data_dir() + "/telemetry",
                                                                   Clock::System(), store::OpenMode::kReadOnly);
    if (!t.ok()) return 0;
    size_t n = 0;
    for (const auto& c : fleet.carts()) {
      std::string cursor;
      do {
        auto page = (*t)->NewestForCart(c.id, 1000, cursor);
        if (!page.ok()) return 0;
        n += page->items.size();
        cursor = page->next_cursor;
      } while (!cursor.empty());
    }
    return n;
  };
  for (int i = 0; i < 240 && count_stored() < sent_count(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int last_exit = ingest->Stop(SIGTERM);
  EXPECT_EQ(last_exit, 0) << "serve.log ends:\n" << [&] {
    auto text = ReadFile(log);
    std::string all = text.ok() ? *text : "";
    return all.substr(all.size() > 3000 ? all.size() - 3000 : 0);
  }();

  auto telemetry = std::move(store::Registry::WithBuiltinBackends().OpenTelemetry(
                                 "rocksdb:" + fleet.data_dir() + "/telemetry")).value();
  std::lock_guard lock(mu);
  // (cart, seq) → SHA-256 of the payload the cart sent.
  std::map<std::pair<std::string, uint64_t>, store::Digest> sent;
  for (const auto& m : raw) {
    auto ev = wire::CheckEvent(m.topic, m.payload);
    ASSERT_TRUE(ev.ok()) << m.topic;
    sent[{wire::ParseEventTopic(m.topic)->cart.str(), ev->seq}] = crypto::Sha256(m.payload);
  }
  size_t stored = 0, missing = 0, wrong = 0;
  for (const auto& c : fleet.carts()) {
    std::set<uint64_t> seqs;
    std::string cursor;
    do {
      auto page = telemetry->NewestForCart(c.id, 1000, cursor);
      ASSERT_TRUE(page.ok());
      for (const auto& e : page->items) {
        EXPECT_TRUE(seqs.insert(e.seq).second) << c.id.str() << " seq " << e.seq << " stored twice";
        auto it = sent.find({c.id.str(), e.seq});
        if (it == sent.end() || it->second != e.digest) {
          if (++wrong <= 3) {
            std::printf("stored but %s: %s seq %llu ts %s late %d\n", it == sent.end() ? "never seen sent" : "other bytes",
                        c.id.str().c_str(), static_cast<unsigned long long>(e.seq), FormatTimeMillis(e.ts).c_str(), e.late);
          }
        }
      }
      cursor = page->next_cursor;
    } while (!cursor.empty());
    stored += seqs.size();
  }
  for (const auto& [key, digest] : sent) {
    auto found = telemetry->FindSeq(*CartId::Parse(key.first), key.second);
    if (!found.ok() || !found->has_value()) {
      if (++missing <= 3) std::printf("sent, not stored: %s seq %llu\n", key.first.c_str(), static_cast<unsigned long long>(key.second));
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << sent.size() << " events sent";
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(stored, sent.size());
  EXPECT_TRUE(telemetry->Rejects({})->items.empty());
  EXPECT_TRUE(telemetry->Unrouted(10)->empty()) << "a clean stop leaves nothing in the routing outbox";

  // Every stored session fact reached the projection.
  auto entities = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite:" + fleet.data_dir() + "/entity.db")).value();
  std::map<std::string, std::set<std::pair<std::string, uint64_t>>> scans_of;  // session → (cart, seq)
  auto scans_in = [&](const SessionId& id) -> const std::set<std::pair<std::string, uint64_t>>& {
    auto [it, fresh] = scans_of.try_emplace(id.str());
    if (fresh) {
      auto listed = entities->ListScans(id);
      if (listed.ok()) {
        for (const auto& scan : *listed) it->second.insert({scan.cart.str(), scan.seq});
      }
    }
    return it->second;
  };
  size_t facts = 0, unprojected = 0;
  for (const auto& m : raw) {
    auto topic = wire::ParseEventTopic(m.topic);
    auto type = topic->type;
    if (type != wire::EventType::kSessionStart && type != wire::EventType::kScan && type != wire::EventType::kSessionEnd) continue;
    rapidjson::Document doc;
    ASSERT_TRUE(wire::ParseStrictObject(wire::SplitEnvelope(m.payload)->json, doc).ok()) << m.topic;
    uint64_t seq = wire::GetUint(doc, "seq").value_or(0);
    auto session_id = SessionId::Parse(wire::GetString(doc, "session_id").value_or(""));
    ASSERT_TRUE(session_id.ok()) << m.topic;
    ++facts;
    auto session = entities->GetSession(*session_id);
    bool projected = session.ok();
    if (projected && type == wire::EventType::kSessionEnd) projected = session->ended_at.has_value() || session->merged_into;
    if (projected && type == wire::EventType::kScan) {
      std::pair<std::string, uint64_t> key{topic->cart.str(), seq};
      projected = scans_in(*session_id).count(key) > 0 || (session->merged_into && scans_in(*session->merged_into).count(key) > 0);
    }
    if (!projected && ++unprojected <= 3) {
      std::printf("stored, not projected: %s seq %llu\n", m.topic.c_str(), static_cast<unsigned long long>(seq));
    }
  }
  EXPECT_GT(facts, 10000u);
  EXPECT_EQ(unprojected, 0u) << "of " << facts << " session facts";
  std::printf("%zu events sent, %zu stored exactly once across %d kill -9s of cartwright serve; %zu session facts projected\n",
              sent.size(), stored, kills, facts);
}

}  // namespace
}  // namespace cw
