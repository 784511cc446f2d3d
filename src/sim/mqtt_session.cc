#include "sim/mqtt_session.h"

#include <mosquitto.h>
#include <sys/socket.h>

#include <cerrno>
#include <mutex>

#include "core/log.h"
#include "wire/status.h"
#include "wire/topic.h"

namespace cw::sim {

namespace {
void InitLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}
constexpr std::chrono::milliseconds kMaxBackoff{60000};
constexpr std::chrono::seconds kConnackTimeout{30};
}  // namespace

MqttSession::MqttSession(CartId cart, SessionOptions options, Random& random, const Clock& clock)
    : cart_(std::move(cart)), options_(std::move(options)), random_(random), clock_(clock) {
  InitLibrary();
  mosq_ = mosquitto_new(cart_.str().c_str(), /*clean_session=*/false, this);
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_tls_set(mosq_, options_.ca_file.c_str(), nullptr, options_.cert_file.c_str(), options_.key_file.c_str(),
                    nullptr);
  mosquitto_tls_opts_set(mosq_, 1, "tlsv1.2", nullptr);
  mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* obj, int rc) {
    auto* s = static_cast<MqttSession*>(obj);
    s->connecting_ = false;
    // A CONNACK already in the receive buffer when the link dropped does not bring it back.
    if (rc != 0 || !s->reachable_ || !s->powered_) return;
    s->connected_ = true;
    s->connects_++;
    s->backoff_ = std::chrono::milliseconds(1000);
    std::string commands = wire::CommandsTopic(s->cart_);
    std::string errors = wire::ErrorsTopic(s->cart_);
    mosquitto_subscribe(m, nullptr, commands.c_str(), 1);
    mosquitto_subscribe(m, nullptr, errors.c_str(), 1);
    std::string status = wire::StatusTopic(s->cart_);
    std::string birth = wire::StatusPayload(wire::Presence::kOnline, s->connection_started_);
    mosquitto_publish(m, nullptr, status.c_str(), static_cast<int>(birth.size()), birth.data(), 1, true);
    if (s->on_connected_) s->on_connected_();
  });
  mosquitto_disconnect_callback_set(mosq_, [](mosquitto*, void* obj, int) {
    auto* s = static_cast<MqttSession*>(obj);
    if (s->connected_) s->disconnects_++;
    s->connected_ = false;
    s->connecting_ = false;
    if (s->reachable_) s->ScheduleReconnect(std::chrono::steady_clock::now());
  });
  mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* obj, int) {
    auto* s = static_cast<MqttSession*>(obj);
    if (s->in_flight_ > 0) s->in_flight_--;
  });
  mosquitto_message_callback_set(mosq_, [](mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* s = static_cast<MqttSession*>(obj);
    if (s->on_message_) {
      s->on_message_(msg->topic, std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen)));
    }
  });
}

MqttSession::~MqttSession() {
  if (mosq_) {
    mosquitto_disconnect(mosq_);
    mosquitto_destroy(mosq_);
  }
}

