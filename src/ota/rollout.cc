#include "ota/rollout.h"

#include <algorithm>
#include <cmath>

#include "core/log.h"
#include "crypto/hash.h"
#include "wire/firmware.h"
#include "wire/json.h"

namespace cw::ota {

using store::JobState;
using store::RolloutJob;
using store::RolloutRecord;
using store::RolloutStage;
using store::RolloutState;

std::vector<RolloutStage> DefaultStages() {
  using std::chrono::hours;
  return {{"canary", 10, 0, hours(24)},
          {"1%", std::nullopt, 1, hours(72)},
          {"10%", std::nullopt, 10, hours(24)},
          {"25%", std::nullopt, 25, hours(24)},
          {"100%", std::nullopt, 100, Duration::zero()}};
}

std::string HardwareRevision(std::string_view serial) {
  if (serial.size() >= 3 && serial.substr(0, 2) == "CW") return "v" + std::string(1, serial[2]);
  return "unknown";
}

int StageReach(const RolloutStage& stage, int targets) {
  if (stage.carts) return std::min(*stage.carts, targets);
  return std::min(targets, static_cast<int>(std::ceil(stage.percent / 100.0 * targets - 1e-9)));
}

std::vector<store::CartRecord> CohortOrder(std::vector<store::CartRecord> carts, std::string_view seed) {
  auto rank = [&](const std::string& key) { return crypto::Sha256Hex(std::string(seed) + "/" + key); };
  std::map<std::string, std::vector<std::pair<std::string, store::CartRecord>>> cohorts;
  for (auto& c : carts) {
    std::string cohort = rank(c.store.str() + "/" + HardwareRevision(c.serial));
    cohorts[cohort].emplace_back(rank(c.id.str()), std::move(c));
  }
  for (auto& [k, v] : cohorts) std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<store::CartRecord> out;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (auto& [k, v] : cohorts) {
      if (i < v.size()) {
        out.push_back(std::move(v[i].second));
        any = true;
      }
    }
    if (!any) return out;
  }
}

namespace {

// Paces the stage's queued jobs from `from`: the k-th at k/pace minutes, plus a random share of
// the jitter.
void Pace(std::vector<RolloutJob>& jobs, int stage, int pace_per_minute, Duration jitter, Time from, Random& random,
          std::vector<RolloutJob>* changed) {
  int k = 0;
  Duration gap = std::chrono::duration_cast<Duration>(std::chrono::minutes(1)) / std::max(1, pace_per_minute);
  for (auto& j : jobs) {
    if (j.stage != stage || j.state != JobState::kQueued || j.send_at) continue;
    Duration extra = std::chrono::duration_cast<Duration>(jitter * random.UniformDouble());
    j.send_at = from + gap * k++ + extra;
    if (changed) changed->push_back(j);
  }
}

Status ValidateStages(const std::vector<RolloutStage>& stages) {
  if (stages.empty()) return InvalidArgument("a rollout needs at least one stage");
  if (stages.size() > 10) return InvalidArgument("at most 10 stages");
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto& s = stages[i];
    std::string which = "stage " + std::to_string(i + 1) + (s.name.empty() ? "" : " (" + s.name + ")");
    if (s.carts && *s.carts < 1) return InvalidArgument(which + ": carts must be at least 1");
    if (!s.carts && (s.percent <= 0 || s.percent > 100)) return InvalidArgument(which + ": percent must be in (0, 100]");
    if (s.bake < Duration::zero()) return InvalidArgument(which + ": the duration cannot be negative");
  }
  return Status::Ok();
}

}  // namespace

