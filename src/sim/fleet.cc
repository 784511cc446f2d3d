#include "sim/fleet.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <queue>

#include "core/files.h"
#include "core/log.h"
#include "core/time_format.h"
#include "crypto/ecdsa.h"
#include "sim/ble_bridge.h"
#include "sim/scaled_clock.h"
#include "wire/json.h"

namespace cw::sim {

using Steady = std::chrono::steady_clock;

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
  std::unique_ptr<device::Cart> cart;
  int registered_fd = -1;
  bool registered_out = false;
  int items_left = 0;
  bool identify_mid_shop = false;
  bool in_offline_window = false;
  std::string identify_method;
  Time next_tick;
};

struct Fleet::Impl {
  std::unique_ptr<ScaledClock> clock;
  std::map<std::string, size_t> index;  // cart id → position in carts_; immutable after Open
  SystemRandom bridge_random;           // thread-safe: the bridge answers on its own thread
  std::unique_ptr<BleBridge> bridge;
  device::Catalog catalog;
  int epoll = -1;
  uint64_t completed = 0, abandoned = 0;
  ~Impl() {
    if (epoll >= 0) ::close(epoll);
  }
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
  f->impl_->clock = std::make_unique<ScaledClock>(Clock::System().Now(), o.speed);

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
    sc->rng = SeededRandom(o.seed * 1000003 + sc->id.number());
    sc->net_rng = SeededRandom(o.seed * 7919 + sc->id.number());
    CW_ASSIGN_OR_RETURN(sc->se, crypto::SoftKeyStore::OpenFile(dir + "/device.key"));
    CW_RETURN_IF_ERROR(MakeDirs(dir + "/flash", 0700));
    CW_ASSIGN_OR_RETURN(sc->seq, device::SeqCounter::Open(dir + "/flash/seq"));
    CW_ASSIGN_OR_RETURN(std::string cloud_pem, ReadFile(dir + "/cloud-command.pub"));
    CW_ASSIGN_OR_RETURN(auto cloud_key, crypto::PublicKey::FromPem(cloud_pem));
    SessionOptions so = o.broker;
    so.ca_file = dir + "/ca.crt";
    so.cert_file = dir + "/device.crt";
    so.key_file = dir + "/device.key";
    sc->session = std::make_unique<MqttSession>(sc->id, so, sc->net_rng);
    sc->cart = std::make_unique<device::Cart>(device::Cart::Parts{sc->id, "2.0.0", sc->se.get(), sc->seq.get(),
                                                                  f->impl_->clock.get(), &sc->rng, &f->impl_->catalog,
                                                                  sc->session.get(), cloud_key});
    device::Cart* cart = sc->cart.get();
    sc->session->set_handlers([cart](const std::string& t, const std::string& p) { cart->OnMessage(t, p); },
                              [cart] { cart->OnConnected(); });
    f->impl_->index[sc->id.str()] = f->carts_.size();
    f->carts_.push_back(std::move(sc));
  }
  if (!o.ble_bridge_listen.empty()) {
    CW_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(o.ble_bridge_listen));
    Fleet* fleet = f.get();
    f->impl_->bridge = std::make_unique<BleBridge>([fleet](const CartId& id) -> Result<std::string> {
      auto it = fleet->impl_->index.find(id.str());
      if (it == fleet->impl_->index.end()) return NotFound(id.str() + " is not in this fleet");
      SimCart& c = *fleet->carts_[it->second];
      return device::IssueProximityToken(*c.se, c.id, *fleet->impl_->clock, fleet->impl_->bridge_random);
    });
    CW_RETURN_IF_ERROR(f->impl_->bridge->Start(listen));
  }
  return f;
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

}  // namespace

