// sim/load_driver.h — `cartsim load`: the benchmark's load, signed in advance and sent on a schedule.
//
// The simulator proper (fleet.h) signs as it shops, so at benchmark rates its signing competes
// with the ingest for the same cores. The load driver signs every message before the clock starts
// and then only publishes: many provisioned carts, each over its own mutually-authenticated MQTT
// session, QoS 1, a realistic mix (a shopping session's start, scans, end, health reports and
// the odd fault) in each cart's own seq order.
//
// Scheduled mode (`rate` > 0): message k is due at t0 + k / rate (round-robin over the carts)
// and carries that instant as its device `ts`, so the server's device-ts → durable latency
// includes any time the driver itself ran late: no coordinated omission. Open mode (`rate` 0):
// as fast as the broker acknowledges, `max_in_flight` per cart; its ts is the signing time, so
// only throughput is meaningful.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "sim/mqtt_session.h"

namespace cw::sim {

struct LoadOptions {
  std::string carts_dir;     // CART-xxxxxx/ directories as written by `cartwright provision`
  SessionOptions broker;     // host/port; per-cart TLS files are filled from carts_dir
  int skip_carts = 0;        // leave out the first this many (in id order): drivers split a fleet
  int max_carts = 0;         // use at most this many carts (0: all)
  double rate = 10'000;      // messages per second over the fleet; 0: open mode
  Duration duration = std::chrono::seconds(60);  // of publishing
  int connect_rate = 400;    // new connections per second
  int max_in_flight = 20;    // unacknowledged messages per cart (open mode)
  int sign_threads = 2;
  uint64_t seed = 42;
};

struct LoadReport {
  int carts = 0, connected = 0;
  double connect_seconds = 0, sign_seconds = 0, publish_seconds = 0;
  uint64_t planned = 0, published = 0, acknowledged = 0;
  std::map<std::string, uint64_t> by_type;
  // How far behind its schedule each publish went out (scheduled mode).
  double lag_p50_ms = 0, lag_p99_ms = 0, lag_max_ms = 0;
  // Times some carts lost their link while publishing, and the longest time until all of them
  // were connected again (the reconnect storm after a broker restart).
  int outages = 0;
  double longest_outage_seconds = 0;
  std::string ToJson() const;
  std::string ToText() const;
};

using LoadProgressFn = std::function<void(const std::string& line)>;

// Connects the carts, signs the whole run, publishes it and waits (up to 90 s) for the broker's
// acknowledgements and for every cart to be connected again. Each cart's seq counter in its flash moves past what was sent, so a later run
// (or cartsim) never reuses a seq. Stops early, with what it has, when *stop becomes true.
Result<LoadReport> RunLoad(const LoadOptions& options, const std::atomic<bool>* stop, LoadProgressFn progress);

}  // namespace cw::sim
