// The fleet monitor's tick on a manual clock, without a broker: status messages and events in,
// transitions kept in the entity store, gauges for Prometheus, the hourly error digest out.
// (Over the real broker and serve: tests/integration/monitor_test.cc.)
#include "monitor/fleet_monitor.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "core/time_format.h"
#include "store/registry.h"
#include "wire/status.h"
#include "wire/topic.h"

namespace cw::monitor {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Time kT0 = *ParseWireTime("2026-11-23T10:00:00.000Z");
const StoreId kStore = *StoreId::Parse("STORE-001");

class FleetMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entities_ = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:")).value();
    ASSERT_TRUE(entities_->AddStore({kStore, "Markt", "p", store::Region::kEu, "Europe/Berlin", kT0}).ok());
    for (uint32_t n = 1; n <= 3; ++n) {
      std::string s = std::to_string(n);
      ASSERT_TRUE(entities_->AddCart({CartId::FromNumber(n), kStore, "SN" + s, "fp" + s, "pub", "cert",
                                      store::CartStatus::kActive, kT0})
                      .ok());
    }
    monitor_ = std::make_unique<FleetMonitor>(MonitorOptions{}, *entities_, registry_, &per_cart_, clock_,
                                              [this] { return totals_; }, std::vector<AlarmSink*>{});
    ASSERT_TRUE(monitor_->Restore().ok());
  }
  void Birth(uint32_t n, Time connected_at) {
    CartId c = CartId::FromNumber(n);
    monitor_->OnStatusMessage(wire::StatusTopic(c), wire::StatusPayload(wire::Presence::kOnline, connected_at));
  }
  std::string Gauge(const std::string& line_start) {
    std::string text = registry_.Exposition();
    auto at = text.find("\n" + line_start + " ");
    return at == std::string::npos ? "?" : text.substr(at + line_start.size() + 2, text.find('\n', at + 1) - at - line_start.size() - 2);
  }

  ManualClock clock_{kT0};
  metrics::Registry registry_;
  metrics::CartStatsTable per_cart_;
  IngestTotals totals_;
  std::unique_ptr<store::EntityStore> entities_;
  std::unique_ptr<FleetMonitor> monitor_;
};

TEST_F(FleetMonitorTest, TicksKeepTransitionsAndGaugesAndAMalformedStatusIsCountedNotBelieved) {
  Birth(1, kT0);
  Birth(2, kT0);
  monitor_->OnStatusMessage("carts/CART-000003/status", "{\"v\":1,\"status\":\"maybe\"}");
  monitor_->TickOnce();
  EXPECT_EQ(Gauge("cw_carts_connected"), "2");
  EXPECT_EQ(Gauge("cw_status_messages_total{kind=\"malformed\"}"), "1");
  EXPECT_EQ(Gauge("cw_fleet_expected_online"), "3");  // no hours recorded: open
  EXPECT_EQ(Gauge("cw_fleet_expected_missing"), "1");
  auto kept = entities_->ListConnectivity();
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].state, store::LinkState::kOnline);

  // Cart 1 sends a rejected message now and then; cart 2 falls silent: stale, then offline.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(minutes(4));
    per_cart_.RecordRejected(CartId::FromNumber(1), clock_.Now(), "schema_violation");
    monitor_->TickOnce();
  }
  EXPECT_EQ(monitor_->connectivity().Get(CartId::FromNumber(1))->state, store::LinkState::kOnline);
  EXPECT_EQ(monitor_->connectivity().Get(CartId::FromNumber(2))->state, store::LinkState::kOffline);
  auto history = entities_->ListConnectivityTransitions(CartId::FromNumber(2), 10, std::nullopt);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].cause, "silence");
  EXPECT_EQ((*history)[1].to, store::LinkState::kStale);

  // Cart 1 falls silent too: it goes offline once, and the ticks that keep re-reading its last
  // message do not bring it back.
  clock_.Advance(minutes(16));
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(5));
    monitor_->TickOnce();
  }
  auto one = entities_->ListConnectivityTransitions(CartId::FromNumber(1), 10, std::nullopt);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 2u);  // birth, then offline by silence
  EXPECT_EQ((*one)[0].to, store::LinkState::kOffline);

  // A restarted monitor resumes from the store without repeating a transition.
  metrics::Registry fresh;
  FleetMonitor again(MonitorOptions{}, *entities_, fresh, &per_cart_, clock_, nullptr, {});
  ASSERT_TRUE(again.Restore().ok());
  again.TickOnce();
  EXPECT_EQ(again.connectivity().counts().offline, 2u);
  EXPECT_EQ(entities_->ListConnectivityTransitions(CartId::FromNumber(1), 10, std::nullopt)->size(), 2u);
  EXPECT_EQ(entities_->ListConnectivityTransitions(CartId::FromNumber(2), 10, std::nullopt)->size(), 3u);
}

TEST_F(FleetMonitorTest, TheHourlyDigestPostsErrorsByDevice) {
  httplib::Server server;
  std::mutex mu;
  std::vector<std::string> bodies;
  server.Post("/digest", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    bodies.push_back(req.body);
    res.status = 204;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  auto hook = Webhook::Create("http://127.0.0.1:" + std::to_string(port) + "/digest");
  ASSERT_TRUE(hook.ok());
  monitor_->SetErrorDigest(hook->get());
  monitor_->TickOnce();  // the period starts
  for (int i = 0; i < 3; ++i) per_cart_.RecordRejected(CartId::FromNumber(2), kT0 + minutes(10), "bad_signature");
  per_cart_.RecordStored(CartId::FromNumber(1), kT0 + minutes(20), std::nullopt, false, "SCANNER_JAM");
  clock_.Set(kT0 + minutes(59));
  monitor_->TickOnce();
  ASSERT_TRUE((*hook)->Drain(std::chrono::seconds(5)));
  EXPECT_EQ((*hook)->delivered(), 0u) << "not an hour yet";
  clock_.Set(kT0 + minutes(60));
  monitor_->TickOnce();
  ASSERT_TRUE((*hook)->Drain(std::chrono::seconds(5)));
  server.stop();
  serving.join();
  std::lock_guard lock(mu);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0],
            R"({"kind":"error_digest","at":"2026-11-23T11:00:00.000Z","window_s":3600,"items":[)"
            R"({"cart_id":"CART-000002","code":"bad_signature","count":3},)"
            R"({"cart_id":"CART-000001","code":"SCANNER_JAM","count":1}]})");
}

}  // namespace
}  // namespace cw::monitor