Result<RolloutRecord> CreateRollout(const RolloutRequest& request, store::EntityStore& entities, FirmwareCatalog& catalog,
                                    Clock& clock, Random& random) {
  CW_RETURN_IF_ERROR(ValidateStages(request.stages));
  if (request.pace_per_minute < 1 || request.pace_per_minute > 100000) {
    return InvalidArgument("pace_per_minute must be 1 to 100000");
  }
  if (request.jitter < Duration::zero()) return InvalidArgument("jitter cannot be negative");
  auto release = catalog.Get(request.version);
  if (!release.ok()) {
    if (release.error().code() == Code::kNotFound) {
      return NotFound("firmware " + request.version + " is not in the catalog (upload it first)");
    }
    return release.error();
  }
  for (const auto& s : request.stores) CW_RETURN_IF_ERROR(entities.GetStore(s).status());
  for (const auto& c : request.carts) CW_RETURN_IF_ERROR(entities.GetCart(c).status());

  // Targets: active carts in scope, less the opted-out.
  CW_ASSIGN_OR_RETURN(auto opt_outs, entities.ListOtaOptOuts());
  std::set<std::string> opted;
  for (const auto& o : opt_outs) opted.insert(o.subject);
  CW_ASSIGN_OR_RETURN(auto all, entities.ListCarts(std::nullopt));
  bool whole_fleet = request.stores.empty() && request.carts.empty();
  std::vector<store::CartRecord> targets;
  for (auto& c : all) {
    if (c.status != store::CartStatus::kActive) continue;
    bool in_scope = whole_fleet || std::count(request.stores.begin(), request.stores.end(), c.store) > 0 ||
                    std::count(request.carts.begin(), request.carts.end(), c.id) > 0;
    if (!in_scope || opted.count(c.id.str()) || opted.count(c.store.str())) continue;
    targets.push_back(std::move(c));
  }
  if (targets.empty()) return InvalidArgument("no cart to update: the targets are empty or all opted out");

  // Every target must already trust every key the image requires.
  CW_ASSIGN_OR_RETURN(auto trust, entities.ListCartTrust());
  std::map<std::string, std::set<std::string>> trusted;
  for (auto& t : trust) trusted[t.cart.str()] = std::set<std::string>(t.keys.begin(), t.keys.end());
  std::vector<std::string> lacking;
  std::string missing_key;
  for (const auto& c : targets) {
    auto it = trusted.find(c.id.str());
    for (const auto& key : release->manifest.required_keys) {
      if (it == trusted.end() || !it->second.count(key)) {
        lacking.push_back(c.id.str());
        missing_key = key;
        break;
      }
    }
  }
  if (!lacking.empty()) {
    std::string names;
    for (size_t i = 0; i < std::min<size_t>(lacking.size(), 5); ++i) names += (i ? ", " : "") + lacking[i];
    if (lacking.size() > 5) names += ", …";
    return FailedPrecondition(std::to_string(lacking.size()) + " of " + std::to_string(targets.size()) +
                              " target carts have not reported trusting key " + missing_key.substr(0, 16) +
                              "… that firmware " + request.version + " requires (" + names +
                              "); roll out an image that adds the key first, or wait for their boot reports");
  }

  Time now = clock.Now();
  RolloutRecord r;
  r.id = random.UuidV4();
  r.version = request.version;
  r.stages = request.stages;
  r.stage_started_at = now;
  r.stores = request.stores;
  r.carts = request.carts;
  r.pace_per_minute = request.pace_per_minute;
  r.jitter = request.jitter;
  r.created_by = request.actor;
  r.created_at = r.updated_at = now;

  std::vector<store::CartRecord> order = CohortOrder(std::move(targets), r.id);
  int n = static_cast<int>(order.size());
  std::map<std::string, std::string> running;
  CW_ASSIGN_OR_RETURN(auto fleet, entities.ListFleet({.limit = 1000000}));
  for (const auto& f : fleet) {
    if (f.state) running[f.cart.id.str()] = f.state->firmware;
  }
  std::vector<RolloutJob> jobs;
  int stage = 0, reach = StageReach(r.stages[0], n);
  for (int pos = 0; pos < n; ++pos) {
    while (pos >= reach && stage + 1 < static_cast<int>(r.stages.size())) {
      stage++;
      reach = std::max(reach, StageReach(r.stages[static_cast<size_t>(stage)], n));
    }
    if (pos >= reach) break;  // beyond the last stage's reach
    const auto& c = order[static_cast<size_t>(pos)];
    jobs.push_back({r.id, c.id, random.UuidV4(), stage, pos, JobState::kQueued, running[c.id.str()], std::nullopt,
                    std::nullopt, now, 0, ""});
  }
  Pace(jobs, 0, r.pace_per_minute, r.jitter, now, random, nullptr);
  CW_RETURN_IF_ERROR(entities.AddRollout(r, jobs));
  log::Info("rollout.created", {{"rollout", r.id}, {"version", r.version}, {"targets", std::to_string(n)},
                                {"jobs", std::to_string(jobs.size())}, {"by", r.created_by}});
  return r;
}

namespace {
Result<RolloutRecord> Transition(store::EntityStore& entities, const std::string& id, Clock& clock,
                                 const std::function<Status(RolloutRecord&)>& change) {
  CW_ASSIGN_OR_RETURN(RolloutRecord r, entities.GetRollout(id));
  CW_RETURN_IF_ERROR(change(r));
  r.updated_at = clock.Now();
  CW_RETURN_IF_ERROR(entities.UpdateRollout(r));
  return r;
}
}  // namespace

