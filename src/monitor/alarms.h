// monitor/alarms.h — the four fleet alarms, evaluated on the injected clock.
//
//   connected_carts_drop  connected carts fall > 20% below their peak of the last 5 minutes → page;
//                         resolves when back to ≥ 80% of the peak it fell from
//   ingest_error_rate     rejected (and failed-to-commit) messages > 1% of those received, over
//                         the last minute, for 10 minutes → page
//   cart_latency          one cart's publish→cloud p99 over the last 5 minutes > 2× its own
//                         baseline, for 15 minutes → notify (no page); one alarm per cart. The
//                         window is whole slices of the CartStatsTable (5 min): 5 to 10 minutes.
//   auth_failures         > 100 refused TLS handshakes, CONNECTs and ACL checks at the broker within 5 minutes → page
//
// Each (alarm, subject) moves ok → pending (the condition holds, its `for` not yet served) →
// firing → resolved (= ok again). Sinks hear of each start of firing and each resolution exactly
// once; a pending condition that clears in time is never heard of. With a FleetHealthLog the
// history is kept and a restart resumes what was firing without notifying it again.
//
// A cart's baseline is learned while its alarm is ok: an exponentially weighted mean of its
// 5-minute p99 (time constant one hour, trusted after 15 minutes of samples), frozen while the
// condition holds so an incident never becomes the norm. The baseline is at least
// `latency_floor`: on a loopback test rig a p99 of 4 ms doubling to 8 ms is noise, not news.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "metrics/cart_stats.h"
#include "store/entity_store.h"

namespace cw::monitor {

struct AlarmRules {
  // The thresholds are the product's; the durations are configurable so that scenario tests with
  // a real broker run in seconds ([monitor] in cartwright.toml).
  double connected_drop = 0.20;
  Duration connected_drop_window = std::chrono::minutes(5);
  double ingest_error_rate = 0.01;
  Duration ingest_error_rate_window = std::chrono::minutes(1);
  Duration ingest_error_for = std::chrono::minutes(10);
  double latency_factor = 2.0;
  Duration latency_window = std::chrono::minutes(5);
  Duration latency_for = std::chrono::minutes(15);
  Duration latency_baseline_tau = std::chrono::hours(1);
  Duration latency_baseline_warmup = std::chrono::minutes(15);
  Duration latency_floor = std::chrono::milliseconds(50);
  uint64_t latency_min_samples = 5;  // fewer live events in the window: no opinion
  uint64_t auth_failures = 100;
  Duration auth_failures_window = std::chrono::minutes(5);
};

// The fleet-wide figures at one instant. Counters are cumulative since the process started.
struct FleetSample {
  Time at{};
  uint64_t connected = 0;
  uint64_t received = 0;       // messages the ingest took from the broker
  uint64_t errors = 0;         // of those: rejected, plus failed batch writes
  uint64_t auth_failures = 0;  // refused TLS handshakes, CONNECTs and ACL checks at the broker
};

// Where notifications go (log, webhook, the store behind the UI). Called on the evaluating
// thread; must not block for long (a webhook queues and delivers on its own thread).
class AlarmSink {
 public:
  virtual ~AlarmSink() = default;
  virtual void Notify(const store::AlarmEvent& event) = 0;
};

// One alarm as it stands.
struct AlarmStatus {
  std::string alarm, subject;
  enum class State { kPending, kFiring } state = State::kPending;
  store::AlarmSeverity severity = store::AlarmSeverity::kPage;
  Time since{};  // pending since / firing since
  double value = 0, threshold = 0;
  std::string summary;
};

class AlarmEngine {
 public:
  // `log` (may be null) keeps the history; sinks are notified in order.
  AlarmEngine(AlarmRules rules, store::FleetHealthLog* log, std::vector<AlarmSink*> sinks);

  // Resumes what the log says is firing (no notifications). Call once before Evaluate.
  Status Restore();

  // Evaluates every rule at `sample.at`; `per_cart` gives the carts' latency (may be null).
  void Evaluate(const FleetSample& sample, const metrics::CartStatsTable* per_cart);

  // Pending and firing alarms, ordered by (alarm, subject).
  std::vector<AlarmStatus> Active() const;
  // A cart's learned latency baseline in seconds, if trusted yet.
  std::optional<double> Baseline(const CartId& cart) const;

  static constexpr const char* kConnectedDrop = "connected_carts_drop";
  static constexpr const char* kIngestErrorRate = "ingest_error_rate";
  static constexpr const char* kCartLatency = "cart_latency";
  static constexpr const char* kAuthFailures = "auth_failures";

 private:
  struct Slot {
    AlarmStatus status;
    double reference = 0;  // connected_carts_drop: the peak it fell from (restored from the threshold)
  };
  struct LearnedBaseline {
    double seconds = 0;
    Time first{}, updated{};
  };
  // Moves (alarm, subject) according to `holds` at `at`; `for_` 0 fires at once.
  void Judge(const std::string& alarm, const std::string& subject, bool holds, Duration for_, Time at,
             store::AlarmSeverity severity, double value, double threshold, const std::string& summary);
  void Emit(const AlarmStatus& s, bool firing, Time at, double value, const std::string& summary);
  // The newest sample at or before `at` (the oldest kept if none is that old).
  const FleetSample& SampleAt(Time at) const;
  void EvaluateLatency(Time now, const metrics::CartStatsTable& per_cart);

  const AlarmRules rules_;
  store::FleetHealthLog* log_;
  std::vector<AlarmSink*> sinks_;
  mutable std::mutex mu_;
  std::deque<FleetSample> samples_;                           // guarded by mu_, oldest first
  std::map<std::pair<std::string, std::string>, Slot> slots_;  // guarded by mu_
  std::map<CartId, LearnedBaseline> baselines_;                       // guarded by mu_
};

}  // namespace cw::monitor
