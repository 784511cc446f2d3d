// api/router.h — the REST API's routes, independent of the HTTP server that carries them.
//
// A route is a method, a path pattern with {named} segments, who may call it, and a handler.
// The router authenticates, dispatches, turns every error into the one JSON error shape
// {"error":{"code","message","field"}} with its HTTP status, and writes one audit entry per
// request — denials and failures included — before the response leaves.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/auth.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "store/audit_log.h"

namespace cw::api {

struct Request {
  std::string method;  // GET, POST, PUT…
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::string body;
  std::string authorization;  // the Authorization header, as sent
  std::string range;          // the Range header, as sent ("" when absent)
  std::string client;         // the peer address
  // The cart whose client certificate (issued by the fleet CA, checked in the TLS handshake) the
  // peer presented; nullopt without one, or when its CN is not a cart id.
  std::optional<CartId> device;
  std::string device_cert_fingerprint;  // SHA-256 of that certificate's DER, lowercase hex
  // Set by the router:
  std::map<std::string, std::string> params;  // the route's {named} path segments
  std::optional<Principal> principal;          // nullopt on public routes
  // Audit details a handler may add: who a public route acted for (the login's user name), ids
  // it acted on beyond the path's ("cart=…"), and whether Tier-3 personal data was returned.
  std::string audit_actor;
  std::string audit_target;
  bool pii = false;

  const Principal& who() const { return *principal; }
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// An error with the request field it is about ("" when none).
struct HttpError {
  Status status;
  std::string field;
  std::optional<Duration> retry_after;
  HttpError(Status s) : status(std::move(s)) {}  // NOLINT: implicit, so Status errors flow through
  HttpError(Status s, std::string f) : status(std::move(s)), field(std::move(f)) {}
  Status ToStatus() const { return status; }
};

inline HttpError BadField(std::string field, std::string message) {
  return HttpError(InvalidArgument(field + ": " + message), std::move(field));
}

// HTTP status for an error code: 400, 401, 403, 404, 409, 429, 503, 504, else 500.
int HttpStatusFor(Code code);
std::string ErrorJson(const HttpError& error);

using Handler = std::function<Result<Response, HttpError>(Request&)>;

// Who may call a route. Roles list: any of them (after authentication); empty: any signed-in user.
// `devices`: a cart presenting its fleet client certificate may call it too, without a token (the
// handler then sees Request::device and no principal).
struct Access {
  bool is_public = false;
  std::vector<store::Role> roles;
  bool devices = false;
};
inline Access Public() { return {true, {}}; }
inline Access AnyUser() { return {false, {}}; }
inline Access Roles(std::vector<store::Role> roles) { return {false, std::move(roles)}; }
inline Access RolesOrDevice(std::vector<store::Role> roles) { return {false, std::move(roles), true}; }

// Request bodies larger than this are refused with 413 unless a route allows more.
inline constexpr size_t kDefaultMaxBody = 64 * 1024;

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/carts/{id}"
  Access access;
  Handler handler;
  size_t max_body = kDefaultMaxBody;
};

class Router {
 public:
  // `audit` receives one entry per request (nullptr: none, for unit tests of one handler).
  Router(Authenticator& auth, store::AuditLog* audit) : auth_(auth), audit_(audit) {}

  void Add(Route route);
  // Dispatches one request: 404 for an unknown path, 405 for a known path with another method.
  Response Handle(Request& request);
  // Keeps `owner` (what handlers point into) alive as long as the router.
  void KeepAlive(std::shared_ptr<void> owner) { owners_.push_back(std::move(owner)); }
  // The routes in the order added (for the OpenAPI check).
  const std::vector<Route>& routes() const { return routes_; }
  // The largest body any route accepts (what the HTTP server must read before dispatching).
  size_t max_body() const;

 private:
  const Route* Match(Request& request, bool& path_known) const;
  Status Audit(const Request& request, const Route* route, const Response& response);

  Authenticator& auth_;
  store::AuditLog* audit_;
  std::vector<Route> routes_;
  std::vector<std::shared_ptr<void>> owners_;
};

// Query parameters with bounds and clear errors.
Result<size_t, HttpError> LimitParam(const Request& r, size_t default_limit, size_t max_limit);
Result<std::optional<Time>, HttpError> TimeParam(const Request& r, const std::string& name);
std::optional<std::string> Param(const Request& r, const std::string& name);

}  // namespace cw::api
