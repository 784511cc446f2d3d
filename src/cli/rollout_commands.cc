#include "cli/rollout_commands.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "api/rollout_routes.h"
#include "core/files.h"
#include "core/time_format.h"
#include "ota/rollout.h"
#include "pki/pki.h"
#include "store/audit_log.h"
#include "store/registry.h"

namespace cw::cli {
namespace {

struct StartArgs {
  std::string version, stages, jitter = "30s";
  std::vector<std::string> stores, carts;
  int pace = 60;
  bool json = false;
};

struct ActArgs {
  std::string id, reason;
  bool json = false;
};

struct OptArgs {
  std::string subject, reason;
};

std::string Actor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user && *user ? user : std::to_string(::getuid()));
}

struct Opened {
  std::unique_ptr<store::EntityStore> entities;
  std::unique_ptr<store::BlobStore> blobs;
  std::unique_ptr<ota::FirmwareCatalog> catalog;
};

Result<Opened> Open(const Config& config, bool with_catalog) {
  Opened o;
  auto registry = store::Registry::WithBuiltinBackends();
  CW_ASSIGN_OR_RETURN(o.entities, registry.OpenEntity(config.stores.entity));
  if (with_catalog) {
    CW_ASSIGN_OR_RETURN(auto keys, pki::LoadFirmwareSigningKeys(pki::Layout(config.data_dir)));
    CW_ASSIGN_OR_RETURN(o.blobs, registry.OpenBlobs(config.stores.blobs));
    o.catalog = std::make_unique<ota::FirmwareCatalog>(*o.blobs, std::move(keys));
  }
  return o;
}

Status Audit(store::EntityStore& entities, const std::string& action, const std::string& target, const Status& outcome) {
  return entities.audit()
      .Append({.actor = Actor(), .role = "operator", .action = action, .target = target,
               .outcome = outcome.ok() ? "ok" : std::string(CodeName(outcome.code()))})
      .status();
}

void Print(const ota::RolloutSummary& s, bool json) {
  if (json) {
    std::printf("%s\n", api::RolloutJson(s, true).c_str());
    return;
  }
  const auto& r = s.rollout;
  std::printf("rollout %s: firmware %s, %s, stage %d/%zu (%s)\n", r.id.c_str(), r.version.c_str(),
              std::string(store::Name(r.state)).c_str(), r.stage + 1, r.stages.size(),
              r.stages[static_cast<size_t>(r.stage)].name.c_str());
  if (!r.halt_reason.empty()) std::printf("  halt reason: %s\n", r.halt_reason.c_str());
  std::printf("  %d carts: %.1f%% on %s, %.1f%% rolled back;", s.targets, s.on_new_version_pct, r.version.c_str(),
              s.rolled_back_pct);
  for (const auto& [state, n] : s.by_state) std::printf(" %s %d", std::string(store::Name(state)).c_str(), n);
  std::printf("\n");
}

Status Start(const Config& config, const StartArgs& a) {
  CW_ASSIGN_OR_RETURN(Opened o, Open(config, true));
  ota::RolloutRequest req;
  req.version = a.version;
  for (const auto& s : a.stores) {
    CW_ASSIGN_OR_RETURN(StoreId id, StoreId::Parse(s));
    req.stores.push_back(id);
  }
  for (const auto& c : a.carts) {
    CW_ASSIGN_OR_RETURN(CartId id, CartId::Parse(c));
    req.carts.push_back(id);
  }
  if (!a.stages.empty()) {
    rapidjson::Document doc;
    doc.Parse(a.stages.c_str());
    if (doc.HasParseError()) return InvalidArgument("--stages must be JSON, e.g. '[{\"carts\":2,\"duration\":\"1m\"},{\"percent\":100}]'");
    CW_ASSIGN_OR_RETURN(req.stages, api::ParseStages(doc));
  }
  req.pace_per_minute = a.pace;
  auto jitter = ParseDuration(a.jitter, /*allow_zero=*/true);
  if (!jitter.ok()) return InvalidArgument("--jitter: " + jitter.error().message());
  req.jitter = *jitter;
  req.actor = Actor();
  auto r = ota::CreateRollout(req, *o.entities, *o.catalog, Clock::System(), Random::System());
  CW_RETURN_IF_ERROR(Audit(*o.entities, "rollout start", "version=" + a.version + (r.ok() ? " rollout=" + r->id : ""),
                           r.status()));
  CW_RETURN_IF_ERROR(r.status());
  CW_ASSIGN_OR_RETURN(auto s, ota::DescribeRollout(*o.entities, r->id));
  Print(s, a.json);
  return Status::Ok();
}

Status List(const Config& config) {
  CW_ASSIGN_OR_RETURN(Opened o, Open(config, false));
  CW_ASSIGN_OR_RETURN(auto all, o.entities->ListRollouts(50));
  if (all.empty()) std::printf("no rollouts yet (start one with `cartwright rollout start --version X.Y.Z`)\n");
  for (const auto& r : all) {
    CW_ASSIGN_OR_RETURN(auto s, ota::DescribeRollout(*o.entities, r.id));
    Print(s, false);
  }
  return Status::Ok();
}

