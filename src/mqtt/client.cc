#include "mqtt/client.h"

#include <mosquitto.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/log.h"

namespace cw::mqtt {

namespace {
void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}
}  // namespace

struct Client::State {
  ClientOptions options;
  mosquitto* mosq = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  // Guarded by mu:
  bool connected = false;
  int connack_rc = -1;      // last CONNACK code, -1 = none yet
  int disconnects = 0;      // counts disconnect callbacks
  std::set<int> in_flight;  // published mids not yet acknowledged
  std::map<int, int> suback;  // mid → granted qos of the first topic
  Handler handler;
  std::function<void(bool)> on_connection;
  std::vector<std::pair<std::string, int>> subscriptions;  // restored after a reconnect
  // The network thread (not libmosquitto's loop_start: see NetworkLoop).
  std::thread loop;
  std::atomic<bool> stopping{false};
};

// Our own network thread instead of libmosquitto's (mosquitto_loop_start runs
// mosquitto_loop_forever), for two reasons:
// - loop_forever returns for good on errors it deems fatal — MOSQ_ERR_TLS among them, which a
//   reconnect into a restarting broker can hit — and a cloud service must come back whenever the
//   broker does;
// - while the broker is unreachable, loop_forever sits in its own reconnect loop, which
//   mosquitto_disconnect cannot end (there is no connection to close), so a shutdown during a
//   broker outage would wait forever.
// So this thread runs one mosquitto_loop pass at a time (at most kPassMs long), checks `stopping`
// between passes, and reconnects itself with a doubling pause (1 s up to 30 s).
void Client::NetworkLoop(State& s) {
  constexpr int kPassMs = 500;
  constexpr std::chrono::milliseconds kFirstPause{1000}, kLongestPause{30000};
  auto pause = kFirstPause;
  while (!s.stopping) {
    int rc = mosquitto_loop(s.mosq, kPassMs, 1);
    if (rc == MOSQ_ERR_SUCCESS || s.stopping) continue;
    log::Warn("mqtt.connection_lost", {{"client", s.options.client_id},
                                       {"error", mosquitto_strerror(rc)},
                                       {"retry_in_ms", std::to_string(pause.count())}});
    for (;;) {
      auto until = std::chrono::steady_clock::now() + pause;
      while (!s.stopping && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (s.stopping) break;
      if (mosquitto_reconnect(s.mosq) == MOSQ_ERR_SUCCESS) {
        pause = kFirstPause;
        break;
      }
      pause = std::min(pause * 2, kLongestPause);
    }
  }
}

Client::Client(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<Client>> Client::Create(const ClientOptions& o) {
  InitLibrary();
  auto st = std::make_unique<State>();
  st->options = o;
  st->mosq = mosquitto_new(o.client_id.empty() ? nullptr : o.client_id.c_str(), o.clean_session, st.get());
  if (!st->mosq) return InvalidArgument("mosquitto_new failed (a persistent session needs a client id)");
  mosquitto_int_option(st->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (!o.ca_file.empty()) {
    int rc = mosquitto_tls_set(st->mosq, o.ca_file.c_str(), nullptr, o.cert_file.empty() ? nullptr : o.cert_file.c_str(),
                               o.key_file.empty() ? nullptr : o.key_file.c_str(), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_destroy(st->mosq);
      return InvalidArgument(std::string("TLS setup (") + o.ca_file + ", " + o.cert_file + "): " + mosquitto_strerror(rc));
    }
    mosquitto_tls_opts_set(st->mosq, 1, "tlsv1.2", nullptr);
  }
  if (o.will) {
    mosquitto_will_set(st->mosq, o.will->topic.c_str(), static_cast<int>(o.will->payload.size()), o.will->payload.data(),
                       o.will->qos, o.will->retain);
  }

  mosquitto_connect_callback_set(st->mosq, [](mosquitto* m, void* obj, int rc) {
    auto* s = static_cast<State*>(obj);
    std::function<void(bool)> tell;
    {
      std::lock_guard lock(s->mu);
      s->connack_rc = rc;
      s->connected = rc == 0;
      s->cv.notify_all();
      if (rc != 0) return;
      // Not waited for: a refusal after a reconnect shows in the broker's log, not here.
      for (const auto& [filter, qos] : s->subscriptions) mosquitto_subscribe(m, nullptr, filter.c_str(), qos);
      tell = s->on_connection;
    }
    if (tell) tell(true);
  });
  mosquitto_disconnect_callback_set(st->mosq, [](mosquitto*, void* obj, int) {
    auto* s = static_cast<State*>(obj);
    std::function<void(bool)> tell;
    {
      std::lock_guard lock(s->mu);
      s->connected = false;
      s->disconnects++;
      s->cv.notify_all();
      tell = s->on_connection;
    }
    if (tell) tell(false);
  });
  mosquitto_publish_callback_set(st->mosq, [](mosquitto*, void* obj, int mid) {
    auto* s = static_cast<State*>(obj);
    std::lock_guard lock(s->mu);
    s->in_flight.erase(mid);
    s->cv.notify_all();
  });
  mosquitto_subscribe_callback_set(st->mosq, [](mosquitto*, void* obj, int mid, int count, const int* granted) {
    auto* s = static_cast<State*>(obj);
    std::lock_guard lock(s->mu);
    s->suback[mid] = count > 0 ? granted[0] : 0x80;
    s->cv.notify_all();
  });
  mosquitto_message_callback_set(st->mosq, [](mosquitto*, void* obj, const mosquitto_message* m) {
    auto* s = static_cast<State*>(obj);
    Handler h;
    {
      std::lock_guard lock(s->mu);
      h = s->handler;
    }
    if (h) {
      h(Message{m->topic, std::string(static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen)),
                m->qos, m->retain});
    }
  });
  return std::unique_ptr<Client>(new Client(std::move(st)));
}

Client::~Client() {
  Disconnect();
  mosquitto_destroy(state_->mosq);
}

void Client::SetMessageHandler(Handler handler) {
  std::lock_guard lock(state_->mu);
  state_->handler = std::move(handler);
}

void Client::SetConnectionHandler(std::function<void(bool)> handler) {
  std::lock_guard lock(state_->mu);
  state_->on_connection = std::move(handler);
}

Status Client::Connect(std::chrono::milliseconds timeout) {
  State& s = *state_;
  int disconnects_before;
  {
    std::lock_guard lock(s.mu);
    s.connack_rc = -1;
    disconnects_before = s.disconnects;
  }
  int rc = mosquitto_connect(s.mosq, s.options.host.c_str(), s.options.port, s.options.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Unavailable("connect to " + s.options.host + ":" + std::to_string(s.options.port) + ": " +
                       (rc == MOSQ_ERR_ERRNO ? std::string("network or TLS error") : mosquitto_strerror(rc)));
  }
  if (!s.loop.joinable()) {
    mosquitto_threaded_set(s.mosq, true);
    s.stopping = false;
    s.loop = std::thread([&s] { NetworkLoop(s); });
  }
  std::unique_lock lock(s.mu);
  bool done = s.cv.wait_for(lock, timeout, [&] { return s.connack_rc >= 0 || s.disconnects > disconnects_before; });
  if (!done) return DeadlineExceeded("no CONNACK from the broker within " + std::to_string(timeout.count()) + " ms");
  if (s.connack_rc == 0) return Status::Ok();
  if (s.connack_rc > 0) {
    return PermissionDenied(std::string("broker refused the connection: ") + mosquitto_connack_string(s.connack_rc));
  }
  return Unavailable("the broker closed the connection during the handshake (certificate refused?)");
}

Status Client::Subscribe(const std::string& filter, int qos, std::chrono::milliseconds timeout) {
  State& s = *state_;
  int mid = 0;
  int rc = mosquitto_subscribe(s.mosq, &mid, filter.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) return Unavailable("subscribe " + filter + ": " + mosquitto_strerror(rc));
  std::unique_lock lock(s.mu);
  if (!s.cv.wait_for(lock, timeout, [&] { return s.suback.count(mid) > 0; })) {
    return DeadlineExceeded("no SUBACK for " + filter);
  }
  int granted = s.suback[mid];
  s.suback.erase(mid);
  if (granted >= 0x80) return PermissionDenied("broker refused subscription to " + filter);
  s.subscriptions.emplace_back(filter, qos);
  return Status::Ok();
}

Result<int> Client::Publish(const std::string& topic, std::string_view payload, int qos, bool retain) {
  State& s = *state_;
  int mid = 0;
  // Hold the lock across the call so a fast PUBACK cannot arrive before the mid is recorded.
  std::lock_guard lock(s.mu);
  int rc = mosquitto_publish(s.mosq, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, retain);
  if (rc != MOSQ_ERR_SUCCESS) return Unavailable("publish to " + topic + ": " + mosquitto_strerror(rc));
  if (qos > 0) s.in_flight.insert(mid);
  return mid;
}

Status Client::WaitForPublishes(std::chrono::milliseconds timeout) {
  State& s = *state_;
  std::unique_lock lock(s.mu);
  if (!s.cv.wait_for(lock, timeout, [&] { return s.in_flight.empty(); })) {
    return DeadlineExceeded(std::to_string(s.in_flight.size()) + " publishes not acknowledged");
  }
  return Status::Ok();
}

bool Client::connected() const {
  std::lock_guard lock(state_->mu);
  return state_->connected;
}

void Client::Disconnect() {
  State& s = *state_;
  s.stopping = true;
  if (s.loop.joinable()) {
    // Not cancelled: that could kill the thread inside a message handler with libmosquitto's
    // callback mutex held. The loop sees `stopping` once the pass (and any handler) in progress
    // has finished: within kPassMs, connected or not.
    s.loop.join();
  }
  // With the network thread gone this thread drives the last passes itself: they write the
  // acknowledgements still queued and then the DISCONNECT (a clean close, so the broker does not
  // publish the will), after which libmosquitto closes the socket and the loop reports NO_CONN.
  if (mosquitto_disconnect(s.mosq) == MOSQ_ERR_SUCCESS) {
    for (int pass = 0; pass < 20 && mosquitto_loop(s.mosq, 100, 1) == MOSQ_ERR_SUCCESS; ++pass) {
    }
  }
}

}  // namespace cw::mqtt
