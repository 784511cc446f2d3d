// monitor/fleet_monitor.h — the fleet monitor inside `cartwright serve`: it feeds the
// connectivity state machine (births and wills from its own subscription to carts/+/status, events
// as an ingest sink), follows the broker's log for authentication failures, and on every tick
// applies the silence rules, keeps the transitions, and evaluates the alarms.
//
// Everything time-dependent reads the injected clock; the tick thread only decides how often.
// Tests drive TickOnce() themselves on a manual clock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ticker.h"
#include "core/config.h"
#include "ingest/event_sink.h"
#include "metrics/cart_stats.h"
#include "metrics/history.h"
#include "metrics/registry.h"
#include "monitor/alarms.h"
#include "monitor/broker_log.h"
#include "monitor/connectivity.h"
#include "monitor/fleet_diff.h"
#include "monitor/notify.h"
#include "mqtt/client.h"
#include "store/entity_store.h"

namespace cw::monitor {

struct MonitorOptions {
  // The status subscription: host, port and the ingest identity's TLS files; client_id unique.
  mqtt::ClientOptions broker;
  ConnectivityRules connectivity;
  AlarmRules alarms;
  std::chrono::milliseconds tick{5000};  // real time between evaluations
  std::string broker_log;                // the managed broker's log file; "" to not follow one
  Duration fleet_diff_every = std::chrono::minutes(5);
};

// The rules and tick of `[monitor]` in cartwright.toml (the broker connection is the caller's).
MonitorOptions MonitorOptionsFrom(const Config::Monitor& config);

// The ingest's running totals, for the error-rate alarm.
struct IngestTotals {
  uint64_t received = 0;
  uint64_t errors = 0;  // rejected messages plus failed batch writes
};

class FleetMonitor final : public ingest::EventSink {
 public:
  // `per_cart` (may be null) gives the latency alarm its figures; `sinks` hear of every alarm
  // notification (the store keeps them regardless).
  FleetMonitor(MonitorOptions options, store::EntityStore& entities, metrics::Registry& metrics,
               const metrics::CartStatsTable* per_cart, Clock& clock, std::function<IngestTotals()> ingest,
               std::vector<AlarmSink*> sinks);
  ~FleetMonitor() override;

  // Seeds the state machine and the alarms from the store. Call once, before the ingest starts
  // routing events here.
  Status Restore();
  // Subscribes to the carts' status and starts ticking. Unavailable if the broker is unreachable.
  Status Start();
  void Stop();

  // Posts the errors by device of the last `every` (at most an hour) to `webhook` every `every`,
  // when there were any. Call before Start.
  void SetErrorDigest(Webhook* webhook, Duration every = std::chrono::hours(1));

  // One evaluation at the clock's now: broker log, silence rules, transitions kept, alarms,
  // fleet-diff gauges, the error digest when due.
  void TickOnce();

  // ingest::EventSink — every stored event is a sign of life (redeliveries are not).
  Status OnBatch(std::span<const ingest::RoutedEvent> events) override;

  // A birth or will as received on carts/{id}/status (the subscription calls it; so can tests).
  void OnStatusMessage(const std::string& topic, const std::string& payload);

  const ConnectivityTracker& connectivity() const { return tracker_; }
  // The registry as of every tick of the last hour (the dashboard's health pages).
  const metrics::History& history() const { return history_; }
  // The fleet diff as of the clock's now (the API's; the tick keeps the cw_fleet_* gauges
  // current every fleet_diff_every with the same computation). Store trouble is kUnavailable.
  Result<FleetDiff> CurrentFleetDiff() const;
  const AlarmEngine& alarms() const { return alarms_; }

 private:
  Result<FleetDiff> ComputeFleetDiff(Time now) const;
  // Every registered cart with its state, page by page.
  Result<std::vector<store::CartOverview>> WholeFleet() const;

  MonitorOptions options_;
  store::EntityStore& entities_;
  metrics::Registry& registry_;
  metrics::History history_;
  const metrics::CartStatsTable* per_cart_;
  Clock& clock_;
  std::function<IngestTotals()> ingest_;
  ConnectivityTracker tracker_;
  AlarmEngine alarms_;
  std::unique_ptr<BrokerLogFollower> broker_log_;

  std::mutex tick_mu_;                                  // one TickOnce at a time
  std::vector<store::ConnectivityTransition> unsaved_;  // guarded by tick_mu_: kept for the next try
  std::atomic<uint64_t> auth_failures_{0};
  std::optional<Time> diff_at_;  // guarded by tick_mu_: when the gauges were last set
  Webhook* digest_ = nullptr;
  Duration digest_every_ = std::chrono::hours(1);
  std::optional<Time> digest_at_;  // guarded by tick_mu_: the period's start

  metrics::Family<metrics::Counter>& transitions_total_;
  metrics::Family<metrics::Counter>& status_messages_;
  metrics::Family<metrics::Counter>& auth_failures_total_;
  metrics::Family<metrics::Gauge>& firing_;
  metrics::Gauge& expected_online_;
  metrics::Gauge& expected_missing_;

  std::unique_ptr<mqtt::Client> status_;
  std::atomic<bool> stopped_{false};  // Stop has run
  Ticker ticker_{options_.tick, [this] { TickOnce(); }};
};

}  // namespace cw::monitor