Status HaltRollout(store::EntityStore& entities, const std::string& id, const std::string& reason, Clock& clock) {
  return Transition(entities, id, clock, [&](RolloutRecord& r) -> Status {
           if (r.state != RolloutState::kRunning) {
             return FailedPrecondition("rollout " + id + " is " + std::string(Name(r.state)) + ", not running");
           }
           r.state = RolloutState::kHalted;
           r.halt_reason = reason.empty() ? "halted by hand" : reason;
           log::Warn("rollout.halted", {{"rollout", id}, {"reason", r.halt_reason}});
           return Status::Ok();
         })
      .status();
}

Status ReleaseRollout(store::EntityStore& entities, const std::string& id, Clock& clock) {
  CW_ASSIGN_OR_RETURN(auto jobs, entities.ListJobs(id));
  int rolled_back = static_cast<int>(std::count_if(jobs.begin(), jobs.end(), [](const RolloutJob& j) {
    return j.state == JobState::kRolledBack;
  }));
  return Transition(entities, id, clock, [&](RolloutRecord& r) -> Status {
           if (r.state != RolloutState::kHalted) {
             return FailedPrecondition("rollout " + id + " is " + std::string(Name(r.state)) + ", not halted");
           }
           r.state = RolloutState::kRunning;
           r.released_at = clock.Now();
           r.acknowledged_rollbacks = rolled_back;
           log::Info("rollout.released", {{"rollout", id}, {"acknowledged_rollbacks", std::to_string(rolled_back)}});
           return Status::Ok();
         })
      .status();
}

Status AbortRollout(store::EntityStore& entities, const std::string& id, Clock& clock) {
  CW_RETURN_IF_ERROR(Transition(entities, id, clock, [&](RolloutRecord& r) -> Status {
                       if (r.state != RolloutState::kRunning && r.state != RolloutState::kHalted) {
                         return FailedPrecondition("rollout " + id + " is already " + std::string(Name(r.state)));
                       }
                       r.state = RolloutState::kAborted;
                       return Status::Ok();
                     }).status());
  CW_ASSIGN_OR_RETURN(int64_t withdrawn, entities.DeleteUnsentJobs(id));
  log::Warn("rollout.aborted", {{"rollout", id}, {"withdrawn_jobs", std::to_string(withdrawn)}});
  return Status::Ok();
}

Result<RolloutSummary> DescribeRollout(store::EntityStore& entities, const std::string& id) {
  RolloutSummary s;
  CW_ASSIGN_OR_RETURN(s.rollout, entities.GetRollout(id));
  CW_ASSIGN_OR_RETURN(s.jobs, entities.ListJobs(id));
  for (const auto& j : s.jobs) s.by_state[j.state]++;
  s.targets = static_cast<int>(s.jobs.size());
  if (s.targets > 0) {
    s.on_new_version_pct = 100.0 * s.by_state[JobState::kSucceeded] / s.targets;
    s.rolled_back_pct = 100.0 * s.by_state[JobState::kRolledBack] / s.targets;
  }
  return s;
}

// ---- the engine -----------------------------------------------------------------------------------

RolloutEngine::RolloutEngine(RolloutEngineOptions options, store::EntityStore& entities, FirmwareCatalog& catalog,
                             ingest::CommandSender& commands, Clock& clock, Random& random, metrics::Registry* metrics,
                             std::function<std::map<std::string, uint64_t>()> rejects_by_cart)
    : options_(std::move(options)),
      entities_(entities),
      catalog_(catalog),
      commands_(commands),
      clock_(clock),
      random_(random),
      rejects_by_cart_(std::move(rejects_by_cart)) {
  if (metrics) {
    rollback_gauge_ = &metrics->AddGauge("cw_firmware_rollback_count",
                                         "Carts of rollouts to a version that rolled back from it", {"target_version"});
  }
  open_.at = clock_.Now();
  last_tick_ = open_.at;
}

RolloutEngine::~RolloutEngine() { Stop(); }

