// sim/fleet.h — N simulated carts in one process on one event loop (no thread per cart).
//
// Each cart is the real firmware model (device::Cart) with its own key store, flash counter and
// MQTT session, driven by a shopper model on virtual time (`speed` × real time). Per-cart
// randomness is seeded from (seed, cart number), so a seed reproduces the shoppers' choices.
#pragma once

#include <atomic>
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
  double scanner_jam_per_scan = 0.005;
};

// A coverage gap: `fraction` of the carts lose the network `after` the start for `length`
// (virtual time). They keep shopping offline and replay on return.
struct OfflineWindow {
  double fraction = 0;
  Duration after{};
  Duration length{};
};

struct FleetOptions {
  std::string carts_dir;        // CART-xxxxxx/ directories as written by `cartwright provision`
  std::string catalog_path;     // default: a generated 2,000-SKU catalog
  SessionOptions broker;        // host/port; per-cart TLS files are filled from carts_dir
  double speed = 60;
  Duration duration = std::chrono::hours(2);  // virtual
  uint64_t seed = 42;
  int connect_rate = 500;       // new connections per real second
  // Run only carts whose number % shard_count == shard_index, so several processes can split a
  // fleet on one machine (each libmosquitto session holds 3 file descriptors).
  int shard_index = 0, shard_count = 1;
  ShopperMix mix;
  OfflineWindow offline;
  // The loopback BLE bridge (host:port, port 0 = any); empty for none.
  std::string ble_bridge_listen;
};

struct FleetSummary {
  int carts = 0;
  int connected = 0;
  std::map<wire::EventType, uint64_t> built;
  uint64_t published_live = 0, queued_offline = 0, replayed = 0;
  uint64_t buffered = 0, dropped_health = 0, rejects_received = 0, commands_accepted = 0;
  uint64_t sessions_completed = 0, sessions_abandoned = 0;
  double real_seconds = 0;
  std::string ToJson() const;
  std::string ToText() const;
};

class Fleet {
 public:
  static Result<std::unique_ptr<Fleet>> Open(const FleetOptions& options);
  ~Fleet();

  // The BLE bridge's port (0 when it is off).
  uint16_t ble_bridge_port() const;

  // Runs until the virtual duration has passed or `*stop` becomes true.
  Result<FleetSummary> Run(const std::atomic<bool>* stop = nullptr);

 private:
  struct SimCart;
  explicit Fleet(FleetOptions options);
  FleetOptions options_;
  std::vector<std::unique_ptr<SimCart>> carts_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A catalog of `n` plausible grocery items (EAN-13 SKUs), for fleets without a store export.
std::string GenerateCatalogCsv(int n, uint64_t seed);

}  // namespace cw::sim
