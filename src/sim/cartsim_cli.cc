#include "sim/cartsim_cli.h"

#include <csignal>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <httplib.h>
#include <toml.hpp>

#include "core/config.h"
#include "core/log.h"
#include "sim/load_driver.h"
#include "wire/proximity.h"

namespace cw::sim {
namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }
}  // namespace

Status ParseBrokerUrl(const std::string& url, SessionOptions& out) {
  constexpr std::string_view kScheme = "mqtts://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("--broker must be mqtts://HOST:PORT (carts speak TLS only)");
  CW_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(url.substr(kScheme.size())));
  out.host = hp.host;
  out.port = hp.port;
  return Status::Ok();
}

Status LoadScenario(const std::string& path, FleetOptions& options) {
  ShopperMix& mix = options.mix;
  try {
    toml::value root = toml::parse(path);
    for (const auto& [key, v] : root.as_table()) {
      if (key != "shoppers" && key != "offline" && key != "faults") {
        return InvalidArgument(path + ": unknown section [" + key + "] (expected [shoppers], [faults] or [offline])");
      }
    }
    auto number = [](const toml::value& v) -> double {
      return v.is_integer() ? static_cast<double>(v.as_integer()) : v.as_floating();
    };
    auto minutes = [&](const toml::value& v) {
      return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::ratio<60>>(number(v)));
    };
    auto unknown = [&](const std::string& key, const toml::value& v, const char* section) {
      return InvalidArgument(path + ":" + std::to_string(v.location().line()) + ": unknown key '" + key + "' in [" +
                             section + "]");
    };
    // A share or rate must be a probability.
    auto share = [&](const std::string& key, const toml::value& v, double& out) -> Status {
      double x = number(v);
      if (x < 0 || x > 1) {
        return InvalidArgument(path + ":" + std::to_string(v.location().line()) + ": " + key + " = " +
                               std::to_string(x) + " is not a share between 0 and 1");
      }
      out = x;
      return Status::Ok();
    };
    if (root.contains("offline")) {
      for (const auto& [key, v] : root.at("offline").as_table()) {
        if (key == "fraction") CW_RETURN_IF_ERROR(share(key, v, options.offline.fraction));
        else if (key == "after_minutes") options.offline.after = minutes(v);
        else if (key == "length_minutes") options.offline.length = minutes(v);
        else if (key == "lte_m_minutes") options.offline.lte_m = minutes(v);
        else return unknown(key, v, "offline");
      }
    }
    if (root.contains("faults")) {
      FaultRates& f = options.faults;
      for (const auto& [key, v] : root.at("faults").as_table()) {
        if (key == "scanner_jam_per_scan") CW_RETURN_IF_ERROR(share(key, v, f.scanner_jam_per_scan));
        else if (key == "weight_mismatch_per_scan") CW_RETURN_IF_ERROR(share(key, v, f.weight_mismatch_per_scan));
        else if (key == "payment_decline") CW_RETURN_IF_ERROR(share(key, v, f.payment_decline));
        else if (key == "battery_cliff") CW_RETURN_IF_ERROR(share(key, v, f.battery_cliff));
        else if (key == "parking_lot") CW_RETURN_IF_ERROR(share(key, v, f.parking_lot));
        else if (key == "parking_lot_hours") f.parking_lot_hours = number(v);
        else if (key == "malformed_carts") CW_RETURN_IF_ERROR(share(key, v, f.malformed_carts));
        else if (key == "malformed_share") CW_RETURN_IF_ERROR(share(key, v, f.malformed_share));
        else if (key == "slow_link_carts") CW_RETURN_IF_ERROR(share(key, v, f.slow_link_carts));
        else if (key == "download_failure") CW_RETURN_IF_ERROR(share(key, v, f.download_failure));
        else if (key == "clock_skew_carts") CW_RETURN_IF_ERROR(share(key, v, f.clock_skew_carts));
        else if (key == "clock_skew_hours") f.clock_skew = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::ratio<3600>>(number(v)));
        else if (key == "slow_link_delay_ms") f.slow_link_delay = std::chrono::milliseconds(static_cast<int64_t>(number(v)));
        else return unknown(key, v, "faults");
      }
    }
    if (!root.contains("shoppers")) return Status::Ok();
    const auto& t = root.at("shoppers");
    for (const auto& [key, v] : t.as_table()) {
      auto num = [&]() -> double { return number(v); };
      if (key == "mean_idle_minutes") mix.mean_idle = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::ratio<60>>(num()));
      else if (key == "mean_scan_gap_seconds") mix.mean_scan_gap = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(num()));
      else if (key == "min_items") mix.min_items = static_cast<int>(num());
      else if (key == "max_items") mix.max_items = static_cast<int>(num());
      else if (key == "loyalty") mix.loyalty = num();
      else if (key == "payment_token") mix.payment_token = num();
      else if (key == "app_qr") mix.app_qr = num();
      else if (key == "mid_shop_identify") CW_RETURN_IF_ERROR(share(key, v, mix.mid_shop_identify));
      else if (key == "abandon") CW_RETURN_IF_ERROR(share(key, v, mix.abandon));
      else if (key == "interrupted") CW_RETURN_IF_ERROR(share(key, v, mix.interrupted));
      else if (key == "mean_interruption_minutes") mix.mean_interruption = minutes(v);
      else return unknown(key, v, "shoppers");
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    return InvalidArgument(path + ": " + what.substr(0, what.find('\n')));
  }
  if (mix.min_items < 1 || mix.max_items < mix.min_items) return InvalidArgument(path + ": need 1 <= min_items <= max_items");
  if (mix.loyalty + mix.payment_token + mix.app_qr > 1.0) return InvalidArgument(path + ": identify shares add up to more than 1");
  return Status::Ok();
}

