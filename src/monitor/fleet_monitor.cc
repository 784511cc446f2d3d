#include "monitor/fleet_monitor.h"

#include "core/log.h"
#include "wire/json.h"
#include "wire/status.h"
#include "wire/topic.h"

namespace cw::monitor {

namespace {

// The cadence a health report announces; nullopt for other events.
std::optional<Cadence> CadenceOfEvent(const ingest::RoutedEvent& e) {
  if (e.event->type != wire::EventType::kHealth || !e.doc) return std::nullopt;
  auto state = wire::GetString(*e.doc, "state");
  bool outside = false;
  auto loc = e.doc->FindMember("location");
  if (loc != e.doc->MemberEnd() && loc->value.IsObject()) outside = loc->value.HasMember("lat");
  return CadenceOf(state.value_or(""), outside);
}

}  // namespace

MonitorOptions MonitorOptionsFrom(const Config::Monitor& c) {
  MonitorOptions o;
  o.tick = std::chrono::duration_cast<std::chrono::milliseconds>(c.tick);
  o.broker_log = c.broker_log;
  o.connectivity.active_cadence = c.active_cadence;
  o.connectivity.idle_cadence = c.idle_cadence;
  o.connectivity.outside_cadence = c.outside_cadence;
  o.connectivity.offline_after = c.offline_after;
  o.alarms.connected_drop_window = c.connected_drop_window;
  o.alarms.ingest_error_rate_window = c.error_rate_window;
  o.alarms.ingest_error_for = c.error_rate_for;
  o.alarms.latency_window = c.latency_window;
  o.alarms.latency_for = c.latency_for;
  o.alarms.latency_baseline_warmup = c.latency_baseline_warmup;
  o.alarms.latency_floor = std::chrono::milliseconds(c.latency_floor_ms);
  o.alarms.auth_failures_window = c.auth_failures_window;
  o.fleet_diff_every = c.fleet_diff_every;
  return o;
}

FleetMonitor::FleetMonitor(MonitorOptions options, store::EntityStore& entities, metrics::Registry& metrics,
                           const metrics::CartStatsTable* per_cart, Clock& clock, std::function<IngestTotals()> ingest,
                           std::vector<AlarmSink*> sinks)
    : options_(std::move(options)),
      entities_(entities),
      registry_(metrics),
      per_cart_(per_cart),
      clock_(clock),
      ingest_(std::move(ingest)),
      tracker_(options_.connectivity),
      alarms_(options_.alarms, &entities, std::move(sinks)),
      transitions_total_(metrics.AddCounter("cw_connectivity_transitions_total",
                                            "Changes of carts' link state, by the state entered", {"to"})),
      status_messages_(metrics.AddCounter("cw_status_messages_total",
                                          "Births and wills on carts/+/status, by kind (malformed: refused)",
                                          {"kind"})),
      auth_failures_total_(metrics.AddCounter("cw_broker_auth_failures_total",
                                              "What the broker refused: TLS handshakes, CONNECTs and ACL checks (publishes and subscriptions)", {"kind"})),
      firing_(metrics.AddGauge("cw_alarms_firing", "Alarms firing now, by alarm", {"alarm"})),
      expected_online_(metrics.AddGauge("cw_fleet_expected_online",
                                        "Carts expected online: active, not in maintenance, their store open").With()),
      expected_missing_(metrics.AddGauge("cw_fleet_expected_missing", "Carts expected online that are not").With()) {
  if (!options_.broker_log.empty()) broker_log_ = std::make_unique<BrokerLogFollower>(options_.broker_log);
  metrics.AddGaugeFunction("cw_carts_connected", "Carts online: connected and heard from within their cadence",
                           [this] { return static_cast<double>(tracker_.counts().online); });
  metrics.AddGaugeFunction("cw_carts_stale", "Carts silent for more than twice their cadence, not yet offline",
                           [this] { return static_cast<double>(tracker_.counts().stale); });
  metrics.AddGaugeFunction("cw_carts_offline", "Carts known to be disconnected (will, long silence, broker lost)",
                           [this] { return static_cast<double>(tracker_.counts().offline); });
  for (auto s : {store::LinkState::kOnline, store::LinkState::kStale, store::LinkState::kOffline}) {
    transitions_total_.With({std::string(store::Name(s))});
  }
  for (const char* k : {"online", "offline", "malformed"}) status_messages_.With({k});
  for (auto f : kAllAuthFailures) auth_failures_total_.With({std::string(Name(f))});
  for (const char* a : {AlarmEngine::kConnectedDrop, AlarmEngine::kIngestErrorRate, AlarmEngine::kCartLatency,
                        AlarmEngine::kAuthFailures}) {
    firing_.With({a});
  }
}

FleetMonitor::~FleetMonitor() { Stop(); }

Result<std::vector<store::CartOverview>> FleetMonitor::WholeFleet() const {
  std::vector<store::CartOverview> fleet;
  store::FleetQuery q;
  q.limit = 500;
  for (;;) {
    CW_ASSIGN_OR_RETURN(auto page, entities_.ListFleet(q));
    bool last = page.size() < q.limit;
    for (auto& c : page) fleet.push_back(std::move(c));
    if (last) return fleet;
    q.after = fleet.back().cart.id;
  }
}

Status FleetMonitor::Restore() {
  // The fleet view already carries each cart's kept link state, activity and health.
  CW_ASSIGN_OR_RETURN(auto fleet, WholeFleet());
  for (const auto& c : fleet) {
    if (!c.connectivity) continue;
    std::optional<Time> last_seen;
    if (c.activity) last_seen = c.activity->last_seen_at;
    Cadence cadence = Cadence::kIdle;
    if (c.state) cadence = CadenceOf(c.state->state, c.state->location_json.find("\"lat\"") != std::string::npos);
    tracker_.Restore(*c.connectivity, last_seen, cadence);
  }
  return alarms_.Restore();
}

Status FleetMonitor::Start() {
  CW_ASSIGN_OR_RETURN(status_, mqtt::Client::Create(options_.broker));
  status_->SetMessageHandler([this](const mqtt::Message& m) { OnStatusMessage(m.topic, m.payload); });
  status_->SetConnectionHandler([this](bool up) {
    // Without the broker no cart reaches the cloud; on its return the retained births arrive
    // again through the restored subscription.
    if (!up) tracker_.OnBrokerLost(clock_.Now());
    if (up) log::Info("monitor.broker_connected", {});
    else log::Warn("monitor.broker_lost", {});
  });
  CW_RETURN_IF_ERROR(status_->Connect().WithContext("fleet monitor"));
  CW_RETURN_IF_ERROR(status_->Subscribe(std::string(wire::kAllStatusFilter), 1).WithContext("fleet monitor"));
  ticker_.Start();
  return Status::Ok();
}

void FleetMonitor::Stop() {
  if (stopped_.exchange(true)) return;  // serve stops it, then the destructor would again
  ticker_.Stop();
  if (status_) {
    status_->SetConnectionHandler(nullptr);
    status_->Disconnect();
  }
  // What the last tick could not keep gets one more try.
  TickOnce();
}

void FleetMonitor::OnStatusMessage(const std::string& topic, const std::string& payload) {
  auto cart = wire::ParseStatusTopic(topic);
  auto status = wire::ParseStatusPayload(payload);
  if (!cart.ok() || !status.ok()) {
    status_messages_.With({"malformed"}).Inc();
    log::Warn("monitor.status_malformed",
              {{"topic", topic}, {"error", !cart.ok() ? cart.error().ToString() : status.error().ToString()}});
    return;
  }
  status_messages_.With({std::string(wire::Name(status->presence))}).Inc();
  tracker_.OnStatus(*cart, *status, clock_.Now());
}

void FleetMonitor::SetErrorDigest(Webhook* webhook, Duration every) {
  std::lock_guard lock(tick_mu_);
  digest_ = webhook;
  digest_every_ = every;
}

Result<FleetDiff> FleetMonitor::ComputeFleetDiff(Time now) const {
  CW_ASSIGN_OR_RETURN(auto stores, entities_.ListStores());
  CW_ASSIGN_OR_RETURN(auto fleet, WholeFleet());
  return DiffFleet(fleet, stores, tracker_, now);
}

Result<FleetDiff> FleetMonitor::CurrentFleetDiff() const { return ComputeFleetDiff(clock_.Now()); }

Status FleetMonitor::OnBatch(std::span<const ingest::RoutedEvent> events) {
  for (const auto& e : events) {
    if (e.redelivered) continue;
    tracker_.OnEvent(e.event->cart, e.event->received_at, CadenceOfEvent(e));
  }
  return Status::Ok();
}

void FleetMonitor::TickOnce() {
  std::lock_guard lock(tick_mu_);
  Time now = clock_.Now();
  if (broker_log_) {
    std::string lines = broker_log_->ReadNewLines();
    size_t start = 0;
    while (start < lines.size()) {
      size_t end = lines.find('\n', start);
      std::string_view line(lines.data() + start, end - start);
      std::string detail;
      if (auto failure = ClassifyBrokerLogLine(line, &detail)) {
        auth_failures_++;
        auth_failures_total_.With({std::string(Name(*failure))}).Inc();
        log::Info("monitor.broker_auth_failure", {{"kind", std::string(Name(*failure))}, {"detail", detail}});
      }
      start = end + 1;
    }
  }
  // Rejected messages are signs of life too (a cart whose firmware sends malformed payloads is
  // connected, and the error-rate alarm, not this one, is about it).
  if (per_cart_) {
    for (const auto& [cart, seen] : per_cart_->LastSeen()) tracker_.OnEvent(cart, seen, std::nullopt);
  }
  tracker_.Tick(now);
  auto fresh = tracker_.TakeTransitions();
  for (const auto& t : fresh) transitions_total_.With({std::string(store::Name(t.to))}).Inc();
  unsaved_.insert(unsaved_.end(), fresh.begin(), fresh.end());
  if (!unsaved_.empty()) {
    Status st = entities_.RecordConnectivity(unsaved_);
    if (st.code() == Code::kNotFound) {
      // A cart removed from the registry: drop its transitions, keep the rest one by one.
      std::vector<store::ConnectivityTransition> retry;
      for (const auto& t : unsaved_) {
        Status one = entities_.RecordConnectivity({&t, 1});
        if (one.code() == Code::kNotFound) {
          log::Warn("monitor.transition_dropped", {{"cart", t.cart.str()}, {"error", one.ToString()}});
        } else if (!one.ok()) {
          retry.push_back(t);
          st = one;
        }
      }
      unsaved_.swap(retry);
      if (unsaved_.empty()) st = Status::Ok();
    }
    if (st.ok()) {
      unsaved_.clear();
    } else {
      log::Error("monitor.transitions_not_kept", {{"pending", unsaved_.size()}, {"error", st.ToString()}});
    }
  }
  if (!diff_at_ || now - *diff_at_ >= options_.fleet_diff_every || now < *diff_at_) {
    auto diff = ComputeFleetDiff(now);
    if (diff.ok()) {
      diff_at_ = now;
      expected_online_.Set(static_cast<double>(diff->expected));
      expected_missing_.Set(static_cast<double>(diff->missing.size()));
      for (const auto& p : diff->problems) log::Warn("monitor.store_hours_unreadable", {{"problem", p}});
    } else {
      log::Warn("monitor.fleet_diff_failed", {{"error", diff.error().ToString()}});  // again next tick
    }
  }
  if (digest_ && per_cart_) {
    if (!digest_at_ || now < *digest_at_) digest_at_ = now;
    if (now - *digest_at_ >= digest_every_) {
      Duration window = std::min<Duration>(digest_every_, std::chrono::hours(1));
      auto top = per_cart_->TopErrors(now, window, 20);
      if (!top.empty()) digest_->Post(ErrorDigestJson(now, window, top));
      digest_at_ = now;
    }
  }
  IngestTotals totals = ingest_ ? ingest_() : IngestTotals{};
  FleetSample sample{now, tracker_.counts().online, totals.received, totals.errors, auth_failures_.load()};
  alarms_.Evaluate(sample, per_cart_);
  std::map<std::string, int> firing;
  for (const auto& a : alarms_.Active()) firing[a.alarm] += a.state == AlarmStatus::State::kFiring;
  for (const char* a : {AlarmEngine::kConnectedDrop, AlarmEngine::kIngestErrorRate, AlarmEngine::kCartLatency,
                        AlarmEngine::kAuthFailures}) {
    firing_.With({a}).Set(firing[a]);
  }
  history_.Record(now, registry_.Snapshot());
}

}  // namespace cw::monitor
