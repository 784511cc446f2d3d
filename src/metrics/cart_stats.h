// metrics/cart_stats.h — per-cart counters and publish→cloud latency percentiles, kept in memory
// by the serve process that ingests the cart's messages.
//
// Per-cart series stay out of Prometheus labels (a 10,000-cart fleet would be 10,000 series per
// metric); the API serves them instead (GET /api/v1/carts/{id}/stats). Latency is kept as one
// LatencySketch per 5-minute slice for the last hour, so any window up to an hour is an exact
// merge of slices — and a baseline can be compared with the last 15 minutes. Counters and
// sketches restart with the process, like Prometheus counters; the durable truth is telemetry.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "metrics/sketch.h"

namespace cw::metrics {

struct CartStatsOptions {
  Duration slice = std::chrono::minutes(5);
  int slices = 12;  // an hour of 5-minute slices
  double relative_accuracy = 0.01;
};

struct CartStats {
  CartId cart;
  uint64_t messages = 0;  // received, whatever became of them
  uint64_t stored = 0;
  uint64_t rejects = 0;
  uint64_t faults = 0;    // stored fault events
  uint64_t late = 0;      // stored events sent late (from flash)
  std::optional<Time> last_seen_at;  // server time of the newest message
  // Over the window asked for, live events only, in seconds.
  uint64_t latency_samples = 0;
  std::optional<double> p50, p95, p99;
};

class CartStatsTable {
 public:
  explicit CartStatsTable(CartStatsOptions options = {});

  // One message from `cart` received at `received_at` (server time). `latency` is receive time
  // minus device ts for a stored live event, nullopt otherwise; `fault_code` is a stored fault
  // event's code ("" for other events). Thread-safe.
  void RecordStored(const CartId& cart, Time received_at, std::optional<Duration> latency, bool late,
                    std::string_view fault_code = {});
  // A message of the cart dead-lettered with `reason` (a reject reason).
  void RecordRejected(const CartId& cart, Time received_at, std::string_view reason);
  void RecordDuplicate(const CartId& cart, Time received_at);

  // The cart's figures, latency over (now − window, now]; nullopt for a cart never heard from
  // since the process started. `window` is rounded up to whole slices, at most the hour kept.
  std::optional<CartStats> Get(const CartId& cart, Time now, Duration window) const;
  // The latency sketch of (from, to], merged from the slices that overlap it (a slice counts
  // when its start is in the range).
  LatencySketch Latency(const CartId& cart, Time from, Time to) const;
  // Errors by device: the carts' fault codes and reject reasons counted over the slices that
  // overlap (now − window, now], the `n` largest (cart, code) pairs, largest first (ties by cart,
  // then code).
  struct ErrorCount {
    CartId cart;
    std::string code;
    uint64_t count = 0;
    bool operator==(const ErrorCount&) const = default;
  };
  std::vector<ErrorCount> TopErrors(Time now, Duration window, size_t n) const;

  // Carts with any figures, in id order.
  std::vector<CartId> Carts() const;
  // When each cart was last heard from (any message: stored, rejected or a duplicate), in id order.
  std::vector<std::pair<CartId, Time>> LastSeen() const;
  // The width of one slice: Latency(cart, now − w − slice(), now) covers at least the last w.
  Duration slice() const { return options_.slice; }

 private:
  struct Slice {
    Time start;
    LatencySketch sketch;
    std::map<std::string, uint64_t, std::less<>> errors;  // fault code or reject reason → count
  };
  struct Entry {
    uint64_t messages = 0, stored = 0, rejects = 0, faults = 0, late = 0;
    std::optional<Time> last_seen_at;
    std::deque<Slice> slices;  // oldest first
  };
  Entry& Touch(const CartId& cart, Time received_at);
  // The slice holding `received_at`, made if needed; nullptr if it is older than the hour kept.
  Slice* SliceAt(Entry& e, Time received_at);
  Time SliceStart(Time t) const;

  CartStatsOptions options_;
  mutable std::mutex mu_;
  std::map<CartId, Entry> carts_;  // guarded by mu_
};

}  // namespace cw::metrics
