// mqtt/client.h — a blocking-friendly MQTT client over libmosquitto with mutual TLS.
//
// One Client is one MQTT connection with its own network thread (see NetworkLoop). Calls
// are thread-safe. Connect/Subscribe/WaitForPublishes block with a timeout so tests and tools read
// straight-line. The message handler runs on the network thread; for a QoS 1 message the broker
// gets the PUBACK only after the handler returns (libmosquitto queues it and the network thread
// writes it on its next pass), so a handler that returns once the message is durable gives
// acknowledge-after-durable — at the price of this connection's traffic waiting meanwhile
// (the ingest runs several connections for that reason; its crash test checks the guarantee).
// (Fleet-scale simulation drives libmosquitto from an event loop instead; see src/sim.)
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

struct mosquitto;

namespace cw::mqtt {

struct Will {
  std::string topic;
  std::string payload;
  int qos = 1;
  bool retain = true;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8883;
  std::string client_id;  // empty: the library picks a random one
  std::string ca_file;    // CA that signed the broker's certificate
  std::string cert_file;  // our client certificate (PEM); empty for no client certificate
  std::string key_file;   // its private key
  int keepalive_s = 30;
  bool clean_session = true;
  std::optional<Will> will;
};

struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

class Client {
 public:
  using Handler = std::function<void(const Message&)>;

  static Result<std::unique_ptr<Client>> Create(const ClientOptions& options);
  ~Client();

  // Set before Connect. Runs on the network thread.
  void SetMessageHandler(Handler handler);
  // Told true after every successful (re)connect and false after every lost connection. Set
  // before Connect. Runs on the network thread; must not call this client's blocking methods.
  void SetConnectionHandler(std::function<void(bool connected)> handler);

  // Connects and waits for the broker's CONNACK. Unavailable if the TCP/TLS connection fails or
  // the broker closes it; PermissionDenied if the broker refuses the CONNECT; DeadlineExceeded on
  // timeout. After success the network thread reconnects by itself with backoff, and subscribes
  // again to every filter Subscribe() was given (a clean session starts with none).
  Status Connect(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Subscribes and waits for the SUBACK. PermissionDenied if the broker refused the filter.
  Status Subscribe(const std::string& filter, int qos, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Queues a publish; returns its message id. QoS 1/2 completion: WaitForPublishes.
  Result<int> Publish(const std::string& topic, std::string_view payload, int qos, bool retain = false);

  // Waits until every queued QoS > 0 publish has been acknowledged by the broker.
  Status WaitForPublishes(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  bool connected() const;
  // Sends DISCONNECT if connected and ends the network thread: returns within about half a
  // second plus the message handler in progress, also while the broker is unreachable.
  void Disconnect();

 private:
  struct State;
  explicit Client(std::unique_ptr<State> state);
  static void NetworkLoop(State& s);
  std::unique_ptr<State> state_;
};

}  // namespace cw::mqtt
