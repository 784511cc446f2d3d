#include "api/router.h"

#include <charconv>

#include "core/log.h"
#include "core/time_format.h"
#include "wire/json.h"

namespace cw::api {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool Matches(std::string_view pattern, std::string_view path, std::map<std::string, std::string>& params) {
  auto want = Segments(pattern), got = Segments(path);
  if (want.size() != got.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
      if (got[i].empty()) return false;
      found.emplace(std::string(want[i].substr(1, want[i].size() - 2)), std::string(got[i]));
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string_view OutcomeFor(int status) {
  if (status < 400) return "ok";
  if (status == 401 || status == 403) return "denied";
  if (status == 429) return "throttled";
  if (status < 500) return "refused";
  return "error";
}

}  // namespace

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition: return 409;
    case Code::kResourceExhausted: return 429;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kUnsupported: return 501;
    case Code::kCorruption:
    case Code::kInternal: return 500;
  }
  return 500;
}

std::string ErrorJson(const HttpError& e) {
  wire::JsonBuilder b;
  auto& w = b.Key("error").writer();
  w.StartObject();
  w.Key("code");
  w.String(std::string(CodeName(e.status.code())).c_str());
  w.Key("message");
  // Internal trouble is logged in full, not shown: the message may name files or hosts.
  int status = HttpStatusFor(e.status.code());
  std::string message = status >= 500 && status != 503 ? "internal error" : e.status.message();
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.Key("field");
  if (e.field.empty()) {
    w.Null();
  } else {
    w.String(e.field.c_str(), static_cast<rapidjson::SizeType>(e.field.size()));
  }
  w.EndObject();
  return b.Finish();
}

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

size_t Router::max_body() const {
  size_t most = kDefaultMaxBody;
  for (const auto& r : routes_) most = std::max(most, r.max_body);
  return most;
}

const Route* Router::Match(Request& request, bool& path_known) const {
  path_known = false;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> params;
    if (!Matches(route.pattern, request.path, params)) continue;
    path_known = true;
    if (route.method != request.method) continue;
    request.params = std::move(params);
    return &route;
  }
  return nullptr;
}

Response Router::Handle(Request& request) {
  bool path_known = false;
  const Route* route = Match(request, path_known);
  auto error = [&](const HttpError& e) {
    Response r = JsonResponse(HttpStatusFor(e.status.code()), ErrorJson(e));
    if (r.status >= 500) {
      log::Error("api.error", {{"route", route ? route->pattern : request.path}, {"error", e.status.ToString()}});
    }
    if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"cartwright\"");
    if (e.retry_after) {
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(*e.retry_after).count() + 1;
      r.headers.emplace_back("Retry-After", std::to_string(secs));
    }
    return r;
  };
  Response response;
  if (!route) {
    if (path_known) {
      response = error(HttpError(Status(Code::kNotFound, request.method + " is not allowed on " + request.path)));
      response.status = 405;
    } else {
      response = error(NotFound("no such route: " + request.method + " " + request.path));
    }
  } else if (request.body.size() > route->max_body) {
    response = error(ResourceExhausted("the request body is " + std::to_string(request.body.size()) +
                                       " bytes; " + route->method + " " + route->pattern + " accepts at most " +
                                       std::to_string(route->max_body)));
    response.status = 413;
  } else if (route->access.devices && request.device && request.authorization.empty()) {
    request.audit_actor = "cart:" + request.device->str();
    auto handled = route->handler(request);
    response = handled.ok() ? std::move(handled).value() : error(handled.error());
  } else if (!route->access.is_public) {
    std::string_view auth = request.authorization;
    constexpr std::string_view kBearer = "Bearer ";
    auto who = auth.starts_with(kBearer) ? auth_.Authenticate(auth.substr(kBearer.size()))
                                         : Result<Principal>(Unauthenticated(
                                               auth.empty() ? "missing bearer token (Authorization: Bearer …)"
                                                            : "Authorization must be a Bearer token"));
    if (!who.ok()) {
      response = error(who.error());
    } else {
      request.principal = *who;
      const auto& roles = route->access.roles;
      if (!roles.empty() && std::find(roles.begin(), roles.end(), who->role) == roles.end()) {
        response = error(PermissionDenied(std::string(store::Name(who->role)) + " users may not call " + route->method +
                                          " " + route->pattern));
      } else {
        auto handled = route->handler(request);
        response = handled.ok() ? std::move(handled).value() : error(handled.error());
      }
    }
  } else {
    auto handled = route->handler(request);
    response = handled.ok() ? std::move(handled).value() : error(handled.error());
  }
  // Nothing leaves unaudited: when the entry cannot be written the caller gets a 503 instead of
  // the data (a write has happened by then; its effects are visible to the next audited read).
  Status audited = Audit(request, route, response);
  if (!audited.ok()) {
    log::Error("api.audit_failed", {{"route", route ? route->pattern : request.path}, {"error", audited.ToString()}});
    return error(Unavailable("the audit log cannot be written; try again"));
  }
  return response;
}

Status Router::Audit(const Request& request, const Route* route, const Response& response) {
  if (!audit_) return Status::Ok();
  store::AuditEntry e;
  if (request.principal) {
    e.actor = request.principal->user;
    e.role = std::string(store::Name(request.principal->role));
  } else {
    e.actor = request.audit_actor.empty() ? "anonymous" : request.audit_actor;
    e.role = request.device && e.actor.starts_with("cart:") ? "device" : "none";
  }
  e.action = request.method + " " + (route ? route->pattern : request.path);
  // Path ids first ("cart=CART-000001"), then what the handler added.
  for (const auto& [name, value] : request.params) {
    if (!e.target.empty()) e.target += ' ';
    e.target += name + "=" + value;
  }
  if (!request.audit_target.empty()) e.target += (e.target.empty() ? "" : " ") + request.audit_target;
  e.outcome = std::string(OutcomeFor(response.status)) + " " + std::to_string(response.status);
  e.pii = request.pii;
  e.purpose = request.client.empty() ? "" : "from " + request.client;
  return audit_->Append(std::move(e)).status();
}

std::optional<std::string> Param(const Request& r, const std::string& name) {
  auto it = r.query.find(name);
  if (it == r.query.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

Result<size_t, HttpError> LimitParam(const Request& r, size_t default_limit, size_t max_limit) {
  auto text = Param(r, "limit");
  if (!text) return default_limit;
  size_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v == 0 || v > max_limit) {
    return BadField("limit", "must be a whole number from 1 to " + std::to_string(max_limit));
  }
  return v;
}

Result<std::optional<Time>, HttpError> TimeParam(const Request& r, const std::string& name) {
  auto text = Param(r, name);
  if (!text) return std::optional<Time>();
  auto t = ParseRfc3339(*text);
  if (!t.ok()) return BadField(name, "must be an RFC 3339 time such as 2026-11-22T10:00:00Z");
  return std::optional<Time>(*t);
}

}  // namespace cw::api
