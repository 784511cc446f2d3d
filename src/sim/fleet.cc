#include "sim/fleet.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <queue>

#include "core/csv.h"
#include "core/files.h"
#include "core/log.h"
#include "core/time_format.h"
#include "crypto/ecdsa.h"
#include "crypto/x509.h"
#include "device/payment.h"
#include "sim/ble_bridge.h"
#include "sim/defects.h"
#include "sim/firmware_download.h"
#include "sim/scaled_clock.h"
#include "sim/session_poller.h"
#include "wire/json.h"

namespace cw::sim {

using Steady = std::chrono::steady_clock;

Result<std::vector<KnownCustomer>> LoadKnownCustomers(const std::string& path) {
  CW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  CsvReader reader(text);
  auto header = reader.Next();
  if (!header.ok()) return InvalidArgument(path + ": " + header.error().message());
  if (!*header || (*header)->fields != std::vector<std::string>{"loyalty", "payment_token"}) {
    return InvalidArgument(path + ": expected the header loyalty,payment_token");
  }
  std::vector<KnownCustomer> out;
  for (;;) {
    auto row = reader.Next();
    if (!row.ok()) return InvalidArgument(path + ": " + row.error().message());
    if (!*row) return out;
    if ((*row)->fields.size() != 2) {
      return InvalidArgument(path + ": line " + std::to_string((*row)->line) + ": expected 2 fields");
    }
    out.push_back({(*row)->fields[0], (*row)->fields[1]});
  }
}

std::string GenerateCatalogCsv(int n, uint64_t seed) {
  static const char* kNames[] = {"Milk", "Bread", "Apples", "Cheese", "Coffee", "Pasta", "Rice", "Eggs",
                                 "Butter", "Yogurt", "Tomatoes", "Bananas", "Juice", "Water", "Chocolate", "Cereal"};
  static const char* kCats[] = {"dairy", "bakery", "produce", "dairy", "drinks", "pantry", "pantry", "dairy",
                                "dairy", "dairy", "produce", "produce", "drinks", "drinks", "sweets", "pantry"};
  SeededRandom r(seed);
  std::string csv = "sku,name,price_cents,expected_weight_g,category\n";
  for (int i = 0; i < n; ++i) {
    // EAN-13 with a valid check digit.
    std::string d = "40" + std::to_string(1000000000 + i).substr(0, 10);
    int sum = 0;
    for (int k = 0; k < 12; ++k) sum += (d[static_cast<size_t>(k)] - '0') * (k % 2 ? 3 : 1);
    d += static_cast<char>('0' + (10 - sum % 10) % 10);
    size_t kind = static_cast<size_t>(r.Uniform(16));
    csv += d + "," + kNames[kind] + " " + std::to_string(i) + "," + std::to_string(r.Range(49, 1999)) + "," +
           std::to_string(r.Range(50, 2500)) + "," + kCats[kind] + "\n";
  }
  return csv;
}

struct Fleet::SimCart {
  CartId id = CartId::FromNumber(0);
  SeededRandom rng{0};
  SeededRandom net_rng{0};
  std::unique_ptr<crypto::SoftKeyStore> se;
  std::unique_ptr<device::SeqCounter> seq;
  std::unique_ptr<MqttSession> session;
  std::unique_ptr<DefectiveUplink> uplink;  // the session, through the scenario's defects
  std::unique_ptr<Clock> skewed_clock;  // the cart's own clock when the scenario skews it
  std::unique_ptr<device::FirmwareSource> firmware_source;
  std::optional<device::Cart::Parts> parts;  // what the cart boots from (again, after a reboot)
  std::unique_ptr<device::Cart> cart;
  std::unique_ptr<device::SimEmvModule> emv_module;
  std::unique_ptr<device::SimEmvTerminal> emv_terminal;
  int items_left = 0;
  int interrupt_at_items_left = -1;  // the shopper walks away when this many items are left
  bool identify_mid_shop = false;
  bool in_offline_window = false;
  bool walked_away = false;          // paused and asleep, holding the session
  bool parked = false;               // left in the parking lot
  Time parked_until{};
  bool power_cut = false;            // the battery died and the radio is off
  std::chrono::steady_clock::time_point power_cut_deadline{};
  std::string identify_method;
  Time next_action{};  // when the shopper (or staff) does something next; ticks come more often
};

struct Fleet::Impl {
  std::unique_ptr<ScaledClock> clock;
  std::map<std::string, size_t> index;  // cart id → position in carts_; immutable after Open
  SystemRandom bridge_random;           // thread-safe: the bridge answers on its own thread
  std::unique_ptr<BleBridge> bridge;
  std::unique_ptr<FirmwareDownloader> downloader;
  device::Catalog catalog;
  uint64_t reboots = 0;
  std::unique_ptr<SessionPoller> poller;
  uint64_t completed = 0, abandoned = 0, interrupted = 0;
  std::vector<float> scan_us;     // scan-to-display samples
};

Fleet::Fleet(FleetOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}
Fleet::~Fleet() {
  if (impl_->bridge) impl_->bridge->Stop();  // before the carts it signs for go away
}

Result<std::unique_ptr<Fleet>> Fleet::Open(const FleetOptions& o) {
  std::unique_ptr<Fleet> f(new Fleet(o));
  if (o.speed <= 0) return InvalidArgument("--speed must be positive");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
    return InvalidArgument("--shard must be I/N with 0 <= I < N");
  }
  std::string csv;
  if (o.catalog_path.empty()) {
    csv = GenerateCatalogCsv(2000, 7);
  } else {
    CW_ASSIGN_OR_RETURN(csv, ReadFile(o.catalog_path));
  }
  CW_ASSIGN_OR_RETURN(f->impl_->catalog, device::Catalog::Parse(csv));
  f->impl_->downloader = std::make_unique<FirmwareDownloader>(o.faults.download_failure, o.seed);
  // Virtual time starts in the past and never passes the wall clock (ScaledClock), so the carts'
  // clocks never run ahead of the cloud's: at 60x they would otherwise pass the ingest's 24-hour
  // clock-skew limit after 25 real minutes.
  Time wall_now = Clock::System().Now();
  Time start = wall_now - (o.backfill > Duration::zero() ? o.backfill : o.duration);
  if (!o.clock_file.empty()) {
    auto saved = ReadFile(o.clock_file);
    if (saved.ok()) {
      auto t = ParseRfc3339(saved->substr(0, saved->find('\n')));
      if (!t.ok()) return InvalidArgument("clock file " + o.clock_file + ": " + t.error().message());
      start = std::clamp(*t, start, wall_now);
    } else if (saved.error().code() != Code::kNotFound) {
      return saved.error();
    }
  }
  f->impl_->clock = std::make_unique<ScaledClock>(start, o.speed);

  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(o.carts_dir, ec)) {
    std::string name = e.path().filename().string();
    auto id = CartId::Parse(name);
    if (e.is_directory() && id.ok() && static_cast<int>(id->number() % static_cast<uint32_t>(o.shard_count)) == o.shard_index) {
      dirs.push_back(e.path().string());
    }
  }
  if (ec) return NotFound("carts directory " + o.carts_dir + ": " + ec.message());
  // libmosquitto holds three descriptors per session (its socket and an internal socketpair).
  uint64_t need = 3 * dirs.size() + 64, limit = RaiseOpenFileLimit();
  if (limit < need) {
    return FailedPrecondition(std::to_string(dirs.size()) + " carts need " + std::to_string(need) +
                              " open files but the limit is " + std::to_string(limit) +
                              "; raise the hard limit or split the fleet with --shard I/N across processes");
  }
  if (dirs.empty()) return NotFound("no CART-xxxxxx directories in " + o.carts_dir + " (provision carts first)");
  std::sort(dirs.begin(), dirs.end());

  for (const auto& dir : dirs) {
    auto sc = std::make_unique<SimCart>();
    sc->id = *CartId::Parse(std::filesystem::path(dir).filename().string());
    CW_RETURN_IF_ERROR(MakeDirs(dir + "/flash", 0700));
    CW_ASSIGN_OR_RETURN(sc->seq, device::SeqCounter::Open(dir + "/flash/seq"));
    // A cart that ran before continues with choices (session ids above all) it never made before:
    // its flash's seq mark differs from every earlier boot's, while a fresh fleet with one seed
    // still replays exactly.
    uint64_t boot = sc->seq->last() * 0x9E3779B97F4A7C15ull;
    sc->rng = SeededRandom(o.seed * 1000003 + sc->id.number() + boot);
    sc->net_rng = SeededRandom(o.seed * 7919 + sc->id.number() + boot);
    SeededRandom fate(o.seed * 104729 + sc->id.number());  // which carts the scenario's per-cart faults hit
    device::Battery battery;
    if (fate.Bernoulli(o.faults.battery_cliff)) {
      battery = device::Battery(device::BatterySpec{}, 0.025 + 0.055 * fate.UniformDouble());
    }
    CW_ASSIGN_OR_RETURN(sc->se, crypto::SoftKeyStore::OpenFile(dir + "/device.key"));
    CW_ASSIGN_OR_RETURN(std::string cloud_pem, ReadFile(dir + "/cloud-command.pub"));
    CW_ASSIGN_OR_RETURN(auto cloud_key, crypto::PublicKey::FromPem(cloud_pem));
    SessionOptions so = o.broker;
    so.ca_file = dir + "/ca.crt";
    so.cert_file = dir + "/device.crt";
    so.key_file = dir + "/device.key";
    sc->session = std::make_unique<MqttSession>(sc->id, so, sc->net_rng, *f->impl_->clock);
    CartDefects defects;
    if (fate.Bernoulli(o.faults.malformed_carts)) defects.malformed_share = o.faults.malformed_share;
    if (fate.Bernoulli(o.faults.slow_link_carts)) defects.delay = o.faults.slow_link_delay;
    sc->uplink = std::make_unique<DefectiveUplink>(*sc->session, *sc->se, sc->net_rng, defects);
    Clock* cart_clock = f->impl_->clock.get();
    if (fate.Bernoulli(o.faults.clock_skew_carts)) {
      sc->skewed_clock = std::make_unique<OffsetClock>(*f->impl_->clock, o.faults.clock_skew);
      cart_clock = sc->skewed_clock.get();
    }
    // The factory trust store and the CA the cart pins, as provisioning wrote them.
    std::vector<crypto::PublicKey> firmware_keys;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/firmware-keys", ec)) {
      if (e.path().extension() != ".pub") continue;
      CW_ASSIGN_OR_RETURN(std::string pem, ReadFile(e.path().string()));
      auto key = crypto::PublicKey::FromPem(pem);
      if (!key.ok()) return InvalidArgument(e.path().string() + ": " + key.error().message());
      firmware_keys.push_back(std::move(*key));
    }
    if (firmware_keys.empty()) {
      log::Warn("cartsim.no_firmware_keys", {{"cart", sc->id.str()},
                                             {"hint", "provisioned before OTA: its updates will fail (re-provision it)"}});
    }
    ec.clear();
    CW_ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(so.ca_file));
    CW_ASSIGN_OR_RETURN(auto ca, crypto::Certificate::FromPem(ca_pem));
    sc->firmware_source = f->impl_->downloader->SourceFor({so.ca_file, so.cert_file, so.key_file}, f->carts_.size());
    sc->parts = device::Cart::Parts{sc->id, "2.0.0", sc->se.get(), sc->seq.get(), cart_clock, &sc->rng,
                                    &f->impl_->catalog, sc->uplink.get(), cloud_key, battery, dir + "/flash",
                                    std::move(firmware_keys), sc->firmware_source.get(), {ca.Fingerprint()}};
    CW_RETURN_IF_ERROR(f->BootCart(*sc));
    sc->emv_module = std::make_unique<device::SimEmvModule>(sc->rng);
    sc->emv_terminal = std::make_unique<device::SimEmvTerminal>(sc->rng, o.faults.payment_decline);
    f->impl_->index[sc->id.str()] = f->carts_.size();
    f->carts_.push_back(std::move(sc));
  }
  if (!o.ble_bridge_listen.empty()) {
    CW_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(o.ble_bridge_listen));
    Fleet* fleet = f.get();
    f->impl_->bridge = std::make_unique<BleBridge>([fleet](const CartId& id, const std::string& challenge) -> Result<std::string> {
      auto it = fleet->impl_->index.find(id.str());
      if (it == fleet->impl_->index.end()) return NotFound(id.str() + " is not in this fleet");
      SimCart& c = *fleet->carts_[it->second];
      return device::IssueProximityToken(*c.se, c.id, *fleet->impl_->clock, fleet->impl_->bridge_random, challenge);
    });
    CW_RETURN_IF_ERROR(f->impl_->bridge->Start(listen));
  }
  return f;
}

