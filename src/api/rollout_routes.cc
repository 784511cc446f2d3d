#include "api/rollout_routes.h"

#include "core/time_format.h"
#include "wire/json.h"

namespace cw::api {

using store::Role;

namespace {

Response Json(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

std::string RolloutJson(const ota::RolloutSummary& s, bool with_jobs) {
  const auto& r = s.rollout;
  wire::JsonBuilder b;
  b.Field("id", r.id).Field("version", r.version).Field("state", store::Name(r.state));
  b.Field("stage", r.stage).Field("stage_name", r.stages[static_cast<size_t>(r.stage)].name);
  b.Field("stage_started_at", FormatTimeMillis(r.stage_started_at));
  auto& w = b.Key("stages").writer();
  w.StartArray();
  for (const auto& st : r.stages) {
    w.StartObject();
    w.Key("name");
    w.String(st.name.c_str());
    if (st.carts) {
      w.Key("carts");
      w.Int(*st.carts);
    } else {
      w.Key("percent");
      w.Double(st.percent);
    }
    w.Key("duration");
    w.String(FormatShortDuration(st.bake).c_str());
    w.EndObject();
  }
  w.EndArray();
  b.Key("targets");
  w.StartObject();
  w.Key("stores");
  w.StartArray();
  for (const auto& id : r.stores) w.String(id.str().c_str());
  w.EndArray();
  w.Key("carts");
  w.StartArray();
  for (const auto& id : r.carts) w.String(id.str().c_str());
  w.EndArray();
  w.EndObject();
  b.Field("pace_per_minute", r.pace_per_minute).Field("jitter", FormatShortDuration(r.jitter));
  b.Field("created_by", r.created_by).Field("created_at", FormatTimeMillis(r.created_at));
  b.Field("halt_reason", r.halt_reason);
  b.Field("carts", s.targets).Field("on_new_version_pct", s.on_new_version_pct).Field("rolled_back_pct", s.rolled_back_pct);
  b.Key("jobs_by_state");
  w.StartObject();
  for (auto st : {store::JobState::kQueued, store::JobState::kInProgress, store::JobState::kSucceeded,
                  store::JobState::kFailed, store::JobState::kRolledBack}) {
    w.Key(std::string(store::Name(st)).c_str());
    auto it = s.by_state.find(st);
    w.Int(it == s.by_state.end() ? 0 : it->second);
  }
  w.EndObject();
  if (with_jobs) {
    b.Key("jobs");
    w.StartArray();
    for (const auto& j : s.jobs) {
      w.StartObject();
      w.Key("cart");
      w.String(j.cart.str().c_str());
      w.Key("job_id");
      w.String(j.job_id.c_str());
      w.Key("stage");
      w.Int(j.stage);
      w.Key("state");
      w.String(std::string(store::Name(j.state)).c_str());
      w.Key("from_version");
      w.String(j.from_version.c_str());
      w.Key("sent_at");
      if (j.sent_at) {
        w.String(FormatTimeMillis(*j.sent_at).c_str());
      } else {
        w.Null();
      }
      w.Key("detail");
      w.String(j.detail.c_str());
      w.EndObject();
    }
    w.EndArray();
  }
  return b.Finish();
}

Result<std::vector<store::RolloutStage>> ParseStages(const rapidjson::Value& stages) {
  if (!stages.IsArray()) return InvalidArgument("stages must be an array");
  std::vector<store::RolloutStage> out;
  for (const auto& v : stages.GetArray()) {
    std::string where = "stages[" + std::to_string(out.size()) + "]";
    if (!v.IsObject()) return InvalidArgument(where + " must be an object");
    for (const auto& m : v.GetObject()) {
      std::string k = m.name.GetString();
      if (k != "name" && k != "carts" && k != "percent" && k != "duration") {
        return InvalidArgument(where + ": unknown field '" + k + "' (name, carts, percent, duration)");
      }
    }
    store::RolloutStage st;
    st.name = std::string(wire::GetString(v, "name").value_or(""));
    bool has_carts = v.HasMember("carts"), has_percent = v.HasMember("percent");
    if (has_carts == has_percent) return InvalidArgument(where + ": give exactly one of carts or percent");
    if (has_carts) {
      if (!v["carts"].IsInt()) return InvalidArgument(where + ".carts must be a whole number");
      st.carts = v["carts"].GetInt();
    } else {
      if (!v["percent"].IsNumber()) return InvalidArgument(where + ".percent must be a number");
      st.percent = v["percent"].GetDouble();
    }
    if (auto d = wire::GetString(v, "duration")) {
      auto parsed = ParseDuration(*d, /*allow_zero=*/true);
      if (!parsed.ok()) return InvalidArgument(where + ".duration: " + parsed.error().message());
      st.bake = *parsed;
    } else if (v.HasMember("duration")) {
      return InvalidArgument(where + ".duration must be a string such as \"24h\"");
    }
    if (st.name.empty()) {
      char pct[32];
      std::snprintf(pct, sizeof pct, "%g%%", st.percent);
      st.name = st.carts ? std::to_string(*st.carts) + " carts" : pct;
    }
    out.push_back(std::move(st));
  }
  return out;
}

namespace {

class RolloutRoutes {
 public:
  RolloutRoutes(ota::FirmwareCatalog* catalog, store::EntityStore& entities, Clock& clock, Random& random)
      : catalog_(catalog), entities_(entities), clock_(clock), random_(random) {}

  void AddTo(Router& r) {
    auto ops = Roles({Role::kOps});
    r.Add({"GET", "/api/v1/rollouts", ops, [this](Request&) { return List(); }});
    r.Add({"POST", "/api/v1/rollouts", ops, [this](Request& q) { return Create(q); }});
    r.Add({"GET", "/api/v1/rollouts/{id}", ops, [this](Request& q) { return Show(q.params["id"], 200); }});
    r.Add({"POST", "/api/v1/rollouts/{id}/halt", ops, [this](Request& q) { return Act(q, "halt"); }});
    r.Add({"POST", "/api/v1/rollouts/{id}/release", ops, [this](Request& q) { return Act(q, "release"); }});
    r.Add({"POST", "/api/v1/rollouts/{id}/abort", ops, [this](Request& q) { return Act(q, "abort"); }});
    r.Add({"GET", "/api/v1/ota/opt-outs", ops, [this](Request&) { return OptOuts(); }});
    r.Add({"PUT", "/api/v1/ota/opt-outs/{subject}", ops, [this](Request& q) { return OptOut(q); }});
    r.Add({"DELETE", "/api/v1/ota/opt-outs/{subject}", ops, [this](Request& q) -> Result<Response, HttpError> {
             Status st = entities_.ClearOtaOptOut(q.params["subject"]);
             if (!st.ok()) return HttpError(st);
             return Json("{}", 200);
           }});
  }

 private:
  Result<Response, HttpError> List() {
    auto all = entities_.ListRollouts(100);
    if (!all.ok()) return HttpError(all.error());
    std::string body = "{\"rollouts\":[";
    for (size_t i = 0; i < all->size(); ++i) {
      auto s = ota::DescribeRollout(entities_, (*all)[i].id);
      if (!s.ok()) return HttpError(s.error());
      body += (i ? "," : "") + RolloutJson(*s, false);
    }
    return Json(body + "]}");
  }

  Result<Response, HttpError> Show(const std::string& id, int status) {
    auto s = ota::DescribeRollout(entities_, id);
    if (!s.ok()) return HttpError(s.error());
    return Json(RolloutJson(*s, true), status);
  }

  Result<Response, HttpError> Create(Request& q) {
    if (!catalog_) return HttpError(Unavailable("the firmware catalog is not available on this server"));
    rapidjson::Document doc;
    Status parsed = wire::ParseStrictObject(q.body, doc);
    if (!parsed.ok()) return HttpError(InvalidArgument("request body: " + parsed.message()), "body");
    for (const auto& m : doc.GetObject()) {
      std::string k = m.name.GetString();
      if (k != "version" && k != "stores" && k != "carts" && k != "stages" && k != "pace_per_minute" && k != "jitter") {
        return BadField(k, "unknown field (version, stores, carts, stages, pace_per_minute, jitter)");
      }
    }
    ota::RolloutRequest req;
    auto version = wire::GetString(doc, "version");
    if (!version) return BadField("version", "is required (a release in the catalog)");
    req.version = std::string(*version);
    for (const char* key : {"stores", "carts"}) {
      if (!doc.HasMember(key)) continue;
      if (!doc[key].IsArray()) return BadField(key, "must be an array of ids");
      for (const auto& v : doc[key].GetArray()) {
        if (!v.IsString()) return BadField(key, "must be an array of ids");
        if (std::string_view(key) == "stores") {
          auto id = StoreId::Parse(v.GetString());
          if (!id.ok()) return BadField(key, id.error().message());
          req.stores.push_back(*id);
        } else {
          auto id = CartId::Parse(v.GetString());
          if (!id.ok()) return BadField(key, id.error().message());
          req.carts.push_back(*id);
        }
      }
    }
    if (doc.HasMember("stages")) {
      auto stages = ParseStages(doc["stages"]);
      if (!stages.ok()) return HttpError(stages.error(), "stages");
      req.stages = std::move(*stages);
    }
    if (doc.HasMember("pace_per_minute")) {
      if (!doc["pace_per_minute"].IsInt()) return BadField("pace_per_minute", "must be a whole number");
      req.pace_per_minute = doc["pace_per_minute"].GetInt();
    }
    if (auto j = wire::GetString(doc, "jitter")) {
      auto d = ParseDuration(*j, /*allow_zero=*/true);
      if (!d.ok()) return BadField("jitter", d.error().message());
      req.jitter = *d;
    } else if (doc.HasMember("jitter")) {
      return BadField("jitter", "must be a duration such as \"30s\"");
    }
    req.actor = q.who().user;
    auto r = ota::CreateRollout(req, entities_, *catalog_, clock_, random_);
    if (!r.ok()) return HttpError(r.error());
    q.audit_target = "rollout=" + r->id + " version=" + r->version;
    return Show(r->id, 201);
  }

  Result<Response, HttpError> Act(Request& q, std::string_view action) {
    const std::string& id = q.params["id"];
    Status st;
    if (action == "halt") {
      std::string reason;
      if (!q.body.empty()) {
        rapidjson::Document doc;
        Status parsed = wire::ParseStrictObject(q.body, doc);
        if (!parsed.ok()) return HttpError(InvalidArgument("request body: " + parsed.message()), "body");
        reason = std::string(wire::GetString(doc, "reason").value_or(""));
      }
      st = ota::HaltRollout(entities_, id, "halted by " + q.who().user + (reason.empty() ? "" : ": " + reason), clock_);
    } else if (action == "release") {
      st = ota::ReleaseRollout(entities_, id, clock_);
    } else {
      st = ota::AbortRollout(entities_, id, clock_);
    }
    if (!st.ok()) return HttpError(st);
    q.audit_target = "rollout=" + id;
    return Show(id, 200);
  }

  Result<Response, HttpError> OptOuts() {
    auto all = entities_.ListOtaOptOuts();
    if (!all.ok()) return HttpError(all.error());
    std::string body = "{\"opt_outs\":[";
    for (size_t i = 0; i < all->size(); ++i) {
      const auto& o = (*all)[i];
      wire::JsonBuilder b;
      b.Field("subject", o.subject).Field("reason", o.reason).Field("by", o.actor).Field("at", FormatTimeMillis(o.at));
      body += (i ? "," : "") + b.Finish();
    }
    return Json(body + "]}");
  }

  Result<Response, HttpError> OptOut(Request& q) {
    rapidjson::Document doc;
    Status parsed = wire::ParseStrictObject(q.body, doc);
    if (!parsed.ok()) return HttpError(InvalidArgument("request body: " + parsed.message()), "body");
    auto reason = wire::GetString(doc, "reason");
    if (!reason || reason->empty()) return BadField("reason", "is required (why this store or cart takes no update)");
    store::OtaOptOut o{q.params["subject"], std::string(*reason), q.who().user, clock_.Now()};
    Status st = entities_.SetOtaOptOut(o);
    if (!st.ok()) return HttpError(st);
    return Json(wire::JsonBuilder().Field("subject", o.subject).Field("reason", o.reason).Finish());
  }

  ota::FirmwareCatalog* catalog_;
  store::EntityStore& entities_;
  Clock& clock_;
  Random& random_;
};

}  // namespace

void AddRolloutRoutes(Router& router, ota::FirmwareCatalog* catalog, store::EntityStore& entities, Clock& clock,
                      Random& random) {
  auto routes = std::make_shared<RolloutRoutes>(catalog, entities, clock, random);
  routes->AddTo(router);
  router.KeepAlive(routes);
}

}  // namespace cw::api