int RunCartsim(int argc, char** argv) {
  CLI::App app{"cartsim: a fleet of simulated smart carts running the v2 firmware model", "cartsim"};
  app.require_subcommand(1);
  FleetOptions o;
  std::string broker = "mqtts://127.0.0.1:8883", duration = "2h", scenario;
  bool json = false, quiet = false;
  auto* run = app.add_subcommand("run", "Run carts from a provisioning directory against a broker");
  run->add_option("--carts", o.carts_dir, "Directory of CART-xxxxxx/ folders (from `cartwright provision`)")->required();
  run->add_option("--broker", broker, "Broker URL")->capture_default_str();
  run->add_option("--speed", o.speed, "Virtual time runs this many times faster than real time")->capture_default_str();
  run->add_option("--duration", duration, "Virtual duration, e.g. 2h, 10m, 1h30m")->capture_default_str();
  std::string backfill;
  run->add_option("--backfill", backfill,
                  "Start virtual time this long ago (default: the duration); it runs fast until it reaches now, "
                  "then live");
  run->add_option("--clock-file", o.clock_file,
                  "Keep the virtual clock in this file and resume from it, so carts' clocks never run backwards");
  run->add_option("--seed", o.seed, "Seed for the shoppers' choices")->capture_default_str();
  run->add_option("--scenario", scenario, "Scenario file (TOML): shopper arrivals and mix")->check(CLI::ExistingFile);
  run->add_option("--catalog", o.catalog_path, "Store catalog CSV (default: a generated 2,000-SKU catalog)");
  std::string customers;
  run->add_option("--customers", customers, "CSV loyalty,payment_token of enrolled customers the shoppers are")
      ->check(CLI::ExistingFile);
  run->add_option("--connect-rate", o.connect_rate, "New connections per second")->capture_default_str();
  int wait_connected_s = 0;
  run->add_option("--wait-connected", wait_connected_s,
                  "Seconds virtual time waits for every cart to connect before it starts (0: not at all)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  std::string bridge_listen = "127.0.0.1:8090";
  run->add_option("--ble-bridge", bridge_listen, "host:port of the loopback BLE bridge (proximity tokens), or off")
      ->capture_default_str();
  std::string shard;
  run->add_option("--shard", shard, "I/N: run only carts whose number % N == I (split a fleet across processes)");
  run->add_flag("--json", json, "Print the summary as JSON");
  run->add_flag("--quiet", quiet, "No progress lines on stderr");
  std::string prox_cart, prox_bridge = "http://127.0.0.1:8090";
  auto* prox = app.add_subcommand("proximity", "Ask a running cartsim's BLE bridge for a cart's proximity token");
  prox->add_option("--cart", prox_cart, "Cart id, e.g. CART-000001")->required();
  prox->add_option("--bridge", prox_bridge, "The bridge's URL")->capture_default_str();
  std::string prox_challenge;
  prox->add_option("--challenge", prox_challenge,
                   "The cloud's challenge (POST /api/v1/carts/{cart}/proximity-challenge) for the cart to sign");
  int catalog_items = 2000;
  uint64_t catalog_seed = 7;
  auto* catalog = app.add_subcommand("catalog", "Print the generated store catalog (CSV) the carts use by default");
  catalog->add_option("--items", catalog_items, "Number of SKUs")->capture_default_str()->check(CLI::Range(1, 100000));
  catalog->add_option("--seed", catalog_seed, "Generator seed")->capture_default_str();
  LoadOptions load_options;
  std::string load_broker = "mqtts://127.0.0.1:8883", load_duration = "60s";
  bool load_json = false;
  auto* load = app.add_subcommand(
      "load", "Benchmark load: sign every message first, then publish them on a schedule (see docs/benchmarks.md)");
  load->add_option("--carts", load_options.carts_dir, "Directory of CART-xxxxxx/ folders (from `cartwright provision`)")
      ->required();
  load->add_option("--broker", load_broker, "Broker URL")->capture_default_str();
  load->add_option("--skip-carts", load_options.skip_carts,
                   "Leave out the first this many carts (in id order), so several drivers split one fleet")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  load->add_option("--max-carts", load_options.max_carts, "Use at most this many carts (0: all)")->capture_default_str();
  load->add_option("--rate", load_options.rate, "Messages per second over the fleet (0: as fast as the broker takes them)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  load->add_option("--duration", load_duration, "How long to publish, e.g. 60s")->capture_default_str();
  load->add_option("--connect-rate", load_options.connect_rate, "New connections per second")->capture_default_str();
  load->add_option("--max-in-flight", load_options.max_in_flight, "Unacknowledged messages per cart (--rate 0)")
      ->capture_default_str();
  load->add_option("--sign-threads", load_options.sign_threads, "Threads that sign before the run")->capture_default_str();
  load->add_flag("--json", load_json, "Print the report as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cartsim: %s (run with --help for usage)\n", e.what());
    return 2;
  }
  auto fail = [](const Status& st, int code) {
    std::fprintf(stderr, "cartsim: %s\n", st.message().c_str());
    return code;
  };
  log::Configure({log::Level::kWarn, ""});
  if (prox->parsed()) {
    auto id = CartId::Parse(prox_cart);
    if (!id.ok()) return fail(id.error(), 2);
    httplib::Client client(prox_bridge);
    client.set_connection_timeout(5);
    if (!prox_challenge.empty() && !wire::IsProximityNonce(prox_challenge)) {
      return fail(InvalidArgument("--challenge must be 32 lowercase hex digits"), 2);
    }
    auto res = client.Get("/proximity/" + id->str() + (prox_challenge.empty() ? "" : "?challenge=" + prox_challenge));
    if (!res) return fail(Unavailable("no BLE bridge answers at " + prox_bridge + " (is cartsim running?)"), 1);
    if (res->status != 200) return fail(Unavailable("bridge answered " + std::to_string(res->status) + ": " + res->body), 1);
    std::printf("%s", res->body.c_str());
    return 0;
  }
  if (catalog->parsed()) {
    std::printf("%s", GenerateCatalogCsv(catalog_items, catalog_seed).c_str());
    return 0;
  }
  if (load->parsed()) {
    if (Status st = ParseBrokerUrl(load_broker, load_options.broker); !st.ok()) return fail(st, 2);
    auto d = ParseDuration(load_duration);
    if (!d.ok()) return fail(d.error(), 2);
    load_options.duration = *d;
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    auto report = RunLoad(load_options, &g_stop, [quiet](const std::string& line) {
      if (!quiet) std::fprintf(stderr, "cartsim load: %s\n", line.c_str());
    });
    if (!report.ok()) return fail(report.error(), report.error().code() == Code::kInvalidArgument ? 2 : 1);
    std::printf("%s\n", load_json ? report->ToJson().c_str() : report->ToText().c_str());
    return 0;
  }
  if (!customers.empty()) {
    auto known = LoadKnownCustomers(customers);
    if (!known.ok()) return fail(known.error(), 2);
    o.customers = std::move(known).value();
  }
  if (bridge_listen != "off") o.ble_bridge_listen = bridge_listen;
  o.wait_for_connected = std::chrono::seconds(wait_connected_s);
  Status st = ParseBrokerUrl(broker, o.broker);
  if (!st.ok()) return fail(st, 2);
  if (!shard.empty()) {
    int i = -1, n = 0;
    char slash = 0;
    if (std::sscanf(shard.c_str(), "%d%c%d", &i, &slash, &n) != 3 || slash != '/' || n < 1 || i < 0 || i >= n) {
      return fail(InvalidArgument("--shard must be I/N with 0 <= I < N, e.g. 0/2"), 2);
    }
    o.shard_index = i;
    o.shard_count = n;
  }
  auto d = ParseDuration(duration);
  if (!d.ok()) return fail(d.error(), 2);
  o.duration = *d;
  if (!backfill.empty()) {
    auto b = ParseDuration(backfill);
    if (!b.ok()) return fail(b.error(), 2);
    o.backfill = *b;
  }
  if (!scenario.empty()) {
    st = LoadScenario(scenario, o);
    if (!st.ok()) return fail(st, 2);
  }
  auto fleet = Fleet::Open(o);
  if (!fleet.ok()) return fail(fleet.error(), 1);
  if ((*fleet)->ble_bridge_port()) {
    std::fprintf(stderr, "cartsim: BLE bridge on http://127.0.0.1:%u/proximity/{cart_id}\n", (*fleet)->ble_bridge_port());
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  Fleet::ProgressFn progress;
  if (!quiet) progress = [](const FleetProgress& p) { std::fprintf(stderr, "cartsim: %s\n", p.ToText().c_str()); };
  auto summary = (*fleet)->Run(&g_stop, progress);
  if (!summary.ok()) return fail(summary.error(), 1);
  std::printf("%s\n", json ? summary->ToJson().c_str() : summary->ToText().c_str());
  return 0;
}

}  // namespace cw::sim