Status Fleet::BootCart(SimCart& c) {
  if (c.cart) {
    // A reboot: the battery is what it was; flash (queue, session, slots, trust store) carries
    // the rest. The MQTT session stays up, standing in for the quick reconnect after the restart.
    c.parts->battery = c.cart->battery();
    c.cart.reset();
    impl_->reboots++;
  }
  CW_ASSIGN_OR_RETURN(c.cart, device::Cart::Boot(*c.parts));
  device::Cart* cart = c.cart.get();
  c.session->set_handlers([cart](const std::string& t, const std::string& p) { cart->OnMessage(t, p); },
                          [cart] { cart->OnConnected(); });
  if (c.session->connected()) cart->OnConnected();
  return Status::Ok();
}

uint16_t Fleet::ble_bridge_port() const { return impl_->bridge ? impl_->bridge->port() : 0; }

namespace {

Duration Exponential(Random& r, Duration mean) {
  double u = std::max(r.UniformDouble(), 1e-12);
  return std::chrono::duration_cast<Duration>(mean * -std::log(u));
}

std::string Digits(Random& r, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + r.Uniform(10));
  return s;
}

std::string Alnum(Random& r, int n) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < n; ++i) s += kChars[r.Uniform(62)];
  return s;
}

std::string FormatDuration(Duration d) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

}  // namespace

