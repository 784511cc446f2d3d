#include "monitor/alarms.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/registry.h"

namespace cw::monitor {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");

class Recorder : public AlarmSink {
 public:
  void Notify(const store::AlarmEvent& e) override { events.push_back(e); }
  // "alarm/subject:firing|resolved" per notification.
  std::vector<std::string> Said() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.alarm + "/" + e.subject + ":" + (e.firing ? "firing" : "resolved"));
    return out;
  }
  std::vector<store::AlarmEvent> events;
};

class Alarms : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:");
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(s).value();
    engine_ = std::make_unique<AlarmEngine>(AlarmRules{}, store_.get(), std::vector<AlarmSink*>{&sink_});
  }
  // Evaluates every 5 s from `now_` for `d`, with the sample `fill` makes for each instant.
  void Run(Duration d, const std::function<void(FleetSample&)>& fill) {
    for (Time end = now_ + d; now_ < end;) {
      now_ += seconds(5);
      FleetSample s{.at = now_};
      fill(s);
      engine_->Evaluate(s, &per_cart_);
    }
  }
  // A fleet of `connected` carts, `per_minute` messages of which `error_share` fail.
  std::function<void(FleetSample&)> Fleet(uint64_t connected, double per_minute = 0, double error_share = 0) {
    return [=, this](FleetSample& s) {
      received_ += per_minute / 12;
      errors_ += per_minute / 12 * error_share;
      s.connected = connected;
      s.received = static_cast<uint64_t>(received_);
      s.errors = static_cast<uint64_t>(errors_);
      s.auth_failures = auth_failures_;
    };
  }

  Time now_ = kT0;
  double received_ = 0, errors_ = 0;
  uint64_t auth_failures_ = 0;
  metrics::CartStatsTable per_cart_;
  Recorder sink_;
  std::unique_ptr<store::EntityStore> store_;
  std::unique_ptr<AlarmEngine> engine_;
};

TEST_F(Alarms, ConnectedCartsFallingMoreThanTwentyPercentWithinFiveMinutesPagesOnce) {
  Run(minutes(6), Fleet(100));
  Run(minutes(2), Fleet(85));  // 15%: not an incident
  EXPECT_TRUE(sink_.Said().empty());
  Run(seconds(5), Fleet(79));  // 21% below the peak of the last 5 minutes
  ASSERT_EQ(sink_.Said(), (std::vector<std::string>{"connected_carts_drop/:firing"}));
  EXPECT_EQ(sink_.events[0].severity, store::AlarmSeverity::kPage);
  EXPECT_EQ(sink_.events[0].value, 79);              // connected carts
  EXPECT_NEAR(sink_.events[0].threshold, 80, 1e-9);  // 80% of the peak
  // Staying down long after the peak left the window: still firing, never said twice.
  Run(minutes(20), Fleet(79));
  EXPECT_EQ(sink_.events.size(), 1u);
  ASSERT_EQ(engine_->Active().size(), 1u);
  EXPECT_EQ(engine_->Active()[0].state, AlarmStatus::State::kFiring);
  // Back to 80% of the peak it fell from: resolved, once.
  Run(minutes(1), Fleet(80));
  EXPECT_EQ(sink_.Said(), (std::vector<std::string>{"connected_carts_drop/:firing", "connected_carts_drop/:resolved"}));
  EXPECT_TRUE(engine_->Active().empty());
  // The history is kept.
  auto history = store_->ListAlarmEvents(10, std::nullopt);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);
}

TEST_F(Alarms, ASlowDeclineOverMoreThanFiveMinutesIsNotADrop) {
  for (uint64_t n = 100; n >= 60; n -= 2) Run(minutes(1), Fleet(n));  // 2 carts a minute: 40% in 20 minutes
  EXPECT_TRUE(sink_.Said().empty());
}

TEST_F(Alarms, AnIngestErrorRateAboveOnePercentPagesOnlyAfterTenMinutes) {
  Run(minutes(5), Fleet(10, 1200, 0.0));
  Run(minutes(5), Fleet(10, 1200, 0.02));  // a five-minute blip
  Run(minutes(2), Fleet(10, 1200, 0.0));
  EXPECT_TRUE(sink_.Said().empty()) << "a blip shorter than 10 minutes is never heard of";
  Run(minutes(9) + seconds(55), Fleet(10, 1200, 0.02));
  EXPECT_TRUE(sink_.Said().empty());
  Run(minutes(2), Fleet(10, 1200, 0.02));
  ASSERT_EQ(sink_.Said(), (std::vector<std::string>{"ingest_error_rate/:firing"}));
  EXPECT_NEAR(sink_.events[0].value, 0.02, 0.003);
  Run(minutes(2), Fleet(10, 1200, 0.005));
  EXPECT_EQ(sink_.Said(), (std::vector<std::string>{"ingest_error_rate/:firing", "ingest_error_rate/:resolved"}));
  // No traffic is no error rate.
  Run(minutes(15), Fleet(10, 0, 0));
  EXPECT_EQ(sink_.events.size(), 2u);
}

