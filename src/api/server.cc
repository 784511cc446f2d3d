#include "api/server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/files.h"
#include "crypto/hash.h"
#include "core/log.h"

namespace cw::api {
namespace {

// The cart named by the peer's client certificate, if it presented one that the handshake
// verified against the fleet CA; `fingerprint` gets the certificate's SHA-256.
std::optional<CartId> VerifiedCart(const SSL* ssl, std::string& fingerprint) {
  if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (!peer) return std::nullopt;
  char cn[128] = {};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
  unsigned char* der = nullptr;
  int der_len = i2d_X509(peer, &der);
  if (der_len > 0) fingerprint = crypto::Sha256Hex(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len)));
  OPENSSL_free(der);
  X509_free(peer);
  if (n <= 0 || der_len <= 0) return std::nullopt;
  auto cart = CartId::Parse(std::string_view(cn, static_cast<size_t>(n)));
  return cart.ok() ? std::optional<CartId>(*cart) : std::nullopt;
}

}  // namespace

ApiServer::ApiServer(ServerOptions options, Router& router) : options_(std::move(options)), router_(router) {}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start() {
  for (const auto& f : {options_.cert_file, options_.key_file}) {
    if (!PathExists(f)) return FailedPrecondition("API certificate file " + f + " does not exist (run `cartwright pki init`)");
  }
  bool loaded = false;
  server_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    loaded = SSL_CTX_use_certificate_chain_file(&ctx, options_.cert_file.c_str()) == 1 &&
             SSL_CTX_use_PrivateKey_file(&ctx, options_.key_file.c_str(), SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(&ctx) == 1;
    if (loaded && !options_.client_ca_file.empty()) {
      // The device endpoint: a client certificate from the fleet CA, meant for clients, or no
      // handshake.
      loaded = SSL_CTX_load_verify_locations(&ctx, options_.client_ca_file.c_str(), nullptr) == 1 &&
               SSL_CTX_set_purpose(&ctx, X509_PURPOSE_SSL_CLIENT) == 1;
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return loaded;
  });
  if (!loaded || !server_->is_valid()) {
    return FailedPrecondition("cannot load the API certificate " + options_.cert_file + " and key " + options_.key_file);
  }
  server_->set_payload_max_length(router_.max_body());
  server_->set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                {"Strict-Transport-Security", "max-age=31536000"},
                                {"Referrer-Policy", "no-referrer"}});
  // Every /api/ request goes to the router, whatever the method (it answers 404 and 405 itself),
  // and GET /metrics.
  // httplib reads request bodies only for routed handlers, so each method is routed here.
  auto dispatch = [this](const httplib::Request& hreq, httplib::Response& hres) {
    Request req;
    req.method = hreq.method;
    req.path = hreq.path;
    for (const auto& [k, v] : hreq.params) req.query.emplace(k, v);  // the first of repeated keys wins
    req.body = hreq.body;
    req.authorization = hreq.get_header_value("Authorization");
    req.range = hreq.get_header_value("Range");
    // The router answers Range requests itself (206/416 with Content-Range); httplib would slice
    // that answer a second time from the ranges it parsed. It owns the request object, so
    // clearing them here is safe.
    const_cast<httplib::Request&>(hreq).ranges.clear();
    req.client = hreq.remote_addr;
    req.device = VerifiedCart(hreq.ssl, req.device_cert_fingerprint);
    Response res = router_.Handle(req);
    hres.status = res.status;
    for (const auto& [k, v] : res.headers) hres.set_header(k, v);
    hres.set_header("Cache-Control", "no-store");
    hres.set_content(res.body, res.content_type);
  };
  const std::string api = "/api/.*";
  server_->Get(api, dispatch).Post(api, dispatch).Put(api, dispatch).Patch(api, dispatch).Delete(api, dispatch);
  server_->Get("/metrics", dispatch);  // where Prometheus looks by default
  if (!options_.web_root.empty()) {
    if (!server_->set_mount_point("/", options_.web_root)) {
      return FailedPrecondition("web pages directory " + options_.web_root + " does not exist (`./run web` builds it into build/web)");
    }
    // The pages load only their own scripts and styles and talk only to this origin — and to the
    // device's own loopback, where a tablet's BLE helper (in the demo, cartsim's bridge) answers.
    server_->set_file_request_handler([](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; connect-src 'self' http://127.0.0.1:* http://localhost:*; img-src 'self' data:; "
                     "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    });
  }
  int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                 : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port <= 0) return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  port_ = static_cast<uint16_t>(port);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  log::Info("api.listening", {{"url", "https://" + options_.host + ":" + std::to_string(port_)}});
  return Status::Ok();
}

void ApiServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cw::api
