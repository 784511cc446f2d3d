// The fleet monitor inside a real `cartwright serve`, against the real managed broker: births and
// wills over mutual TLS, links that die without a DISCONNECT (the broker publishes the will), the
// reconnect race, silence, and the four alarms firing and resolving — among them the bursts of
// refused TLS handshakes and ACL checks read from the broker's log. The rules' durations are shortened
// in cartwright.toml ([monitor]); their thresholds are the product's.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include "core/files.h"
#include "core/time_format.h"
#include "crypto/key_store.h"
#include "crypto/x509.h"
#include "monitor/broker_log.h"
#include "testing/harness.h"
#include "wire/json.h"
#include "wire/status.h"
#include "wire/topic.h"

namespace cw {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return "[" + out + "]";
}

class MonitorOverBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    fleet_ = std::make_unique<testing::BrokerFleet>(6);
    data_ = fleet_->data_dir();
    bin_ = testing::BinaryPath("cartwright");
    ASSERT_TRUE(WriteFileAtomic(data_ + "/cartwright.toml",
                                "[monitor]\ntick = \"1s\"\nactive_cadence = \"2s\"\nidle_cadence = \"2s\"\n"
                                "offline_after = \"8s\"\nconnected_drop_window = \"5s\"\nauth_failures_window = \"6s\"\n"
                                "fleet_diff_every = \"1s\"\nerror_rate_window = \"3s\"\nerror_rate_for = \"5s\"\n"
                                "latency_window = \"5s\"\nlatency_for = \"6s\"\nlatency_baseline_warmup = \"6s\"\n")
                    .ok());
    api_port_ = testing::FreePort();
    serve_ = std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{bin_, "serve", "--device-api", "127.0.0.1:0", "--data-dir", data_, "--broker", "127.0.0.1:" + std::to_string(fleet_->port()),
                                 "--api", "127.0.0.1:" + std::to_string(api_port_)},
        data_ + "/serve.log");
    ASSERT_TRUE(testing::WaitForLine(data_ + "/serve.log", "api: https://", seconds(10))) << *ReadFile(data_ + "/serve.log");
    client_ = std::make_unique<httplib::SSLClient>("127.0.0.1", api_port_);
    client_->set_ca_cert_path((data_ + "/pki/ca.crt").c_str());
    client_->enable_server_certificate_verification(true);
    bearer_ = Login();
  }

  // An ops user, logged in with password and TOTP.
  std::string Login() {
    auto added = testing::RunProcess({bin_, "--data-dir", data_, "user", "add", "--name", "oscar", "--role", "ops", "--json"});
    EXPECT_EQ(added.exit_code, 0) << added.err;
    rapidjson::Document user;
    EXPECT_TRUE(wire::ParseStrictObject(added.out, user).ok()) << added.out;
    auto code = testing::RunProcess({bin_, "--data-dir", data_, "user", "totp", "--name", "oscar"});
    std::string body = R"({"username":"oscar","password":")" + std::string(*wire::GetString(user, "password")) +
                       R"(","totp":")" + code.out.substr(0, 6) + "\"}";
    auto r = client_->Post("/api/v1/auth/token", body, "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : httplib::to_string(r.error()));
    rapidjson::Document tokens;
    EXPECT_TRUE(wire::ParseStrictObject(r->body, tokens).ok());
    return "Bearer " + std::string(*wire::GetString(tokens, "access_token"));
  }

  rapidjson::Document Get(const std::string& path) {
    auto r = client_->Get(path, {{"Authorization", bearer_}});
    rapidjson::Document doc;
    EXPECT_TRUE(r && r->status == 200) << path << ": " << (r ? r->body : httplib::to_string(r.error()));
    if (r) doc.Parse(r->body.c_str());
    return doc;
  }
  std::string LinkState(const CartId& cart) {
    auto d = Get("/api/v1/carts/" + cart.str() + "/connectivity");
    return d.IsObject() ? std::string(d["state"].GetString()) + "/" + d["cause"].GetString() : "?";
  }
  // Polls until the cart's "state/cause" is `want` (up to 20 s).
  bool WaitForLink(const CartId& cart, const std::string& want) {
    for (int i = 0; i < 200; ++i) {
      if (LinkState(cart) == want) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
  // Until the /metrics exposition has `line` (up to 5 s); the exposition as last read.
  std::string WaitForMetric(const std::string& line) {
    std::string exposition;
    for (int i = 0; i < 50 && exposition.find(line) == std::string::npos; ++i) {
      auto metrics = client_->Get("/metrics", {{"Authorization", bearer_}});
      if (metrics) exposition = metrics->body;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return exposition;
  }
  // How many lines of the broker's log are authentication failures of `kind`, once there are
  // `expected` (up to 5 s: the supervisor copies the broker's stderr into the log a little after
  // the client has seen the refusal) or as last read.
  size_t BrokerLogCount(monitor::AuthFailure kind, size_t expected) {
    size_t n = 0;
    for (int i = 0; i < 50; ++i) {
      std::istringstream lines(ReadFile(fleet_->broker().log_path()).value_or(""));
      n = 0;
      for (std::string line; std::getline(lines, line);) n += monitor::ClassifyBrokerLogLine(line) == kind;
      if (n >= expected) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return n;
  }
  // Polls until the cart's state (whatever the cause) is `state` (up to 20 s).
  bool WaitForLinkState(const CartId& cart, const std::string& state) {
    for (int i = 0; i < 200; ++i) {
      if (LinkState(cart).starts_with(state + "/")) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
  // "alarm:state" of the alarms history, newest first.
  std::vector<std::string> AlarmHistory() {
    auto d = Get("/api/v1/alarms");
    std::vector<std::string> out;
    if (!d.IsObject()) return out;
    for (const auto& e : d["history"].GetArray()) out.push_back(std::string(e["alarm"].GetString()) + ":" + e["state"].GetString());
    return out;
  }
  // Until `entry` ("alarm:state") is in the history (up to 30 s).
  bool WaitForAlarm(const std::string& entry, int seconds = 30) {
    for (int i = 0; i < seconds * 10; ++i) {
      auto h = AlarmHistory();
      if (std::find(h.begin(), h.end(), entry) != h.end()) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
  // cartsim on the six carts, live (virtual time catches up within a second), busy shoppers, and
  // the scenario's [faults] lines.
  std::unique_ptr<testing::BackgroundProcess> Cartsim(const std::string& name, const std::string& faults,
                                                      const std::string& duration) {
    std::string scenario = data_ + "/" + name + ".toml";
    EXPECT_TRUE(WriteFileAtomic(scenario, "[shoppers]\nmean_idle_minutes = 0.05\nmean_scan_gap_seconds = 0.5\n"
                                          "min_items = 5\nmax_items = 10\n[faults]\nscanner_jam_per_scan = 0\n"
                                          "weight_mismatch_per_scan = 0\npayment_decline = 0\n" + faults)
                    .ok());
    return std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{testing::BinaryPath("cartsim"), "run", "--carts", data_ + "/carts", "--broker",
                                 "mqtts://127.0.0.1:" + std::to_string(fleet_->port()), "--speed", "2", "--backfill",
                                 "1s", "--duration", duration, "--scenario", scenario, "--quiet"},
        data_ + "/" + name + ".log");
  }

  // A cart's MQTT connection as its firmware makes it: the will names the connection's start, and
  // the retained birth follows CONNACK. The connection is a mosquitto_sub child, so that a kill -9
  // drops the link without a DISCONNECT — and the broker publishes the will.
  struct Link {
    std::unique_ptr<testing::BackgroundProcess> process;
    Time started;
  };
  Link Connect(const CartId& cart, Time started) {
    std::string d = data_ + "/carts/" + cart.str();
    Link link{std::make_unique<testing::BackgroundProcess>(
                  std::vector<std::string>{"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(fleet_->port()),
                                           "--cafile", d + "/ca.crt", "--cert", d + "/device.crt", "--key",
                                           d + "/device.key", "-i", cart.str(), "-q", "1", "-t",
                                           "carts/" + cart.str() + "/commands", "-k", "5", "--will-topic",
                                           wire::StatusTopic(cart), "--will-payload",
                                           wire::StatusPayload(wire::Presence::kOffline, started), "--will-qos", "1",
                                           "--will-retain"},
                  data_ + "/" + cart.str() + ".sub.log"),
              started};
    // The birth follows CONNACK, as on the cart (mosquitto_sub says nothing when it connects).
    std::this_thread::sleep_for(milliseconds(300));
    EXPECT_TRUE(link.process->running()) << ReadFile(data_ + "/" + cart.str() + ".sub.log").value_or("");
    Publish(cart, wire::StatusTopic(cart), wire::StatusPayload(wire::Presence::kOnline, started), true);
    return link;
  }
  // Publishes as the cart (its certificate) over a short-lived connection of its own.
  void Publish(const CartId& cart, const std::string& topic, const std::string& payload, bool retain) {
    auto o = fleet_->CartOptions(cart);
    o.client_id = cart.str() + "-side";
    auto c = std::move(mqtt::Client::Create(o)).value();
    ASSERT_TRUE(c->Connect().ok());
    ASSERT_TRUE(c->Publish(topic, payload, 1, retain).ok());
    ASSERT_TRUE(c->WaitForPublishes().ok());
    c->Disconnect();
  }
  CartId Cart(int i) const { return fleet_->carts()[static_cast<size_t>(i)].id; }

  std::unique_ptr<testing::BrokerFleet> fleet_;
  std::string data_, bin_, bearer_;
  uint16_t api_port_ = 0;
  std::unique_ptr<testing::BackgroundProcess> serve_;
  std::unique_ptr<httplib::SSLClient> client_;
};

TEST_F(MonitorOverBroker, BirthWillReconnectRaceAndSilenceOverTheRealBroker) {
  const CartId cart = Cart(0);
  Time t1 = std::chrono::floor<milliseconds>(Clock::System().Now());
  Link first = Connect(cart, t1);
  ASSERT_TRUE(WaitForLink(cart, "online/birth")) << LinkState(cart);

  // The link dies without a DISCONNECT: the broker publishes the will, and the cart is offline
  // at once (not 15 minutes later).
  first.process->Stop(SIGKILL);
  ASSERT_TRUE(WaitForLink(cart, "offline/will")) << LinkState(cart);

  // The classic race: the cart reconnects, and only then does the old connection's will arrive.
  Time t2 = t1 + seconds(30);
  Link second = Connect(cart, t2);
  ASSERT_TRUE(WaitForLink(cart, "online/birth")) << LinkState(cart);
  Publish(cart, wire::StatusTopic(cart), wire::StatusPayload(wire::Presence::kOffline, t1), true);
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(LinkState(cart), "online/birth") << "a will of an older connection must not take the cart offline";

  // Connected but silent: stale after twice its cadence, offline after offline_after.
  ASSERT_TRUE(WaitForLink(cart, "stale/silence")) << LinkState(cart);
  ASSERT_TRUE(WaitForLink(cart, "offline/silence")) << LinkState(cart);
  // Any message — even one the ingest rejects — is a sign of life.
  Publish(cart, "carts/" + cart.str() + "/events/health", "garbled firmware output", false);
  ASSERT_TRUE(WaitForLink(cart, "online/event")) << LinkState(cart);

  auto history = Get("/api/v1/carts/" + cart.str() + "/connectivity");
  std::vector<std::string> causes;
  for (const auto& t : history["transitions"].GetArray()) causes.push_back(t["cause"].GetString());
  EXPECT_EQ(causes, (std::vector<std::string>{"event", "silence", "silence", "birth", "will", "birth"}));
  // The locator and the gauges agree.
  auto row = Get("/api/v1/carts/" + cart.str());
  EXPECT_STREQ(row["connectivity"]["state"].GetString(), "online");
  second.process->Stop(SIGKILL);
}

TEST_F(MonitorOverBroker, ConnectedCartsDropPagesAndResolvesWhenTheyReturn) {
  std::vector<Link> links;
  Time t = std::chrono::floor<milliseconds>(Clock::System().Now());
  for (int i = 0; i < 5; ++i) links.push_back(Connect(Cart(i), t));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(WaitForLink(Cart(i), "online/birth")) << i;
  // Keep them talking so that silence plays no part (cadence 2 s in this rig).
  std::atomic<int> talking{5};
  std::thread chatter([&] {
    while (talking > 0) {
      for (int i = 0; i < talking; ++i) Publish(Cart(i), "carts/" + Cart(i).str() + "/events/health", "x", false);
      std::this_thread::sleep_for(milliseconds(500));
    }
  });
  std::this_thread::sleep_for(seconds(3));
  EXPECT_TRUE(AlarmHistory().empty());
  // Two of five lose their link: 40% within the window, told by their wills.
  talking = 3;
  links[3].process->Stop(SIGKILL);
  links[4].process->Stop(SIGKILL);
  ASSERT_TRUE(WaitForAlarm("connected_carts_drop:firing")) << Joined(AlarmHistory());
  EXPECT_EQ(LinkState(Cart(3)), "offline/will");
  EXPECT_EQ(LinkState(Cart(0)), "online/birth");
  auto alarms = Get("/api/v1/alarms");
  ASSERT_GE(alarms["active"].Size(), 1u);
  EXPECT_STREQ(alarms["active"][0]["severity"].GetString(), "page");
  // They come back on new connections.
  links[3] = Connect(Cart(3), t + seconds(60));
  links[4] = Connect(Cart(4), t + seconds(60));
  talking = 5;
  ASSERT_TRUE(WaitForAlarm("connected_carts_drop:resolved")) << Joined(AlarmHistory());
  talking = 0;
  chatter.join();
  // The chatter is garbage the ingest rejects, so a slow run may also (rightly) page on the ingest
  // error rate: only this alarm's notifications are counted.
  std::vector<std::string> h;
  for (const auto& entry : AlarmHistory()) {
    if (entry.rfind("connected_carts_drop:", 0) == 0) h.push_back(entry);
  }
  EXPECT_EQ(h, (std::vector<std::string>{"connected_carts_drop:resolved", "connected_carts_drop:firing"}))
      << "one notification per change";
  for (auto& l : links) l.process->Stop(SIGKILL);
}

TEST_F(MonitorOverBroker, TheFleetDiffLeavesOutMaintenanceAndClosedStores) {
  // A second store, closed for renovation, with one cart of its own.
  ASSERT_EQ(testing::RunProcess({bin_, "--data-dir", data_, "store", "add", "--id", "STORE-002", "--name", "Closed",
                                 "--region", "eu", "--timezone", "Europe/Berlin", "--opening-hours", "Mo-Su off"})
                .exit_code,
            0);
  auto made = testing::RunProcess(
      {bin_, "--data-dir", data_, "provision", "--store", "STORE-002", "--new-carts", "1", "--out", data_ + "/carts"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const CartId closed_cart = CartId::FromNumber(7);
  // Cart 2 goes into maintenance; carts 1, 2 and the closed store's cart connect.
  auto m = client_->Put("/api/v1/carts/" + Cart(1).str() + "/maintenance", {{"Authorization", bearer_}},
                        R"({"in_maintenance":true,"reason":"wheel"})", "application/json");
  ASSERT_TRUE(m && m->status == 200) << (m ? m->body : "");
  Time t = std::chrono::floor<milliseconds>(Clock::System().Now());
  std::vector<Link> links;
  for (const CartId& c : {Cart(0), Cart(1), closed_cart}) links.push_back(Connect(c, t));
  for (const CartId& c : {Cart(0), Cart(1), closed_cart}) ASSERT_TRUE(WaitForLink(c, "online/birth")) << c.str();

  rapidjson::Document d;
  for (int i = 0; i < 100; ++i) {
    d = Get("/api/v1/fleet/diff");
    if (d.IsObject() && d["connected"].GetInt64() == 1 && d["unexpected"].Size() == 2) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d["carts"].GetInt64(), 7);
  EXPECT_EQ(d["expected"].GetInt64(), 5) << "six carts of the open store less the one in maintenance";
  EXPECT_EQ(d["connected"].GetInt64(), 1);
  std::vector<std::string> missing, unexpected;
  for (const auto& x : d["missing"].GetArray()) missing.push_back(x["cart_id"].GetString());
  for (const auto& x : d["unexpected"].GetArray()) unexpected.push_back(x.GetString());
  EXPECT_EQ(missing, (std::vector<std::string>{Cart(2).str(), Cart(3).str(), Cart(4).str(), Cart(5).str()}));
  EXPECT_EQ(unexpected, (std::vector<std::string>{Cart(1).str(), closed_cart.str()}));
  ASSERT_EQ(d["closed_stores"].Size(), 1u);
  EXPECT_STREQ(d["closed_stores"][0].GetString(), "STORE-002");
  // The same figures for Prometheus.
  auto metrics = client_->Get("/metrics", {{"Authorization", bearer_}});
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("cw_fleet_expected_online 5\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("cw_fleet_expected_missing 4\n"), std::string::npos);
  for (auto& l : links) l.process->Stop(SIGKILL);
}

TEST_F(MonitorOverBroker, AFirmwareThatEmitsMalformedPayloadsPagesOnTheIngestErrorRate) {
  // Every cart on the defective firmware: half its messages are signed but schema-invalid.
  auto defective = Cartsim("defective", "malformed_carts = 1.0\nmalformed_share = 0.5\n", "60s");
  ASSERT_TRUE(WaitForAlarm("ingest_error_rate:firing", 45)) << Joined(AlarmHistory()) << "\n"
                                                           << ReadFile(data_ + "/defective.log").value_or("");
  auto errors = Get("/api/v1/insights/errors?window=5m");
  ASSERT_GT(errors["items"].Size(), 0u);
  EXPECT_STREQ(errors["items"][0]["code"].GetString(), "schema_violation");
  EXPECT_STREQ(errors["items"][0]["kind"].GetString(), "reject");
  defective->Stop(SIGTERM);
  // The fixed firmware: the rate falls under 1% and the alarm resolves.
  auto fixed = Cartsim("fixed", "", "60s");
  ASSERT_TRUE(WaitForAlarm("ingest_error_rate:resolved", 45)) << Joined(AlarmHistory());
  fixed->Stop(SIGTERM);
}

TEST_F(MonitorOverBroker, InjectedLatencyOnSomeCartsNotifiesPerCartAndResolves) {
  // A normal run first, so each cart's baseline is its own few milliseconds.
  auto normal = Cartsim("normal", "", "60s");
  std::this_thread::sleep_for(seconds(15));
  normal->Stop(SIGTERM);
  auto slow = Cartsim("slow", "slow_link_carts = 0.5\nslow_link_delay_ms = 1500\n", "60s");
  ASSERT_TRUE(WaitForAlarm("cart_latency:firing", 45)) << Joined(AlarmHistory());
  auto alarms = Get("/api/v1/alarms");
  std::set<std::string> slow_carts;
  for (const auto& a : alarms["active"].GetArray()) {
    if (std::string(a["alarm"].GetString()) != "cart_latency") continue;
    EXPECT_STREQ(a["severity"].GetString(), "notify") << "latency notifies, it does not page";
    if (std::string(a["state"].GetString()) == "firing") slow_carts.insert(a["subject"].GetString());
  }
  EXPECT_FALSE(slow_carts.empty());
  EXPECT_LT(slow_carts.size(), 6u) << "only the carts on the congested link";
  slow->Stop(SIGTERM);
  auto healed = Cartsim("healed", "", "60s");
  ASSERT_TRUE(WaitForAlarm("cart_latency:resolved", 45)) << Joined(AlarmHistory());
  healed->Stop(SIGTERM);
}

TEST_F(MonitorOverBroker, ABrokerOutagePagesOnConnectedCartsAndResolvesWhenTheyReturn) {
  auto sim = Cartsim("outage", "", "120s");
  // Online by its birth, or by an event that overtook it (the ingest and the monitor read
  // different subscriptions): either way, connected before the outage.
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(WaitForLinkState(Cart(i), "online")) << i << " " << LinkState(Cart(i));
  fleet_->broker().Stop();
  ASSERT_TRUE(WaitForAlarm("connected_carts_drop:firing")) << Joined(AlarmHistory());
  // A stopping broker publishes its clients' wills before closing; either way they are offline.
  EXPECT_TRUE(LinkState(Cart(0)) == "offline/will" || LinkState(Cart(0)) == "offline/broker_unreachable")
      << LinkState(Cart(0));
  ASSERT_TRUE(fleet_->broker().Start().ok());
  // The carts reconnect with their backoff (up to a minute) and announce new connections.
  ASSERT_TRUE(WaitForAlarm("connected_carts_drop:resolved", 90)) << Joined(AlarmHistory());
  sim->Stop(SIGTERM);
}

// The cw_… names in a deploy/ file (rules or dashboard).
std::set<std::string> MetricNames(const std::string& text) {
  std::set<std::string> out;
  for (size_t at = text.find("cw_"); at != std::string::npos; at = text.find("cw_", at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_')) continue;
    size_t end = at;
    while (end < text.size() && (std::islower(static_cast<unsigned char>(text[end])) ||
                                 std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
      end++;
    }
    out.insert(text.substr(at, end - at));
  }
  return out;
}

TEST_F(MonitorOverBroker, DeployRulesAndDashboardsNameOnlySeriesServeExports) {
  auto metrics = client_->Get("/metrics", {{"Authorization", bearer_}});
  ASSERT_TRUE(metrics && metrics->status == 200);
  std::set<std::string> exported;
  std::istringstream lines(metrics->body);
  for (std::string line; std::getline(lines, line);) {
    char name[128], kind[32];
    if (std::sscanf(line.c_str(), "# TYPE %127s %31s", name, kind) != 2) continue;
    exported.insert(name);
    if (std::string(kind) == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) exported.insert(std::string(name) + suffix);
    }
  }
  ASSERT_GT(exported.size(), 20u);
  const std::string root = std::string(CW_SOURCE_DIR) + "/deploy/";
  for (const char* file : {"prometheus/cartwright-alerts.yml", "prometheus/cartwright-alerts.test.yml",
                           "grafana/fleet-health.json", "grafana/pipeline-health.json", "grafana/cart.json"}) {
    auto text = ReadFile(root + file);
    ASSERT_TRUE(text.ok()) << file;
    auto names = MetricNames(*text);
    if (std::string(file).find("cart.json") == std::string::npos) {
      EXPECT_FALSE(names.empty()) << file;
    }
    for (const auto& n : names) EXPECT_TRUE(exported.count(n)) << file << " names " << n << ", which serve does not export";
    if (std::string(file).ends_with(".json")) {
      // A dashboard Grafana can import: a uid, a title, and panels that each have a place and queries.
      rapidjson::Document d;
      ASSERT_TRUE(wire::ParseStrictObject(*text, d).ok()) << file;
      EXPECT_TRUE(d.HasMember("uid") && d["uid"].IsString()) << file;
      EXPECT_TRUE(d.HasMember("title") && d["title"].IsString()) << file;
      ASSERT_TRUE(d.HasMember("panels") && d["panels"].IsArray() && d["panels"].Size() > 0) << file;
      for (const auto& p : d["panels"].GetArray()) {
        EXPECT_TRUE(p.HasMember("gridPos") && p.HasMember("targets") && p["targets"].Size() > 0) << file;
      }
    }
  }
}

// A client without a certificate gets no further than the TLS handshake.
bool HandshakeWithoutCertificate(uint16_t port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok = SSL_connect(ssl) == 1;
    if (ok) {
      // TLS 1.3 reports a refused client certificate only on the first read.
      char b;
      ok = SSL_read(ssl, &b, 1) > 0;
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return ok;
}

TEST_F(MonitorOverBroker, ABurstOfRefusedHandshakesPagesAndResolves) {
  // A cloned cart: its id, but a certificate from a CA the fleet does not trust.
  Time now = Clock::System().Now();
  auto rogue = *crypto::CertificateAuthority::CreateRoot(*crypto::SoftKeyStore::Generate(),
                                                         {"Cartwright Fleet Root CA", "", "Cartwright"},
                                                         now - std::chrono::hours(1), now + std::chrono::hours(24));
  auto key = *crypto::SoftKeyStore::CreateFile(data_ + "/rogue.key");
  auto cert = rogue.Issue(key->public_key(), {{Cart(0).str(), "SN-rogue", ""}, crypto::CertUsage::kClient,
                                              now - std::chrono::hours(1), now + std::chrono::hours(24), {}, {}});
  ASSERT_TRUE(cert.ok());
  ASSERT_TRUE(WriteFileAtomic(data_ + "/rogue.crt", cert->ToPem()).ok());
  auto cloned = fleet_->CartOptions(Cart(0));
  cloned.cert_file = data_ + "/rogue.crt";
  cloned.key_file = data_ + "/rogue.key";
  for (int i = 0; i < 30; ++i) {
    cloned.client_id = "clone-" + std::to_string(i);
    auto c = std::move(mqtt::Client::Create(cloned)).value();
    EXPECT_FALSE(c->Connect(seconds(5)).ok());
  }
  // And clients with no certificate at all.
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(HandshakeWithoutCertificate(fleet_->port()));
  std::this_thread::sleep_for(seconds(2));
  EXPECT_TRUE(AlarmHistory().empty()) << "60 failures are under the limit of 100";
  for (int i = 0; i < 60; ++i) EXPECT_FALSE(HandshakeWithoutCertificate(fleet_->port()));
  ASSERT_TRUE(WaitForAlarm("auth_failures:firing")) << Joined(AlarmHistory());
  // Every handshake the broker refused is counted once (the alarm may fire before the last are
  // read): as many as its log has lines for them, and all of ours reached it.
  size_t refused = BrokerLogCount(monitor::AuthFailure::kTlsHandshake, 120);
  EXPECT_EQ(refused, 120u);
  const std::string counted = "cw_broker_auth_failures_total{kind=\"tls_handshake\"} " + std::to_string(refused) + "\n";
  std::string exposition = WaitForMetric(counted);
  EXPECT_NE(exposition.find(counted), std::string::npos) << exposition.substr(0, 4000);
  EXPECT_NE(exposition.find("cw_broker_auth_failures_total{kind=\"acl_denied\"} 0\n"), std::string::npos);
  // The burst leaves the window: resolved.
  ASSERT_TRUE(WaitForAlarm("auth_failures:resolved")) << Joined(AlarmHistory());
}

// A genuine cart (its own, valid certificate) probing beyond its own topics: publishing as its
// neighbours and asking for everything. The broker's ACL plugin refuses and logs each attempt, and
// they count toward the same alarm as refused handshakes.
TEST_F(MonitorOverBroker, ACartProbingOtherCartsTopicsCountsAsAuthFailuresAndPages) {
  auto prober = fleet_->ConnectCart(Cart(0));
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(prober->Publish(wire::EventTopic(Cart(1 + i % 5), wire::EventType::kScan), "forged", 1).ok());
  }
  ASSERT_TRUE(prober->WaitForPublishes().ok());
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(prober->Subscribe(i % 2 ? "#" : wire::CommandsTopic(Cart(1 + i % 5)), 1).ok());
  std::this_thread::sleep_for(seconds(2));
  EXPECT_TRUE(AlarmHistory().empty()) << "60 denials are under the limit of 100";
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(prober->Publish(wire::StatusTopic(Cart(1 + i % 5)), "offline", 1).ok());
  }
  ASSERT_TRUE(prober->WaitForPublishes().ok());
  ASSERT_TRUE(WaitForAlarm("auth_failures:firing")) << Joined(AlarmHistory());
  // The cart's own topics were never refused: every denial in the log is one of ours.
  EXPECT_EQ(BrokerLogCount(monitor::AuthFailure::kAclDenied, 110), 110u);
  EXPECT_EQ(BrokerLogCount(monitor::AuthFailure::kTlsHandshake, 0), 0u);
  const std::string counted = "cw_broker_auth_failures_total{kind=\"acl_denied\"} 110\n";
  std::string exposition = WaitForMetric(counted);
  EXPECT_NE(exposition.find(counted), std::string::npos) << exposition.substr(0, 4000);
  // The cart's own traffic still flows while it is being refused the rest.
  ASSERT_TRUE(prober->Subscribe(wire::CommandsTopic(Cart(0)), 1).ok());
  ASSERT_TRUE(WaitForAlarm("auth_failures:resolved")) << Joined(AlarmHistory());
}

}  // namespace
}  // namespace cw
