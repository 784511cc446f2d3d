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

void CartStatsTable::RecordStored(const CartId& cart, Time received_at, std::optional<Duration> latency, bool late,
                                  bool fault) {
  std::lock_guard lock(mu_);
  Entry& e = Touch(cart, received_at);
  e.stored++;
  e.late += late;
  e.faults += fault;
  if (!latency) return;
  Time start = SliceStart(received_at);
  Time newest = e.slices.empty() ? start : std::max(start, e.slices.back().start);
  Time horizon = newest - options_.slice * (options_.slices - 1);
  if (start < horizon) return;  // older than the hour kept
  // Messages arrive in about receive order; one for an older slice still kept joins it.
  auto pos = std::upper_bound(e.slices.begin(), e.slices.end(), start,
                              [](Time t, const Slice& s) { return t < s.start; });
  if (pos == e.slices.begin() || std::prev(pos)->start != start) {
    pos = e.slices.insert(pos, Slice{start, LatencySketch(options_.relative_accuracy)});
  } else {
    --pos;
  }
  pos->sketch.Add(std::chrono::duration<double>(*latency).count());
  // Forget what has left the hour (by the newest slice, so a quiet cart keeps its last hour).
  while (e.slices.front().start < horizon) e.slices.pop_front();
}

void CartStatsTable::RecordRejected(const CartId& cart, Time received_at) {
  std::lock_guard lock(mu_);
  Touch(cart, received_at).rejects++;
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
