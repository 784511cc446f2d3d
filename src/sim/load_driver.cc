#include "sim/load_driver.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include "core/files.h"
#include "core/random.h"
#include "core/time_format.h"
#include "crypto/key_store.h"
#include "device/seq_counter.h"
#include "sim/session_poller.h"
#include "wire/envelope.h"
#include "wire/examples.h"
#include "wire/json.h"
#include "wire/topic.h"

namespace cw::sim {

namespace {

using Steady = std::chrono::steady_clock;
using wire::EventType;

// One cart's share of the cycle: a 20-message shopping trip with health reports between.
constexpr EventType kCycle[] = {
    EventType::kSessionStart, EventType::kScan, EventType::kScan,   EventType::kHealth, EventType::kScan,
    EventType::kScan,         EventType::kScan, EventType::kHealth, EventType::kScan,   EventType::kScan,
    EventType::kScan,         EventType::kHealth, EventType::kScan, EventType::kScan,   EventType::kScan,
    EventType::kHealth,       EventType::kScan, EventType::kScan,   EventType::kSessionEnd, EventType::kHealth};
constexpr size_t kFaultEvery = 200;  // one health report in this many messages is a fault instead

struct LoadCart {
  CartId id = CartId::FromNumber(0);
  std::unique_ptr<crypto::SoftKeyStore> key;
  std::unique_ptr<device::SeqCounter> seq;
  std::unique_ptr<MqttSession> session;
  SeededRandom rng{0};
  std::string session_id;
  std::vector<std::pair<std::string, std::string>> messages;  // (topic, signed payload), in send order
  size_t next = 0;                                             // the first not yet published
};

std::string NewSessionId(Random& r) {
  static const char* kHex = "0123456789abcdef";
  std::string s(36, '-');
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    s[i] = kHex[r.Uniform(16)];
  }
  s[14] = '4';
  s[19] = kHex[8 + r.Uniform(4)];
  return s;
}

// The example event of `type` (wire/examples.h, schema-valid) with this cart's id, seq, ts and
// trip, serialised and signed.
Result<std::string> BuildSigned(LoadCart& c, EventType type, uint64_t seq, Time ts) {
  rapidjson::Document doc;
  CW_RETURN_IF_ERROR(wire::ParseStrictObject(wire::ExampleEventJson(type, c.id, seq), doc));
  auto& alloc = doc.GetAllocator();
  std::string when = FormatTimeMillis(ts);
  doc["ts"].SetString(when.c_str(), static_cast<rapidjson::SizeType>(when.size()), alloc);
  if (doc.HasMember("session_id")) {
    doc["session_id"].SetString(c.session_id.c_str(), static_cast<rapidjson::SizeType>(c.session_id.size()), alloc);
  }
  if (type == EventType::kScan) {
    std::string sku = std::to_string(4000000000000ull + c.rng.Uniform(2000));
    doc["sku"].SetString(sku.c_str(), static_cast<rapidjson::SizeType>(sku.size()), alloc);
    doc["price_cents"].SetInt(static_cast<int>(c.rng.Range(49, 1999)));
  }
  if (type == EventType::kHealth) doc["battery_pct"].SetInt(static_cast<int>(c.rng.Range(20, 100)));
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  doc.Accept(w);
  std::string_view json(out.GetString(), out.GetSize());
  CW_ASSIGN_OR_RETURN(crypto::Signature sig, c.key->Sign(json));
  return wire::JoinEnvelope(json, sig);
}

double Percentile(std::vector<float>& v, double q) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

std::string LoadReport::ToJson() const {
  wire::JsonBuilder b;
  b.Field("carts", carts).Field("connected", connected).Field("connect_seconds", connect_seconds)
      .Field("sign_seconds", sign_seconds).Field("publish_seconds", publish_seconds).Field("planned", planned)
      .Field("published", published).Field("acknowledged", acknowledged).Field("lag_p50_ms", lag_p50_ms)
      .Field("lag_p99_ms", lag_p99_ms).Field("lag_max_ms", lag_max_ms).Field("outages", outages)
      .Field("longest_outage_seconds", longest_outage_seconds);
  b.Key("by_type");
  b.writer().StartObject();
  for (const auto& [t, n] : by_type) {
    b.writer().Key(t.c_str());
    b.writer().Uint64(n);
  }
  b.writer().EndObject();
  return b.Finish();
}

std::string LoadReport::ToText() const {
  char line[512];
  std::snprintf(line, sizeof line,
                "%d carts (%d connected, %.1f s); signed %llu messages in %.1f s; published %llu in %.1f s = %.0f/s, "
                "%llu acknowledged by the broker; schedule lag p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d outages, "
                "longest %.1f s",
                carts, connected, connect_seconds, static_cast<unsigned long long>(planned), sign_seconds,
                static_cast<unsigned long long>(published), publish_seconds,
                publish_seconds > 0 ? static_cast<double>(published) / publish_seconds : 0.0,
                static_cast<unsigned long long>(acknowledged), lag_p50_ms, lag_p99_ms, lag_max_ms, outages,
                longest_outage_seconds);
  return line;
}

Result<LoadReport> RunLoad(const LoadOptions& o, const std::atomic<bool>* stop, LoadProgressFn progress) {
  if (o.rate < 0) return InvalidArgument("--rate must be 0 (open mode) or positive");
  if (o.duration <= Duration::zero()) return InvalidArgument("--duration must be positive");
  if (o.connect_rate < 1 || o.max_in_flight < 1 || o.sign_threads < 1) {
    return InvalidArgument("--connect-rate, --max-in-flight and --sign-threads must be positive");
  }
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  auto stopped = [&] { return stop && stop->load(); };

  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(o.carts_dir, ec)) {
    if (e.is_directory() && CartId::Parse(e.path().filename().string()).ok()) dirs.push_back(e.path().string());
  }
  if (ec) return NotFound("carts directory " + o.carts_dir + ": " + ec.message());
  if (dirs.empty()) return NotFound("no CART-xxxxxx directories in " + o.carts_dir + " (provision carts first)");
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(dirs.begin(), dirs.begin() + std::min(dirs.size(), static_cast<size_t>(std::max(0, o.skip_carts))));
  if (dirs.empty()) return NotFound("no carts left in " + o.carts_dir + " after skipping " + std::to_string(o.skip_carts));
  if (o.max_carts > 0 && dirs.size() > static_cast<size_t>(o.max_carts)) dirs.resize(static_cast<size_t>(o.max_carts));
  uint64_t need = 3 * dirs.size() + 64, limit = RaiseOpenFileLimit();
  if (limit < need) {
    return FailedPrecondition(std::to_string(dirs.size()) + " carts need " + std::to_string(need) +
                              " open files but the limit is " + std::to_string(limit) + "; raise the hard limit");
  }