Result<FleetSummary> Fleet::Run(const std::atomic<bool>* stop, ProgressFn on_progress,
                                std::chrono::milliseconds progress_every) {
  Impl& im = *impl_;
  ScaledClock& clock = *im.clock;
  const ShopperMix& mix = options_.mix;
  const FaultRates& faults = options_.faults;
  CW_ASSIGN_OR_RETURN(im.poller, SessionPoller::Create());
  bool holding = options_.wait_for_connected > std::chrono::seconds(0);
  auto hold_until = Steady::now() + options_.wait_for_connected;
  if (!holding) clock.Start();
  Time start = clock.Now();  // the same instant whether or not the clock is held
  Time end = start + options_.duration;
  auto real_start = Steady::now();

  auto sync = [&](size_t i) { im.poller->Sync(i, *carts_[i]->session); };

  auto credential = [](Random& r, const std::string& method) {
    return method == "loyalty" ? Digits(r, 16) : "qr_" + Alnum(r, 12);
  };
  // A known customer holding that kind of credential, if the options name any.
  auto known = [&](Random& r, const std::string& method) -> const KnownCustomer* {
    std::vector<const KnownCustomer*> holders;
    for (const auto& k : options_.customers) {
      if (!(method == "loyalty" ? k.loyalty : k.payment_token).empty()) holders.push_back(&k);
    }
    return holders.empty() ? nullptr : holders[r.Uniform(holders.size())];
  };
  auto identify = [&](SimCart& c) {
    const KnownCustomer* k = known(c.rng, c.identify_method);
    if (c.identify_method == "payment_token") {
      if (k) c.emv_module->Present(k->payment_token);
      c.cart->TapToPay(*c.emv_module).IgnoreError();
    } else {
      c.cart->Identify(c.identify_method, k && c.identify_method == "loyalty" ? k->loyalty
                                                                             : credential(c.rng, c.identify_method))
          .IgnoreError();
    }
    c.identify_method.clear();
  };

  int phase = 0;  // of the offline window: 0 normal, 1 failed over to LTE-M, 2 fully offline

  // The shopper's next move on cart i.
  auto act = [&](size_t i) -> Time {
    SimCart& c = *carts_[i];
    device::Cart& cart = *c.cart;
    Random& r = c.rng;
    Time now = clock.Now();
    if (cart.powered_off()) return Time::max();
    if (c.parked) {
      if (now < c.parked_until) return c.parked_until;
      // Staff bring the cart back inside.
      cart.ReturnToStore();
      c.parked = false;
      c.session->SetLink(c.in_offline_window && phase == 1 ? "lte-m" : "wifi");
      return now + Exponential(r, mix.mean_idle);
    }
    switch (cart.session_state()) {
      case device::SessionState::kIdle: {
        if (!cart.StartSession().ok()) return now + Exponential(r, mix.mean_idle);
        c.items_left = static_cast<int>(r.Range(mix.min_items, mix.max_items));
        c.interrupt_at_items_left = r.Bernoulli(mix.interrupted) ? c.items_left / 2 : -1;
        double u = r.UniformDouble();
        c.identify_method = u < mix.loyalty ? "loyalty"
                            : u < mix.loyalty + mix.payment_token ? "payment_token"
                            : u < mix.loyalty + mix.payment_token + mix.app_qr ? "app_qr"
                                                                               : "";
        c.identify_mid_shop = r.Bernoulli(mix.mid_shop_identify);
        if (!c.identify_method.empty() && !c.identify_mid_shop) identify(c);
        return now + Exponential(r, mix.mean_scan_gap);
      }
      case device::SessionState::kActive: {
        if (c.items_left > 0 && c.items_left == c.interrupt_at_items_left) {
          // The shopper walks away: the cart pauses, holds the session in flash and sleeps.
          c.interrupt_at_items_left = -1;
          if (cart.Pause().ok() && cart.Sleep().ok()) {
            c.walked_away = true;
            im.interrupted++;
            return now + Exponential(r, mix.mean_interruption);
          }
        }
        if (c.items_left > 0) {
          // Popular items are scanned more often: quadratic skew towards the top of the cache.
          double u = r.UniformDouble();
          size_t idx = static_cast<size_t>(u * u * static_cast<double>(im.catalog.items().size()));
          const auto& item = im.catalog.items()[std::min(idx, im.catalog.items().size() - 1)];
          if (r.Bernoulli(faults.scanner_jam_per_scan)) {
            cart.Fault("SCANNER_JAM", "warn", "scanner did not read after 3 tries").IgnoreError();
          } else {
            int qty = r.Bernoulli(0.1) ? 2 : 1;
            std::optional<int> weight;
            if (item.expected_weight_g && r.Bernoulli(faults.weight_mismatch_per_scan)) {
              // Something else went into the basket with it, or nothing did.
              weight = r.Bernoulli(0.5) ? *item.expected_weight_g * qty + static_cast<int>(r.Range(300, 900)) : 0;
            }
            auto t0 = Steady::now();
            bool ok = cart.Scan(item.sku, qty, weight).ok();
            auto us = std::chrono::duration<float, std::micro>(Steady::now() - t0).count();
            if (ok) im.scan_us.push_back(us);
            c.items_left--;
          }
          if (!c.identify_method.empty() && c.items_left == 1) identify(c);
          return now + Exponential(r, mix.mean_scan_gap);
        }
        if (r.Bernoulli(mix.abandon)) {
          cart.EndUnpaid(device::SessionAction::kAbandon).IgnoreError();
          im.abandoned++;
        } else {
          // The in-store EMV terminal authorises the basket; after a decline, another card.
          if (!cart.PayAtTerminal(*c.emv_terminal).ok()) return now + std::chrono::seconds(30);
          im.completed++;
        }
        cart.Reset().IgnoreError();
        if (r.Bernoulli(faults.parking_lot)) {
          // Pushed out to the car and left there.
          double lat = 52.3700 + r.Range(-500, 500) / 1e6, lon = 4.8950 + r.Range(-500, 500) / 1e6;
          if (cart.LeaveStore(lat, lon).ok()) {
            c.session->SetLink("lte-m");
            c.parked = true;
            c.parked_until = now + std::chrono::duration_cast<Duration>(
                                       std::chrono::duration<double, std::ratio<3600>>(faults.parking_lot_hours) *
                                       -std::log(std::max(r.UniformDouble(), 1e-12)));
            return c.parked_until;
          }
        }
        return now + Exponential(r, mix.mean_idle);
      }
      case device::SessionState::kPaused:
        if (c.walked_away) {
          c.walked_away = false;
          cart.Wake();
        }
        cart.Resume().IgnoreError();
        return now + Exponential(r, mix.mean_scan_gap);
      default:
        cart.Reset().IgnoreError();
        return now + Exponential(r, mix.mean_idle);
    }
  };

  using Entry = std::pair<Time, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> timers;
  for (size_t i = 0; i < carts_.size(); ++i) {
    // First shoppers arrive spread over the first idle period.
    carts_[i]->next_action = start + Exponential(carts_[i]->rng, options_.mix.mean_idle / 4);
    timers.push({start, i});
  }

  // Which carts lose coverage in the offline window (chosen by seed), and when its phases begin.
  for (auto& c : carts_) c->in_offline_window = c->net_rng.Bernoulli(options_.offline.fraction);
  Time offline_from = start + options_.offline.after;
  Time lte_m_until = offline_from + std::min(options_.offline.lte_m, options_.offline.length);
  Time offline_to = offline_from + options_.offline.length;
  auto phase_at = [&](Time t) { return t < offline_from || t >= offline_to ? 0 : t < lte_m_until ? 1 : 2; };

  size_t next_connect = 0;
  auto connect_interval = std::chrono::microseconds(1000000 / std::max(1, options_.connect_rate));
  auto next_connect_at = Steady::now();
  auto last_service = Steady::now();
  auto last_clock_save = Steady::now();
  auto save_clock = [&] {
    Status st = WriteFileAtomic(options_.clock_file, FormatTimeMillis(clock.Now()) + "\n");
    if (!st.ok()) log::Warn("cartsim.clock_file", {{"path", options_.clock_file}, {"error", st.ToString()}});
  };
  auto last_progress = Steady::now();
  bool draining = false;
  auto drain_until = Steady::time_point::max();

  auto count_messages = [&](uint64_t& messages, uint64_t& buffered) {
    for (const auto& c : carts_) {
      for (const auto& [t, v] : c->cart->stats().built) messages += v;
      buffered += c->cart->forward_queue().size();
    }
  };

  for (;;) {
    auto real_now = Steady::now();
    if (!draining && ((stop && stop->load()) || clock.Now() >= end)) {
      // Stop acting, then flush: wait (up to 15 s, or 2 s after a stop request) until every
      // reachable cart is connected with nothing buffered or unacknowledged.
      draining = true;
      drain_until = real_now + ((stop && stop->load()) ? std::chrono::seconds(2) : std::chrono::seconds(15));
    }
    if (draining) {
      bool flushed = real_now >= drain_until;
      if (!flushed && next_connect == carts_.size() && real_now - last_service < std::chrono::milliseconds(20)) {
        flushed = std::all_of(carts_.begin(), carts_.end(), [](const auto& c) {
          const MqttSession& s = *c->session;
          return !s.reachable() || c->cart->powered_off() ||
                 (s.connected() && c->cart->forward_queue().empty() && c->uplink->held() == 0 && s.in_flight() == 0);
        });
      }
      if (flushed) break;
    }

    while (next_connect < carts_.size() && real_now >= next_connect_at) {
      carts_[next_connect]->session->Connect();
      sync(next_connect);
      next_connect++;
      next_connect_at += connect_interval;
    }
    if (holding && (real_now >= hold_until ||
                    (next_connect == carts_.size() &&
                     std::all_of(carts_.begin(), carts_.end(), [](const auto& c) { return c->session->connected(); })))) {
      holding = false;
      clock.Start();
    }
    if (options_.offline.fraction > 0) {
      int want = phase_at(clock.Now());
      if (want != phase) {
        for (size_t i = 0; i < carts_.size(); ++i) {
          SimCart& c = *carts_[i];
          if (!c.in_offline_window) continue;
          if (want == 1) c.session->SetLink("lte-m");
          if (want == 2) c.session->SetReachable(false);
          if (want == 0) {
            if (!c.parked) c.session->SetLink("wifi");
            c.session->SetReachable(true);
          }
          sync(i);
        }
        phase = want;
      }
    }
    if (!draining && !holding) {
      Time vnow = clock.Now();
      while (!timers.empty() && timers.top().first <= vnow) {
        size_t i = timers.top().second;
        timers.pop();
        SimCart& c = *carts_[i];
        c.cart->Tick();
        if (vnow >= c.next_action) c.next_action = act(i);
        // An installed update (the cart is idle) or a failed trial: restart the cart from flash.
        for (int n = 0; n < 3 && c.cart->reboot_requested(); ++n) {
          if (Status st = BootCart(c); !st.ok()) {
            log::Error("cartsim.reboot_failed", {{"cart", c.id.str()}, {"error", st.ToString()}});
            break;
          }
        }
        if (c.cart->powered_off()) {
          // The last watts: keep the radio up until the broker has acknowledged what was sent.
          c.power_cut_deadline = Steady::now() + std::chrono::seconds(5);
        } else {
          // Tick at least every 10 virtual seconds so health cadence and battery stay current.
          timers.push({std::min(c.next_action, vnow + std::chrono::seconds(10)), i});
        }
        sync(i);
      }
    }
    int timeout_ms = 50;
    if (!draining && !holding && !timers.empty()) {
      auto until = clock.RealUntil(timers.top().first);
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(until).count(), 0, 50));
    }
    for (size_t i = 0; i < next_connect; ++i) {
      if (carts_[i]->uplink->held() == 0) continue;
      carts_[i]->uplink->Pump(real_now);
      sync(i);
    }
    im.downloader->DeliverCompleted(sync);  // a chunk may have sent a fault
    im.poller->Poll(std::chrono::milliseconds(timeout_ms), [&](size_t i) -> MqttSession& { return *carts_[i]->session; });
    if (!options_.clock_file.empty() && Steady::now() - last_clock_save >= std::chrono::seconds(2)) {
      last_clock_save = Steady::now();
      save_clock();
    }
    if (Steady::now() - last_service >= std::chrono::milliseconds(250)) {
      last_service = Steady::now();
      for (size_t i = 0; i < next_connect; ++i) {
        SimCart& c = *carts_[i];
        if (c.cart->powered_off() && !c.power_cut &&
            (c.session->in_flight() == 0 || !c.session->connected() || last_service >= c.power_cut_deadline)) {
          c.session->PowerOff();
          c.power_cut = true;
        }
        c.session->Service(last_service);
        sync(i);
      }
    }
    if (on_progress && Steady::now() - last_progress >= progress_every) {
      last_progress = Steady::now();
      FleetProgress p;
      p.virtual_elapsed = clock.Now() - start;
      p.carts = static_cast<int>(carts_.size());
      for (const auto& c : carts_) p.connected += c->session->connected() ? 1 : 0;
      count_messages(p.messages, p.buffered);
      p.real_seconds = std::chrono::duration<double>(last_progress - real_start).count();
      on_progress(p);
    }
  }

  if (!options_.clock_file.empty()) save_clock();
  FleetSummary s;
  s.carts = static_cast<int>(carts_.size());
  for (const auto& c : carts_) {
    const auto& st = c->cart->stats();
    for (const auto& [t, v] : st.built) s.built[t] += v;
    for (const auto& [code, v] : st.faults) s.faults[code] += v;
    s.published_live += st.published_live;
    s.queued_offline += st.queued_offline;
    s.replayed += st.replayed;
    s.rejects_received += st.rejects_received;
    s.commands_accepted += st.commands_accepted;
    s.flash_errors += st.flash_errors;
    s.buffered += c->cart->forward_queue().size();
    s.dropped_health += c->cart->forward_queue().dropped_health();
    s.connected += c->session->connected() ? 1 : 0;
    s.powered_off += c->cart->powered_off() ? 1 : 0;
    s.in_parking_lot += c->cart->outside_store() ? 1 : 0;
    s.firmware[c->cart->firmware()]++;
  }
  s.reboots = im.reboots;
  s.firmware_fetches = im.downloader->fetches();
  s.firmware_fetch_failures = im.downloader->injected_failures();
  s.sessions_completed = im.completed;
  s.sessions_abandoned = im.abandoned;
  s.sessions_interrupted = im.interrupted;
  if (!im.scan_us.empty()) {
    auto& v = im.scan_us;
    auto at = [&](double q) {
      size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
      return static_cast<double>(v[k]);
    };
    s.scan_to_display.count = v.size();
    s.scan_to_display.p50_us = at(0.50);
    s.scan_to_display.p99_us = at(0.99);
    s.scan_to_display.max_us = static_cast<double>(*std::max_element(v.begin(), v.end()));
  }
  s.real_seconds = std::chrono::duration<double>(Steady::now() - real_start).count();
  return s;
}