Status RolloutEngine::OnBatch(std::span<const ingest::RoutedEvent> events) {
  std::lock_guard lock(mu_);
  std::vector<store::CartTrust> trust;
  std::map<std::string, std::vector<RolloutJob>> changed;  // by rollout
  for (const auto& e : events) {
    const store::TelemetryEvent& ev = *e.event;
    const rapidjson::Document& d = *e.doc;
    std::string cart = ev.cart.str();
    std::string fw(wire::GetString(d, "fw").value_or(""));
    last_seen_[cart] = std::max(last_seen_[cart], ev.received_at);
    if (ev.seq >= cart_version_seq_[cart]) {
      cart_version_seq_[cart] = ev.seq;
      cart_version_[cart] = fw;
    }
    std::string reason, previous;
    if (ev.type == wire::EventType::kBoot) {
      store::CartTrust t{ev.cart, ev.seq, {}};
      auto keys = d.FindMember("trusted_keys");
      if (keys != d.MemberEnd() && keys->value.IsArray()) {
        for (const auto& k : keys->value.GetArray()) t.keys.emplace_back(k.GetString(), k.GetStringLength());
      }
      trust.push_back(std::move(t));
      reason = std::string(wire::GetString(d, "reason").value_or(""));
      previous = std::string(wire::GetString(d, "previous_fw").value_or(""));
    }
    std::string fault_code, fault_detail;
    if (ev.type == wire::EventType::kFault) {
      fault_code = std::string(wire::GetString(d, "code").value_or(""));
      fault_detail = std::string(wire::GetString(d, "detail").value_or(""));
    }
    bool targeted = false;
    for (auto& [id, a] : active_) {
      auto it = a.by_cart.find(cart);
      if (it == a.by_cart.end()) continue;
      targeted = true;
      RolloutJob& j = a.jobs[it->second];
      if (ev.seq <= j.decided_seq) continue;  // already decided by this or a later event
      std::optional<JobState> next;
      std::string detail;
      const std::string& v = a.rollout.version;
      if (ev.type == wire::EventType::kBoot && reason == "ota_rollback" && previous == v) {
        next = JobState::kRolledBack;
        detail = "rolled back to " + fw + " (slot " + std::string(wire::GetString(d, "slot").value_or("?")) + ")";
      } else if (ev.type == wire::EventType::kBoot && reason == "ota_trial" && fw == v) {
        if (!store::IsTerminal(j.state)) {
          next = JobState::kInProgress;
          detail = "booted on trial";
        }
      } else if (fw == v) {
        next = JobState::kSucceeded;  // the new version speaks after its trial: it confirmed itself
        detail = "";
      } else if (fault_code == "OTA_VERIFY_FAIL" && fault_detail.find(j.job_id) != std::string::npos) {
        next = JobState::kFailed;
        detail = fault_detail;
      }
      if (!next) continue;
      if (*next == JobState::kRolledBack && j.state != JobState::kRolledBack) rollbacks_by_version_[v]++;
      j.state = *next;
      j.detail = detail;
      j.decided_seq = ev.seq;
      j.updated_at = clock_.Now();
      changed[id].push_back(j);
      log::Info("rollout.job", {{"rollout", id}, {"cart", cart}, {"state", std::string(Name(j.state))}, {"detail", detail}});
    }
    // Errors count for the halt rule only from target carts, whose exposure is counted too.
    if (targeted && !e.redelivered && ev.type == wire::EventType::kFault) open_.errors[fw]++;
  }
  for (const auto& t : trust) {
    Status st = entities_.RecordCartTrust(t);
    if (!st.ok() && !ingest::EventIsAtFault(st)) return st;
  }
  for (auto& [id, jobs] : changed) {
    Status st = entities_.UpdateJobs(jobs);
    if (!st.ok() && !ingest::EventIsAtFault(st)) return st;
  }
  return Status::Ok();
}

void RolloutEngine::Reload() {
  auto listed = entities_.ListRollouts(20);
  if (!listed.ok()) {
    log::Warn("rollout.reload_failed", {{"error", listed.error().ToString()}});
    return;
  }
  std::set<std::string> still;
  for (auto& r : *listed) {
    if (r.state != RolloutState::kRunning && r.state != RolloutState::kHalted) continue;
    still.insert(r.id);
    auto it = active_.find(r.id);
    if (it != active_.end() && it->second.rollout.updated_at == r.updated_at) continue;
    auto jobs = entities_.ListJobs(r.id);
    auto release = catalog_.Get(r.version);
    if (!jobs.ok() || !release.ok()) {
      log::Warn("rollout.reload_failed", {{"rollout", r.id}});
      continue;
    }
    Active a{std::move(r), std::move(*jobs), {}, std::move(*release)};
    for (size_t i = 0; i < a.jobs.size(); ++i) a.by_cart[a.jobs[i].cart.str()] = i;
    int rolled = 0;
    for (const auto& j : a.jobs) rolled += j.state == JobState::kRolledBack;
    rollbacks_by_version_[a.rollout.version] = std::max(rollbacks_by_version_[a.rollout.version], rolled);
    active_[a.rollout.id] = std::move(a);
  }
  for (auto it = active_.begin(); it != active_.end();) {
    it = still.count(it->first) ? std::next(it) : active_.erase(it);
  }
}

