// Query latency at scale: fills a RocksDB telemetry store with synthetic events in ingest order
// (every cart one event per `--spacing` of device time, carts spread over stores) up to each of
// the `--levels`, and after each level measures, over random carts and windows:
//   - newest 100 events of one cart (NewestForCart, limit 100), and
//   - the first page (100) of one store's events in a window (ForStore),
// printing p50/p99 per level as JSON Lines, one per query kind. The store is kept, so a later run
// with higher levels only adds what is missing.
//
//   cw_query_bench --dir DIR [--levels 1000000,10000000,100000000] [--carts 10000] [--stores 100]
//                  [--samples 2000] [--window 15m] [--spacing 30s]
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/time_format.h"
#include "store/telemetry_store.h"
#include "wire/envelope.h"
#include "wire/examples.h"

namespace cw {
namespace {

struct Options {
  std::string dir;
  std::vector<uint64_t> levels{1'000'000, 10'000'000, 100'000'000};
  uint64_t carts = 10'000, stores = 100, samples = 2000;
  Duration window = std::chrono::minutes(15), spacing = std::chrono::seconds(30);
};

// Device time of the first event; the bench clock follows the data, so nothing reads as expired.
const Time kStart = *ParseWireTime("2026-01-01T00:00:00.000Z");

StoreId StoreOf(uint64_t cart, const Options& o) {
  char id[16];
  std::snprintf(id, sizeof id, "STORE-%03llu", static_cast<unsigned long long>(1 + cart % o.stores));
  return *StoreId::Parse(id);
}

// The i-th stored event overall: round r = i / carts, cart = i % carts; device time kStart + r × spacing.
store::TelemetryEvent MakeEvent(uint64_t i, const Options& o, const std::string& body_template, std::mt19937_64& rng) {
  uint64_t round = i / o.carts, cart = i % o.carts;
  store::TelemetryEvent e{.cart = CartId::FromNumber(cart + 1), .store = StoreOf(cart, o)};
  e.seq = round + 1;
  e.ts = kStart + o.spacing * static_cast<int64_t>(round) + std::chrono::milliseconds(cart % 1000);
  e.received_at = e.ts + std::chrono::milliseconds(40);
  e.expires_at = e.ts + std::chrono::hours(24 * 3650);  // nothing expires during the benchmark
  e.type = round % 2 ? wire::EventType::kScan : wire::EventType::kHealth;
  for (size_t k = 0; k < e.digest.size(); k += 8) {
    uint64_t r = rng();
    std::copy_n(reinterpret_cast<uint8_t*>(&r), 8, e.digest.data() + k);
  }
  // A realistic body: an example event's JSON and 64 incompressible signature bytes.
  e.body = body_template;
  for (size_t k = e.body.size() - 64; k < e.body.size(); k += 8) {
    uint64_t r = rng();
    std::copy_n(reinterpret_cast<char*>(&r), 8, e.body.data() + k);
  }
  return e;
}

Result<uint64_t> CountMarker(const std::string& dir) {
  FILE* f = std::fopen((dir + "/bench-events").c_str(), "r");
  if (!f) return uint64_t{0};
  unsigned long long n = 0;
  int got = std::fscanf(f, "%llu", &n);
  std::fclose(f);
  if (got != 1) return Corruption(dir + "/bench-events is unreadable: remove the directory");
  return static_cast<uint64_t>(n);
}

void WriteMarker(const std::string& dir, uint64_t n) {
  FILE* f = std::fopen((dir + "/bench-events").c_str(), "w");
  if (f) {
    std::fprintf(f, "%llu\n", static_cast<unsigned long long>(n));
    std::fclose(f);
  }
}

struct Percentiles {
  double p50_ms, p99_ms, max_ms;
};
Percentiles Summarise(std::vector<double>& ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  return {at(0.50), at(0.99), ms.back()};
}

// CPU seconds this process has used (all threads, RocksDB's background compactions included).
double ProcessCpuSeconds() {
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buf[2048];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');
  unsigned long utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  if (!p || std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A store just filled is still compacting in the background; a store in service has settled.
// Waits (up to ten minutes) until the process uses under 5 % of a core for two seconds running.
void WaitForCompactionsToSettle() {
  auto began = std::chrono::steady_clock::now();
  int quiet = 0;
  double last = ProcessCpuSeconds();
  while (quiet < 2 && std::chrono::steady_clock::now() - began < std::chrono::minutes(10)) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    double now = ProcessCpuSeconds();
    quiet = now - last < 0.05 ? quiet + 1 : 0;
    last = now;
  }
  std::fprintf(stderr, "settled after %.0f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
}

int Run(const Options& o) {
  ManualClock clock{kStart};
  auto opened = store::OpenRocksTelemetryStore(o.dir, clock);
  if (!opened.ok()) {
    std::fprintf(stderr, "cw_query_bench: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  store::TelemetryStore& telemetry = **opened;
  auto have = CountMarker(o.dir);
  if (!have.ok()) {
    std::fprintf(stderr, "cw_query_bench: %s\n", have.error().ToString().c_str());
    return 1;
  }
  std::string json = wire::ExampleEventJson(wire::EventType::kScan, CartId::FromNumber(1), 1);
  std::string body_template = wire::JoinEnvelope(json, wire::Signature{});
  std::mt19937_64 rng(42);
  uint64_t stored = *have;
  for (uint64_t level : o.levels) {
    auto began = std::chrono::steady_clock::now();
    uint64_t added = 0;
    while (stored < level) {
      store::TelemetryBatch batch;
      uint64_t n = std::min<uint64_t>(20'000, level - stored);
      batch.events.reserve(n);
      for (uint64_t k = 0; k < n; ++k) batch.events.push_back(MakeEvent(stored + k, o, body_template, rng));
      if (Status st = telemetry.Commit(batch); !st.ok()) {
        std::fprintf(stderr, "cw_query_bench: commit: %s\n", st.ToString().c_str());
        return 1;
      }
      stored += n;
      added += n;
      if (stored % 1'000'000 == 0) {
        WriteMarker(o.dir, stored);
        std::fprintf(stderr, "\r%llu events stored", static_cast<unsigned long long>(stored));
      }
    }
    WriteMarker(o.dir, stored);
    double fill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (added) std::fprintf(stderr, "\rfilled to %llu events (%.0f/s)\n", static_cast<unsigned long long>(stored), added / fill_s);
    WaitForCompactionsToSettle();

    uint64_t rounds = (stored + o.carts - 1) / o.carts;
    Time end = kStart + o.spacing * static_cast<int64_t>(rounds);
    clock.Set(end);
    std::uniform_int_distribution<uint64_t> pick_cart(1, std::min(o.carts, stored));
    std::uniform_int_distribution<uint64_t> pick_store(0, o.stores - 1);
    auto span = std::max<Duration>(end - kStart - o.window, Duration::zero());
    std::uniform_int_distribution<int64_t> pick_offset(0, std::chrono::duration_cast<std::chrono::milliseconds>(span).count());
    std::vector<double> newest_ms, window_ms;
    size_t newest_items = 0, window_items = 0;
    for (uint64_t s = 0; s < o.samples; ++s) {
      CartId cart = CartId::FromNumber(pick_cart(rng));
      auto t0 = std::chrono::steady_clock::now();
      auto page = telemetry.NewestForCart(cart, 100, "");
      auto t1 = std::chrono::steady_clock::now();
      if (!page.ok()) {
        std::fprintf(stderr, "cw_query_bench: newest: %s\n", page.error().ToString().c_str());
        return 1;
      }
      newest_items += page->items.size();
      newest_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());

      StoreId store = StoreOf(pick_store(rng), o);
      Time since = kStart + std::chrono::milliseconds(pick_offset(rng));
      t0 = std::chrono::steady_clock::now();
      auto window = telemetry.ForStore(store, since, since + o.window, 100, "");
      t1 = std::chrono::steady_clock::now();
      if (!window.ok()) {
        std::fprintf(stderr, "cw_query_bench: window: %s\n", window.error().ToString().c_str());
        return 1;
      }
      window_items += window->items.size();
      window_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    for (auto [name, ms, items] : {std::tuple{"newest_100_for_cart", &newest_ms, newest_items},
                                   std::tuple{"store_window_first_page", &window_ms, window_items}}) {
      Percentiles p = Summarise(*ms);
      std::printf("{\"query\":\"%s\",\"events\":%llu,\"samples\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
                  "\"mean_items\":%.1f}\n",
                  name, static_cast<unsigned long long>(stored), static_cast<unsigned long long>(o.samples), p.p50_ms,
                  p.p99_ms, p.max_ms, double(items) / double(o.samples));
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace cw

int main(int argc, char** argv) {
  cw::Options o;
  std::string window = "15m", spacing = "30s";
  CLI::App app{"Telemetry query latency at 1M..100M stored events (RocksDB)"};
  app.add_option("--dir", o.dir, "Store directory (kept between runs)")->required();
  app.add_option("--levels", o.levels, "Stored-event counts to measure at, ascending")->delimiter(',');
  app.add_option("--carts", o.carts, "Carts the events are spread over");
  app.add_option("--stores", o.stores, "Stores the carts are spread over");
  app.add_option("--samples", o.samples, "Queries of each kind per level");
  app.add_option("--window", window, "Store-window length (e.g. 15m)");
  app.add_option("--spacing", spacing, "Device time between one cart's events (e.g. 30s)");
  CLI11_PARSE(app, argc, argv);
  auto w = cw::ParseDuration(window), s = cw::ParseDuration(spacing);
  if (!w.ok() || !s.ok()) {
    std::fprintf(stderr, "cw_query_bench: --window and --spacing take durations such as 15m or 30s\n");
    return 2;
  }
  o.window = *w;
  o.spacing = *s;
  if (o.carts == 0 || o.stores == 0 || o.samples == 0 || !std::is_sorted(o.levels.begin(), o.levels.end())) {
    std::fprintf(stderr, "cw_query_bench: --carts, --stores and --samples must be positive, --levels ascending\n");
    return 2;
  }
  return cw::Run(o);
}
