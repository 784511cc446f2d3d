// metrics/history.h — the registry's recent past, for the dashboard's fleet- and pipeline-health
// pages: a snapshot of every series on each monitor tick, kept for an hour, and the few
// Prometheus-style queries those pages need (gauge values, counter increases, histogram
// quantiles), evaluated at evenly spaced steps. A team with Prometheus has all of this there
// (deploy/); a store with only `cartwright serve` has it here.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "metrics/registry.h"

namespace cw::metrics {

class History {
 public:
  explicit History(Duration keep = std::chrono::hours(1)) : keep_(keep) {}

  // Keeps `snapshot` as the registry at `at` (times ascending; older ones than `keep` are dropped).
  void Record(Time at, const std::vector<Registry::Sample>& snapshot);

  // The instants `step` apart ending at `to`, over (to − window, to]: where the queries below
  // are evaluated.
  static std::vector<Time> Steps(Time to, Duration window, Duration step);

  // A gauge's value at each step (the newest sample at or before it); nullopt before any sample.
  std::vector<std::optional<double>> Gauge(const std::string& series, const std::vector<Time>& steps) const;
  // How much the counters named `name` grew over the `step` before each instant, summed over
  // their series, or grouped by the value of label `by` ("" for one sum). A counter that went
  // down (a restart) counts from zero.
  std::map<std::string, std::vector<std::optional<double>>> Increase(const std::string& name, const std::string& by,
                                                                     const std::vector<Time>& steps, Duration step) const;
  // The q-quantile of what histogram `name` (no labels besides le) observed over the `step`
  // before each instant, interpolated within buckets as Prometheus's histogram_quantile does;
  // nullopt when nothing was observed.
  std::vector<std::optional<double>> Quantile(const std::string& name, double q, const std::vector<Time>& steps,
                                              Duration step) const;

 private:
  struct Entry {
    Time at;
    std::map<std::string, double> values;
  };
  // The newest entry at or before `t`; nullptr if none.
  const Entry* At(Time t) const;

  const Duration keep_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // guarded by mu_, oldest first
};

// "cw_x_total{type=\"scan\",le=\"0.1\"}" → name and labels.
struct ParsedSeries {
  std::string name;
  std::map<std::string, std::string> labels;
};
ParsedSeries ParseSeries(const std::string& series);

}  // namespace cw::metrics
