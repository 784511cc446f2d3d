// sim/mqtt_session.h — one cart's MQTT session, driven by the fleet's event loop.
//
// libmosquitto in non-threaded mode: the loop tells the session when its socket is readable or
// writable and calls Service() periodically for keepalive and reconnects. Mutual TLS with the
// cart's certificate; QoS 1; persistent session (clean_session=false) so in-flight messages are
// retried after a reconnect; on carts/{id}/status a retained birth (online) and a last will
// (offline), both naming the connection's start by the cart's clock (wire/status.h); reconnect with exponential backoff (1 s doubling to 60 s) and full jitter.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/clock.h"
#include "core/random.h"
#include "device/cart.h"

struct mosquitto;

namespace cw::sim {

struct SessionOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8883;
  std::string ca_file, cert_file, key_file;
  int keepalive_s = 60;
};

class MqttSession final : public device::Uplink {
 public:
  using MessageHandler = std::function<void(const std::string& topic, const std::string& payload)>;
  using ConnectedHandler = std::function<void()>;

  // `clock` is the cart's: it stamps each connection's start into the birth and the will.
  MqttSession(CartId cart, SessionOptions options, Random& random, const Clock& clock);
  ~MqttSession() override;
  MqttSession(const MqttSession&) = delete;

  void set_handlers(MessageHandler on_message, ConnectedHandler on_connected) {
    on_message_ = std::move(on_message);
    on_connected_ = std::move(on_connected);
  }

  // Starts a non-blocking connect. The socket (fd()) may change on every (re)connect.
  void Connect();
  // Socket readiness from the event loop.
  void OnReadable();
  void OnWritable();
  // Keepalive, retries, and reconnects when due. Call about once a second.
  void Service(std::chrono::steady_clock::time_point now);

  // Simulated loss of coverage: the link drops (last-will fires) and the session does not
  // reconnect until SetReachable(true).
  void SetReachable(bool reachable);
  bool reachable() const { return reachable_; }
  // Fails over to another radio ("wifi" or "lte-m"): the link drops and the session reconnects
  // at once over the new one.
  void SetLink(std::string_view link);
  // The cart has no power left: drop the link for good.
  void PowerOff();
  // QoS-1 publishes handed to the broker and not yet acknowledged.
  uint64_t in_flight() const { return in_flight_; }

  int fd() const;
  bool wants_write() const;

  // device::Uplink
  bool connected() const override { return connected_; }
  bool Publish(const std::string& topic, const std::string& payload) override;
  std::string_view link() const override { return link_; }

  uint64_t connects() const { return connects_; }
  bool connecting() const { return connecting_; }
  uint64_t disconnects() const { return disconnects_; }
  const CartId& cart() const { return cart_; }

 private:
  void ScheduleReconnect(std::chrono::steady_clock::time_point now);
  // Stamps the next connection's start and hands the broker its will; call before each CONNECT.
  void ArmWill();
  // Closes the socket under libmosquitto without sending DISCONNECT.
  void DropLink();
  // Gives up a connect that will not complete — the broker closed the socket before CONNACK (one
  // shutting down accepts and drops), or no CONNACK came within kConnackTimeout — and retries
  // after the backoff. libmosquitto itself waits out the keepalive (a minute) for such a connect,
  // and meanwhile its socket reads as closed, which would spin the fleet's poll loop.
  void AbandonConnect(std::chrono::steady_clock::time_point now);
  CartId cart_;
  SessionOptions options_;
  Random& random_;
  const Clock& clock_;
  Time connection_started_{};
  mosquitto* mosq_ = nullptr;
  bool connected_ = false;
  bool connecting_ = false;
  bool abandoned_ = false;  // the socket of a given-up connect: not polled, replaced on reconnect
  std::chrono::steady_clock::time_point connect_started_{};
  bool reachable_ = true;
  bool powered_ = true;
  std::string link_ = "wifi";
  uint64_t in_flight_ = 0;
  std::chrono::milliseconds backoff_{1000};
  std::chrono::steady_clock::time_point reconnect_at_{};
  uint64_t connects_ = 0, disconnects_ = 0;
  MessageHandler on_message_;
  ConnectedHandler on_connected_;
};

}  // namespace cw::sim