Status RolloutEngine::SaveJobs(std::vector<RolloutJob>& changed) {
  if (!changed.empty()) CW_RETURN_IF_ERROR(entities_.UpdateJobs(changed));
  changed.clear();
  return Status::Ok();
}

void RolloutEngine::SendDue(Active& a, Time now) {
  if (a.rollout.state != RolloutState::kRunning) return;
  auto wanted = [&](const RolloutJob& j) {
    bool due = j.state == JobState::kQueued && j.send_at && *j.send_at <= now;
    bool resend = j.state == JobState::kInProgress && j.decided_seq == 0 && j.sent_at &&
                  *j.sent_at + options_.resend_after <= now;
    return due || resend;
  };
  if (std::none_of(a.jobs.begin(), a.jobs.end(), wanted)) return;
  // Opt-outs set after the rollout started still hold back a job not yet sent.
  auto opt = entities_.ListOtaOptOuts();
  std::set<std::string> opted;
  if (opt.ok()) {
    for (const auto& o : *opt) opted.insert(o.subject);
  }
  std::vector<RolloutJob> changed;
  for (auto& j : a.jobs) {
    if (!wanted(j)) continue;
    if (opted.count(j.cart.str())) continue;
    if (!opted.empty()) {
      auto cart = entities_.GetCart(j.cart);
      if (cart.ok() && opted.count(cart->store.str())) continue;
    }
    wire::OtaJob job{j.job_id,
                     a.rollout.version,
                     options_.device_url + "/api/v1/firmware/" + a.rollout.version + "/image",
                     a.release.manifest.sha256,
                     a.release.manifest.size,
                     a.release.manifest_json,
                     a.release.manifest_signature,
                     now};
    std::string json = wire::OtaJobCommandJson(
        {wire::CommandKind::kOtaJob, random_.UuidV4(), j.cart, now, now + options_.command_lifetime}, job);
    Status st = commands_.Send(j.cart, json);
    if (!st.ok()) {
      log::Warn("rollout.send_failed", {{"rollout", a.rollout.id}, {"cart", j.cart.str()}, {"error", st.ToString()}});
      break;  // the broker is away: try again next tick
    }
    j.state = JobState::kInProgress;
    j.sent_at = now;
    j.updated_at = now;
    changed.push_back(j);
  }
  if (Status st = SaveJobs(changed); !st.ok()) log::Warn("rollout.save_failed", {{"error", st.ToString()}});
}

void RolloutEngine::Account(Time now) {
  double dt = std::chrono::duration<double>(now - last_tick_).count();
  last_tick_ = now;
  // Exposure: each target cart heard from lately adds the tick's time to its version.
  std::set<std::string> counted;
  for (const auto& [id, a] : active_) {
    for (const auto& j : a.jobs) {
      std::string cart = j.cart.str();
      if (!counted.insert(cart).second) continue;
      auto seen = last_seen_.find(cart);
      auto version = cart_version_.find(cart);
      if (seen == last_seen_.end() || version == cart_version_.end()) continue;
      if (now - seen->second > std::chrono::minutes(15)) continue;
      open_.cart_seconds[version->second] += dt;
    }
  }
  if (rejects_by_cart_) {
    auto now_rejects = rejects_by_cart_();
    for (const auto& [cart, n] : now_rejects) {
      uint64_t before = last_rejects_[cart];
      if (n > before && counted.count(cart)) open_.errors[cart_version_[cart]] += static_cast<int>(n - before);
    }
    last_rejects_ = std::move(now_rejects);
  }
  open_.at = now;
  buckets_.push_back(std::move(open_));
  open_ = Bucket{now, {}, {}};
  while (!buckets_.empty() && now - buckets_.front().at > options_.error_window) buckets_.pop_front();
}

