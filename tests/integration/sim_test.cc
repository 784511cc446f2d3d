// The fleet simulator against the real managed broker, checked by an independent subscriber that
// uses the ingest service identity: every message is schema-valid, signed by the key the registry
// holds for that cart, and per cart the seq strictly increases.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <set>
#include <mutex>

#include "core/files.h"
#include "core/time_format.h"
#include "crypto/ecdsa.h"
#include "device/forward_queue.h"
#include "wire/json.h"
#include "sim/fleet.h"
#include "sim/load_driver.h"
#include "store/registry.h"
#include "testing/harness.h"
#include "wire/envelope.h"
#include "wire/event.h"
#include "wire/proximity.h"
#include "wire/status.h"

namespace cw {
namespace {

struct Received {
  std::mutex mu;
  std::vector<mqtt::Message> messages;
  size_t size() {
    std::lock_guard lock(mu);
    return messages.size();
  }
  // Distinct (cart, seq) pairs: QoS 1 is at-least-once, and a link that drops with a publish in
  // flight delivers it again after reconnecting.
  size_t distinct_events() {
    std::lock_guard lock(mu);
    std::set<std::pair<std::string, uint64_t>> seen;
    for (const auto& m : messages) {
      auto ev = wire::CheckEvent(m.topic, m.payload);
      if (ev.ok()) seen.insert({wire::ParseEventTopic(m.topic)->cart.str(), ev->seq});
    }
    return seen.size();
  }
};

// An independent subscriber with the ingest service identity, recording everything on `filter`
// and, when `status` is given, the carts' status topics there.
std::unique_ptr<mqtt::Client> Listen(const testing::BrokerFleet& fleet, Received& rx, const std::string& filter,
                                     Received* status = nullptr) {
  auto ingest = fleet.ConnectIngest();  // one identity, one connection: a second would take over the client id
  ingest->SetMessageHandler([&rx, status](const mqtt::Message& m) {
    Received& into = status && wire::ParseStatusTopic(m.topic).ok() ? *status : rx;
    std::lock_guard lock(into.mu);
    into.messages.push_back(m);
  });
  EXPECT_TRUE(ingest->Subscribe(filter, 1).ok());
  if (status) {
    EXPECT_TRUE(ingest->Subscribe(std::string(wire::kAllStatusFilter), 1).ok());
  }
  return ingest;
}

// Options for a fleet run against `fleet`'s broker and carts.
sim::FleetOptions OptionsFor(const testing::BrokerFleet& fleet, double speed, Duration duration) {
  sim::FleetOptions o;
  o.carts_dir = fleet.data_dir() + "/carts";
  o.broker.port = fleet.port();
  o.speed = speed;
  o.duration = duration;
  return o;
}

// Every message `rx` holds, checked: schema-valid, signed by the key the registry holds for its
// cart, and per cart with a rising seq. Returns (cart, fields) in arrival order.
std::vector<std::pair<std::string, wire::EventFields>> CheckSignedAndOrdered(const testing::BrokerFleet& fleet,
                                                                            Received& rx) {
  auto entities = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite:" + fleet.data_dir() + "/entity.db")).value();
  std::map<std::string, crypto::PublicKey> keys;
  auto registered = entities->ListCarts(std::nullopt);
  EXPECT_TRUE(registered.ok());
  if (registered.ok()) {
    for (const auto& c : *registered) keys.emplace(c.id.str(), *crypto::PublicKey::FromPem(c.public_key_pem));
  }
  std::vector<std::pair<std::string, wire::EventFields>> out;
  std::map<std::string, uint64_t> last_seq;
  std::lock_guard lock(rx.mu);
  for (const auto& m : rx.messages) {
    auto checked = wire::CheckEvent(m.topic, m.payload);
    if (!checked.ok()) {
      ADD_FAILURE() << m.topic << ": " << checked.error().detail;
      continue;
    }
    auto cart = wire::ParseEventTopic(m.topic)->cart.str();
    auto env = *wire::SplitEnvelope(m.payload);
    EXPECT_TRUE(keys.count(cart) && keys.at(cart).Verify(env.json, env.signature)) << m.topic;
    EXPECT_GT(checked->seq, last_seq[cart]) << m.topic;
    last_seq[cart] = checked->seq;
    out.emplace_back(cart, *checked);
  }
  return out;
}

void CheckFleet(int carts, double speed, Duration duration) {
  testing::BrokerFleet fleet(carts);
  Received rx;
  auto ingest = Listen(fleet, rx, "$share/ingest/carts/+/events/+");

  sim::FleetOptions o = OptionsFor(fleet, speed, duration);
  o.seed = 42;
  o.mix.mean_idle = std::chrono::minutes(2);  // busy store: every cart shops in the window
  o.mix.mean_scan_gap = std::chrono::seconds(15);  // and brisk shoppers, so sessions finish in it
  o.mix.max_items = 10;
  // A gentle ramp: with other suites loading both cores, a 500/s TLS connect storm overflows the
  // broker's accept backlog and the kernel's SYN retries outlast the run (bench/fleet-scale.sh
  // measures connect storms; this test is about what the carts send).
  o.connect_rate = 200;
  // And the shopping starts once the fleet is up: under load the connects alone can outlast the
  // ten real seconds this run takes, and a fleet that shops offline completes no sessions.
  o.wait_for_connected = std::chrono::seconds(60);
  auto f = sim::Fleet::Open(o);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  auto summary = (*f)->Run();
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->connected, carts);
  uint64_t sent = summary->published_live + summary->replayed;
  ASSERT_GT(sent, static_cast<uint64_t>(carts));  // at least a health event per cart, plus shopping
  EXPECT_GT(summary->built[wire::EventType::kScan], 0u);
  EXPECT_GT(summary->sessions_completed, 0u);
  // Shoppers keep their pace: on average one scan per mean_scan_gap at most, whatever the ticks.
  double max_scans = static_cast<double>(carts) * (duration / o.mix.mean_scan_gap);
  EXPECT_LT(static_cast<double>(summary->built[wire::EventType::kScan]), 1.5 * max_scans) << summary->ToText();
  for (int i = 0; i < 200 && rx.size() < sent; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(rx.size(), sent) << summary->ToText();

  std::set<std::string> senders;
  for (const auto& [cart, fields] : CheckSignedAndOrdered(fleet, rx)) senders.insert(cart);
  EXPECT_EQ(senders.size(), static_cast<size_t>(carts));
  std::printf("%s", summary->ToText().c_str());
}

TEST(FleetSimulator, SmallFleetProducesOnlyValidSignedOrderedMessages) {
  CheckFleet(20, 120, std::chrono::minutes(10));
}

// cartsim as the product runs it, its output discarded.
std::unique_ptr<testing::BackgroundProcess> StartCartsim(const std::string& carts, uint16_t port,
                                                         const std::string& scenario = "") {
  std::vector<std::string> args = {testing::BinaryPath("cartsim"), "run", "--carts", carts, "--broker",
                                   "mqtts://127.0.0.1:" + std::to_string(port), "--speed", "600",
                                   "--duration", "10h", "--ble-bridge", "off", "--quiet"};
  if (!scenario.empty()) {
    args.push_back("--scenario");
    args.push_back(scenario);
  }
  return std::make_unique<testing::BackgroundProcess>(args, "/dev/null");
}

// kill -9 of the whole simulator, twice, then a clean stop: no (cart, seq) ever carries two
// different payloads, and every boot continues above the previous one's numbers.
TEST(FleetSimulator, KillNineAndRestartNeverReusesASeq) {
  testing::BrokerFleet fleet(5);
  Received rx;
  auto ingest = Listen(fleet, rx, "carts/+/events/+");
  std::vector<size_t> boundaries;
  for (int run = 0; run < 3; ++run) {
    auto cartsim = StartCartsim(fleet.data_dir() + "/carts", fleet.port());
    size_t before = rx.size();
    for (int i = 0; i < 200 && rx.size() < before + 40; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_GE(rx.size(), before + 40) << "cartsim run " << run << " produced too little";
    int exit_code = cartsim->Stop(run < 2 ? SIGKILL : SIGTERM);
    if (run == 2) {
      EXPECT_EQ(exit_code, 0) << "a clean stop on SIGTERM";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let in-flight deliveries land
    boundaries.push_back(rx.size());
  }
  std::lock_guard lock(rx.mu);
  std::map<std::pair<std::string, uint64_t>, std::string> payload_of;
  std::map<std::string, uint64_t> max_before;  // highest seq per cart seen before the current run
  size_t run = 0;
  std::map<std::string, uint64_t> max_in_run;
  for (size_t i = 0; i < rx.messages.size(); ++i) {
    while (run < boundaries.size() && i >= boundaries[run]) {
      for (auto& [c, s] : max_in_run) max_before[c] = std::max(max_before[c], s);
      max_in_run.clear();
      ++run;
    }
    const auto& m = rx.messages[i];
    auto checked = wire::CheckEvent(m.topic, m.payload);
    ASSERT_TRUE(checked.ok());
    std::string cart = wire::ParseEventTopic(m.topic)->cart.str();
    auto [it, fresh] = payload_of.emplace(std::make_pair(cart, checked->seq), m.payload);
    if (!fresh) {
      EXPECT_EQ(it->second, m.payload) << cart << " reused seq " << checked->seq << " for different bytes";
      continue;  // an identical redelivery is allowed (at-least-once)
    }
    EXPECT_GT(checked->seq, max_before[cart]) << cart << " went back to seq " << checked->seq;
    max_in_run[cart] = std::max(max_in_run[cart], checked->seq);
  }
}

// Every cart loses coverage from minute 2 to minute 5: it keeps shopping, keeps its events in
// flash marked late, and on return replays them in order, with the times they happened, before
// any live traffic — and the cloud receives every one.
TEST(FleetSimulator, OfflineWindowIsReplayedInOrderWithOriginalTimes) {
  testing::BrokerFleet fleet(10);
  Received rx;
  auto ingest = Listen(fleet, rx, "carts/+/events/+");
  sim::FleetOptions o = OptionsFor(fleet, 60, std::chrono::minutes(8));
  o.mix.mean_idle = std::chrono::minutes(1);
  o.mix.mean_scan_gap = std::chrono::seconds(15);
  o.offline = {1.0, std::chrono::minutes(2), std::chrono::minutes(3)};
  auto f = sim::Fleet::Open(o);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  Time start = Clock::System().Now() - o.duration;  // where the fleet's virtual clock begins
  auto summary = (*f)->Run();
  ASSERT_TRUE(summary.ok());
  uint64_t sent = summary->published_live + summary->replayed;
  for (int i = 0; i < 200 && rx.size() < sent; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(rx.size(), sent) << summary->ToText();
  EXPECT_EQ(summary->buffered, 0u);
  ASSERT_GT(summary->replayed, 10u) << summary->ToText();

  std::lock_guard lock(rx.mu);
  std::map<std::string, uint64_t> last_seq;
  std::map<std::string, Time> last_late_ts;
  size_t late = 0;
  for (const auto& m : rx.messages) {
    auto ev = wire::CheckEvent(m.topic, m.payload);
    ASSERT_TRUE(ev.ok()) << ev.error().detail;
    std::string cart = wire::ParseEventTopic(m.topic)->cart.str();
    EXPECT_GT(ev->seq, last_seq[cart]) << cart << ": replay out of order";
    last_seq[cart] = ev->seq;
    if (!ev->late) continue;
    ++late;
    // Stamped when it happened: inside the offline window, the connect ramp before it, or the
    // reconnect after it. At 60x a reconnect of 2 real seconds (TLS under a loaded sanitizer
    // build) is 2 virtual minutes in which events still queue behind the replay.
    EXPECT_LE(ev->ts, start + std::chrono::minutes(5) + std::chrono::minutes(2)) << m.topic;
    EXPECT_GE(ev->ts, start - std::chrono::seconds(30)) << m.topic;
  }
  EXPECT_GE(late, summary->replayed);
  // Events from inside the window really were replayed late, not sent live.
  size_t in_window_late = 0;
  for (const auto& m : rx.messages) {
    auto ev = wire::CheckEvent(m.topic, m.payload);
    if (ev->ts > start + std::chrono::minutes(2) + std::chrono::seconds(10) &&
        ev->ts < start + std::chrono::minutes(5) - std::chrono::seconds(10)) {
      EXPECT_TRUE(ev->late) << m.topic << " seq " << ev->seq << " was sent live during the outage";
      in_window_late += ev->late;
    }
  }
  EXPECT_GT(in_window_late, 10u);
}

// kill -9 while every cart is offline: what each cart had queued is in its flash journal, and the
// next run replays exactly those bytes (late, in order) once the network is back.
TEST(FleetSimulator, KillNineKeepsTheOfflineQueueInFlash) {
  testing::BrokerFleet fleet(5);
  Received rx;
  auto ingest = Listen(fleet, rx, "carts/+/events/+");
  std::string carts = fleet.data_dir() + "/carts";
  std::string offline = fleet.data_dir() + "/offline.toml";
  ASSERT_TRUE(WriteFileAtomic(offline, "[offline]\nfraction = 1.0\nafter_minutes = 0\nlength_minutes = 6000\n").ok());
  // Reads what the carts hold in flash, by (cart, seq), from copies (opening a journal may repair it).
  auto held = [&] {
    std::map<std::pair<std::string, uint64_t>, std::string> out;
    for (const auto& c : fleet.carts()) {
      auto bytes = ReadFile(carts + "/" + c.id.str() + "/flash/queue.log");
      if (!bytes.ok()) continue;
      std::string copy = fleet.data_dir() + "/peek.log";
      EXPECT_TRUE(WriteFileAtomic(copy, *bytes).ok());
      auto q = *device::ForwardQueue::Open(copy);
      while (!q.empty()) {
        out[{c.id.str(), q.front().seq}] = q.front().payload;
        EXPECT_TRUE(q.PopFront().ok());
      }
    }
    return out;
  };
  auto cartsim = StartCartsim(carts, fleet.port(), offline);
  for (int i = 0; i < 400 && held().size() < 60; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  cartsim->Stop(SIGKILL);
  auto queued = held();
  ASSERT_GE(queued.size(), 60u);
  EXPECT_EQ(rx.size(), 0u);  // nothing went out while offline

  cartsim = StartCartsim(carts, fleet.port());  // coverage is back
  for (int i = 0; i < 400; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::lock_guard lock(rx.mu);
    size_t found = 0;
    for (const auto& m : rx.messages) {
      auto ev = wire::CheckEvent(m.topic, m.payload);
      found += ev.ok() && queued.count({wire::ParseEventTopic(m.topic)->cart.str(), ev->seq});
    }
    if (found >= queued.size()) break;
  }
  cartsim->Stop(SIGTERM);

  std::lock_guard lock(rx.mu);
  std::map<std::string, uint64_t> last_seq;
  size_t replayed = 0;
  for (const auto& m : rx.messages) {
    auto ev = wire::CheckEvent(m.topic, m.payload);
    ASSERT_TRUE(ev.ok()) << ev.error().detail;
    std::string cart = wire::ParseEventTopic(m.topic)->cart.str();
    auto it = queued.find({cart, ev->seq});
    if (it != queued.end()) {
      EXPECT_EQ(it->second, m.payload) << cart << " seq " << ev->seq << " changed in flash";
      EXPECT_TRUE(ev->late);
      ++replayed;
    } else {
      // Live traffic of the second run: only after that cart's replay, above its numbers.
      EXPECT_GT(ev->seq, last_seq[cart]) << cart << ": live event before the replay finished";
    }
    EXPECT_GT(ev->seq, last_seq[cart]) << cart << ": out of order";
    last_seq[cart] = ev->seq;
  }
  EXPECT_EQ(replayed, queued.size()) << "events held in flash were lost";
}

// Coverage loss drops the link without an MQTT DISCONNECT, so the broker publishes each cart's
// last-will; first the carts fail over to LTE-M (health says so), then they are fully offline and
// replay late on return, after a retained `online` birth.
TEST(FleetSimulator, LostLinkFiresTheLastWillAndFailoverRunsOverLteM) {
  testing::BrokerFleet fleet(5);
  Received events, status;
  auto ingest = Listen(fleet, events, "carts/+/events/+", &status);
  sim::FleetOptions o = OptionsFor(fleet, 60, std::chrono::minutes(7));
  o.mix.mean_idle = std::chrono::minutes(1);
  o.mix.mean_scan_gap = std::chrono::seconds(20);
  o.offline = {1.0, std::chrono::minutes(1), std::chrono::minutes(4), std::chrono::minutes(2)};
  auto f = sim::Fleet::Open(o);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  Time start = Clock::System().Now() - o.duration;  // where the fleet's virtual clock begins
  auto summary = (*f)->Run();
  ASSERT_TRUE(summary.ok());
  uint64_t sent = summary->published_live + summary->replayed;
  for (int i = 0; i < 200 && events.distinct_events() < sent; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(events.distinct_events(), sent);
  EXPECT_EQ(summary->buffered, 0u);

  std::lock_guard lock(status.mu);
  std::map<std::string, std::vector<wire::StatusMessage>> timeline;
  for (const auto& m : status.messages) {
    auto parsed = wire::ParseStatusPayload(m.payload);
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    timeline[wire::ParseStatusTopic(m.topic)->str()].push_back(*parsed);
  }
  ASSERT_EQ(timeline.size(), 5u);
  for (const auto& [cart, seen] : timeline) {
    // online (Wi-Fi) → offline (will, Wi-Fi lost) → online (LTE-M) → offline (will, LTE-M lost) → online
    std::vector<std::string> want = {"online", "offline", "online", "offline", "online"};
    std::vector<std::string> got;
    for (size_t i = 0; i < std::min(seen.size(), want.size()); ++i) got.emplace_back(wire::Name(seen[i].presence));
    EXPECT_EQ(got, want) << cart;
    // Each will names the connection its birth announced, and every reconnect is a newer one.
    ASSERT_GE(seen.size(), 5u) << cart;
    EXPECT_EQ(seen[1].connected_at, seen[0].connected_at) << cart;
    EXPECT_EQ(seen[3].connected_at, seen[2].connected_at) << cart;
    EXPECT_LT(seen[0].connected_at, seen[2].connected_at) << cart;
    EXPECT_LT(seen[2].connected_at, seen[4].connected_at) << cart;
  }

  std::lock_guard lock2(events.mu);
  size_t over_lte = 0;
  for (const auto& m : events.messages) {
    auto ev = wire::CheckEvent(m.topic, m.payload);
    if (wire::ParseEventTopic(m.topic)->type != wire::EventType::kHealth) continue;
    auto env = *wire::SplitEnvelope(m.payload);
    rapidjson::Document d;
    ASSERT_TRUE(wire::ParseStrictObject(env.json, d).ok());
    bool lte = *wire::GetString(d, "link") == "lte-m";
    bool in_failover = ev->ts > start + std::chrono::minutes(1) + std::chrono::seconds(15) &&
                       ev->ts < start + std::chrono::minutes(3) - std::chrono::seconds(5);
    if (in_failover) {
      EXPECT_TRUE(lte) << m.topic << " seq " << ev->seq;
    }
    if (ev->ts < start + std::chrono::minutes(1) - std::chrono::seconds(5)) {
      EXPECT_FALSE(lte) << m.topic << " seq " << ev->seq;
    }
    over_lte += lte;
  }
  EXPECT_GE(over_lte, 5u);
}

// The scenario's fault knobs reach the cloud as the wire contract's fault events.
TEST(FleetSimulator, ScenarioFaultsReachTheCloud) {
  testing::BrokerFleet fleet(12);
  Received events, status;
  auto ingest = Listen(fleet, events, "carts/+/events/+", &status);
  sim::FleetOptions o = OptionsFor(fleet, 1200, std::chrono::hours(3));
  o.mix.mean_idle = std::chrono::minutes(5);
  o.mix.interrupted = 0.3;
  o.faults.battery_cliff = 0.25;
  // Enough parked carts that some stay out longer than the hour before their first location ping,
  // however the run's timing falls.
  o.faults.parking_lot = 0.2;
  o.faults.parking_lot_hours = 10;
  o.faults.weight_mismatch_per_scan = 0.05;
  o.faults.payment_decline = 0.1;
  auto f = sim::Fleet::Open(o);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  auto summary = (*f)->Run();
  ASSERT_TRUE(summary.ok());
  std::printf("%s", summary->ToText().c_str());
  uint64_t sent = summary->published_live + summary->replayed;
  for (int i = 0; i < 200 && events.distinct_events() < sent; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(events.distinct_events(), sent);
  EXPECT_GT(summary->powered_off, 0);
  EXPECT_GT(summary->in_parking_lot, 0);
  EXPECT_GT(summary->sessions_interrupted, 0u);

  std::lock_guard lock(events.mu);
  std::map<std::string, uint64_t> codes;
  std::set<std::string> cliffed, parked_pings;
  for (const auto& m : events.messages) {
    auto ev = wire::CheckEvent(m.topic, m.payload);
    ASSERT_TRUE(ev.ok()) << ev.error().detail;
    auto topic = *wire::ParseEventTopic(m.topic);
    std::string cart = topic.cart.str();
    auto env = *wire::SplitEnvelope(m.payload);
    rapidjson::Document d;
    ASSERT_TRUE(wire::ParseStrictObject(env.json, d).ok());
    if (topic.type == wire::EventType::kFault) {
      std::string code(*wire::GetString(d, "code"));
      codes[code]++;
      if (code == "BATTERY_CLIFF") {
        cliffed.insert(cart);
        EXPECT_EQ(*wire::GetString(d, "severity"), "critical");
      }
    }
    if (topic.type == wire::EventType::kHealth && d["location"].HasMember("lat")) {
      EXPECT_EQ(*wire::GetString(d, "link"), "lte-m");
      parked_pings.insert(cart);
    }
    if (cliffed.count(cart) && topic.type != wire::EventType::kFault) {
      // Over the last watts only the abandoned session's end follows the cliff fault.
      EXPECT_EQ(topic.type, wire::EventType::kSessionEnd) << cart << " sent after powering off";
    }
  }
  for (const char* code : {"BATTERY_CLIFF", "BATTERY_LOW", "GEOFENCE_EXIT", "WEIGHT_MISMATCH", "PAYMENT_FAIL"}) {
    EXPECT_GT(codes[code], 0u) << code << " never raised";
  }
  EXPECT_EQ(static_cast<int>(cliffed.size()), summary->powered_off);
  EXPECT_FALSE(parked_pings.empty());
  // A cart whose battery died drops its link: the broker says so with its last-will.
  std::lock_guard lock2(status.mu);
  std::map<std::string, std::string> last_status;
  for (const auto& m : status.messages) {
    auto parsed = wire::ParseStatusPayload(m.payload);
    ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
    last_status[wire::ParseStatusTopic(m.topic)->str()] = wire::Name(parsed->presence);
  }
  for (const auto& cart : cliffed) EXPECT_EQ(last_status[cart], "offline") << cart;
}

// A staff tablet asks the cart (over the BLE bridge) for a proximity token: signed by that cart's
// key as the registry knows it, for staff-override, at most 120 s; unknown carts get a 404.
TEST(FleetSimulator, BleBridgeHandsOutCartSignedProximityTokens) {
  testing::BrokerFleet fleet(3);
  sim::FleetOptions o = OptionsFor(fleet, 60, std::chrono::hours(1));
  o.ble_bridge_listen = "127.0.0.1:0";
  auto f = sim::Fleet::Open(o);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  uint16_t port = (*f)->ble_bridge_port();
  ASSERT_GT(port, 0);
  std::atomic<bool> stop{false};
  std::thread runner([&] { (void)(*f)->Run(&stop); });

  std::string bin = testing::BinaryPath("cartsim");
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  CartId cart = fleet.carts()[1].id;
  auto got = testing::RunProcess({bin, "proximity", "--cart", cart.str(), "--bridge", url});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  std::string token = got.out.substr(0, got.out.find('\n'));
  auto decoded = wire::DecodeProximityToken(token);
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString() << " token=" << token;
  EXPECT_EQ(decoded->claims.cart, cart);
  EXPECT_EQ(decoded->claims.purpose, wire::kPurposeStaffOverride);
  EXPECT_LE(decoded->claims.expires_at - decoded->claims.issued_at, wire::kMaxProximityTokenLifetime);
  auto entities = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite:" + fleet.data_dir() + "/entity.db")).value();
  auto key = *crypto::PublicKey::FromPem(entities->GetCart(cart)->public_key_pem);
  EXPECT_TRUE(key.Verify(decoded->json, decoded->signature));
  auto other = *crypto::PublicKey::FromPem(entities->GetCart(fleet.carts()[0].id)->public_key_pem);
  EXPECT_FALSE(other.Verify(decoded->json, decoded->signature));
  // Two requests, two nonces.
  auto again = testing::RunProcess({bin, "proximity", "--cart", cart.str(), "--bridge", url});
  EXPECT_NE(wire::DecodeProximityToken(again.out.substr(0, again.out.find('\n')))->claims.nonce, decoded->claims.nonce);
  auto unknown = testing::RunProcess({bin, "proximity", "--cart", "CART-999999", "--bridge", url});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("404"), std::string::npos) << unknown.err;
  // The cloud's challenge comes back as the signed nonce; a malformed one gets a 400.
  const std::string challenge = "00112233445566778899aabbccddeeff";
  auto answered = testing::RunProcess({bin, "proximity", "--cart", cart.str(), "--bridge", url, "--challenge", challenge});
  ASSERT_EQ(answered.exit_code, 0) << answered.err;
  EXPECT_EQ(wire::DecodeProximityToken(answered.out.substr(0, answered.out.find('\n')))->claims.nonce, challenge);
  httplib::Client raw("127.0.0.1", port);
  auto bad = raw.Get("/proximity/" + cart.str() + "?challenge=XYZ");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  stop = true;
  runner.join();
}

// A run keeps its virtual clock in a file and the next run resumes from it, so the carts' clocks
// never run backwards between runs and never pass the wall clock.
TEST(FleetSimulator, TheClockFileCarriesVirtualTimeAcrossRuns) {
  testing::BrokerFleet fleet(2);
  Received rx;
  auto ingest = Listen(fleet, rx, "$share/ingest/carts/+/events/+");
  sim::FleetOptions o = OptionsFor(fleet, 120, std::chrono::minutes(2));
  o.backfill = std::chrono::hours(3);
  o.ble_bridge_listen = "";
  o.clock_file = fleet.data_dir() + "/virtual-clock";
  o.mix.mean_idle = std::chrono::seconds(20);  // sessions start in both runs
  o.wait_for_connected = std::chrono::seconds(30);
  Time saved = std::chrono::floor<std::chrono::milliseconds>(Clock::System().Now() - std::chrono::minutes(30));
  ASSERT_TRUE(WriteFileAtomic(o.clock_file, FormatTimeMillis(saved) + "\n").ok());
  auto run = [&]() -> Time {
    auto f = sim::Fleet::Open(o);
    EXPECT_TRUE(f.ok()) << f.error().ToString();
    if (!f.ok()) return {};
    auto summary = (*f)->Run();
    EXPECT_TRUE(summary.ok());
    return *ParseRfc3339(ReadFile(o.clock_file)->substr(0, 24));
  };
  Time first_end = run();
  EXPECT_GE(first_end, saved + o.duration);  // resumed from the file, not three hours back
  EXPECT_LE(first_end, Clock::System().Now());
  Time second_end = run();
  EXPECT_GE(second_end, first_end + o.duration);
  for (int i = 0; i < 100 && rx.size() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard lock(rx.mu);
  ASSERT_FALSE(rx.messages.empty());
  std::multiset<std::string> started;
  for (const auto& m : rx.messages) {
    auto ev = wire::CheckEvent(m.topic, m.payload);
    ASSERT_TRUE(ev.ok());
    EXPECT_GE(ev->ts, saved) << m.payload;
    if (wire::ParseEventTopic(m.topic)->type == wire::EventType::kSessionStart) {
      rapidjson::Document d;
      auto env = *wire::SplitEnvelope(m.payload);
      d.Parse(env.json.data(), env.json.size());
      if (d.IsObject() && d.HasMember("session_id")) started.insert(d["session_id"].GetString());
    }
  }
  // The second run's carts make choices of their own: no session id comes back.
  EXPECT_GE(started.size(), 2u);
  for (const auto& id : started) EXPECT_EQ(started.count(id), 1u) << id;
  // A clock file that is not a time is an error, not a silent restart.
  ASSERT_TRUE(WriteFileAtomic(o.clock_file, "yesterday\n").ok());
  auto bad = sim::Fleet::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("clock file"), std::string::npos) << bad.error().ToString();
}

// The acceptance case: 1,000 carts over 10 simulated minutes at 60x.
TEST(FleetSimulator, ThousandCartsTenSimulatedMinutes) {
  CheckFleet(1000, 60, std::chrono::minutes(10));
}

}  // namespace
}  // namespace cw

namespace cw {
namespace {

// `cartsim load` (the benchmark's driver) against the real broker, checked by the independent
// subscriber: every planned message arrives signed by the cart's registered key, schema-valid,
// stamped with its due time on the schedule, in seq order per cart; and a second run continues
// each cart's seq instead of reusing it (a reuse would be a seq_conflict at the ingest).
TEST(LoadDriver, PublishesEveryPreSignedMessageOnItsScheduleAndNeverReusesASeq) {
  testing::BrokerFleet fleet(5);
  Received rx;
  auto ingest = Listen(fleet, rx, "$share/ingest/carts/+/events/+");
  sim::LoadOptions o;
  o.carts_dir = fleet.data_dir() + "/carts";
  o.broker.port = fleet.port();
  o.rate = 100;
  o.duration = std::chrono::seconds(2);
  o.connect_rate = 50;
  auto first = sim::RunLoad(o, nullptr, nullptr);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->carts, 5);
  EXPECT_EQ(first->connected, 5);
  EXPECT_EQ(first->planned, 200u);
  EXPECT_EQ(first->published, 200u);
  EXPECT_EQ(first->acknowledged, 200u);
  EXPECT_GT(first->by_type.at("scan"), first->by_type.at("health"));
  EXPECT_GT(first->by_type.at("session-start"), 0u);
  auto second = sim::RunLoad(o, nullptr, nullptr);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  for (int i = 0; i < 200 && rx.size() < 400; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(rx.size(), 400u);

  std::map<std::string, wire::EventFields> last;
  std::set<std::pair<std::string, uint64_t>> distinct;
  for (const auto& [cart, fields] : CheckSignedAndOrdered(fleet, rx)) {
    // Five carts at 100/s: each cart's messages are due 50 ms apart, and each carries its due time
    // (to the millisecond the wire's ts holds).
    if (last.count(cart) && fields.seq == last[cart].seq + 1) {
      double apart_ms = std::chrono::duration<double, std::milli>(fields.ts - last[cart].ts).count();
      EXPECT_NEAR(apart_ms, 50.0, 1.0) << cart << " seq " << fields.seq;
    }
    last[cart] = fields;
    distinct.insert({cart, fields.seq});
  }
  EXPECT_EQ(distinct.size(), 400u);
  EXPECT_EQ(last.size(), 5u);
}

// One driver process holds three file descriptors per cart, so a large fleet is split between
// drivers: each takes its own carts.
TEST(LoadDriver, DriversSplitAFleetBySkippingCarts) {
  testing::BrokerFleet fleet(4);
  Received rx;
  auto ingest = Listen(fleet, rx, "$share/ingest/carts/+/events/+");
  sim::LoadOptions o;
  o.carts_dir = fleet.data_dir() + "/carts";
  o.broker.port = fleet.port();
  o.rate = 40;
  o.duration = std::chrono::seconds(1);
  o.skip_carts = 1;
  o.max_carts = 2;
  auto run = sim::RunLoad(o, nullptr, nullptr);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->carts, 2);
  for (int i = 0; i < 200 && rx.size() < run->acknowledged; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::set<std::string> carts;
  for (const auto& [cart, fields] : CheckSignedAndOrdered(fleet, rx)) carts.insert(cart);
  EXPECT_EQ(carts, (std::set<std::string>{fleet.carts()[1].id.str(), fleet.carts()[2].id.str()}));
  o.skip_carts = 4;
  EXPECT_EQ(sim::RunLoad(o, nullptr, nullptr).error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cw