Status Act(const Config& config, const std::string& action, const ActArgs& a) {
  CW_ASSIGN_OR_RETURN(Opened o, Open(config, false));
  Status st;
  if (action == "show") {
    CW_ASSIGN_OR_RETURN(auto s, ota::DescribeRollout(*o.entities, a.id));
    Print(s, a.json);
    return Status::Ok();
  }
  if (action == "halt") {
    st = ota::HaltRollout(*o.entities, a.id, "halted by " + Actor() + (a.reason.empty() ? "" : ": " + a.reason),
                          Clock::System());
  } else if (action == "release") {
    st = ota::ReleaseRollout(*o.entities, a.id, Clock::System());
  } else {
    st = ota::AbortRollout(*o.entities, a.id, Clock::System());
  }
  CW_RETURN_IF_ERROR(Audit(*o.entities, "rollout " + action, "rollout=" + a.id, st));
  CW_RETURN_IF_ERROR(st);
  CW_ASSIGN_OR_RETURN(auto s, ota::DescribeRollout(*o.entities, a.id));
  Print(s, a.json);
  return Status::Ok();
}

Status OptOut(const Config& config, const OptArgs& a, bool out) {
  CW_ASSIGN_OR_RETURN(Opened o, Open(config, false));
  Status st = out ? o.entities->SetOtaOptOut({a.subject, a.reason, Actor(), Clock::System().Now()})
                  : o.entities->ClearOtaOptOut(a.subject);
  CW_RETURN_IF_ERROR(Audit(*o.entities, out ? "rollout opt-out" : "rollout opt-in", "subject=" + a.subject, st));
  CW_RETURN_IF_ERROR(st);
  std::printf("%s %s OTA rollouts\n", a.subject.c_str(), out ? "now takes no" : "takes part in");
  return Status::Ok();
}

}  // namespace

std::vector<CLI::App*> AddRolloutCommands(CLI::App& app, std::function<Status(const Config&)>& action) {
  auto* ro = app.add_subcommand("rollout", "Staged OTA rollouts of a firmware release (docs/ota.md)");
  ro->require_subcommand(1);
  std::vector<CLI::App*> out = {ro};

  auto sa = std::make_shared<StartArgs>();
  auto* start = ro->add_subcommand("start", "Start a rollout (one at a time); refused if a target cart lacks a key the image needs");
  start->add_option("--version", sa->version, "A release in the catalog")->required();
  start->add_option("--store", sa->stores, "Only these stores (repeatable; default the whole fleet)");
  start->add_option("--cart", sa->carts, "Only these carts (repeatable)");
  start->add_option("--stages", sa->stages,
                    "JSON stages [{\"name\",\"carts\"|\"percent\",\"duration\"}…] (default canary 10 for 24h, 1% 72h, "
                    "10% 24h, 25% 24h, 100%)");
  start->add_option("--pace", sa->pace, "Job commands per minute at most")->capture_default_str();
  start->add_option("--jitter", sa->jitter, "Each send is delayed by up to this, at random")->capture_default_str();
  start->add_flag("--json", sa->json, "Print the rollout as JSON");
  start->callback([&action, sa] { action = [sa](const Config& c) { return Start(c, *sa); }; });
  out.push_back(start);

  auto* list = ro->add_subcommand("list", "Rollouts, newest first, with their progress");
  list->callback([&action] { action = [](const Config& c) { return List(c); }; });
  out.push_back(list);

  for (const char* name : {"show", "halt", "release", "abort"}) {
    auto aa = std::make_shared<ActArgs>();
    std::string help = std::string(name) == "show"      ? "One rollout with every cart's job"
                       : std::string(name) == "halt"    ? "Hold the next stage until released"
                       : std::string(name) == "release" ? "Let a halted rollout go on (accepts the rollbacks so far)"
                                                        : "Stop a rollout for good; unsent jobs are withdrawn";
    auto* cmd = ro->add_subcommand(name, help);
    cmd->add_option("id", aa->id, "The rollout id")->required();
    if (std::string(name) == "halt") cmd->add_option("--reason", aa->reason, "Why, for the record");
    cmd->add_flag("--json", aa->json, "Print the rollout as JSON");
    std::string act = name;
    cmd->callback([&action, aa, act] { action = [aa, act](const Config& c) { return Act(c, act, *aa); }; });
    out.push_back(cmd);
  }

  auto oa = std::make_shared<OptArgs>();
  auto* opt_out = ro->add_subcommand("opt-out", "A store or cart takes no rollout until opted in again");
  opt_out->add_option("subject", oa->subject, "STORE-… or CART-…")->required();
  opt_out->add_option("--reason", oa->reason, "Why")->required();
  opt_out->callback([&action, oa] { action = [oa](const Config& c) { return OptOut(c, *oa, true); }; });
  out.push_back(opt_out);
  auto ia = std::make_shared<OptArgs>();
  auto* opt_in = ro->add_subcommand("opt-in", "Lift an opt-out");
  opt_in->add_option("subject", ia->subject, "STORE-… or CART-…")->required();
  opt_in->callback([&action, ia] { action = [ia](const Config& c) { return OptOut(c, *ia, false); }; });
  out.push_back(opt_in);
  return out;
}

}  // namespace cw::cli
