// metrics/registry.h — counters, gauges and histograms with labels, exposed in the Prometheus
// text format (version 0.0.4) at /metrics.
//
// A metric is a family (name, help, label names) of children, one per combination of label
// values. Updating a child is lock-free (atomics); creating one takes the family's mutex once, so
// hot paths keep the reference With() returns. Per-cart series are deliberately not labels here
// (see metrics/cart_stats.h): label cardinality must stay bounded.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cw::metrics {

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with upper bounds `bounds` (ascending; +Inf is implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts, the last one for +Inf.
  std::vector<uint64_t> counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Bucket bounds: `start`, start·factor, … (`n` of them), as Prometheus's ExponentialBuckets.
std::vector<double> ExponentialBuckets(double start, double factor, int n);

enum class Kind { kCounter, kGauge, kHistogram };

template <typename M>
class Family {
 public:
  // The child for these label values (as many as the family has label names, in that order),
  // created on first use. References stay valid for the registry's lifetime.
  M& With(const std::vector<std::string>& label_values);
  M& With() { return With(std::vector<std::string>{}); }

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names, std::function<std::unique_ptr<M>()> make)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), make_(std::move(make)) {}
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;  // guarded by mu_
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name twice, or an invalid metric or label name, is a programming error and
  // aborts: metric names are code, not input.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                  std::vector<std::string> labels = {});
  // A gauge read at scrape time (queue depth, connected carts). `read` must be thread-safe.
  void AddGaugeFunction(const std::string& name, const std::string& help, std::function<double()> read);

  // Every metric in the Prometheus text format 0.0.4, families in registration order.
  std::string Exposition() const;
  // The names a scrape shows, including histogram suffixes (_bucket, _sum, _count) — what rules
  // and dashboards may refer to.
  std::vector<std::string> SeriesNames() const;

  // Every series and its value now, as a scrape would show them: `series` is the name with its
  // label set (`cw_ingest_received_total{type="scan"}`, `cw_store_commit_seconds_bucket{le="0.001"}`).
  struct Sample {
    std::string series;
    double value = 0;
  };
  std::vector<Sample> Snapshot() const;

 private:
  struct Entry {
    Kind kind;
    std::string name;
    void* family;  // Family<Counter|Gauge|Histogram>*, by kind; null for a gauge function
    std::function<double()> read;
    std::string help;
  };
  void Claim(const std::string& name, const std::vector<std::string>& labels);
  // Calls `family` for each entry, then `sample` for each of its series, in exposition order.
  // Called with mu_ held.
  void Walk(const std::function<void(const Entry&)>& family,
            const std::function<void(const std::string& series, double value)>& sample) const;

  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // guarded by mu_
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
};

// Label values escaped for the exposition format (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view v);

}  // namespace cw::metrics
