// ota/rollout.h — staged rollouts of a firmware release across the fleet.
//
// A rollout takes its target carts (all, or some stores and carts; opted-out ones never) in a
// cohort order that spans stores and hardware revisions, and reaches them stage by stage: by
// default a canary of 10 carts for 24 h, then 1% for 72 h, 10% and 25% for 24 h each, then 100%.
// Within a stage, job commands go out paced (at most pace_per_minute, each delayed by a random
// share of the jitter), so a stage never sets off a download storm.
//
// Each target cart has one job, whose state comes from the cart's own events: IN_PROGRESS once
// its ota-job is sent (and through its ota_trial boot), SUCCEEDED at the first event of the new
// version after the trial (a trial image publishes nothing else until it has confirmed itself),
// ROLLED_BACK at an ota_rollback boot away from it, FAILED at an OTA_VERIFY_FAIL fault naming it.
//
// The halt rule holds the next stage — until a human releases it — when any cart rolled back, or
// when the new version's error rate (faults + rejects per cart-hour) over the last 30 minutes is
// more than 1.5× the old version's. Halt, release and abort are also manual (API and CLI), and a
// rollout whose image needs a trust key some target cart has not reported is refused at start.
//
// The state lives in the entity store (store::RolloutLedger): the functions here and the CLI act
// on it directly, and the RolloutEngine inside `cartwright serve` drives it.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/ticker.h"
#include "core/random.h"
#include "ingest/command_sender.h"
#include "ingest/event_sink.h"
#include "metrics/registry.h"
#include "ota/firmware_catalog.h"
#include "store/entity_store.h"

namespace cw::ota {

// Canary 10 carts 24 h → 1% 72 h → 10% 24 h → 25% 24 h → 100%.
std::vector<store::RolloutStage> DefaultStages();

// The hardware revision a cart's factory serial encodes (its model generation: CW2… is "v2").
std::string HardwareRevision(std::string_view serial);

// How many carts (cumulative) a stage reaches out of `targets`.
int StageReach(const store::RolloutStage& stage, int targets);

// Orders carts so that every prefix spans stores and hardware revisions: each (store, revision)
// cohort is shuffled by a hash of (seed, cart), and the cohorts are interleaved.
std::vector<store::CartRecord> CohortOrder(std::vector<store::CartRecord> carts, std::string_view seed);

struct RolloutRequest {
  std::string version;
  std::vector<StoreId> stores;  // both empty: the whole fleet
  std::vector<CartId> carts;
  std::vector<store::RolloutStage> stages = DefaultStages();
  int pace_per_minute = 60;
  Duration jitter = std::chrono::seconds(30);
  std::string actor;  // who starts it
};

// Checks and stores a new rollout, its jobs queued and the first stage's paced. NotFound for an
// unknown version, store or cart; InvalidArgument for bad stages or pacing, or no cart to update;
// FailedPrecondition when another rollout is active, or a target cart has not reported trusting
// every key the image requires (the error names them).
Result<store::RolloutRecord> CreateRollout(const RolloutRequest& request, store::EntityStore& entities,
                                           FirmwareCatalog& catalog, Clock& clock, Random& random);
// Holds a running rollout (FailedPrecondition unless running).
Status HaltRollout(store::EntityStore& entities, const std::string& id, const std::string& reason, Clock& clock);
// Lets a halted rollout go on, accepting the rollbacks counted so far; the error-rate rule then
// looks only at what happens after now. FailedPrecondition unless halted.
Status ReleaseRollout(store::EntityStore& entities, const std::string& id, Clock& clock);
// Stops a running or halted rollout for good; jobs not yet sent are withdrawn.
Status AbortRollout(store::EntityStore& entities, const std::string& id, Clock& clock);

struct RolloutSummary {
  store::RolloutRecord rollout;
  std::vector<store::RolloutJob> jobs;
  std::map<store::JobState, int> by_state;
  int targets = 0;
  double on_new_version_pct = 0;  // jobs SUCCEEDED, of the targets
  double rolled_back_pct = 0;
};
Result<RolloutSummary> DescribeRollout(store::EntityStore& entities, const std::string& id);

struct RolloutEngineOptions {
  // Where carts fetch images: the device endpoint's origin, e.g. https://localhost:8444.
  std::string device_url;
  Duration command_lifetime = std::chrono::hours(1);
  // An IN_PROGRESS job the cart has said nothing about is sent again after this.
  Duration resend_after = std::chrono::hours(1);
  Duration error_window = std::chrono::minutes(30);
  double error_ratio = 1.5;
  // The error-rate rule needs this many errors of the new version in the window, so one stray
  // fault on a canary of ten cannot halt a rollout on its own.
  int min_errors = 3;
  // …and this much time on the new version (cart-hours), so the first minutes of a few carts do
  // not make a rate out of one unlucky fault.
  double min_cart_hours = 0.5;
  Duration tick = std::chrono::seconds(1);
};

class RolloutEngine final : public ingest::EventSink {
 public:
  // `rejects_by_cart`: the ingest's cumulative rejects per cart (ServiceStats::rejected_by_cart).
  RolloutEngine(RolloutEngineOptions options, store::EntityStore& entities, FirmwareCatalog& catalog,
                ingest::CommandSender& commands, Clock& clock, Random& random, metrics::Registry* metrics,
                std::function<std::map<std::string, uint64_t>()> rejects_by_cart = nullptr);
  ~RolloutEngine() override;