RolloutEngine::ErrorRates RolloutEngine::RatesLocked(const std::string& version, Time since, Time now) {
  ErrorRates r;
  auto add = [&](const Bucket& b) {
    if (b.at < since || now - b.at > options_.error_window) return;
    for (const auto& [v, s] : b.cart_seconds) (v == version ? r.new_cart_hours : r.old_cart_hours) += s / 3600.0;
    for (const auto& [v, n] : b.errors) (v == version ? r.new_errors : r.old_errors) += n;
  };
  for (const auto& b : buckets_) add(b);
  if (r.new_cart_hours > 0) r.new_rate = r.new_errors / r.new_cart_hours;
  if (r.old_cart_hours > 0) r.old_rate = r.old_errors / r.old_cart_hours;
  return r;
}

RolloutEngine::ErrorRates RolloutEngine::Rates(const std::string& version) {
  std::lock_guard lock(mu_);
  Time now = clock_.Now();
  return RatesLocked(version, now - options_.error_window, now);
}

std::optional<std::string> RolloutEngine::HaltReason(Active& a, Time now) {
  int rolled = 0;
  for (const auto& j : a.jobs) rolled += j.state == JobState::kRolledBack;
  if (rolled > a.rollout.acknowledged_rollbacks) {
    return std::to_string(rolled - a.rollout.acknowledged_rollbacks) + " cart(s) rolled back from " + a.rollout.version;
  }
  Time since = now - options_.error_window;
  if (a.rollout.released_at) since = std::max(since, *a.rollout.released_at);
  ErrorRates r = RatesLocked(a.rollout.version, since, now);
  if (r.new_errors >= options_.min_errors && r.new_cart_hours >= options_.min_cart_hours &&
      r.new_rate > options_.error_ratio * r.old_rate) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "error rate of %s is %.1f per cart-hour (%d errors), %.1fx the old version's %.1f",
                  a.rollout.version.c_str(), r.new_rate, r.new_errors,
                  r.old_rate > 0 ? r.new_rate / r.old_rate : 0.0, r.old_rate);
    return std::string(buf);
  }
  return std::nullopt;
}

void RolloutEngine::Advance(Active& a, Time now) {
  RolloutRecord& r = a.rollout;
  bool changed = false;
  std::vector<RolloutJob> paced;
  if (r.state == RolloutState::kRunning) {
    if (auto why = HaltReason(a, now)) {
      r.state = RolloutState::kHalted;
      r.halt_reason = *why;
      changed = true;
      log::Warn("rollout.halted", {{"rollout", r.id}, {"reason", *why}});
    }
  }
  if (r.state == RolloutState::kRunning) {
    size_t last = r.stages.size() - 1;
    const RolloutStage& stage = r.stages[static_cast<size_t>(r.stage)];
    // A stage is done when it has run its duration and every cart it sent a job to has given its
    // verdict — a canary that has not yet rolled back has not yet been judged. Carts that never
    // answer hold it no longer than its duration again.
    Duration ran = now - r.stage_started_at;
    bool judged = std::all_of(a.jobs.begin(), a.jobs.end(), [&](const RolloutJob& j) {
      return j.stage != r.stage || !j.sent_at || store::IsTerminal(j.state);
    });
    if (static_cast<size_t>(r.stage) < last && ran >= stage.bake && (judged || ran >= 2 * stage.bake)) {
      r.stage++;
      r.stage_started_at = now;
      changed = true;
      Pace(a.jobs, r.stage, r.pace_per_minute, r.jitter, now, random_, &paced);
      log::Info("rollout.stage", {{"rollout", r.id}, {"stage", r.stages[static_cast<size_t>(r.stage)].name}});
    } else if (static_cast<size_t>(r.stage) == last &&
               std::all_of(a.jobs.begin(), a.jobs.end(), [](const RolloutJob& j) { return store::IsTerminal(j.state); })) {
      r.state = RolloutState::kCompleted;
      changed = true;
      log::Info("rollout.completed", {{"rollout", r.id}, {"version", r.version}});
    }
  }
  if (!changed) return;
  r.updated_at = now;
  Status st = SaveJobs(paced);
  if (st.ok()) st = entities_.UpdateRollout(r);
  if (!st.ok()) log::Warn("rollout.save_failed", {{"rollout", r.id}, {"error", st.ToString()}});
}

void RolloutEngine::PublishMetrics() {
  if (!rollback_gauge_) return;
  for (const auto& [v, n] : rollbacks_by_version_) rollback_gauge_->With({v}).Set(n);
}

void RolloutEngine::Tick() {
  std::lock_guard lock(mu_);
  Time now = clock_.Now();
  Reload();
  Account(now);
  for (auto& [id, a] : active_) {
    SendDue(a, now);
    Advance(a, now);
  }
  PublishMetrics();
}

}  // namespace cw::ota
