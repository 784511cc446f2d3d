#include "monitor/alarms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "core/time_format.h"

namespace cw::monitor {

namespace {

std::string Format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

AlarmEngine::AlarmEngine(AlarmRules rules, store::FleetHealthLog* log, std::vector<AlarmSink*> sinks)
    : rules_(rules), log_(log), sinks_(std::move(sinks)) {}

Status AlarmEngine::Restore() {
  if (!log_) return Status::Ok();
  CW_ASSIGN_OR_RETURN(auto firing, log_->ListFiringAlarms());
  std::lock_guard lock(mu_);
  for (const auto& e : firing) {
    AlarmStatus s{e.alarm, e.subject, AlarmStatus::State::kFiring, e.severity, e.at, e.value, e.threshold, e.summary};
    // The drop's record names the count it must recover to; the peak follows from it.
    double reference = e.alarm == kConnectedDrop ? e.threshold / (1 - rules_.connected_drop) : 0;
    slots_[{e.alarm, e.subject}] = Slot{s, reference};
  }
  return Status::Ok();
}

void AlarmEngine::Emit(const AlarmStatus& s, bool firing, Time at, double value, const std::string& summary) {
  store::AlarmEvent e{s.alarm, s.subject, firing, s.severity, at, value, s.threshold, summary};
  if (log_) {
    Status st = log_->RecordAlarmEvent(e);
    if (!st.ok()) log::Error("alarm.record_failed", {{"alarm", e.alarm}, {"error", st.ToString()}});
  }
  for (AlarmSink* sink : sinks_) sink->Notify(e);
}

void AlarmEngine::Judge(const std::string& alarm, const std::string& subject, bool holds, Duration for_, Time at,
                        store::AlarmSeverity severity, double value, double threshold, const std::string& summary) {
  auto key = std::make_pair(alarm, subject);
  auto it = slots_.find(key);
  if (!holds) {
    if (it == slots_.end()) return;
    if (it->second.status.state == AlarmStatus::State::kFiring) {
      Emit(it->second.status, false, at, value, "resolved: " + summary);
    }
    slots_.erase(it);
    return;
  }
  if (it == slots_.end()) {
    it = slots_.emplace(key, Slot{AlarmStatus{alarm, subject, AlarmStatus::State::kPending, severity, at, value,
                                              threshold, summary},
                                  0})
             .first;
  }
  AlarmStatus& s = it->second.status;
  s.value = value;
  s.threshold = threshold;
  s.summary = summary;
  if (s.state == AlarmStatus::State::kPending && at - s.since >= for_) {
    s.state = AlarmStatus::State::kFiring;
    s.since = at;
    Emit(s, true, at, value, summary);
  }
}

const FleetSample& AlarmEngine::SampleAt(Time at) const {
  const FleetSample* best = &samples_.front();
  for (const auto& s : samples_) {
    if (s.at > at) break;
    best = &s;
  }
  return *best;
}

void AlarmEngine::Evaluate(const FleetSample& now, const metrics::CartStatsTable* per_cart) {
  std::lock_guard lock(mu_);
  samples_.push_back(now);
  Duration keep = std::max({rules_.connected_drop_window, rules_.ingest_error_rate_window, rules_.auth_failures_window});
  // Keep one sample at least `keep` old, so every window has its start.
  while (samples_.size() > 2 && samples_[1].at <= now.at - keep) samples_.pop_front();

  // 1. Connected carts drop.
  {
    uint64_t peak = 0;
    for (const auto& s : samples_) {
      if (s.at >= now.at - rules_.connected_drop_window) peak = std::max(peak, s.connected);
    }
    auto it = slots_.find({kConnectedDrop, ""});
    bool firing = it != slots_.end() && it->second.status.state == AlarmStatus::State::kFiring;
    // While firing, the peak it fell from stays the reference until the fleet is back.
    double reference = firing ? std::max<double>(it->second.reference, static_cast<double>(peak)) : static_cast<double>(peak);
    double drop = reference > 0 ? (reference - static_cast<double>(now.connected)) / reference : 0;
    bool holds = drop > rules_.connected_drop;
    // Recorded as carts: connected now, and the count below which the fleet is still down.
    double floor = (1 - rules_.connected_drop) * reference;
    Judge(kConnectedDrop, "", holds, Duration::zero(), now.at, store::AlarmSeverity::kPage,
          static_cast<double>(now.connected), floor,
          Format("connected carts %llu, %.0f%% below the peak of %.0f in the last %s",
                 static_cast<unsigned long long>(now.connected), drop * 100, reference,
                 FormatShortDuration(rules_.connected_drop_window).c_str()));
    it = slots_.find({kConnectedDrop, ""});
    if (it != slots_.end() && !firing) it->second.reference = reference;
  }

  // 2. Ingest error rate.
  {
    const FleetSample& then = SampleAt(now.at - rules_.ingest_error_rate_window);
    uint64_t received = now.received >= then.received ? now.received - then.received : 0;
    uint64_t errors = now.errors >= then.errors ? now.errors - then.errors : 0;
    double rate = received > 0 ? static_cast<double>(errors) / static_cast<double>(received) : 0;
    Judge(kIngestErrorRate, "", rate > rules_.ingest_error_rate, rules_.ingest_error_for, now.at,
          store::AlarmSeverity::kPage, rate, rules_.ingest_error_rate,
          Format("ingest error rate %.2f%% over the last %s (%llu of %llu messages); the limit is %.0f%% for %s",
                 rate * 100, FormatShortDuration(rules_.ingest_error_rate_window).c_str(), static_cast<unsigned long long>(errors),
                 static_cast<unsigned long long>(received), rules_.ingest_error_rate * 100,
                 FormatShortDuration(rules_.ingest_error_for).c_str()));
  }

  // 4. Authentication failures.
  {
    const FleetSample& then = SampleAt(now.at - rules_.auth_failures_window);
    uint64_t failures = now.auth_failures >= then.auth_failures ? now.auth_failures - then.auth_failures : 0;
    Judge(kAuthFailures, "", failures > rules_.auth_failures, Duration::zero(), now.at, store::AlarmSeverity::kPage,
          static_cast<double>(failures), static_cast<double>(rules_.auth_failures),
          Format("%llu authentication failures (refused TLS handshakes, CONNECTs and ACL checks) in the last %s; the limit is %llu",
                 static_cast<unsigned long long>(failures), FormatShortDuration(rules_.auth_failures_window).c_str(),
                 static_cast<unsigned long long>(rules_.auth_failures)));
  }

  // 3. Per-cart latency.
  if (per_cart) EvaluateLatency(now.at, *per_cart);
}

void AlarmEngine::EvaluateLatency(Time now, const metrics::CartStatsTable& per_cart) {
  double floor = Seconds(rules_.latency_floor);
  for (const CartId& cart : per_cart.Carts()) {
    metrics::LatencySketch recent = per_cart.Latency(cart, now - rules_.latency_window - per_cart.slice(), now);
    std::optional<double> p99;
    if (recent.count() >= rules_.latency_min_samples) p99 = recent.Quantile(0.99);
    auto base = baselines_.find(cart);
    bool trusted = base != baselines_.end() && base->second.updated - base->second.first >= rules_.latency_baseline_warmup;
    double threshold = rules_.latency_factor * std::max(trusted ? base->second.seconds : 0.0, floor);
    bool holds = trusted && p99 && *p99 > threshold;
    auto slot = slots_.find({kCartLatency, cart.str()});
    bool quiet = slot == slots_.end();
    // Learn from normal times only; with no trusted baseline (a new cart, or a restart) learn
    // anyway, or a cart restored as firing could never be judged again.
    if (p99 && ((!holds && quiet) || !trusted)) {
      if (base == baselines_.end()) {
        baselines_[cart] = LearnedBaseline{*p99, now, now};
      } else {
        double w = 1 - std::exp(-Seconds(now - base->second.updated) / Seconds(rules_.latency_baseline_tau));
        base->second.seconds += w * (*p99 - base->second.seconds);
        base->second.updated = now;
      }
    }
    if (quiet && !holds) continue;
    // No opinion (too few events, no baseline yet): the alarm stays as it is.
    bool opinion = p99 && trusted;
    if (!opinion && !quiet) continue;
    Judge(kCartLatency, cart.str(), holds, rules_.latency_for, now, store::AlarmSeverity::kNotify, p99.value_or(0),
          threshold,
          Format("%s publish-to-cloud p99 %.3f s over the last %s; %.0fx its baseline is %.3f s", cart.str().c_str(),
                 p99.value_or(0), FormatShortDuration(rules_.latency_window).c_str(), rules_.latency_factor, threshold));
  }
}

std::vector<AlarmStatus> AlarmEngine::Active() const {
  std::lock_guard lock(mu_);
  std::vector<AlarmStatus> out;
  for (const auto& [key, slot] : slots_) out.push_back(slot.status);
  return out;
}

std::optional<double> AlarmEngine::Baseline(const CartId& cart) const {
  std::lock_guard lock(mu_);
  auto it = baselines_.find(cart);
  if (it == baselines_.end() || it->second.updated - it->second.first < rules_.latency_baseline_warmup) {
    return std::nullopt;
  }
  return it->second.seconds;
}

}  // namespace cw::monitor
