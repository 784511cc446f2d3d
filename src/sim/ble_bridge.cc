#include "sim/ble_bridge.h"

#include <httplib.h>

#include "wire/json.h"

namespace cw::sim {

namespace {
std::string ErrorJson(std::string_view code, std::string_view message) {
  wire::JsonBuilder inner;
  inner.Field("code", code).Field("message", message);
  std::string body = "{\"error\":" + inner.Finish() + "}";
  return body;
}
}  // namespace

BleBridge::BleBridge(TokenSource source) : source_(std::move(source)) {}

BleBridge::~BleBridge() { Stop(); }

Status BleBridge::Start(const HostPort& listen) {
  server_ = std::make_unique<httplib::Server>();
  // Any page may ask, as any tablet within radio range of a cart may: the token only proves
  // presence, and the API decides what it allows (a staff tablet page on another origin calls this).
  server_->set_default_headers({{"Access-Control-Allow-Origin", "*"}});
  server_->Get(R"(/proximity/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = CartId::Parse(req.matches[1].str());
    if (!id.ok()) {
      res.status = 400;
      res.set_content(ErrorJson("invalid_argument", id.error().message()), "application/json");
      return;
    }
    auto token = source_(*id, req.get_param_value("challenge"));
    if (!token.ok()) {
      Code code = token.error().code();
      res.status = code == Code::kNotFound ? 404 : code == Code::kInvalidArgument ? 400 : 500;
      res.set_content(ErrorJson(CodeName(token.error().code()), token.error().message()), "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(*token + "\n", "text/plain");
  });
  int port = listen.port == 0 ? server_->bind_to_any_port(listen.host) : (server_->bind_to_port(listen.host, listen.port) ? listen.port : -1);
  if (port <= 0) return Unavailable("BLE bridge cannot listen on " + listen.host + ":" + std::to_string(listen.port));
  port_ = static_cast<uint16_t>(port);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void BleBridge::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cw::sim
