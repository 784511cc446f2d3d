#include "metrics/history.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace cw::metrics {

ParsedSeries ParseSeries(const std::string& series) {
  ParsedSeries p;
  size_t brace = series.find('{');
  p.name = series.substr(0, brace);
  if (brace == std::string::npos) return p;
  size_t i = brace + 1;
  while (i < series.size() && series[i] != '}') {
    size_t eq = series.find("=\"", i);
    if (eq == std::string::npos) break;
    std::string key = series.substr(i, eq - i);
    std::string value;
    size_t j = eq + 2;
    for (; j < series.size() && series[j] != '"'; ++j) {
      if (series[j] == '\\' && j + 1 < series.size()) {  // an escaped quote, backslash or newline
        ++j;
        value += series[j] == 'n' ? '\n' : series[j];
      } else {
        value += series[j];
      }
    }
    p.labels[key] = value;
    i = j + 1;
    if (i < series.size() && series[i] == ',') ++i;
  }
  return p;
}

void History::Record(Time at, const std::vector<Registry::Sample>& snapshot) {
  Entry e{at, {}};
  for (const auto& s : snapshot) e.values[s.series] = s.value;
  std::lock_guard lock(mu_);
  entries_.push_back(std::move(e));
  while (!entries_.empty() && entries_.front().at < at - keep_) entries_.pop_front();
}

std::vector<Time> History::Steps(Time to, Duration window, Duration step) {
  std::vector<Time> out;
  if (step <= Duration::zero()) return out;
  for (Time t = to - window + step; t <= to; t += step) out.push_back(t);
  return out;
}

const History::Entry* History::At(Time t) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), t, [](Time x, const Entry& e) { return x < e.at; });
  return it == entries_.begin() ? nullptr : &*std::prev(it);
}

std::vector<std::optional<double>> History::Gauge(const std::string& series, const std::vector<Time>& steps) const {
  std::lock_guard lock(mu_);
  std::vector<std::optional<double>> out;
  for (Time t : steps) {
    const Entry* e = At(t);
    auto v = e ? e->values.find(series) : std::map<std::string, double>::const_iterator{};
    out.push_back(e && v != e->values.end() ? std::optional<double>(v->second) : std::nullopt);
  }
  return out;
}

std::map<std::string, std::vector<std::optional<double>>> History::Increase(const std::string& name,
                                                                            const std::string& by,
                                                                            const std::vector<Time>& steps,
                                                                            Duration step) const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::vector<std::optional<double>>> out;
  for (size_t k = 0; k < steps.size(); ++k) {
    const Entry* end = At(steps[k]);
    const Entry* start = At(steps[k] - step);
    if (!end || !start || end == start) continue;
    std::map<std::string, double> sums;
    // The series of one name sort together (a label set starts with '{', after the bare name):
    // visit only those, and parse labels only for them.
    for (auto it = end->values.lower_bound(name); it != end->values.end() && it->first.starts_with(name); ++it) {
      const auto& [series, value] = *it;
      if (series.size() != name.size() && series[name.size()] != '{') continue;  // a longer name
      auto before = start->values.find(series);
      double was = before == start->values.end() ? 0 : before->second;
      sums[by.empty() ? "" : ParseSeries(series).labels[by]] += value >= was ? value - was : value;
    }
    for (const auto& [group, sum] : sums) {
      auto& series = out[group];
      series.resize(steps.size());
      series[k] = sum;
    }
  }
  for (auto& [group, series] : out) series.resize(steps.size());
  return out;
}

std::vector<std::optional<double>> History::Quantile(const std::string& name, double q, const std::vector<Time>& steps,
                                                     Duration step) const {
  auto buckets = Increase(name + "_bucket", "le", steps, step);
  std::vector<std::optional<double>> out(steps.size());
  for (size_t k = 0; k < steps.size(); ++k) {
    // (upper bound, cumulative count) ascending; +Inf last.
    std::vector<std::pair<double, double>> cum;
    for (const auto& [le, series] : buckets) {
      if (!series[k]) continue;
      cum.push_back({le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr), *series[k]});
    }
    std::sort(cum.begin(), cum.end());
    if (cum.empty() || cum.back().second <= 0) continue;
    double rank = q * cum.back().second;
    double lower = 0, below = 0;
    for (const auto& [bound, count] : cum) {
      if (count >= rank) {
        if (std::isinf(bound)) {
          out[k] = lower;  // beyond the last finite bound: its value, as Prometheus reports
        } else {
          out[k] = count == below ? bound : lower + (bound - lower) * (rank - below) / (count - below);
        }
        break;
      }
      lower = bound;
      below = count;
    }
  }
  return out;
}

}  // namespace cw::metrics
