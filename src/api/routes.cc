#include "api/routes.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "api/firmware_routes.h"
#include "api/rollout_routes.h"
#include "core/base64.h"
#include "core/hex.h"
#include "core/time_format.h"
#include "crypto/aead.h"
#include "crypto/ecdsa.h"
#include "wire/envelope.h"
#include "wire/json.h"
#include "wire/notice.h"
#include "wire/proximity.h"

namespace cw::api {
namespace {

using store::Role;
constexpr size_t kDefaultLimit = 50, kMaxLimit = 500;

// ---- JSON out --------------------------------------------------------------------------------------

class Json {
 public:
  Json() : w_(buf_) {}
  rapidjson::Writer<rapidjson::StringBuffer>& w() { return w_; }
  Json& Key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  Json& Str(std::string_view k, std::string_view v) {
    Key(k);
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  Json& OptStr(std::string_view k, std::string_view v) {  // "" → null
    if (v.empty()) return Null(k);
    return Str(k, v);
  }
  Json& Int(std::string_view k, int64_t v) {
    Key(k);
    w_.Int64(v);
    return *this;
  }
  Json& Bool(std::string_view k, bool v) {
    Key(k);
    w_.Bool(v);
    return *this;
  }
  Json& Null(std::string_view k) {
    Key(k);
    w_.Null();
    return *this;
  }
  Json& At(std::string_view k, Time t) { return Str(k, FormatTimeMillis(t)); }
  Json& OptAt(std::string_view k, const std::optional<Time>& t) { return t ? At(k, *t) : Null(k); }
  // A JSON document already known to be valid (stored, verified event bodies).
  Json& Raw(std::string_view k, std::string_view json) {
    Key(k);
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  Json& Begin() {
    w_.StartObject();
    return *this;
  }
  Json& End() {
    w_.EndObject();
    return *this;
  }
  Json& BeginArray(std::string_view k) {
    Key(k);
    w_.StartArray();
    return *this;
  }
  Json& EndArray() {
    w_.EndArray();
    return *this;
  }
  std::string Take() { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

Response Ok(Json& j, int status = 200) {
  Response r;
  r.status = status;
  r.body = j.Take();
  return r;
}

// ---- parameters ------------------------------------------------------------------------------------

template <typename Id>
Result<Id, HttpError> PathId(const Request& r, const std::string& name) {
  auto id = Id::Parse(r.params.at(name));
  if (!id.ok()) return HttpError(InvalidArgument(name + ": " + id.error().message()), name);
  return *id;
}

Result<rapidjson::Document, HttpError> Body(const Request& r) {
  rapidjson::Document doc;
  Status st = wire::ParseStrictObject(r.body, doc);
  if (!st.ok()) return HttpError(InvalidArgument("request body: " + st.message()), "body");
  return doc;
}

Result<std::string, HttpError> RequiredString(const rapidjson::Value& doc, const std::string& field, size_t max_len) {
  auto v = wire::GetString(doc, field);
  if (!v || v->empty()) return BadField(field, "is required (a string)");
  if (v->size() > max_len) return BadField(field, "is longer than " + std::to_string(max_len) + " characters");
  return std::string(*v);
}

// An optional typed id in the query string: absent, or valid, or a 400 naming the parameter.
template <typename Id>
Result<std::optional<Id>, HttpError> IdParam(const Request& r, const std::string& name) {
  auto text = Param(r, name);
  if (!text) return std::optional<Id>();
  auto id = Id::Parse(*text);
  if (!id.ok()) return BadField(name, id.error().message());
  return std::optional<Id>(*id);
}

// `window` of the per-cart statistics: 5m to 60m in steps of 5m (1h also reads as 60m).
Result<Duration, HttpError> WindowParam(const Request& r, Duration fallback) {
  auto w = Param(r, "window");
  if (!w) return fallback;
  if (*w == "1h") return Duration(std::chrono::hours(1));
  int minutes = 0;
  auto [end, ec] = std::from_chars(w->data(), w->data() + w->size(), minutes);
  if (ec != std::errc() || std::string_view(end, static_cast<size_t>(w->data() + w->size() - end)) != "m" || minutes < 5 ||
      minutes > 60 || minutes % 5) {
    return BadField("window", "must be 5m to 60m in steps of 5m, or 1h");
  }
  return Duration(std::chrono::minutes(minutes));
}

// Paging newest-first over times: the cursor is the time of the last item of the previous page.
std::string TimeCursor(Time last) { return Base64UrlEncode(std::to_string(last.time_since_epoch().count())); }
Result<std::optional<Time>, HttpError> TimeBefore(const Request& r) {
  auto text = Param(r, "cursor");
  if (!text) return std::optional<Time>();
  auto raw = Base64UrlDecode(*text);
  int64_t us = 0;
  if (!raw || std::from_chars(raw->data(), raw->data() + raw->size(), us).ec != std::errc() || us <= 0) {
    return BadField("cursor", "is not a cursor this API issued");
  }
  return std::optional<Time>(Time(Duration(us)));
}

void WriteConnectivity(Json& j, const store::CartConnectivity& c) {
  j.Str("state", store::Name(c.state)).At("since", c.since).Str("cause", c.cause);
  j.OptAt("connection_started_at", c.connection);
}

// Paging over cart ids: the cursor is the last id of the previous page, opaque to clients.
std::string CartCursor(const CartId& last) { return Base64UrlEncode(last.str()); }
Result<std::optional<CartId>, HttpError> CartAfter(const Request& r) {
  auto text = Param(r, "cursor");
  if (!text) return std::optional<CartId>();
  auto raw = Base64UrlDecode(*text);
  auto id = raw ? CartId::Parse(*raw) : Result<CartId>(InvalidArgument(""));
  if (!id.ok()) return BadField("cursor", "is not a cursor this API issued");
  return std::optional<CartId>(*id);
}

// ---- records as JSON -------------------------------------------------------------------------------

void WriteStore(Json& j, const store::StoreRecord& s) {
  j.Begin().Str("id", s.id.str()).Str("name", s.name).Str("partner", s.partner).Str("region", store::Name(s.region));
  j.Str("timezone", s.timezone).OptStr("ssid", s.ssid).OptStr("opening_hours", s.opening_hours);
  if (s.geofence) {
    j.Key("geofence").Begin();
    j.Key("lat").w().Double(s.geofence->lat);
    j.Key("lon").w().Double(s.geofence->lon);
    j.Key("radius_m").w().Double(s.geofence->radius_m);
    j.End();
  } else {
    j.Null("geofence");
  }
  j.End();
}

// A locator row (DESIGN.md §4): what staff see of a cart on the floor plan.
void WriteCartRow(Json& j, const store::CartOverview& c, Time now, const LocatorRules& rules) {
  j.Str("cart_id", c.cart.id.str()).Str("store_id", c.cart.store.str()).Str("region", store::Name(c.region));
  j.Str("state", Name(Locate(c, now, rules)));
  if (c.state) {
    j.Int("battery_pct", c.state->battery_pct).Bool("charging", c.state->charging).Str("link", c.state->link);
    j.Int("rssi_dbm", c.state->rssi_dbm).Str("firmware", c.state->firmware).Str("activity", c.state->state);
    j.Raw("location", c.state->location_json.empty() ? "{}" : c.state->location_json);
    j.At("reported_at", c.state->reported_at);
  } else {
    for (const char* k : {"battery_pct", "charging", "link", "rssi_dbm", "firmware", "activity", "location", "reported_at"}) {
      j.Null(k);
    }
  }
  j.OptAt("last_seen_at", c.activity ? std::optional<Time>(c.activity->last_seen_at) : std::nullopt);
  if (c.connectivity) {
    j.Key("connectivity").Begin();
    WriteConnectivity(j, *c.connectivity);
    j.End();
  } else {
    j.Null("connectivity");
  }
  if (c.maintenance.in_maintenance) {
    j.Key("maintenance").Begin().Str("reason", c.maintenance.reason).At("since", c.maintenance.since).End();
  } else {
    j.Null("maintenance");
  }
  if (c.activity && c.activity->fault_at) {
    j.Key("last_fault").Begin().Str("code", c.activity->fault_code).Str("severity", c.activity->fault_severity);
    j.At("at", *c.activity->fault_at).End();
  } else {
    j.Null("last_fault");
  }
}

void WriteSessionSummary(Json& j, const store::SessionRecord& s) {
  j.Str("id", s.id.str()).Str("cart_id", s.cart.str()).Str("store_id", s.store.str()).Str("status", store::Name(s.status));
  j.At("started_at", s.started_at).OptAt("ended_at", s.ended_at);
  j.Int("scan_count", s.scan_count).Int("scan_total_cents", s.scan_total_cents);
  j.Int("weight_mismatches", s.weight_mismatches).Bool("totals_mismatch", s.totals_mismatch);
  j.BeginArray("fault_codes");
  for (const auto& f : s.fault_codes) j.w().String(f.c_str());
  j.EndArray();
}

void WriteEvent(Json& j, const store::TelemetryEvent& e) {
  j.Begin().Str("cart_id", e.cart.str()).Str("store_id", e.store.str()).Int("seq", static_cast<int64_t>(e.seq));
  j.Str("type", wire::Name(e.type)).At("ts", e.ts).At("received_at", e.received_at).Bool("late", e.late);
  // Stored bodies are the signed envelope as received (JSON then signature), or bare JSON for an
  // identify whose credential was removed.
  auto env = wire::SplitEnvelope(e.body);
  j.Raw("event", env.ok() ? env->json : std::string_view(e.body));
  j.End();
}

bool IsOpen(store::SessionStatus s) {
  return s == store::SessionStatus::kActive || s == store::SessionStatus::kPaused;
}

// ---- the routes ------------------------------------------------------------------------------------

class Routes {
 public:
  explicit Routes(ApiServices& s) : s_(s) {}

  void AddTo(Router& r) {
    const Access ops_staff = Roles({Role::kOps, Role::kStaff});
    r.Add({"POST", "/api/v1/auth/token", Public(), [this](Request& q) { return Token(q); }});
    r.Add({"GET", "/api/v1/me", AnyUser(), [this](Request& q) { return Me(q); }});
    r.Add({"GET", "/api/v1/openapi.json", Public(), [](Request&) -> Result<Response, HttpError> {
             Response resp;
             resp.body = std::string(OpenApiDocument());
             return resp;
           }});
    r.Add({"GET", "/api/v1/stores", AnyUser(), [this](Request& q) { return Stores(q); }});
    r.Add({"GET", "/api/v1/stores/{store}/carts", AnyUser(), [this](Request& q) { return StoreCarts(q); }});
    r.Add({"GET", "/api/v1/stores/{store}/events", AnyUser(), [this](Request& q) { return StoreEvents(q); }});
    r.Add({"GET", "/api/v1/stores/{store}/loss-prevention", ops_staff, [this](Request& q) { return LossPrevention(q); }});
    r.Add({"GET", "/api/v1/fleet", Roles({Role::kOps}), [this](Request& q) { return Fleet(q); }});
    r.Add({"GET", "/api/v1/carts/{cart}", AnyUser(), [this](Request& q) { return Cart(q); }});
    r.Add({"GET", "/api/v1/carts/{cart}/events", AnyUser(), [this](Request& q) { return CartEvents(q); }});
    r.Add({"GET", "/api/v1/carts/{cart}/audit", AnyUser(), [this](Request& q) { return CartAudit(q); }});
    r.Add({"GET", "/api/v1/carts/{cart}/stats", AnyUser(), [this](Request& q) { return CartStats(q); }});
    r.Add({"GET", "/api/v1/carts/{cart}/connectivity", AnyUser(), [this](Request& q) { return CartConnectivity(q); }});
    r.Add({"GET", "/api/v1/alarms", Roles({Role::kOps}), [this](Request& q) { return Alarms(q); }});
    r.Add({"GET", "/api/v1/fleet/diff", Roles({Role::kOps}), [this](Request&) { return FleetDiff(); }});
    r.Add({"GET", "/api/v1/insights/errors", Roles({Role::kOps}), [this](Request& q) { return ErrorsByDevice(q); }});
    r.Add({"GET", "/api/v1/fleet/health", Roles({Role::kOps}), [this](Request& q) { return FleetHealth(q); }});
    r.Add({"PUT", "/api/v1/carts/{cart}/maintenance", ops_staff, [this](Request& q) { return Maintenance(q); }});
    r.Add({"POST", "/api/v1/carts/{cart}/proximity-challenge", ops_staff, [this](Request& q) { return Challenge(q); }});
    r.Add({"GET", "/api/v1/sessions/{session}", AnyUser(), [this](Request& q) { return Session(q); }});
    r.Add({"POST", "/api/v1/sessions/{session}/override", ops_staff, [this](Request& q) { return Override(q); }});
    r.Add({"GET", "/api/v1/audit", Roles({Role::kOps, Role::kAuditor}), [this](Request& q) { return Audit(q); }});
    r.Add({"GET", "/api/v1/rejects", AnyUser(), [this](Request& q) { return Rejects(q); }});
    r.Add({"GET", "/api/v1/ingest/stats", Roles({Role::kOps}), [this](Request&) { return IngestStats(); }});
    // Public to the router: it takes an ops user's token or the configured scrape token.
    r.Add({"GET", "/metrics", Public(), [this](Request& q) { return Metrics(q); }});
  }

 private:
  FleetAccess Scoped(const Request& q) { return FleetAccess(s_.deps, q.who()); }
  Time Now() { return s_.deps.clock.Now(); }

  Result<Response, HttpError> Token(Request& q) {
    CW_ASSIGN_OR_RETURN(auto body, Body(q));
    std::string grant(wire::GetString(body, "grant_type").value_or("password"));
    TokenPair pair;
    if (grant == "password") {
      CW_ASSIGN_OR_RETURN(std::string user, RequiredString(body, "username", 128));
      q.audit_actor = user;
      CW_ASSIGN_OR_RETURN(std::string password, RequiredString(body, "password", 1024));
      LoginRequest login{user, password, std::string(wire::GetString(body, "totp").value_or("")), q.client};
      auto issued = s_.auth.Login(login);
      if (!issued.ok()) {
        HttpError e(issued.error().status);
        e.retry_after = issued.error().retry_after;
        return e;
      }
      pair = std::move(issued).value();
    } else if (grant == "refresh_token") {
      CW_ASSIGN_OR_RETURN(std::string token, RequiredString(body, "refresh_token", 256));
      auto issued = s_.auth.Refresh(token);
      if (!issued.ok()) return HttpError(issued.error());
      pair = std::move(issued).value();
      q.audit_actor = pair.principal.user;
    } else {
      return BadField("grant_type", "must be password or refresh_token");
    }
    Time now = Now();
    Json j;
    j.Begin().Str("access_token", pair.access_token).Str("token_type", "Bearer");
    j.Int("expires_in", std::chrono::duration_cast<std::chrono::seconds>(pair.access_expires_at - now).count());
    j.Str("refresh_token", pair.refresh_token);
    j.Int("refresh_expires_in", std::chrono::duration_cast<std::chrono::seconds>(pair.refresh_expires_at - now).count());
    j.Key("user").Begin().Str("name", pair.principal.user).Str("role", store::Name(pair.principal.role));
    j.OptStr("store_id", pair.principal.store ? pair.principal.store->str() : "").End();
    j.End();
    Response r = Ok(j);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  Result<Response, HttpError> Me(Request& q) {
    const Principal& p = q.who();
    Json j;
    j.Begin().Str("name", p.user).Str("role", store::Name(p.role)).OptStr("store_id", p.store ? p.store->str() : "").End();
    return Ok(j);
  }

  Result<Response, HttpError> Stores(Request& q) {
    CW_ASSIGN_OR_RETURN(auto stores, Scoped(q).Stores());
    Json j;
    j.Begin().BeginArray("items");
    for (const auto& s : stores) WriteStore(j, s);
    j.EndArray().End();
    return Ok(j);
  }

  Result<Response, HttpError> CartRows(Request& q, store::FleetQuery query) {
    CW_ASSIGN_OR_RETURN(query.limit, LimitParam(q, 100, kMaxLimit));
    CW_ASSIGN_OR_RETURN(query.after, CartAfter(q));
    size_t want = query.limit;
    query.limit = want + 1;  // one more tells whether there is a next page
    CW_ASSIGN_OR_RETURN(auto rows, Scoped(q).Fleet(query));
    Time now = Now();
    Json j;
    j.Begin().BeginArray("items");
    for (size_t i = 0; i < rows.size() && i < want; ++i) {
      j.w().StartObject();
      WriteCartRow(j, rows[i], now, s_.locator);
      j.w().EndObject();
    }
    j.EndArray();
    j.OptStr("next_cursor", rows.size() > want ? CartCursor(rows[want - 1].cart.id) : "");
    j.End();
    return Ok(j);
  }

  Result<Response, HttpError> StoreCarts(Request& q) {
    CW_ASSIGN_OR_RETURN(StoreId store, PathId<StoreId>(q, "store"));
    CW_RETURN_IF_ERROR(Scoped(q).Store(store).status());
    return CartRows(q, {.store = store});
  }

  Result<Response, HttpError> Fleet(Request& q) {
    store::FleetQuery query;
    CW_ASSIGN_OR_RETURN(query.store, IdParam<StoreId>(q, "store"));
    if (auto r = Param(q, "region")) {
      query.region = store::ParseRegion(*r);
      if (!query.region) return BadField("region", "must be us or eu");
    }
    query.firmware = Param(q, "firmware");
    if (auto b = Param(q, "battery_below")) {
      int v = -1;
      auto [end, ec] = std::from_chars(b->data(), b->data() + b->size(), v);
      if (ec != std::errc() || end != b->data() + b->size() || v < 1 || v > 101) {
        return BadField("battery_below", "must be a percentage from 1 to 101");
      }
      query.battery_below = v;
    }
    return CartRows(q, query);
  }

  // The Prometheus exposition, for an ops user or whoever holds the scrape token (Prometheus's
  // bearer_token); audited like every request, under the actor "scraper" for the token.
  Result<Response, HttpError> Metrics(Request& q) {
    constexpr std::string_view kBearer = "Bearer ";
    std::string_view auth = q.authorization;
    if (!auth.starts_with(kBearer)) {
      return HttpError(Unauthenticated(auth.empty() ? "missing bearer token (an ops user's, or the scrape token)"
                                                    : "Authorization must be a Bearer token"));
    }
    std::string_view token = auth.substr(kBearer.size());
    if (!s_.scrape_token.empty() && ConstantTimeEqual(token, s_.scrape_token)) {
      q.audit_actor = "scraper";
    } else {
      CW_ASSIGN_OR_RETURN(Principal who, s_.auth.Authenticate(token));
      q.principal = who;
      if (who.role != Role::kOps) return HttpError(PermissionDenied("metrics are for ops users and the scrape token"));
    }
    if (!s_.metrics) return HttpError(Unavailable("this server keeps no metrics"));
    Response r;
    r.body = s_.metrics->Exposition();
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }

  // A cart's link state as the fleet monitor judges it, and its transitions newest first.
  Result<Response, HttpError> CartConnectivity(Request& q) {
    CW_ASSIGN_OR_RETURN(CartId id, PathId<CartId>(q, "cart"));
    CW_ASSIGN_OR_RETURN(size_t limit, LimitParam(q, kDefaultLimit, kMaxLimit));
    CW_ASSIGN_OR_RETURN(std::optional<Time> before, TimeBefore(q));
    FleetAccess access = Scoped(q);
    CW_ASSIGN_OR_RETURN(store::CartOverview c, access.CartOverview(id));
    CW_ASSIGN_OR_RETURN(auto history, access.ConnectivityHistory(id, limit + 1, before));
    Json j;
    j.Begin().Str("cart_id", id.str());
    if (c.connectivity) {
      WriteConnectivity(j, *c.connectivity);
    } else {
      // Never judged yet: not heard from since the monitor started keeping track.
      j.Str("state", "offline").Null("since").Str("cause", "never_seen").Null("connection_started_at");
    }
    size_t n = std::min(limit, history.size());
    j.BeginArray("transitions");
    for (size_t i = 0; i < n; ++i) {
      const auto& t = history[i];
      j.Begin().Str("from", store::Name(t.from)).Str("to", store::Name(t.to)).At("at", t.at).Str("cause", t.cause);
      j.OptAt("connection_started_at", t.connection).End();
    }
    j.EndArray().OptStr("next_cursor", history.size() > limit ? TimeCursor(history[limit - 1].at) : "").End();
    return Ok(j);
  }

  // The fleet-health and pipeline-health series over `window` (default 1h) at `step` (default
  // 1m): what the dashboard charts, from the samples the monitor keeps every tick.
  Result<Response, HttpError> FleetHealth(Request& q) {
    CW_ASSIGN_OR_RETURN(Duration window, WindowParam(q, std::chrono::hours(1)));
    Duration step = std::chrono::minutes(1);
    if (auto st = Param(q, "step")) {
      if (*st == "10s") step = std::chrono::seconds(10);
      else if (*st == "30s") step = std::chrono::seconds(30);
      else if (*st != "1m") return BadField("step", "must be 10s, 30s or 1m");
    }
    if (!s_.history) return HttpError(Unavailable("this server keeps no metric history"));
    const metrics::History& h = *s_.history;
    Time now = Now();
    auto steps = metrics::History::Steps(now, window, step);
    double per_min = 60.0 / std::chrono::duration<double>(step).count();
    Json j;
    auto series = [&](std::string_view key, const std::vector<std::optional<double>>& v, double scale = 1) {
      j.BeginArray(key);
      for (const auto& x : v) {
        if (x) j.w().Double(*x * scale);
        else j.w().Null();
      }
      j.EndArray();
    };
    auto grouped = [&](std::string_view key, const std::map<std::string, std::vector<std::optional<double>>>& g) {
      j.Key(key).Begin();
      for (const auto& [group, v] : g) series(group, v, per_min);
      j.End();
    };
    auto total = [&](const std::string& name) {
      auto g = h.Increase(name, "", steps, step);
      return g.empty() ? std::vector<std::optional<double>>(steps.size()) : g.begin()->second;
    };
    j.Begin().At("at", now).Int("step_s", std::chrono::duration_cast<std::chrono::seconds>(step).count());
    j.BeginArray("times");
    for (Time t : steps) j.w().String(FormatTimeMillis(t).c_str());
    j.EndArray();
    // Fleet health: the five series.
    j.Key("fleet").Begin();
    series("connected", h.Gauge("cw_carts_connected", steps));
    series("stale", h.Gauge("cw_carts_stale", steps));
    series("offline", h.Gauge("cw_carts_offline", steps));
    series("expected_online", h.Gauge("cw_fleet_expected_online", steps));
    grouped("messages_per_min", h.Increase("cw_ingest_received_total", "type", steps, step));
    for (auto [key, quantile] : {std::pair{"latency_p50_s", 0.5}, {"latency_p95_s", 0.95}, {"latency_p99_s", 0.99}}) {
      series(key, h.Quantile("cw_publish_to_cloud_seconds", quantile, steps, step));
    }
    series("auth_failures_per_min", total("cw_broker_auth_failures_total"), per_min);
    {
      auto received = total("cw_ingest_received_total"), rejects = total("cw_ingest_rejects_total"),
           failures = total("cw_ingest_commit_failures_total");
      std::vector<std::optional<double>> rate(steps.size());
      for (size_t k = 0; k < steps.size(); ++k) {
        if (received[k] && *received[k] > 0) rate[k] = (rejects[k].value_or(0) + failures[k].value_or(0)) / *received[k];
      }
      series("error_rate", rate);
    }
    j.End();
    // Pipeline health.
    j.Key("pipeline").Begin();
    grouped("rejects_per_min", h.Increase("cw_ingest_rejects_total", "reason", steps, step));
    series("commit_failures_per_min", total("cw_ingest_commit_failures_total"), per_min);
    series("sink_failures_per_min", total("cw_ingest_sink_failures_total"), per_min);
    series("stored_per_min", total("cw_ingest_stored_total"), per_min);
    series("duplicates_per_min", total("cw_ingest_duplicates_total"), per_min);
    series("write_p50_s", h.Quantile("cw_store_commit_seconds", 0.5, steps, step));
    series("write_p99_s", h.Quantile("cw_store_commit_seconds", 0.99, steps, step));
    series("queue_depth", h.Gauge("cw_ingest_queue_depth", steps));
    j.End().End();
    return Ok(j);
  }

  // Errors by device: the 20 largest (cart, error code) counts over the window, fault codes and
  // reject reasons alike.
  Result<Response, HttpError> ErrorsByDevice(Request& q) {
    CW_ASSIGN_OR_RETURN(Duration window, WindowParam(q, std::chrono::hours(1)));
    if (!s_.cart_stats) return HttpError(Unavailable("this server keeps no per-cart statistics"));
    Json j;
    j.Begin().Int("window_s", std::chrono::duration_cast<std::chrono::seconds>(window).count()).At("at", Now());
    j.BeginArray("items");
    for (const auto& e : s_.cart_stats->TopErrors(Now(), window, 20)) {
      j.Begin().Str("cart_id", e.cart.str()).Str("code", e.code);
      j.Str("kind", wire::ParseRejectReason(e.code) ? "reject" : "fault").Int("count", static_cast<int64_t>(e.count)).End();
    }
    j.EndArray().End();
    return Ok(j);
  }

  // Carts expected online (active, not in maintenance, store open by its hours) against those
  // the fleet monitor sees connected, as of now.
  Result<Response, HttpError> FleetDiff() {
    if (!s_.fleet_diff) return HttpError(Unavailable("this server runs no fleet monitor"));
    CW_ASSIGN_OR_RETURN(monitor::FleetDiff diff, s_.fleet_diff());
    const monitor::FleetDiff* d = &diff;
    Json j;
    j.Begin().At("at", d->at).Int("carts", static_cast<int64_t>(d->carts)).Int("expected", static_cast<int64_t>(d->expected));
    j.Int("connected", static_cast<int64_t>(d->connected)).BeginArray("missing");
    for (const auto& m : d->missing) {
      j.Begin().Str("cart_id", m.cart.str()).Str("store_id", m.store.str()).Str("state", store::Name(m.state));
      j.Str("cause", m.cause).OptAt("since", m.since).End();
    }
    j.EndArray().BeginArray("unexpected");
    for (const auto& c : d->unexpected) j.w().String(c.str().c_str());
    j.EndArray().BeginArray("closed_stores");
    for (const auto& s : d->closed_stores) j.w().String(s.str().c_str());
    j.EndArray().BeginArray("problems");
    for (const auto& p : d->problems) j.w().String(p.c_str());
    j.EndArray().End();
    return Ok(j);
  }

  // The alarms pending and firing now, and the notifications so far, newest first.
  Result<Response, HttpError> Alarms(Request& q) {
    CW_ASSIGN_OR_RETURN(size_t limit, LimitParam(q, kDefaultLimit, kMaxLimit));
    CW_ASSIGN_OR_RETURN(std::optional<Time> before, TimeBefore(q));
    CW_ASSIGN_OR_RETURN(auto history, Scoped(q).AlarmHistory(limit + 1, before));
    Json j;
    j.Begin().BeginArray("active");
    if (s_.active_alarms) {
      for (const auto& a : s_.active_alarms()) {
        j.Begin().Str("alarm", a.alarm).OptStr("subject", a.subject);
        j.Str("state", a.state == monitor::AlarmStatus::State::kFiring ? "firing" : "pending");
        j.Str("severity", store::Name(a.severity)).At("since", a.since);
        j.Key("value").w().Double(a.value);
        j.Key("threshold").w().Double(a.threshold);
        j.Str("summary", a.summary).End();
      }
    }
    j.EndArray().BeginArray("history");
    size_t n = std::min(limit, history.size());
    for (size_t i = 0; i < n; ++i) {
      const auto& e = history[i];
      j.Begin().Str("alarm", e.alarm).OptStr("subject", e.subject).Str("state", e.firing ? "firing" : "resolved");
      j.Str("severity", store::Name(e.severity)).At("at", e.at);
      j.Key("value").w().Double(e.value);
      j.Key("threshold").w().Double(e.threshold);
      j.Str("summary", e.summary).End();
    }
    j.EndArray().OptStr("next_cursor", history.size() > limit ? TimeCursor(history[limit - 1].at) : "").End();
    return Ok(j);
  }

  // What this server has counted of one cart since it started, and its publish->cloud latency
  // percentiles over `window` (5m..1h in 5-minute slices, default 15m).
  Result<Response, HttpError> CartStats(Request& q) {
    CW_ASSIGN_OR_RETURN(CartId id, PathId<CartId>(q, "cart"));
    CW_RETURN_IF_ERROR(Scoped(q).Cart(id).status());  // one of the caller's carts
    CW_ASSIGN_OR_RETURN(Duration window, WindowParam(q, std::chrono::minutes(15)));
    if (!s_.cart_stats) return HttpError(Unavailable("this server keeps no per-cart statistics"));
    auto s = s_.cart_stats->Get(id, Now(), window);
    Json j;
    j.Begin().Str("cart_id", id.str()).Int("window_s", std::chrono::duration_cast<std::chrono::seconds>(window).count());
    j.Int("messages", s ? static_cast<int64_t>(s->messages) : 0).Int("stored", s ? static_cast<int64_t>(s->stored) : 0);
    j.Int("rejects", s ? static_cast<int64_t>(s->rejects) : 0).Int("faults", s ? static_cast<int64_t>(s->faults) : 0);
    j.Int("late", s ? static_cast<int64_t>(s->late) : 0).OptAt("last_seen_at", s ? s->last_seen_at : std::nullopt);
    j.Key("latency").Begin().Int("samples", s ? static_cast<int64_t>(s->latency_samples) : 0);
    auto ms = [&](const char* k, std::optional<double> v) {
      if (v) {
        j.Key(k);
        j.w().Double(std::round(*v * 1e4) / 10);  // milliseconds, 0.1 ms steps
      } else {
        j.Null(k);
      }
    };
    ms("p50_ms", s ? s->p50 : std::nullopt);
    ms("p95_ms", s ? s->p95 : std::nullopt);
    ms("p99_ms", s ? s->p99 : std::nullopt);
    j.End().End();
    return Ok(j);
  }

  // Counters, not rates: a client takes the difference of two readings over its own interval, as
  // Prometheus's rate() does, so the figure never depends on any cart's clock.
  Result<Response, HttpError> IngestStats() {
    if (!s_.ingest_counters) return HttpError(Unavailable("this server runs no ingest pipeline"));
    IngestCounters c = s_.ingest_counters();
    Json j;
    auto n = [](uint64_t v) { return static_cast<int64_t>(v); };
    j.Begin().At("at", Now()).Int("received", n(c.received)).Int("accepted", n(c.accepted));
    j.Int("duplicates", n(c.duplicates)).Int("rejected", n(c.rejected));
    j.Key("rejected_by_reason").Begin();
    for (const auto& [reason, count] : c.rejected_by_reason) j.Int(wire::Name(reason), n(count));
    j.End().End();
    return Ok(j);
  }

  Result<Response, HttpError> Cart(Request& q) {
    CW_ASSIGN_OR_RETURN(CartId id, PathId<CartId>(q, "cart"));
    FleetAccess access = Scoped(q);
    CW_ASSIGN_OR_RETURN(store::CartOverview c, access.CartOverview(id));
    // The session on the cart now, if any: what an override acts on.
    CW_ASSIGN_OR_RETURN(auto recent, access.Sessions({.cart = id, .limit = 1}));
    Json j;
    j.Begin();
    WriteCartRow(j, c, Now(), s_.locator);
    j.Str("serial", c.cart.serial).Str("registration", store::Name(c.cart.status)).At("registered_at", c.cart.registered_at);
    if (!recent.empty() && IsOpen(recent[0].status)) {
      j.Key("open_session").Begin();
      WriteSessionSummary(j, recent[0]);
      j.End();
      q.audit_target = "session=" + recent[0].id.str();
    } else {
      j.Null("open_session");
    }
    j.End();
    return Ok(j);
  }

  Result<Response, HttpError> CartEvents(Request& q) {
    CW_ASSIGN_OR_RETURN(CartId id, PathId<CartId>(q, "cart"));
    CW_ASSIGN_OR_RETURN(size_t limit, LimitParam(q, kDefaultLimit, kMaxLimit));
    CW_ASSIGN_OR_RETURN(auto before, TimeParam(q, "before"));
    std::optional<wire::EventType> type;
    if (auto t = Param(q, "type")) {
      type = wire::ParseEventType(*t);
      if (!type) return BadField("type", "is not an event type (boot, health, session-start, scan, …)");
    }
    std::string cursor = Param(q, "cursor").value_or("");
    if (cursor.empty() && before) cursor = store::CartCursorBefore(id, *before);
    FleetAccess access = Scoped(q);
    // A type filter reads pages and keeps the matches, up to a bounded amount of reading (like a
    // DynamoDB filter expression): a page may hold fewer than `limit` items and still have a cursor.
    std::vector<store::TelemetryEvent> items;
    std::string next = cursor;
    size_t budget = 10 * kMaxLimit;  // events read at most
    for (;;) {
      size_t page_size = type ? std::min(kMaxLimit, budget) : limit;
      CW_ASSIGN_OR_RETURN(auto page, access.CartEvents(id, page_size, next));
      budget -= std::min(budget, page.items.size());
      next = page.next_cursor;
      for (size_t i = 0; i < page.items.size(); ++i) {
        if (type && page.items[i].type != *type) continue;
        items.push_back(std::move(page.items[i]));
        if (items.size() == limit) {
          // Resume after the last item returned, unless it was the cart's oldest.
          if (i + 1 < page.items.size() || !page.next_cursor.empty()) next = store::CartCursorAfter(items.back());
          break;
        }
      }
      if (items.size() == limit || next.empty() || !type || budget == 0) break;
    }
    Json j;
    j.Begin().BeginArray("items");
    for (const auto& e : items) WriteEvent(j, e);
    j.EndArray().OptStr("next_cursor", next).End();
    return Ok(j);
  }

  Result<Response, HttpError> StoreEvents(Request& q) {
    CW_ASSIGN_OR_RETURN(StoreId id, PathId<StoreId>(q, "store"));
    CW_ASSIGN_OR_RETURN(size_t limit, LimitParam(q, kDefaultLimit, kMaxLimit));
    CW_ASSIGN_OR_RETURN(auto since, TimeParam(q, "since"));
    CW_ASSIGN_OR_RETURN(auto until, TimeParam(q, "until"));
    if (!since) return BadField("since", "is required (RFC 3339)");
    Time end = until.value_or(Now() + std::chrono::minutes(1));
    if (end <= *since) return BadField("until", "must be after since");
    CW_ASSIGN_OR_RETURN(auto page, Scoped(q).StoreEvents(id, *since, end, limit, Param(q, "cursor").value_or("")));
    Json j;
    j.Begin().BeginArray("items");
    for (const auto& e : page.items) WriteEvent(j, e);
    j.EndArray().OptStr("next_cursor", page.next_cursor).End();
    return Ok(j);
  }

  Result<Response, HttpError> Session(Request& q) {
    CW_ASSIGN_OR_RETURN(SessionId id, PathId<SessionId>(q, "session"));
    FleetAccess access = Scoped(q);
    CW_ASSIGN_OR_RETURN(store::SessionRecord s, access.Session(id));
    CW_ASSIGN_OR_RETURN(auto scans, access.Scans(id));
    CW_ASSIGN_OR_RETURN(auto overrides, access.Overrides(id));
    q.audit_target = "cart=" + s.cart.str();
    Json j;
    j.Begin();
    WriteSessionSummary(j, s);
    // The customer only as a reference: the pseudonymous account id, never who they are.
    if (s.account) {
      j.Key("customer").Begin().Str("account_id", s.account->str()).Str("identified_by", s.identified_by).End();
    } else {
      j.Null("customer");
    }
    if (s.claimed_item_count) j.Int("claimed_item_count", *s.claimed_item_count);
    else j.Null("claimed_item_count");
    if (s.claimed_total_cents) j.Int("claimed_total_cents", *s.claimed_total_cents);
    else j.Null("claimed_total_cents");
    if (s.payment) {
      j.Key("payment").Begin().Str("status", s.payment->status).Int("amount_cents", s.payment->amount_cents);
      j.At("at", s.payment->ts).End();
    } else {
      j.Null("payment");
    }
    j.OptStr("merged_into", s.merged_into ? s.merged_into->str() : "");
    j.BeginArray("scans");
    for (const auto& sc : scans) {
      j.Begin().Str("cart_id", sc.cart.str()).Int("seq", static_cast<int64_t>(sc.seq)).At("ts", sc.ts).Str("sku", sc.sku);
      j.Int("qty", sc.qty).Int("price_cents", sc.price_cents).Int("weight_delta_g", sc.weight_delta_g);
      if (sc.expected_weight_g) j.Int("expected_weight_g", *sc.expected_weight_g);
      else j.Null("expected_weight_g");
      j.Bool("weight_mismatch", sc.weight_mismatch).OptStr("carried_from", sc.carried_from ? sc.carried_from->str() : "");
      j.End();
    }
    j.EndArray();
    j.BeginArray("overrides");
    for (const auto& o : overrides) {
      j.Begin().Str("cmd_id", o.cmd_id).Str("action", o.action).OptStr("reason", o.reason).Str("by", o.actor);
      j.At("requested_at", o.requested_at).End();
    }
    j.EndArray();
    j.End();
    return Ok(j);
  }

  Result<Response, HttpError> LossPrevention(Request& q) {
    CW_ASSIGN_OR_RETURN(StoreId id, PathId<StoreId>(q, "store"));
    CW_ASSIGN_OR_RETURN(size_t limit, LimitParam(q, 100, kMaxLimit));
    CW_ASSIGN_OR_RETURN(auto flagged, Scoped(q).Sessions({.store = id, .flagged_only = true, .limit = kMaxLimit}));
    Json j;
    j.Begin().BeginArray("items");
    size_t n = 0;
    for (const auto& s : flagged) {
      bool exit_without_pay = std::find(s.fault_codes.begin(), s.fault_codes.end(), "EXIT_WITHOUT_PAY") != s.fault_codes.end();
      bool open_and_off = IsOpen(s.status) && s.weight_mismatches > 0;
      // An exit without paying stays on the list for a day, whatever the session did next.
      bool recent_exit = exit_without_pay && (IsOpen(s.status) || Now() - s.started_at < std::chrono::hours(24));
      if (!open_and_off && !recent_exit) continue;
      if (n++ == limit) break;
      j.w().StartObject();
      WriteSessionSummary(j, s);
      j.Bool("exit_without_pay", exit_without_pay);
      j.w().EndObject();
    }
    j.EndArray().End();
    return Ok(j);
  }

  Result<Response, HttpError> AuditEntries(Request& q, store::AuditQuery query) {
    CW_ASSIGN_OR_RETURN(query.limit, LimitParam(q, 100, kMaxLimit));
    CW_ASSIGN_OR_RETURN(query.since, TimeParam(q, "since"));
    if (auto c = Param(q, "cursor")) {
      auto raw = Base64UrlDecode(*c);
      int64_t after = -1;
      if (raw) std::from_chars(raw->data(), raw->data() + raw->size(), after);
      if (after < 0) return BadField("cursor", "is not a cursor this API issued");
      query.after_seq = after;
    }
    size_t want = query.limit;
    query.limit = want + 1;
    CW_ASSIGN_OR_RETURN(auto entries, Scoped(q).Audit(query));
    Json j;
    j.Begin().BeginArray("items");
    for (size_t i = 0; i < entries.size() && i < want; ++i) {
      const auto& e = entries[i];
      j.Begin().Int("seq", e.seq).At("at", e.at).Str("actor", e.actor).Str("role", e.role).Str("action", e.action);
      j.Str("target", e.target).Str("outcome", e.outcome).Bool("pii", e.pii).OptStr("purpose", e.purpose);
      j.Str("hash", e.hash).End();
    }
    j.EndArray();
    j.OptStr("next_cursor", entries.size() > want ? Base64UrlEncode(std::to_string(entries[want - 1].seq)) : "");
    j.End();
    return Ok(j);
  }

  Result<Response, HttpError> CartAudit(Request& q) {
    CW_ASSIGN_OR_RETURN(CartId id, PathId<CartId>(q, "cart"));
    return AuditEntries(q, {.target = "cart=" + id.str()});
  }

  Result<Response, HttpError> Audit(Request& q) { return AuditEntries(q, {.actor = Param(q, "actor")}); }

  Result<Response, HttpError> Rejects(Request& q) {
    store::RejectQuery query;
    CW_ASSIGN_OR_RETURN(query.limit, LimitParam(q, kDefaultLimit, kMaxLimit));
    query.cursor = Param(q, "cursor").value_or("");
    CW_ASSIGN_OR_RETURN(query.cart, IdParam<CartId>(q, "cart"));
    if (auto r = Param(q, "reason")) {
      query.reason = wire::ParseRejectReason(*r);
      if (!query.reason) return BadField("reason", "is not a reject reason (bad_signature, schema_violation, …)");
    }
    CW_ASSIGN_OR_RETURN(auto page, Scoped(q).Rejects(query));
    Json j;
    j.Begin().BeginArray("items");
    for (const auto& d : page.items) {
      j.Begin().At("received_at", d.received_at).Str("topic", d.topic).OptStr("cart_id", d.cart ? d.cart->str() : "");
      if (d.seq) j.Int("seq", static_cast<int64_t>(*d.seq));
      else j.Null("seq");
      j.Str("reason", wire::Name(d.reason)).Str("detail", d.detail).Int("payload_bytes", static_cast<int64_t>(d.payload.size()));
      j.End();
    }
    j.EndArray().OptStr("next_cursor", page.next_cursor).End();
    return Ok(j);
  }

  Result<Response, HttpError> Maintenance(Request& q) {
    CW_ASSIGN_OR_RETURN(CartId id, PathId<CartId>(q, "cart"));
    CW_ASSIGN_OR_RETURN(auto body, Body(q));
    auto enabled = wire::GetBool(body, "in_maintenance");
    if (!enabled) return BadField("in_maintenance", "is required (true or false)");
    std::string reason(wire::GetString(body, "reason").value_or(""));
    if (reason.size() > 256) return BadField("reason", "is longer than 256 characters");
    FleetAccess access = Scoped(q);
    Time now = Now();
    CW_RETURN_IF_ERROR(access.SetMaintenance(id, {*enabled, reason, now}));
    // Tell the cart, so it refuses new shoppers while out of service. The platform's record is
    // what counts; a cart offline now hears it at its next command.
    bool told = false;
    if (s_.commands) {
      wire::JsonBuilder b;
      wire::WriteCommandHeader({wire::CommandKind::kMaintenance, s_.random.UuidV4(), id, now, now + std::chrono::hours(24)}, b);
      b.Field("enabled", *enabled);
      if (!reason.empty()) b.Field("reason", reason);
      told = s_.commands->Send(id, b.Finish()).ok();
    }
    CW_ASSIGN_OR_RETURN(store::CartOverview c, access.CartOverview(id));
    Json j;
    j.Begin();
    WriteCartRow(j, c, now, s_.locator);
    j.Bool("cart_notified", told).End();
    return Ok(j);
  }

  // A challenge for the cart to sign into its proximity token as the nonce. A token that answers one
  // is judged by our clock alone, however far off the cart's is. Unpredictable, so nobody at the
  // cart earlier can have had a future challenge signed in advance.
  Result<Response, HttpError> Challenge(Request& q) {
    CW_ASSIGN_OR_RETURN(CartId id, PathId<CartId>(q, "cart"));
    FleetAccess access = Scoped(q);
    CW_RETURN_IF_ERROR(access.RequireWriter());
    CW_RETURN_IF_ERROR(access.Cart(id).status());  // one of the caller's carts
    CW_ASSIGN_OR_RETURN(std::string bytes, crypto::RandomBytes(16));
    Time now = Now();
    store::ProximityChallenge c{ToHex(AsBytes(bytes)), id, now, now + wire::kMaxProximityTokenLifetime};
    CW_RETURN_IF_ERROR(s_.deps.entities.IssueProximityChallenge(c));
    Json j;
    j.Begin().Str("challenge", c.nonce).Str("cart_id", id.str()).At("issued_at", c.issued_at).At("expires_at", c.expires_at);
    j.End();
    return Ok(j, 201);
  }

  Result<Response, HttpError> Override(Request& q) {
    CW_ASSIGN_OR_RETURN(SessionId id, PathId<SessionId>(q, "session"));
    CW_ASSIGN_OR_RETURN(auto body, Body(q));
    CW_ASSIGN_OR_RETURN(std::string action, RequiredString(body, "action", 16));
    if (action != "pause" && action != "cancel" && action != "restart") {
      return BadField("action", "must be pause, cancel or restart");
    }
    CW_ASSIGN_OR_RETURN(std::string token, RequiredString(body, "proximity_token", 4096));
    std::string reason(wire::GetString(body, "reason").value_or(""));
    if (reason.size() > 256) return BadField("reason", "is longer than 256 characters");
    FleetAccess access = Scoped(q);
    CW_RETURN_IF_ERROR(access.RequireWriter());
    CW_ASSIGN_OR_RETURN(store::SessionRecord session, access.Session(id));
    q.audit_target = "cart=" + session.cart.str();
    if (!IsOpen(session.status)) {
      return HttpError(FailedPrecondition("session is " + std::string(store::Name(session.status)) +
                                          "; only an active or paused session can be overridden"));
    }
    // The proximity token: the cart's own signature proves the staff member stands at it.
    auto bad_token = [](const std::string& why) { return HttpError(PermissionDenied("proximity token " + why), "proximity_token"); };
    auto decoded = wire::DecodeProximityToken(token);
    if (!decoded.ok()) return bad_token("is malformed: " + decoded.error().message());
    const wire::ProximityClaims& claims = decoded->claims;
    if (claims.purpose != wire::kPurposeStaffOverride) return bad_token("is not for a staff override");
    if (claims.cart != session.cart) return bad_token("comes from " + claims.cart.str() + ", not the session's cart " + session.cart.str());
    CW_ASSIGN_OR_RETURN(store::CartRecord cart, access.Cart(session.cart));
    auto key = crypto::PublicKey::FromPem(cart.public_key_pem);
    if (!key.ok()) return HttpError(Internal("cart " + cart.id.str() + " has an unreadable public key"));
    if (!key->Verify(decoded->json, decoded->signature)) return bad_token("is not signed by " + cart.id.str());
    Time now = Now();
    auto challenge = s_.deps.entities.GetProximityChallenge(claims.nonce, now);
    if (challenge.ok()) {
      // It answers our challenge: fresh by our own clock, whatever the cart's says.
      if (challenge->cart != cart.id) return bad_token("answers a challenge issued for " + challenge->cart.str());
    } else if (challenge.error().code() != Code::kNotFound) {
      return HttpError(challenge.error());
    } else {
      // A token without our challenge carries only the cart's clock, which need not be ours:
      // judge it by what the cart's clock says now, as measured from its newest live event (a
      // cart never heard from: ours), with 30 s for the drift since that event.
      CW_ASSIGN_OR_RETURN(store::CartOverview seen, access.CartOverview(cart.id));
      Time cart_now = now;
      if (seen.activity && seen.activity->clock_offset) cart_now += *seen.activity->clock_offset;
      if (claims.issued_at > cart_now + std::chrono::seconds(30)) return bad_token("was issued in the future");
      if (cart_now > claims.expires_at + std::chrono::seconds(30) ||
          cart_now - claims.issued_at > wire::kMaxProximityTokenLifetime + std::chrono::seconds(30)) {
        return bad_token("has expired");
      }
    }
    // Remembered for longer than the token can pass for fresh.
    Status fresh = s_.deps.entities.ConsumeProximityNonce(claims.nonce, cart.id, now,
                                                          now + wire::kMaxProximityTokenLifetime + std::chrono::minutes(2));
    if (fresh.code() == Code::kAlreadyExists) return bad_token("was already used");
    CW_RETURN_IF_ERROR(fresh);
    if (!s_.commands) return HttpError(Unavailable("this server has no broker connection to command carts"));
    // Issued no later than the cart's own clock says it is, so the cart never sees it from its future.
    Time issued = std::min(now, claims.issued_at);
    std::string cmd_id = s_.random.UuidV4();
    wire::JsonBuilder b;
    wire::WriteCommandHeader({wire::CommandKind::kSessionOverride, cmd_id, cart.id, issued, issued + std::chrono::minutes(5)}, b);
    b.Field("session_id", id.str()).Field("action", action);
    if (!reason.empty()) b.Field("reason", reason);
    CW_RETURN_IF_ERROR(s_.commands->Send(cart.id, b.Finish()));
    CW_RETURN_IF_ERROR(s_.deps.entities.RecordOverride({cmd_id, id, cart.id, action, reason, q.who().user, now}));
    Json j;
    j.Begin().Str("cmd_id", cmd_id).Str("session_id", id.str()).Str("cart_id", cart.id.str()).Str("action", action);
    j.Str("status", "sent").End();
    return Ok(j, 202);
  }

  ApiServices& s_;
};

}  // namespace

void AddRoutes(Router& router, ApiServices& services) {
  auto routes = std::make_shared<Routes>(services);
  routes->AddTo(router);
  router.KeepAlive(routes);  // the handlers point into it
  AddFirmwareRoutes(router, services.firmware, services.deps.entities);
  AddRolloutRoutes(router, services.firmware, services.deps.entities, services.deps.clock, services.random);
}

}  // namespace cw::api
