// sim/ble_bridge.h — what a staff tablet would get from a cart over BLE, on loopback HTTP.
//
//   GET /proximity/{cart_id}[?challenge=HEX]
//                             → 200 text/plain: a proximity token signed inside that cart's
//                               secure element (purpose staff-override, ≤ 120 s; the nonce is the
//                               cloud's challenge when given, else random)
//                             → 400 for a malformed cart id or challenge
//                             → 404 {"error":{"code":"not_found",...}} for a cart not in this fleet
//
// The server runs on its own thread; the token source must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/config.h"
#include "core/ids.h"
#include "core/status.h"

namespace httplib {
class Server;
}

namespace cw::sim {

class BleBridge {
 public:
  // (cart, challenge or "") → token.
  using TokenSource = std::function<Result<std::string>(const CartId&, const std::string&)>;
  explicit BleBridge(TokenSource source);
  ~BleBridge();

  // Listens on host:port (port 0 picks a free one). Unavailable if it cannot bind.
  Status Start(const HostPort& listen);
  uint16_t port() const { return port_; }
  void Stop();

 private:
  TokenSource source_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace cw::sim