std::string FleetSummary::ToJson() const {
  wire::JsonBuilder b;
  b.Field("carts", carts).Field("connected", connected);
  auto& w = b.Key("messages_by_type").writer();
  w.StartObject();
  for (const auto& [t, v] : built) {
    std::string name(wire::Name(t));
    w.Key(name.c_str());
    w.Uint64(v);
  }
  w.EndObject();
  b.Key("faults_by_code");
  w.StartObject();
  for (const auto& [code, v] : faults) {
    w.Key(code.c_str());
    w.Uint64(v);
  }
  w.EndObject();
  b.Field("published_live", published_live)
      .Field("queued_offline", queued_offline)
      .Field("replayed", replayed)
      .Field("buffered", buffered)
      .Field("dropped", dropped_health)
      .Field("flash_errors", flash_errors)
      .Field("rejects_received", rejects_received)
      .Field("commands_accepted", commands_accepted)
      .Field("sessions_completed", sessions_completed)
      .Field("sessions_abandoned", sessions_abandoned)
      .Field("sessions_interrupted", sessions_interrupted)
      .Field("powered_off", powered_off)
      .Field("in_parking_lot", in_parking_lot)
      .Field("reboots", reboots)
      .Field("firmware_fetches", firmware_fetches)
      .Field("firmware_fetch_failures", firmware_fetch_failures);
  b.Key("firmware");
  w.StartObject();
  for (const auto& [version, n] : firmware) {
    w.Key(version.c_str());
    w.Int(n);
  }
  w.EndObject();
  b.Key("scan_to_display_us");
  w.StartObject();
  w.Key("count");
  w.Uint64(scan_to_display.count);
  w.Key("p50");
  w.Double(scan_to_display.p50_us);
  w.Key("p99");
  w.Double(scan_to_display.p99_us);
  w.Key("max");
  w.Double(scan_to_display.max_us);
  w.EndObject();
  b.Field("real_seconds", real_seconds);
  return b.Finish();
}