  const Clock& wall = Clock::System();
  SystemRandom net_random;
  std::vector<std::unique_ptr<LoadCart>> carts;
  for (const auto& dir : dirs) {
    auto c = std::make_unique<LoadCart>();
    c->id = *CartId::Parse(std::filesystem::path(dir).filename().string());
    CW_ASSIGN_OR_RETURN(c->key, crypto::SoftKeyStore::OpenFile(dir + "/device.key"));
    CW_RETURN_IF_ERROR(MakeDirs(dir + "/flash", 0700));
    CW_ASSIGN_OR_RETURN(c->seq, device::SeqCounter::Open(dir + "/flash/seq"));
    // Distinct per (cart, run): a sum such as number + last seq would give cart n in one run the
    // draws — and so the session ids — of cart n + 200 in the run before.
    c->rng = SeededRandom((o.seed * 0x9E3779B97F4A7C15ull) ^ (uint64_t{c->id.number()} << 40) ^ c->seq->last());
    SessionOptions so = o.broker;
    so.ca_file = dir + "/ca.crt";
    so.cert_file = dir + "/device.crt";
    so.key_file = dir + "/device.key";
    c->session = std::make_unique<MqttSession>(c->id, so, net_random, wall);
    carts.push_back(std::move(c));
  }
  LoadReport report;
  report.carts = static_cast<int>(carts.size());
  CW_ASSIGN_OR_RETURN(auto poller, SessionPoller::Create());
  auto session_at = [&](size_t i) -> MqttSession& { return *carts[i]->session; };
  auto service_all = [&](Steady::time_point now) {
    for (size_t i = 0; i < carts.size(); ++i) {
      carts[i]->session->Service(now);
      poller->Sync(i, *carts[i]->session);
    }
  };
  auto connected = [&] {
    return static_cast<int>(std::count_if(carts.begin(), carts.end(), [](const auto& c) { return c->session->connected(); }));
  };

