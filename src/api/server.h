// api/server.h — the HTTPS server `cartwright serve` runs: the REST API under /api/ and the web
// pages (ops dashboard at /, staff tablet at /tablet/) from a directory of built files.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "api/router.h"
#include "core/status.h"

namespace httplib { class SSLServer; }

namespace cw::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8443;  // 0: any free port (see ApiServer::port())
  std::string cert_file, key_file;  // PEM; the certificate chain to the fleet CA
  // The fleet CA, for the device endpoint: every client must present a certificate it issued
  // (which identifies a cart on the routes that admit carts: the firmware download). "" (the API
  // and web pages): no certificate is asked for, so browsers never see a certificate prompt.
  std::string client_ca_file;
  std::string web_root;  // built web pages; "" serves the API alone
};

class ApiServer {
 public:
  ApiServer(ServerOptions options, Router& router);
  ~ApiServer();

  // Loads the certificate (TLS 1.2 and later only), binds and starts serving on a thread of its
  // own. FailedPrecondition for unreadable certificate files, Unavailable when the port is taken.
  Status Start();
  // The bound port (after Start).
  uint16_t port() const { return port_; }
  // Stops accepting, finishes requests in flight and joins. Safe to call twice.
  void Stop();

 private:
  ServerOptions options_;
  Router& router_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace cw::api
