#include "metrics/cart_stats.h"

#include <algorithm>

namespace cw::metrics {

CartStatsTable::CartStatsTable(CartStatsOptions options) : options_(options) {}

Time CartStatsTable::SliceStart(Time t) const {
  auto since_epoch = t.time_since_epoch();
  return Time(since_epoch - since_epoch % options_.slice);
}

CartStatsTable::Entry& CartStatsTable::Touch(const CartId& cart, Time received_at) {
  Entry& e = carts_[cart];
  e.messages++;
  if (!e.last_seen_at || received_at > *e.last_seen_at) e.last_seen_at = received_at;
  return e;
}

CartStatsTable::Slice* CartStatsTable::SliceAt(Entry& e, Time received_at) {
  Time start = SliceStart(received_at);
  Time newest = e.slices.empty() ? start : std::max(start, e.slices.back().start);
  Time horizon = newest - options_.slice * (options_.slices - 1);
  if (start < horizon) return nullptr;  // older than the hour kept
  // Messages arrive in about receive order; one for an older slice still kept joins it.
  auto pos = std::upper_bound(e.slices.begin(), e.slices.end(), start,
                              [](Time t, const Slice& s) { return t < s.start; });
  if (pos == e.slices.begin() || std::prev(pos)->start != start) {
    pos = e.slices.insert(pos, Slice{start, LatencySketch(options_.relative_accuracy), {}});
  } else {
    --pos;
  }
  Slice* slice = &*pos;
  // Forget what has left the hour (by the newest slice, so a quiet cart keeps its last hour).
  while (e.slices.front().start < horizon) e.slices.pop_front();
  return slice;
}

void CartStatsTable::RecordStored(const CartId& cart, Time received_at, std::optional<Duration> latency, bool late,
                                  std::string_view fault_code) {
  std::lock_guard lock(mu_);
  Entry& e = Touch(cart, received_at);
  e.stored++;
  e.late += late;
  e.faults += !fault_code.empty();
  if (!latency && fault_code.empty()) return;
  Slice* slice = SliceAt(e, received_at);
  if (!slice) return;
  if (latency) slice->sketch.Add(std::chrono::duration<double>(*latency).count());
  if (!fault_code.empty()) slice->errors[std::string(fault_code)]++;
}

void CartStatsTable::RecordRejected(const CartId& cart, Time received_at, std::string_view reason) {
  std::lock_guard lock(mu_);
  Entry& e = Touch(cart, received_at);
  e.rejects++;
  if (Slice* slice = SliceAt(e, received_at)) slice->errors[std::string(reason)]++;
}

void CartStatsTable::RecordDuplicate(const CartId& cart, Time received_at) {
  std::lock_guard lock(mu_);
  Touch(cart, received_at);
}

LatencySketch CartStatsTable::Latency(const CartId& cart, Time from, Time to) const {
  LatencySketch out(options_.relative_accuracy);
  std::lock_guard lock(mu_);
  auto it = carts_.find(cart);
  if (it == carts_.end()) return out;
  for (const Slice& s : it->second.slices) {
    if (s.start > from && s.start <= to) out.Merge(s.sketch);
  }
  return out;
}

std::optional<CartStats> CartStatsTable::Get(const CartId& cart, Time now, Duration window) const {
  window = std::min(window, options_.slice * options_.slices);
  // Whole slices: the one holding `now` and enough before it to cover the window.
  Time to = SliceStart(now);
  int64_t n = (window.count() + options_.slice.count() - 1) / options_.slice.count();
  Time from = to - options_.slice * std::max<int64_t>(n, 1);
  LatencySketch latency = Latency(cart, from, to);
  std::lock_guard lock(mu_);
  auto it = carts_.find(cart);
  if (it == carts_.end()) return std::nullopt;
  const Entry& e = it->second;
  CartStats s{cart, e.messages, e.stored, e.rejects, e.faults, e.late, e.last_seen_at, latency.count(), {}, {}, {}};
  s.p50 = latency.Quantile(0.50);
  s.p95 = latency.Quantile(0.95);
  s.p99 = latency.Quantile(0.99);
  return s;
}

std::vector<CartStatsTable::ErrorCount> CartStatsTable::TopErrors(Time now, Duration window, size_t n) const {
  std::vector<ErrorCount> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [cart, e] : carts_) {
      std::map<std::string_view, uint64_t> sum;
      for (const Slice& s : e.slices) {
        if (s.start + options_.slice <= now - window || s.start > now) continue;
        for (const auto& [code, count] : s.errors) sum[code] += count;
      }
      for (const auto& [code, count] : sum) all.push_back({cart, std::string(code), count});
    }
  }
  auto order = [](const ErrorCount& a, const ErrorCount& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.cart != b.cart) return a.cart < b.cart;
    return a.code < b.code;
  };
  if (all.size() > n) {
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), order);
    all.erase(all.begin() + static_cast<std::ptrdiff_t>(n), all.end());
  } else {
    std::sort(all.begin(), all.end(), order);
  }
  return all;
}

std::vector<std::pair<CartId, Time>> CartStatsTable::LastSeen() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<CartId, Time>> out;
  for (const auto& [id, e] : carts_) {
    if (e.last_seen_at) out.emplace_back(id, *e.last_seen_at);
  }
  return out;
}

std::vector<CartId> CartStatsTable::Carts() const {
  std::lock_guard lock(mu_);
  std::vector<CartId> out;
  for (const auto& [id, e] : carts_) out.push_back(id);
  return out;
}

}  // namespace cw::metrics