  // 1. Connect every cart at the connect rate, and wait (up to a minute after the last) for all.
  auto began = Steady::now();
  auto interval = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(1.0 / o.connect_rate));
  size_t next_connect = 0;
  auto next_connect_at = began, last_service = began, last_say = began;
  for (;;) {
    auto now = Steady::now();
    while (next_connect < carts.size() && now >= next_connect_at) {
      carts[next_connect]->session->Connect();
      poller->Sync(next_connect, *carts[next_connect]->session);
      next_connect++;
      next_connect_at += interval;
    }
    poller->Poll(std::chrono::milliseconds(10), session_at);
    if (now - last_service >= std::chrono::milliseconds(250)) {
      last_service = now;
      service_all(now);
    }
    int up = connected();
    if (now - last_say >= std::chrono::seconds(2)) {
      last_say = now;
      say("connecting: " + std::to_string(up) + "/" + std::to_string(carts.size()));
    }
    if (up == static_cast<int>(carts.size()) || stopped()) break;
    if (next_connect == carts.size() && now - next_connect_at > std::chrono::seconds(60)) break;
  }
  report.connect_seconds = std::chrono::duration<double>(Steady::now() - began).count();
  report.connected = connected();
  say("connected: " + std::to_string(report.connected) + "/" + std::to_string(carts.size()) + " in " +
      std::to_string(static_cast<int>(report.connect_seconds)) + " s");

  // 2. Sign the run. Scheduled mode stamps each message with its due time, so the schedule's start
  // must lie after the signing: estimate it from a trial, with room to spare (the signers may share
  // the cores with another driver or the broker, hence the generous factor).
  const uint64_t planned = o.rate > 0 ? static_cast<uint64_t>(o.rate * std::chrono::duration<double>(o.duration).count())
                                      : static_cast<uint64_t>(carts.size()) * 200;  // open mode: 200 per cart per round
  report.planned = planned;
  auto trial_began = Steady::now();
  // A trial of whole messages (built and signed; a session-start draws nothing from the cart's rng).
  for (int k = 0; k < 50; ++k) (void)BuildSigned(*carts[0], EventType::kSessionStart, 1, wall.Now());
  double per_sign = std::chrono::duration<double>(Steady::now() - trial_began).count() / 50 * 3;  // slack
  Duration sign_budget = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(per_sign * static_cast<double>(planned) / o.sign_threads + 3.0));
  Time t0 = wall.Now() + sign_budget;
  auto due = [&](uint64_t k) {
    return t0 + std::chrono::round<Duration>(std::chrono::duration<double>(static_cast<double>(k) / o.rate));
  };
  say("signing " + std::to_string(planned) + " messages on " + std::to_string(o.sign_threads) + " threads");
  auto sign_began = Steady::now();
  std::vector<Status> sign_errors(static_cast<size_t>(o.sign_threads), Status::Ok());
  std::vector<std::thread> signers;
  for (int t = 0; t < o.sign_threads; ++t) {
    signers.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < carts.size(); i += static_cast<size_t>(o.sign_threads)) {
        LoadCart& c = *carts[i];
        for (uint64_t k = i, n = 0; k < planned; k += carts.size(), ++n) {
          EventType type = kCycle[n % std::size(kCycle)];
          if (type == EventType::kSessionStart) c.session_id = NewSessionId(c.rng);
          if (type == EventType::kHealth && c.rng.Uniform(kFaultEvery / 4) == 0) type = EventType::kFault;
          auto seq = c.seq->Next();
          if (!seq.ok()) {
            sign_errors[static_cast<size_t>(t)] = seq.error();
            return;
          }
          auto payload = BuildSigned(c, type, *seq, o.rate > 0 ? due(k) : wall.Now());
          if (!payload.ok()) {
            sign_errors[static_cast<size_t>(t)] = payload.error();
            return;
          }
          c.messages.emplace_back(wire::EventTopic(c.id, type), std::move(*payload));
        }
      }
    });
  }
  for (auto& t : signers) t.join();
  for (const Status& st : sign_errors) CW_RETURN_IF_ERROR(st);
  report.sign_seconds = std::chrono::duration<double>(Steady::now() - sign_began).count();
  for (const auto& c : carts) {
    for (const auto& [topic, payload] : c->messages) {
      auto parts = wire::ParseEventTopic(topic);
      if (parts.ok()) report.by_type[std::string(wire::Name(parts->type))]++;
    }
  }
  if (o.rate > 0 && wall.Now() > t0) {
    return FailedPrecondition("signing took " + std::to_string(static_cast<int>(report.sign_seconds)) +
                              " s, past the schedule's start; lower --rate or --duration, or add --sign-threads");
  }
  say("signed in " + std::to_string(static_cast<int>(report.sign_seconds)) + " s; publishing");

  // 3. Publish: each due message (scheduled) or every cart's next while it has room (open).
  // Services keepalives and acknowledgements in between.
  std::vector<float> lag_ms;
  if (o.rate > 0) lag_ms.reserve(planned);
  while (o.rate > 0 && wall.Now() < t0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  auto publish_began = Steady::now();
  uint64_t next_k = 0;
  last_service = last_say = publish_began;
  // Publishes cart i's next message if it has one and its session takes it.
  auto publish_one = [&](size_t i) {
    LoadCart& c = *carts[i];
    if (c.next >= c.messages.size()) return false;
    const auto& [topic, payload] = c.messages[c.next];
    if (!c.session->Publish(topic, payload)) return false;
    if (o.rate > 0) {
      uint64_t k = i + c.next * carts.size();
      lag_ms.push_back(static_cast<float>(std::chrono::duration<double, std::milli>(wall.Now() - due(k)).count()));
    }
    c.next++;
    report.published++;
    poller->Sync(i, *c.session);
    return true;
  };
  // An outage: from the first cart of those connected at the start losing its link until all of
  // them are connected again (a broker restart's reconnect storm).
  std::optional<Steady::time_point> outage_began;
  auto track_outage = [&](Steady::time_point now) {
    int up = connected();
    if (up < report.connected && !outage_began) {
      outage_began = now;
      say("outage: " + std::to_string(up) + "/" + std::to_string(report.connected) + " connected");
    }
    if (up >= report.connected && outage_began) {
      double s = std::chrono::duration<double>(now - *outage_began).count();
      report.outages++;
      report.longest_outage_seconds = std::max(report.longest_outage_seconds, s);
      say("all " + std::to_string(up) + " carts connected again after " + std::to_string(s) + " s");
      outage_began.reset();
    }
  };
  // Scheduled mode: carts with due messages their session did not take (offline, reconnecting);
  // retried every 10 ms, while every other cart keeps to the schedule.
  std::vector<size_t> behind;
  std::vector<uint64_t> due_count(carts.size(), 0);
  auto last_retry = publish_began;
  for (;;) {
    if (stopped()) break;
    auto now = Steady::now();
    if (o.rate > 0) {
      Time wall_now = wall.Now();
      while (next_k < planned && due(next_k) <= wall_now) {
        size_t i = next_k % carts.size();
        bool was_behind = carts[i]->next < due_count[i];
        due_count[i]++;
        if (!was_behind && !publish_one(i)) behind.push_back(i);
        next_k++;
      }
      if (!behind.empty() && now - last_retry >= std::chrono::milliseconds(10)) {
        last_retry = now;
        std::erase_if(behind, [&](size_t i) {
          while (carts[i]->next < due_count[i] && publish_one(i)) {
          }
          return carts[i]->next >= due_count[i];
        });
      }
      if (next_k >= planned && behind.empty()) break;
      if (next_k >= planned && now - publish_began > o.duration + std::chrono::seconds(60)) break;  // never came back
    } else {
      bool any = false;
      for (size_t i = 0; i < carts.size(); ++i) {
        while (carts[i]->session->in_flight() < static_cast<uint64_t>(o.max_in_flight) && publish_one(i)) any = true;
      }
      if (!any && report.published >= planned) break;
      if (!any && now - publish_began > o.duration) break;
    }
    poller->Poll(std::chrono::milliseconds(o.rate > 0 ? 1 : 5), session_at);
    if (now - last_service >= std::chrono::milliseconds(250)) {
      last_service = now;
      service_all(now);
      track_outage(now);
    }
    if (now - last_say >= std::chrono::seconds(5)) {
      last_say = now;
      say("published " + std::to_string(report.published) + "/" + std::to_string(planned) +
          (behind.empty() ? "" : ", " + std::to_string(behind.size()) + " carts waiting for their link"));
    }
  }
  report.publish_seconds = std::chrono::duration<double>(Steady::now() - publish_began).count();

  // 4. Wait for the broker's acknowledgements.
  auto drain_until = Steady::now() + std::chrono::seconds(90);
  auto unacked = [&] {
    uint64_t n = 0;
    for (const auto& c : carts) n += c->session->in_flight();
    return n;
  };
  while ((unacked() > 0 || outage_began) && Steady::now() < drain_until && !stopped()) {
    poller->Poll(std::chrono::milliseconds(10), session_at);
    if (Steady::now() - last_service >= std::chrono::milliseconds(250)) {
      last_service = Steady::now();
      service_all(last_service);
      track_outage(last_service);
    }
  }
  if (outage_began) report.longest_outage_seconds = std::max(report.longest_outage_seconds, std::chrono::duration<double>(Steady::now() - *outage_began).count());
  report.acknowledged = report.published - unacked();
  report.lag_p50_ms = Percentile(lag_ms, 0.50);
  report.lag_p99_ms = Percentile(lag_ms, 0.99);
  report.lag_max_ms = lag_ms.empty() ? 0 : *std::max_element(lag_ms.begin(), lag_ms.end());
  return report;
}

}  // namespace cw::sim