void MqttSession::ScheduleReconnect(std::chrono::steady_clock::time_point now) {
  // Full jitter: a fleet that lost the broker together must not come back together.
  auto wait = std::chrono::milliseconds(static_cast<int64_t>(random_.Uniform(static_cast<uint64_t>(backoff_.count()) + 1)));
  reconnect_at_ = now + wait;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void MqttSession::ArmWill() {
  // Milliseconds, as on the wire: a birth and a will of the same connection must compare equal.
  connection_started_ = std::chrono::floor<std::chrono::milliseconds>(clock_.Now());
  std::string status = wire::StatusTopic(cart_);
  std::string will = wire::StatusPayload(wire::Presence::kOffline, connection_started_);
  mosquitto_will_set(mosq_, status.c_str(), static_cast<int>(will.size()), will.data(), 1, true);
}

void MqttSession::Connect() {
  ArmWill();
  connecting_ = true;
  connect_started_ = std::chrono::steady_clock::now();
  int rc = mosquitto_connect_async(mosq_, options_.host.c_str(), options_.port, options_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    connecting_ = false;
    ScheduleReconnect(std::chrono::steady_clock::now());
  }
}

void MqttSession::OnReadable() {
  if (connecting_ && !connected_) {
    // Before CONNACK libmosquitto does not read, so a peer that closed the socket would keep it
    // readable forever: look for the end of the stream ourselves.
    char byte;
    ssize_t n = ::recv(mosquitto_socket(mosq_), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {  // closed or reset
      AbandonConnect(std::chrono::steady_clock::now());
      return;
    }
  }
  int rc = mosquitto_loop_read(mosq_, 1);
  if (rc != MOSQ_ERR_SUCCESS && !connected_ && !connecting_ && reconnect_at_ == std::chrono::steady_clock::time_point{}) {
    ScheduleReconnect(std::chrono::steady_clock::now());
  }
}

void MqttSession::OnWritable() { mosquitto_loop_write(mosq_, 1); }

void MqttSession::DropLink() {
  // shutdown(2) rather than close: libmosquitto still owns the descriptor and notices the dead
  // socket on its next read, running the disconnect callback. In-flight QoS 1 messages stay in
  // the session and are sent again after reconnecting.
  int fd = mosquitto_socket(mosq_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  if (connected_) disconnects_++;
  connected_ = false;
  connecting_ = false;
  mosquitto_loop_read(mosq_, 1);  // let libmosquitto see the dead socket now
  connected_ = false;
}

void MqttSession::SetReachable(bool reachable) {
  if (reachable_ == reachable) return;
  reachable_ = reachable;
  if (!reachable) {
    DropLink();
  } else {
    reconnect_at_ = std::chrono::steady_clock::now();
    backoff_ = std::chrono::milliseconds(1000);
  }
}

void MqttSession::SetLink(std::string_view link) {
  if (link == link_) return;
  link_ = std::string(link);
  DropLink();
  if (reachable_) reconnect_at_ = std::chrono::steady_clock::now();
}

void MqttSession::PowerOff() {
  powered_ = false;
  reachable_ = false;
  DropLink();
}

void MqttSession::AbandonConnect(std::chrono::steady_clock::time_point now) {
  connecting_ = false;
  abandoned_ = true;
  ScheduleReconnect(now);
}

void MqttSession::Service(std::chrono::steady_clock::time_point now) {
  if (!reachable_ || !powered_) return;
  if (connecting_ && !connected_ && now - connect_started_ > kConnackTimeout) AbandonConnect(now);
  if (mosquitto_socket(mosq_) >= 0 && !abandoned_) {
    // libmosquitto 2.0 reports no write interest while a TLS connect is pending, so a connect
    // that did not complete at once (EINPROGRESS, common under load) would never send its
    // ClientHello until the keepalive gave up on it. Nudge pending connects along here.
    if (connecting_ && !connected_) mosquitto_loop_write(mosq_, 1);
    mosquitto_loop_misc(mosq_);
    return;
  }
  if (reconnect_at_ == std::chrono::steady_clock::time_point{}) ScheduleReconnect(now);
  if (now >= reconnect_at_) {
    reconnect_at_ = {};
    abandoned_ = false;  // mosquitto_reconnect_async closes the old socket first
    ArmWill();
    connecting_ = true;
    connect_started_ = now;
    if (mosquitto_reconnect_async(mosq_) != MOSQ_ERR_SUCCESS) {
      connecting_ = false;
      ScheduleReconnect(now);
    }
  }
}

int MqttSession::fd() const { return abandoned_ ? -1 : mosquitto_socket(mosq_); }
bool MqttSession::wants_write() const { return mosquitto_want_write(mosq_); }

bool MqttSession::Publish(const std::string& topic, const std::string& payload) {
  if (!connected_ || !reachable_) return false;
  if (mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false) !=
      MOSQ_ERR_SUCCESS) {
    return false;
  }
  in_flight_++;
  return true;
}

}  // namespace cw::sim