std::string FleetSummary::ToText() const {
  std::string out = "carts " + std::to_string(carts) + " (" + std::to_string(connected) + " connected at the end";
  if (powered_off) out += ", " + std::to_string(powered_off) + " out of battery";
  if (in_parking_lot) out += ", " + std::to_string(in_parking_lot) + " in the parking lot";
  out += ")\n";
  uint64_t total = 0;
  for (const auto& [t, v] : built) {
    out += "  " + std::string(wire::Name(t)) + ": " + std::to_string(v) + "\n";
    total += v;
  }
  if (!faults.empty()) {
    out += "faults";
    for (const auto& [code, v] : faults) out += " " + code + "=" + std::to_string(v);
    out += "\n";
  }
  out += "messages " + std::to_string(total) + " (live " + std::to_string(published_live) + ", replayed " +
         std::to_string(replayed) + ", still buffered " + std::to_string(buffered) + ", dropped " +
         std::to_string(dropped_health) + ", flash errors " + std::to_string(flash_errors) + ")\n";
  out += "sessions completed " + std::to_string(sessions_completed) + ", abandoned " + std::to_string(sessions_abandoned) +
         ", interrupted and resumed " + std::to_string(sessions_interrupted) + "; rejects received " +
         std::to_string(rejects_received) + "; commands accepted " + std::to_string(commands_accepted) + "\n";
  out += "firmware";
  for (const auto& [version, n] : firmware) out += " " + version + "=" + std::to_string(n);
  out += " (" + std::to_string(reboots) + " reboots, " + std::to_string(firmware_fetches) + " image fetches, " +
         std::to_string(firmware_fetch_failures) + " failed on purpose)\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "scan to display: p50 %.0f us, p99 %.0f us, max %.0f us over %llu scans (PRD: < 200 ms)\n",
                scan_to_display.p50_us, scan_to_display.p99_us, scan_to_display.max_us,
                static_cast<unsigned long long>(scan_to_display.count));
  out += buf;
  std::snprintf(buf, sizeof buf, "%.1f real seconds", real_seconds);
  out += buf;
  out += "\n";
  return out;
}

std::string FleetProgress::ToText() const {
  char buf[200];
  std::snprintf(buf, sizeof buf, "[%6.1fs real] virtual %s  carts %d  connected %d  messages %llu  buffered %llu",
                real_seconds, FormatDuration(virtual_elapsed).c_str(), carts, connected,
                static_cast<unsigned long long>(messages), static_cast<unsigned long long>(buffered));
  return buf;
}

}  // namespace cw::sim