Result<FleetSummary> Fleet::Run(const std::atomic<bool>* stop) {
  Impl& im = *impl_;
  ScaledClock& clock = *im.clock;
  const ShopperMix& mix = options_.mix;
  im.epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (im.epoll < 0) return Internal("epoll_create1 failed");
  Time start = clock.Now();
  Time end = start + options_.duration;
  auto real_start = Steady::now();

  // Keeps the epoll registration of cart i in step with its session's socket and write interest.
  auto sync = [&](size_t i) {
    SimCart& c = *carts_[i];
    int fd = c.session->fd();
    bool out = fd >= 0 && c.session->wants_write();
    if (fd != c.registered_fd) {
      if (c.registered_fd >= 0) ::epoll_ctl(im.epoll, EPOLL_CTL_DEL, c.registered_fd, nullptr);
      c.registered_fd = -1;
      if (fd >= 0) {
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? uint32_t{EPOLLOUT} : 0u);
        ev.data.u64 = i;
        if (::epoll_ctl(im.epoll, EPOLL_CTL_ADD, fd, &ev) == 0) {
          c.registered_fd = fd;
          c.registered_out = out;
        }
      }
    } else if (fd >= 0 && out != c.registered_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | (out ? uint32_t{EPOLLOUT} : 0u);
      ev.data.u64 = i;
      ::epoll_ctl(im.epoll, EPOLL_CTL_MOD, fd, &ev);
      c.registered_out = out;
    }
  };

  // The shopper's next move on cart i.
  auto act = [&](size_t i) -> Time {
    SimCart& c = *carts_[i];
    device::Cart& cart = *c.cart;
    Random& r = c.rng;
    Time now = clock.Now();
    switch (cart.session_state()) {
      case device::SessionState::kIdle: {
        if (!cart.StartSession().ok()) return now + Exponential(r, mix.mean_idle);
        c.items_left = static_cast<int>(r.Range(mix.min_items, mix.max_items));
        double u = r.UniformDouble();
        c.identify_method = u < mix.loyalty ? "loyalty"
                            : u < mix.loyalty + mix.payment_token ? "payment_token"
                            : u < mix.loyalty + mix.payment_token + mix.app_qr ? "app_qr"
                                                                               : "";
        c.identify_mid_shop = r.Bernoulli(mix.mid_shop_identify);
        if (!c.identify_method.empty() && !c.identify_mid_shop) {
          std::string cred = c.identify_method == "loyalty" ? Digits(r, 16)
                             : c.identify_method == "payment_token" ? Alnum(r, 24)  // from the EMV module stub
                                                                    : "qr_" + Alnum(r, 12);
          cart.Identify(c.identify_method, cred).IgnoreError();
          c.identify_method.clear();
        }
        return now + Exponential(r, mix.mean_scan_gap);
      }
      case device::SessionState::kActive: {
        if (c.items_left > 0) {
          // Popular items are scanned more often: quadratic skew towards the top of the cache.
          double u = r.UniformDouble();
          size_t idx = static_cast<size_t>(u * u * static_cast<double>(im.catalog.items().size()));
          const auto& item = im.catalog.items()[std::min(idx, im.catalog.items().size() - 1)];
          if (r.Bernoulli(mix.scanner_jam_per_scan)) {
            cart.Fault("SCANNER_JAM", "warn", "scanner did not read after 3 tries").IgnoreError();
          } else {
            cart.Scan(item.sku, r.Bernoulli(0.1) ? 2 : 1).status().IgnoreError();
            c.items_left--;
          }
          if (!c.identify_method.empty() && c.items_left == 1) {
            std::string cred = c.identify_method == "loyalty" ? Digits(r, 16)
                               : c.identify_method == "payment_token" ? Alnum(r, 24)
                                                                      : "qr_" + Alnum(r, 12);
            cart.Identify(c.identify_method, cred).IgnoreError();
            c.identify_method.clear();
          }
          return now + Exponential(r, mix.mean_scan_gap);
        }
        if (r.Bernoulli(mix.abandon)) {
          cart.EndUnpaid(device::SessionAction::kAbandon).IgnoreError();
          im.abandoned++;
        } else {
          // The in-store EMV terminal stub authorises and returns an auth token.
          cart.CompletePaid("AUTH-" + r.Hex(8)).IgnoreError();
          im.completed++;
        }
        cart.Reset().IgnoreError();
        return now + Exponential(r, mix.mean_idle);
      }
      case device::SessionState::kPaused:
        cart.Resume().IgnoreError();
        return now + mix.mean_scan_gap;
      default:
        cart.Reset().IgnoreError();
        return now + Exponential(r, mix.mean_idle);
    }
  };

  using Entry = std::pair<Time, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> timers;
  for (size_t i = 0; i < carts_.size(); ++i) {
    // First shoppers arrive spread over the first idle period.
    timers.push({start + Exponential(carts_[i]->rng, options_.mix.mean_idle / 4), i});
    carts_[i]->next_tick = start;
  }

  // Which carts lose coverage in the offline window (chosen by seed).
  for (auto& c : carts_) c->in_offline_window = c->net_rng.Bernoulli(options_.offline.fraction);
  Time offline_from = start + options_.offline.after;
  Time offline_to = offline_from + options_.offline.length;
  bool offline_now = false;

  size_t next_connect = 0;
  auto connect_interval = std::chrono::microseconds(1000000 / std::max(1, options_.connect_rate));
  auto next_connect_at = Steady::now();
  auto last_service = Steady::now();
  std::vector<epoll_event> events(1024);
  bool draining = false;
  auto drain_until = Steady::time_point::max();

  for (;;) {
    auto real_now = Steady::now();
    if (!draining && ((stop && stop->load()) || clock.Now() >= end)) {
      draining = true;  // stop acting; give the sessions a moment to flush acknowledgements
      drain_until = real_now + std::chrono::seconds(2);
    }
    if (draining && real_now >= drain_until) break;

    while (next_connect < carts_.size() && real_now >= next_connect_at) {
      carts_[next_connect]->session->Connect();
      sync(next_connect);
      next_connect++;
      next_connect_at += connect_interval;
    }
    if (options_.offline.fraction > 0) {
      Time vnow = clock.Now();
      bool want = vnow >= offline_from && vnow < offline_to;
      if (want != offline_now) {
        offline_now = want;
        for (size_t i = 0; i < carts_.size(); ++i) {
          if (!carts_[i]->in_offline_window) continue;
          carts_[i]->session->SetReachable(!want);
          sync(i);
        }
      }
    }
    if (!draining) {
      Time vnow = clock.Now();
      while (!timers.empty() && timers.top().first <= vnow) {
        size_t i = timers.top().second;
        timers.pop();
        SimCart& c = *carts_[i];
        c.cart->Tick();
        Time next = act(i);
        // Wake at least every 10 virtual seconds so health cadence and battery stay current.
        timers.push({std::min(next, vnow + std::chrono::seconds(10)), i});
        sync(i);
      }
    }
    int timeout_ms = 50;
    if (!draining && !timers.empty()) {
      auto until = clock.RealUntil(timers.top().first);
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(until).count(), 0, 50));
    }
    int n = ::epoll_wait(im.epoll, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int k = 0; k < n; ++k) {
      size_t i = events[static_cast<size_t>(k)].data.u64;
      uint32_t ev = events[static_cast<size_t>(k)].events;
      if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) carts_[i]->session->OnReadable();
      if (ev & EPOLLOUT) carts_[i]->session->OnWritable();
      sync(i);
    }
    if (Steady::now() - last_service >= std::chrono::milliseconds(250)) {
      last_service = Steady::now();
      for (size_t i = 0; i < next_connect; ++i) {
        carts_[i]->session->Service(last_service);
        sync(i);
      }
    }
  }

  FleetSummary s;
  s.carts = static_cast<int>(carts_.size());
  for (const auto& c : carts_) {
    const auto& st = c->cart->stats();
    for (const auto& [t, v] : st.built) s.built[t] += v;
    s.published_live += st.published_live;
    s.queued_offline += st.queued_offline;
    s.replayed += st.replayed;
    s.rejects_received += st.rejects_received;
    s.commands_accepted += st.commands_accepted;
    s.buffered += c->cart->forward_queue().size();
    s.dropped_health += c->cart->forward_queue().dropped_health();
    s.connected += c->session->connected() ? 1 : 0;
  }
  s.sessions_completed = im.completed;
  s.sessions_abandoned = im.abandoned;
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
  b.Field("published_live", published_live)
      .Field("queued_offline", queued_offline)
      .Field("replayed", replayed)
      .Field("buffered", buffered)
      .Field("dropped", dropped_health)
      .Field("rejects_received", rejects_received)
      .Field("commands_accepted", commands_accepted)
      .Field("sessions_completed", sessions_completed)
      .Field("sessions_abandoned", sessions_abandoned)
      .Field("real_seconds", real_seconds);
  return b.Finish();
}

std::string FleetSummary::ToText() const {
  std::string out = "carts " + std::to_string(carts) + " (" + std::to_string(connected) + " connected at the end)\n";
  uint64_t total = 0;
  for (const auto& [t, v] : built) {
    out += "  " + std::string(wire::Name(t)) + ": " + std::to_string(v) + "\n";
    total += v;
  }
  out += "messages " + std::to_string(total) + " (live " + std::to_string(published_live) + ", replayed " +
         std::to_string(replayed) + ", still buffered " + std::to_string(buffered) + ", dropped " +
         std::to_string(dropped_health) + ")\n";
  out += "sessions completed " + std::to_string(sessions_completed) + ", abandoned " + std::to_string(sessions_abandoned) +
         "; rejects received " + std::to_string(rejects_received) + "; commands accepted " +
         std::to_string(commands_accepted) + "\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f real seconds", real_seconds);
  out += buf;
  out += "\n";
  return out;
}

}  // namespace cw::sim