TEST_F(Alarms, MoreThanAHundredAuthFailuresInFiveMinutesPages) {
  Run(minutes(1), Fleet(10));
  auth_failures_ = 100;
  Run(minutes(1), Fleet(10));
  EXPECT_TRUE(sink_.Said().empty());
  auth_failures_ = 101;
  Run(seconds(5), Fleet(10));
  EXPECT_EQ(sink_.Said(), (std::vector<std::string>{"auth_failures/:firing"}));
  Run(minutes(2), Fleet(10));
  EXPECT_EQ(sink_.events.size(), 1u);
  Run(minutes(2), Fleet(10));  // the first 100 have left the window
  EXPECT_EQ(sink_.Said(), (std::vector<std::string>{"auth_failures/:firing", "auth_failures/:resolved"}));
}

TEST_F(Alarms, ACartsLatencyAboveTwiceItsBaselineForFifteenMinutesNotifies) {
  const CartId slow = CartId::FromNumber(1), fine = CartId::FromNumber(2);
  Duration slow_latency = std::chrono::milliseconds(80);
  auto traffic = [&](FleetSample& s) {
    // Each cart sends a live event every 5 s.
    per_cart_.RecordStored(slow, s.at, slow_latency, false);
    per_cart_.RecordStored(fine, s.at, std::chrono::milliseconds(60), false);
    s.connected = 2;
  };
  Run(minutes(40), traffic);
  ASSERT_TRUE(engine_->Baseline(slow).has_value());
  EXPECT_NEAR(*engine_->Baseline(slow), 0.080, 0.002);
  slow_latency = std::chrono::milliseconds(900);
  Run(minutes(14), traffic);
  EXPECT_TRUE(sink_.Said().empty()) << "not yet 15 minutes";
  Run(minutes(2), traffic);
  ASSERT_EQ(sink_.Said(), (std::vector<std::string>{"cart_latency/CART-000001:firing"}));
  EXPECT_EQ(sink_.events[0].severity, store::AlarmSeverity::kNotify);
  EXPECT_NEAR(sink_.events[0].threshold, 0.160, 0.005);
  // The incident does not become the norm however long it lasts.
  Run(minutes(60), traffic);
  EXPECT_EQ(sink_.events.size(), 1u);
  EXPECT_NEAR(*engine_->Baseline(slow), 0.080, 0.002);
  slow_latency = std::chrono::milliseconds(85);
  Run(minutes(6), traffic);
  EXPECT_EQ(sink_.events.size(), 1u) << "the window is whole 5-minute slices: 5 to 10 minutes";
  Run(minutes(5), traffic);  // the slow samples have left it
  EXPECT_EQ(sink_.Said(),
            (std::vector<std::string>{"cart_latency/CART-000001:firing", "cart_latency/CART-000001:resolved"}));
}

TEST_F(Alarms, MillisecondJitterOnAFastLinkIsNotAnIncident) {
  const CartId cart = CartId::FromNumber(1);
  Duration latency = std::chrono::milliseconds(4);
  auto traffic = [&](FleetSample& s) { per_cart_.RecordStored(cart, s.at, latency, false); };
  Run(minutes(30), traffic);
  latency = std::chrono::milliseconds(40);  // 10x, but under twice the 50 ms floor
  Run(minutes(30), traffic);
  EXPECT_TRUE(sink_.Said().empty());
}

TEST_F(Alarms, ARestartResumesFiringAlarmsWithoutNotifyingThemAgain) {
  Run(minutes(6), Fleet(100));
  Run(seconds(5), Fleet(50));
  ASSERT_EQ(sink_.events.size(), 1u);
  Recorder after;
  AlarmEngine restarted(AlarmRules{}, store_.get(), {&after});
  ASSERT_TRUE(restarted.Restore().ok());
  ASSERT_EQ(restarted.Active().size(), 1u);
  EXPECT_EQ(restarted.Active()[0].alarm, AlarmEngine::kConnectedDrop);
  for (int i = 0; i < 12; ++i) {
    now_ += seconds(5);
    restarted.Evaluate({.at = now_, .connected = 50}, nullptr);
  }
  EXPECT_TRUE(after.Said().empty());
  now_ += seconds(5);
  restarted.Evaluate({.at = now_, .connected = 100}, nullptr);
  EXPECT_EQ(after.Said(), (std::vector<std::string>{"connected_carts_drop/:resolved"}));
  EXPECT_TRUE(store_->ListFiringAlarms()->empty());
}

}  // namespace
}  // namespace cw::monitor
