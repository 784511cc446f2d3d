#include "metrics/registry.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace cw::metrics {

namespace {

bool ValidName(std::string_view n, bool colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "metrics: %s\n", why.c_str());
  std::abort();
}

// Prometheus renders floats in Go's shortest form; %.17g round-trips and parsers accept it, but
// the shortest exact form keeps bucket bounds readable ("0.005", not "0.0050000000000000001").
std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[32];
  // Whole numbers as such: "20", not the shorter "2e+01".
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     const std::string& extra_name = "", const std::string& extra_value = "") {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

std::string EscapeHelp(std::string_view h) {
  std::string out;
  for (char c : h) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i + 1 < bounds_.size(); ++i) {
    if (!(bounds_[i] < bounds_[i + 1])) Die("histogram bounds must ascend");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;  // le: a value on a bound belongs to it
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i, start *= factor) out.push_back(start);
  return out;
}

template <typename M>
M& Family<M>::With(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    Die(name_ + " takes " + std::to_string(label_names_.size()) + " label values, got " + std::to_string(label_values.size()));
  }
  std::lock_guard lock(mu_);
  auto& child = children_[label_values];
  if (!child) child = make_();
  return *child;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Registry::Claim(const std::string& name, const std::vector<std::string>& labels) {
  if (!ValidName(name, true)) Die("invalid metric name '" + name + "'");
  for (const auto& l : labels) {
    if (!ValidName(l, false) || l.rfind("__", 0) == 0 || l == "le") Die(name + ": invalid label name '" + l + "'");
  }
  for (const auto& e : entries_) {
    if (e.name == name) Die("metric " + name + " registered twice");
  }
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Claim(name, labels);
  counters_.emplace_back(new Family<Counter>(name, help, std::move(labels), [] { return std::make_unique<Counter>(); }));
  entries_.push_back({Kind::kCounter, name, counters_.back().get(), {}, help});
  return *counters_.back();
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Claim(name, labels);
  gauges_.emplace_back(new Family<Gauge>(name, help, std::move(labels), [] { return std::make_unique<Gauge>(); }));
  entries_.push_back({Kind::kGauge, name, gauges_.back().get(), {}, help});
  return *gauges_.back();
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                          std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Claim(name, labels);
  Histogram probe(bounds);  // dies here, at registration, on bad bounds
  histograms_.emplace_back(new Family<Histogram>(name, help, std::move(labels),
                                                 [bounds] { return std::make_unique<Histogram>(bounds); }));
  entries_.push_back({Kind::kHistogram, name, histograms_.back().get(), {}, help});
  return *histograms_.back();
}

void Registry::AddGaugeFunction(const std::string& name, const std::string& help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  Claim(name, {});
  entries_.push_back({Kind::kGauge, name, nullptr, std::move(read), help});
}

void Registry::Walk(const std::function<void(const Entry&)>& family,
                    const std::function<void(const std::string&, double)>& sample) const {
  for (const auto& e : entries_) {
    family(e);
    if (e.read) {
      sample(e.name, e.read());
      continue;
    }
    switch (e.kind) {
      case Kind::kCounter: {
        auto* f = static_cast<Family<Counter>*>(e.family);
        std::lock_guard fl(f->mu_);
        for (const auto& [values, c] : f->children_) {
          sample(e.name + LabelSet(f->label_names_, values), static_cast<double>(c->value()));
        }
        break;
      }
      case Kind::kGauge: {
        auto* f = static_cast<Family<Gauge>*>(e.family);
        std::lock_guard fl(f->mu_);
        for (const auto& [values, g] : f->children_) sample(e.name + LabelSet(f->label_names_, values), g->value());
        break;
      }
      case Kind::kHistogram: {
        auto* f = static_cast<Family<Histogram>*>(e.family);
        std::lock_guard fl(f->mu_);
        for (const auto& [values, h] : f->children_) {
          // Counts first, then sum and count from the same instant's view of the buckets, so
          // the +Inf bucket always equals _count even while observations land.
          auto counts = h->counts();
          uint64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            std::string le = i < h->bounds().size() ? Number(h->bounds()[i]) : "+Inf";
            sample(e.name + "_bucket" + LabelSet(f->label_names_, values, "le", le), static_cast<double>(cumulative));
          }
          sample(e.name + "_sum" + LabelSet(f->label_names_, values), h->sum());
          sample(e.name + "_count" + LabelSet(f->label_names_, values), static_cast<double>(cumulative));
        }
        break;
      }
    }
  }
}

std::string Registry::Exposition() const {
  std::lock_guard lock(mu_);
  std::string out;
  Walk(
      [&](const Entry& e) {
        out += "# HELP " + e.name + " " + EscapeHelp(e.help) + "\n";
        out += "# TYPE " + e.name +
               (e.kind == Kind::kCounter ? " counter\n" : e.kind == Kind::kGauge ? " gauge\n" : " histogram\n");
      },
      [&](const std::string& series, double value) { out += series + " " + Number(value) + "\n"; });
  return out;
}

std::vector<Registry::Sample> Registry::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Sample> out;
  Walk([](const Entry&) {}, [&](const std::string& series, double value) { out.push_back({series, value}); });
  return out;
}

std::vector<std::string> Registry::SeriesNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.kind == Kind::kHistogram) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) out.push_back(e.name + suffix);
    } else {
      out.push_back(e.name);
    }
  }
  return out;
}

}  // namespace cw::metrics