  // Every event: what carts run and trust, and the job states they decide. Add it for all types.
  Status OnBatch(std::span<const ingest::RoutedEvent> events) override;

  // One step: follow the store (new rollouts, manual halts, aborts), send due job commands, apply
  // the halt rule, advance stages, complete. Start() calls it every `tick` on its own thread.
  void Tick();
  void Start() { ticker_.Start(); }
  void Stop() { ticker_.Stop(); }
  // Where job URLs point (set before Start, once the device endpoint's port is known).
  void set_device_url(std::string url) {
    std::lock_guard lock(mu_);
    options_.device_url = std::move(url);
  }

  // Errors per cart-hour of the rollout's target version and of the versions it replaces, over
  // the window (for status pages and tests); nullopt before any exposure.
  struct ErrorRates {
    double new_rate = 0, old_rate = 0;
    double new_cart_hours = 0, old_cart_hours = 0;
    int new_errors = 0, old_errors = 0;
  };
  ErrorRates Rates(const std::string& version);

 private:
  struct Active {
    store::RolloutRecord rollout;
    std::vector<store::RolloutJob> jobs;
    std::unordered_map<std::string, size_t> by_cart;
    FirmwareRelease release;
  };
  struct Bucket {  // one tick's exposure and errors, by version
    Time at;
    std::map<std::string, double> cart_seconds;
    std::map<std::string, int> errors;
  };

  void Reload();  // guarded by mu_
  void SendDue(Active& a, Time now);
  void Account(Time now);  // exposure and rejects of the last tick
  std::optional<std::string> HaltReason(Active& a, Time now);
  void Advance(Active& a, Time now);
  Status SaveJobs(std::vector<store::RolloutJob>& changed);
  void PublishMetrics();
  ErrorRates RatesLocked(const std::string& version, Time since, Time now);

  RolloutEngineOptions options_;
  store::EntityStore& entities_;
  FirmwareCatalog& catalog_;
  ingest::CommandSender& commands_;
  Clock& clock_;
  Random& random_;
  std::function<std::map<std::string, uint64_t>()> rejects_by_cart_;
  metrics::Family<metrics::Gauge>* rollback_gauge_ = nullptr;

  std::mutex mu_;
  std::map<std::string, Active> active_;                      // guarded by mu_; by rollout id
  std::unordered_map<std::string, std::string> cart_version_;  // guarded by mu_; newest fw per cart
  std::unordered_map<std::string, uint64_t> cart_version_seq_;  // guarded by mu_
  std::unordered_map<std::string, Time> last_seen_;           // guarded by mu_; receive time
  std::map<std::string, uint64_t> last_rejects_;              // guarded by mu_
  std::deque<Bucket> buckets_;                                // guarded by mu_
  Bucket open_;                                               // guarded by mu_; filling now
  std::map<std::string, int> rollbacks_by_version_;           // guarded by mu_
  Time last_tick_{};  // guarded by mu_

  Ticker ticker_{options_.tick, [this] { Tick(); }};
};

}  // namespace cw::ota
