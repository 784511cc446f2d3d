// sim/fleet.h — N simulated carts in one process on one event loop (no thread per cart).
//
// Each cart is the real firmware model (device::Cart) with its own key store, flash counter and
// MQTT session, driven by a shopper model on virtual time (`speed` × real time). Per-cart
// randomness is seeded from (seed, cart number), so a seed reproduces the shoppers' choices.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/mqtt_session.h"
#include "wire/types.h"

namespace cw::sim {

// What shoppers do. Probabilities are per session unless stated.
struct ShopperMix {
  Duration mean_idle = std::chrono::minutes(20);  // between sessions on one cart
  int min_items = 3, max_items = 18;
  Duration mean_scan_gap = std::chrono::seconds(45);
  double loyalty = 0.4, payment_token = 0.25, app_qr = 0.1;  // the rest shop as guests
  double mid_shop_identify = 0.3;  // of identified shoppers, those who identify after scanning started
  double abandon = 0.03;
  // Interrupted shops (PRD golden path 4): the shopper walks away mid-shop, the cart pauses and
  // sleeps holding the session in flash, and the shopper comes back after about `mean_interruption`.
  double interrupted = 0.02;
  Duration mean_interruption = std::chrono::minutes(15);
};

// How often things go wrong. Per scan, per session or per cart, as named.
struct FaultRates {
  double scanner_jam_per_scan = 0.005;      // SCANNER_JAM; the shopper tries again
  double weight_mismatch_per_scan = 0.01;   // the platform reads far off the expected weight
  double payment_decline = 0.02;            // the EMV terminal declines; PAYMENT_FAIL, then another card
  // Share of carts that start the run on a nearly flat battery (2.5-8%) and hit the cliff:
  // BATTERY_CLIFF, session abandoned, power off.
  double battery_cliff = 0;
  // Share of sessions after which the cart is left in the parking lot: GEOFENCE_EXIT, hourly
  // location pings over LTE-M, until staff bring it back after about `parking_lot_hours`.
  double parking_lot = 0;
  double parking_lot_hours = 3;
  // Share of carts running a defective firmware that gets `malformed_share` of its messages wrong
  // (signed, but with a field the schema does not allow: schema_violation at the cloud).
  double malformed_carts = 0;
  double malformed_share = 0.5;
  // Share of carts on a congested link that delays each of their messages by `slow_link_delay`
  // (real time): the cloud sees it as publish→cloud latency.
  double slow_link_carts = 0;
  std::chrono::milliseconds slow_link_delay{0};
  // Share of carts whose clock is `clock_skew` off (negative: behind), as after a flat battery
  // reset it. Their commands still arrive (an ota-job carries the cloud's signed time); events
  // more than 24 h ahead would be rejected as clock_skew.
  double clock_skew_carts = 0;
  Duration clock_skew{};
  // Share of firmware fetches that fail like a dropped link: downloads stop midway and resume.
  double download_failure = 0;
};

// A coverage gap: `fraction` of the carts lose Wi-Fi `after` the start for `length` (virtual
// time). For the first `lte_m` of it they fail over to LTE-M; then they are fully offline, keep
// shopping (and pay at the in-store terminal) with events in flash, and replay on return.
struct OfflineWindow {
  double fraction = 0;
  Duration after{};
  Duration length{};
  Duration lte_m{};
};

// A shopper the cloud knows (enrolled with `cartwright account add`): identifying shoppers use
// these credentials instead of random ones.
struct KnownCustomer {
  std::string loyalty;        // 16 digits, or ""
  std::string payment_token;  // 24 of A-Z a-z 0-9, or ""
};
// CSV with header `loyalty,payment_token` (either column may be empty in a row).
Result<std::vector<KnownCustomer>> LoadKnownCustomers(const std::string& path);

struct FleetOptions {
  std::string carts_dir;        // CART-xxxxxx/ directories as written by `cartwright provision`
  std::string catalog_path;     // default: a generated 2,000-SKU catalog
  SessionOptions broker;        // host/port; per-cart TLS files are filled from carts_dir
  double speed = 60;
  // How much virtual time the run covers. Virtual time starts `backfill` before the real now (zero:
  // `duration` before), runs `speed` times faster until it catches up with the wall clock, then
  // keeps pace with it: no cart ever stamps an event from the future, and a duration longer than
  // the backfill goes on live.
  Duration duration = std::chrono::hours(2);
  Duration backfill = Duration::zero();
  // Where the virtual clock is kept between runs ("" for nowhere). A run resumes from the time it
  // holds when that is later than the backfill would start, so carts' clocks never run backwards
  // from one run to the next. Written every few seconds and at the end.
  std::string clock_file;
  uint64_t seed = 42;
  int connect_rate = 500;       // new connections per real second
  // Up to this much real time, virtual time waits for every cart to connect before it starts
  // (zero: it starts at once and carts connect while they shop, like a fleet powering on in an
  // open store). Tests that assert on what connected carts do set it, so a slow TLS connect storm
  // on a loaded machine cannot turn the whole run into an offline one.
  std::chrono::seconds wait_for_connected{0};
  // Run only carts whose number % shard_count == shard_index, so several processes can split a
  // fleet on one machine (each libmosquitto session holds 3 file descriptors).
  int shard_index = 0, shard_count = 1;
  ShopperMix mix;
  std::vector<KnownCustomer> customers;  // empty: every identifying shopper is a stranger
  FaultRates faults;
  OfflineWindow offline;
  // The loopback BLE bridge (host:port, port 0 = any); empty for none.
  std::string ble_bridge_listen;
};

// Real time from a scan to the display showing it (price cache lookup, basket, signing and
// queueing on the simulator host), in microseconds.
struct LatencySummary {
  uint64_t count = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
};

struct FleetSummary {
  int carts = 0;
  int connected = 0;
  std::map<wire::EventType, uint64_t> built;
  std::map<std::string, uint64_t> faults;  // fault events by code
  uint64_t published_live = 0, queued_offline = 0, replayed = 0;
  uint64_t buffered = 0, dropped_health = 0, rejects_received = 0, commands_accepted = 0;
  uint64_t flash_errors = 0;
  uint64_t sessions_completed = 0, sessions_abandoned = 0, sessions_interrupted = 0;
  int powered_off = 0, in_parking_lot = 0;
  std::map<std::string, int> firmware;  // carts by the version they run at the end
  uint64_t reboots = 0;                 // OTA installs and failed trials
  uint64_t firmware_fetches = 0, firmware_fetch_failures = 0;
  LatencySummary scan_to_display;
  double real_seconds = 0;
  std::string ToJson() const;
  std::string ToText() const;
};

// A line of progress while the fleet runs.
struct FleetProgress {
  Duration virtual_elapsed{};
  int carts = 0, connected = 0;
  uint64_t messages = 0, buffered = 0;
  double real_seconds = 0;
  std::string ToText() const;
};

class Fleet {
 public:
  static Result<std::unique_ptr<Fleet>> Open(const FleetOptions& options);
  ~Fleet();

  // The BLE bridge's port (0 when it is off).
  uint16_t ble_bridge_port() const;

  // Runs until the virtual duration has passed or `*stop` becomes true, calling `on_progress`
  // about every `progress_every` of real time.
  using ProgressFn = std::function<void(const FleetProgress&)>;
  Result<FleetSummary> Run(const std::atomic<bool>* stop = nullptr, ProgressFn on_progress = nullptr,
                           std::chrono::milliseconds progress_every = std::chrono::seconds(5));

 private:
  struct SimCart;
  explicit Fleet(FleetOptions options);
  // Boots the cart from its flash (again, after a reboot) and connects it to its MQTT session.
  Status BootCart(SimCart& cart);
  FleetOptions options_;
  std::vector<std::unique_ptr<SimCart>> carts_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A catalog of `n` plausible grocery items (EAN-13 SKUs), for fleets without a store export.
std::string GenerateCatalogCsv(int n, uint64_t seed);

}  // namespace cw::sim
