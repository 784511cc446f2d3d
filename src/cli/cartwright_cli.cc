#include "cli/cartwright_cli.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "api/routes.h"
#include "cli/firmware_commands.h"
#include "cli/rollout_commands.h"
#include "api/server.h"
#include "broker/managed_broker.h"
#include "core/config.h"
#include "core/files.h"
#include "core/log.h"
#include "core/time_format.h"
#include "crypto/key_store.h"
#include "ingest/service.h"
#include "monitor/fleet_monitor.h"
#include "monitor/notify.h"
#include "monitor/opening_hours.h"
#include "ota/firmware_catalog.h"
#include "ota/rollout.h"
#include "pki/pki.h"
#include "identity/identity_service.h"
#include "identity/vault.h"
#include "retail/catalog_import.h"
#include "retail/projector.h"
#include "retail/receipts.h"
#include "store/registry.h"
#include "wire/json.h"

namespace cw::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// A failure the user should read: one line, right exit code.
struct Failure {
  int exit_code;
  std::string message;
};

int Report(const Status& st) {
  if (st.ok()) return 0;
  std::fprintf(stderr, "cartwright: %s\n", st.message().c_str());
  return st.code() == Code::kInvalidArgument ? kExitUsage : kExitFailed;
}

Result<std::unique_ptr<store::EntityStore>> OpenEntities(const Config& config) {
  CW_RETURN_IF_ERROR(MakeDirs(config.data_dir, 0755));
  return store::Registry::WithBuiltinBackends().OpenEntity(config.stores.entity);
}

Result<std::unique_ptr<identity::Vault>> OpenVault(const Config& config) {
  CW_RETURN_IF_ERROR(MakeDirs(config.data_dir, 0755));
  return identity::Vault::Open(config.stores.vault, config.stores.vault_key_file, Clock::System());
}

// Who runs an operator command, for the audit logs.
identity::Access OperatorAccess(std::string purpose) {
  const char* user = std::getenv("USER");
  return {std::string("cli:") + (user && *user ? user : std::to_string(::getuid())), "operator", std::move(purpose)};
}

// A zone the system's tz database knows (the fleet diff reads stores' local time with it).
Status ValidateTimezone(const std::string& tz) {
  if (!monitor::ToLocalTime(tz, Clock::System().Now()).ok()) {
    return InvalidArgument("--timezone '" + tz + "' is not an IANA zone such as Europe/Berlin");
  }
  return Status::Ok();
}

// ---- commands ----

Status PkiInit(const Config& config, bool force) {
  pki::InitOptions o;
  o.force = force;
  pki::Layout layout(config.data_dir);
  CW_RETURN_IF_ERROR(pki::InitPki(layout, o, Clock::System()));
  std::printf("PKI created in %s\n", layout.dir.c_str());
  return Status::Ok();
}

struct StoreAddArgs {
  std::string id, name, region, timezone, partner = "default";
  std::string geofence, ssid, opening_hours;
};

// "LAT,LON,RADIUS_M" with a latitude in [-90, 90], a longitude in [-180, 180], a radius in (0, 10000].
Result<store::Geofence> ParseGeofence(const std::string& text) {
  store::Geofence g;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%lf,%lf,%lf%c", &g.lat, &g.lon, &g.radius_m, &extra) != 3 || g.lat < -90 ||
      g.lat > 90 || g.lon < -180 || g.lon > 180 || g.radius_m <= 0 || g.radius_m > 10000) {
    return InvalidArgument("--geofence '" + text + "' is not LAT,LON,RADIUS_M (e.g. 52.5200,13.4050,150)");
  }
  return g;
}

Status StoreAdd(const Config& config, const StoreAddArgs& a) {
  CW_ASSIGN_OR_RETURN(StoreId id, StoreId::Parse(a.id));
  auto region = store::ParseRegion(a.region);
  if (!region) return InvalidArgument("--region must be us or eu");
  CW_RETURN_IF_ERROR(ValidateTimezone(a.timezone));
  if (a.name.empty()) return InvalidArgument("--name must not be empty");
  store::StoreRecord record{id, a.name, a.partner, *region, a.timezone, Clock::System().Now()};
  if (!a.geofence.empty()) {
    CW_ASSIGN_OR_RETURN(record.geofence, ParseGeofence(a.geofence));
  }
  record.ssid = a.ssid;
  if (!a.opening_hours.empty()) {
    CW_RETURN_IF_ERROR(monitor::OpeningHours::Parse(a.opening_hours).status().WithContext("--opening-hours"));
  }
  record.opening_hours = a.opening_hours;
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_RETURN_IF_ERROR(entities->AddStore(record));
  std::printf("%s\n", id.str().c_str());
  return Status::Ok();
}

Status StoreList(const Config& config, bool json) {
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(auto stores, entities->ListStores());
  if (json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartArray();
    for (const auto& s : stores) {
      w.StartObject();
      w.Key("id"); w.String(s.id.str().c_str());
      w.Key("name"); w.String(s.name.c_str());
      w.Key("partner"); w.String(s.partner.c_str());
      w.Key("region"); w.String(std::string(store::Name(s.region)).c_str());
      w.Key("timezone"); w.String(s.timezone.c_str());
      w.Key("created_at"); w.String(FormatTimeMillis(s.created_at).c_str());
      w.Key("ssid"); w.String(s.ssid.c_str());
      w.Key("opening_hours"); w.String(s.opening_hours.c_str());
      w.Key("geofence");
      if (s.geofence) {
        w.StartObject();
        w.Key("lat"); w.Double(s.geofence->lat);
        w.Key("lon"); w.Double(s.geofence->lon);
        w.Key("radius_m"); w.Double(s.geofence->radius_m);
        w.EndObject();
      } else {
        w.Null();
      }
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", sb.GetString());
    return Status::Ok();
  }
  std::printf("%-12s %-6s %-20s %-10s %s\n", "STORE", "REGION", "TIMEZONE", "PARTNER", "NAME");
  for (const auto& s : stores) {
    std::printf("%-12s %-6s %-20s %-10s %s\n", s.id.str().c_str(), std::string(store::Name(s.region)).c_str(),
                s.timezone.c_str(), s.partner.c_str(), s.name.c_str());
  }
  return Status::Ok();
}

struct ProvisionArgs {
  std::string store;
  int new_carts = 0;
  std::string out;
  std::vector<std::string> csr_files;
};

Status Provision(const Config& config, const ProvisionArgs& a) {
  CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(a.store));
  if ((a.new_carts > 0) == !a.csr_files.empty()) {
    return InvalidArgument("give exactly one of --new-carts N or --csr FILE...");
  }
  if (a.new_carts > 0 && a.out.empty()) return InvalidArgument("--new-carts needs --out DIR for the carts' files");
  pki::Layout layout(config.data_dir);
  CW_ASSIGN_OR_RETURN(auto ca, pki::LoadCa(layout));
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  pki::Provisioner prov(layout, std::move(ca), *entities, Clock::System(), Random::System());
  if (a.new_carts > 0) {
    CW_ASSIGN_OR_RETURN(auto carts, prov.NewCarts(store, a.new_carts, a.out));
    for (const auto& c : carts) std::printf("%s\n", c.id.str().c_str());
    return Status::Ok();
  }
  for (const auto& file : a.csr_files) {
    CW_ASSIGN_OR_RETURN(std::string pem, ReadFile(file));
    std::string out = a.out.empty() ? std::filesystem::path(file).parent_path().string() : a.out;
    if (out.empty()) out = ".";
    auto cart = prov.SignCsr(store, pem, out);
    if (!cart.ok()) return cart.error().WithContext(file);
    std::printf("%s\n", cart->id.str().c_str());
  }
  return Status::Ok();
}

Status CartsList(const Config& config, const std::string& store_filter, bool json) {
  std::optional<StoreId> store;
  if (!store_filter.empty()) {
    CW_ASSIGN_OR_RETURN(StoreId s, StoreId::Parse(store_filter));
    store = s;
  }
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  if (store) CW_RETURN_IF_ERROR(entities->GetStore(*store).status());
  CW_ASSIGN_OR_RETURN(auto carts, entities->ListCarts(store));
  if (json) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartArray();
    for (const auto& c : carts) {
      w.StartObject();
      w.Key("cart_id"); w.String(c.id.str().c_str());
      w.Key("store_id"); w.String(c.store.str().c_str());
      w.Key("serial"); w.String(c.serial.c_str());
      w.Key("status"); w.String(std::string(store::Name(c.status)).c_str());
      w.Key("cert_fingerprint"); w.String(c.cert_fingerprint.c_str());
      w.Key("registered_at"); w.String(FormatTimeMillis(c.registered_at).c_str());
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", sb.GetString());
    return Status::Ok();
  }
  std::printf("%-12s %-12s %-14s %-8s %s\n", "CART", "STORE", "SERIAL", "STATUS", "REGISTERED");
  for (const auto& c : carts) {
    std::printf("%-12s %-12s %-14s %-8s %s\n", c.id.str().c_str(), c.store.str().c_str(), c.serial.c_str(),
                std::string(store::Name(c.status)).c_str(), FormatTimeMillis(c.registered_at).c_str());
  }
  return Status::Ok();
}

Status BrokerRun(const Config& config, const std::string& listen_flag) {
  CW_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(listen_flag.empty() ? config.broker.listen : listen_flag));
  // Block the stop signals before any thread starts, then wait for them synchronously.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  broker::BrokerOptions o;
  o.data_dir = config.data_dir;
  o.listen = listen;
  broker::ManagedBroker broker(o);
  CW_RETURN_IF_ERROR(broker.Start());
  std::printf("broker listening on mqtts://%s:%u (mutual TLS), config and log in %s\n", listen.host.c_str(),
              listen.port, broker.dir().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  log::Info("broker.stopping", {{"signal", sig}});
  broker.Stop();
  return Status::Ok();
}

Status Serve(const Config& config, const std::string& broker_flag, const std::string& api_flag,
             const std::string& device_api_flag, const std::string& web_flag) {
  CW_ASSIGN_OR_RETURN(HostPort broker, ParseHostPort(broker_flag.empty() ? config.broker.listen : broker_flag));
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  // A client that hangs up mid-response must cost a failed write, not the process (TLS writes to
  // a closed socket raise SIGPIPE).
  signal(SIGPIPE, SIG_IGN);

  pki::Layout layout(config.data_dir);
  if (!PathExists(layout.ingest_crt)) return FailedPrecondition("no PKI in " + layout.dir + " (run `cartwright pki init` first)");
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  auto registry = store::Registry::WithBuiltinBackends();
  CW_ASSIGN_OR_RETURN(auto telemetry, registry.OpenTelemetry(config.stores.telemetry));
  CW_ASSIGN_OR_RETURN(auto notice_key, crypto::SoftKeyStore::OpenFile(layout.command_key));
  ingest::CartDirectory directory(*entities, Clock::System());
  ingest::ServiceOptions o;
  o.broker.host = broker.host;
  o.broker.port = broker.port;
  o.broker.client_id = pki::kIngestServiceCn;
  o.broker.ca_file = layout.ca_crt;
  o.broker.cert_file = layout.ingest_crt;
  o.broker.key_file = layout.ingest_key;
  o.connections = static_cast<int>(config.ingest.connections);
  o.max_batch = static_cast<size_t>(config.ingest.max_batch);
  o.admission.hot_retention = std::chrono::hours(24 * config.ingest.hot_days);
  metrics::Registry metrics;  // /metrics: the ingest's, and more as modules add theirs
  o.metrics = &metrics;
  // Per-cart latency in slices as wide as the latency alarm's window.
  metrics::CartStatsTable cart_stats({.slice = config.monitor.latency_window});
  o.cart_stats = &cart_stats;
  CW_ASSIGN_OR_RETURN(auto blobs, registry.OpenBlobs(config.stores.blobs));
  CW_ASSIGN_OR_RETURN(auto vault, OpenVault(config));
  ingest::Service service(o, directory, *telemetry, *notice_key, Clock::System());
  // Sinks run in this order: sessions and cart state first, then who is shopping (which may
  // merge a battery-swapped session), then the receipts that read both.
  retail::Projector projector(*entities);
  for (auto type : retail::Projector::Types()) service.AddSink(type, &projector);
  identity::IdentityService identity(*entities, *vault, service, Clock::System(), Random::System());
  service.AddSink(wire::EventType::kIdentify, &identity);
  retail::ReceiptWriter receipts(*entities, *blobs, *notice_key);
  service.AddSink(wire::EventType::kSessionEnd, &receipts);
  // The fleet monitor: connectivity from the status topics and every stored event, the alarms.
  monitor::MonitorOptions mo = monitor::MonitorOptionsFrom(config.monitor);
  mo.broker = o.broker;
  mo.broker.client_id = o.broker.client_id + "-monitor";
  mo.broker.clean_session = true;
  monitor::LogAlarmSink alarm_log;
  std::vector<monitor::AlarmSink*> alarm_sinks = {&alarm_log};
  std::unique_ptr<monitor::Webhook> webhook;
  std::unique_ptr<monitor::WebhookAlarmSink> alarm_hook;
  if (!config.monitor.webhook.empty()) {
    CW_ASSIGN_OR_RETURN(webhook, monitor::Webhook::Create(config.monitor.webhook));
    alarm_hook = std::make_unique<monitor::WebhookAlarmSink>(*webhook);
    alarm_sinks.push_back(alarm_hook.get());
  }
  monitor::FleetMonitor fleet_monitor(
      mo, *entities, metrics, &cart_stats, Clock::System(),
      [&service] {
        ingest::ServiceStats st = service.stats();
        return monitor::IngestTotals{st.received, st.rejected + st.commit_failures};
      },
      alarm_sinks);
  if (webhook) fleet_monitor.SetErrorDigest(webhook.get());  // hourly errors by device
  CW_RETURN_IF_ERROR(fleet_monitor.Restore().WithContext("fleet monitor"));
  for (auto type : wire::kAllEventTypes) service.AddSink(type, &fleet_monitor);
  // Firmware releases and the rollouts that deliver them: every event tells the rollout engine
  // what a cart runs and trusts, and decides job states.
  CW_ASSIGN_OR_RETURN(auto firmware_keys, pki::LoadFirmwareSigningKeys(layout));
  ota::FirmwareCatalog firmware(*blobs, std::move(firmware_keys));
  ota::RolloutEngine rollouts({.resend_after = config.ota.resend_after,
                               .error_window = config.ota.error_window,
                               .min_cart_hours = config.ota.min_cart_hours,
                               .tick = config.ota.tick},
                              *entities, firmware, service, Clock::System(), Random::System(), &metrics,
                              [&service] { return service.stats().rejected_by_cart; });
  for (auto type : wire::kAllEventTypes) service.AddSink(type, &rollouts);
  CW_RETURN_IF_ERROR(service.Start().WithContext("ingest"));
  CW_RETURN_IF_ERROR(fleet_monitor.Start());
  std::printf("ingest: %d sessions on mqtts://%s:%u, telemetry %s\n", o.connections, broker.host.c_str(), broker.port,
              config.stores.telemetry.c_str());
  // The REST API and the web pages, commanding carts through the ingest's broker session.
  CW_ASSIGN_OR_RETURN(HostPort api_at, ParseHostPort(api_flag.empty() ? config.api.listen : api_flag));
  api::Authenticator auth(*entities, Clock::System());
  api::Router router(auth, &entities->audit());
  api::ApiServices services{{*entities, *telemetry, Clock::System()}, auth, &service, Random::System(), {}};
  services.metrics = &metrics;
  services.cart_stats = &cart_stats;
  services.active_alarms = [&fleet_monitor] { return fleet_monitor.alarms().Active(); };
  services.fleet_diff = [&fleet_monitor] { return fleet_monitor.CurrentFleetDiff(); };
  services.history = &fleet_monitor.history();
  services.scrape_token = config.api.metrics_token;
  services.ingest_counters = [&service] {
    ingest::ServiceStats st = service.stats();
    return api::IngestCounters{st.received, st.accepted, st.duplicates, st.rejected, st.rejected_by_reason};
  };
  services.firmware = &firmware;
  api::AddRoutes(router, services);
  api::ApiServer api_server({.host = api_at.host,
                             .port = api_at.port,
                             .cert_file = layout.api_crt,
                             .key_file = layout.api_key,
                             .web_root = web_flag.empty() ? config.api.web_root : web_flag},
                            router);
  CW_RETURN_IF_ERROR(api_server.Start().WithContext("api"));
  std::printf("api: https://%s:%u/api/v1 (dashboard at /, staff tablet at /tablet/)\n", api_at.host.c_str(),
              api_server.port());
  // The device endpoint: the same routes, but only for clients with a fleet certificate (carts
  // fetching firmware), so no browser is ever asked for one.
  CW_ASSIGN_OR_RETURN(HostPort device_at,
                      ParseHostPort(device_api_flag.empty() ? config.api.device_listen : device_api_flag));
  api::ApiServer device_server({.host = device_at.host,
                                .port = device_at.port,
                                .cert_file = layout.api_crt,
                                .key_file = layout.api_key,
                                .client_ca_file = layout.ca_crt},
                               router);
  CW_RETURN_IF_ERROR(device_server.Start().WithContext("device api"));
  std::printf("device api: https://%s:%u/api/v1/firmware (carts, with their client certificates)\n",
              device_at.host.c_str(), device_server.port());
  std::string device_host = device_at.host == "0.0.0.0" || device_at.host == "::" ? "localhost" : device_at.host;
  rollouts.set_device_url(config.api.device_url.empty()
                              ? "https://" + device_host + ":" + std::to_string(device_server.port())
                              : config.api.device_url);
  rollouts.Start();
  std::fflush(stdout);
  // Until a stop signal: a progress line every 5 s (metrics endpoints come with observability).
  auto last = service.stats();
  auto last_at = std::chrono::steady_clock::now();
  int sig = 0;
  for (;;) {
    timespec wait{5, 0};
    sig = sigtimedwait(&stop, nullptr, &wait);
    if (sig > 0) break;
    auto now_stats = service.stats();
    auto now = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(now - last_at).count();
    std::printf("ingest: %llu received, %llu stored (%.0f/s), %llu duplicates, %llu rejected\n",
                static_cast<unsigned long long>(now_stats.received), static_cast<unsigned long long>(now_stats.accepted),
                static_cast<double>(now_stats.accepted - last.accepted) / secs,
                static_cast<unsigned long long>(now_stats.duplicates), static_cast<unsigned long long>(now_stats.rejected));
    std::fflush(stdout);
    last = now_stats;
    last_at = now;
  }
  log::Info("serve.stopping", {{"signal", sig}});
  rollouts.Stop();
  api_server.Stop();
  device_server.Stop();
  service.Stop();
  fleet_monitor.Stop();
  if (webhook) webhook->Drain(std::chrono::seconds(5));
  auto st = service.stats();
  std::printf("ingest stopped: %llu received, %llu stored, %llu duplicates, %llu rejected\n",
              static_cast<unsigned long long>(st.received), static_cast<unsigned long long>(st.accepted),
              static_cast<unsigned long long>(st.duplicates), static_cast<unsigned long long>(st.rejected));
  return Status::Ok();
}

struct UserAddArgs {
  std::string name, role, store;
  bool json = false;
};

Status UserAdd(const Config& config, const UserAddArgs& a) {
  auto role = store::ParseRole(a.role);
  if (!role) return InvalidArgument("--role must be ops, staff or auditor");
  if (a.name.empty() || a.name.size() > 64 ||
      a.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") != std::string::npos) {
    return InvalidArgument("--name must be 1 to 64 of letters, digits and . _ @ -");
  }
  std::optional<StoreId> store;
  if (!a.store.empty()) {
    CW_ASSIGN_OR_RETURN(StoreId id, StoreId::Parse(a.store));
    store = id;
  }
  if (*role == store::Role::kStaff && !store) return InvalidArgument("staff users work in one store: give --store");
  if (*role != store::Role::kStaff && store) return InvalidArgument("--store is for staff users only");
  CW_ASSIGN_OR_RETURN(std::string password, api::GeneratePassword());
  CW_ASSIGN_OR_RETURN(std::string hash, api::HashPassword(password));
  std::string totp;
  if (*role == store::Role::kOps) {
    CW_ASSIGN_OR_RETURN(totp, api::NewTotpSecret());
  }
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_RETURN_IF_ERROR(entities->AddUser({a.name, *role, store, hash, totp, Clock::System().Now(), false}));
  CW_RETURN_IF_ERROR(entities->audit()
                         .Append({.actor = OperatorAccess("").actor, .role = "operator", .action = "user add",
                                  .target = "user=" + a.name, .outcome = "ok"})
                         .status());
  if (a.json) {
    wire::JsonBuilder b;
    b.Field("name", a.name).Field("role", a.role).Field("password", password);
    if (store) b.Field("store_id", store->str());
    else b.Null("store_id");
    if (totp.empty()) b.Null("totp_secret");
    else b.Field("totp_secret", totp).Field("totp_uri", api::TotpUri("Cartwright", a.name, totp));
    std::printf("%s\n", b.Finish().c_str());
    return Status::Ok();
  }
  std::printf("user %s (%s%s) added\npassword: %s\n", a.name.c_str(), a.role.c_str(),
              store ? (", " + store->str()).c_str() : "", password.c_str());
  if (!totp.empty()) {
    std::printf("totp secret: %s\n  (add it to an authenticator app: %s)\n", totp.c_str(),
                api::TotpUri("Cartwright", a.name, totp).c_str());
  }
  std::printf("The password is shown once; only its scrypt hash is kept.\n");
  return Status::Ok();
}

// The current one-time code of an ops user, for an operator at the server (the demo; a lost phone).
Status UserTotp(const Config& config, const std::string& name) {
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(store::UserRecord user, entities->GetUser(name));
  if (user.totp_secret.empty()) return FailedPrecondition("user " + name + " has no TOTP secret (only ops users do)");
  CW_ASSIGN_OR_RETURN(std::string code, api::TotpCode(user.totp_secret, Clock::System().Now()));
  CW_RETURN_IF_ERROR(entities->audit()
                         .Append({.actor = OperatorAccess("").actor, .role = "operator", .action = "user totp",
                                  .target = "user=" + name, .outcome = "ok"})
                         .status());
  std::printf("%s\n", code.c_str());
  return Status::Ok();
}

Status CatalogImport(const Config& config, const std::string& store_flag, const std::string& file, bool json) {
  CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(store_flag));
  CW_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(store::CatalogDiff diff, retail::ImportCatalog(*entities, store, text, file));
  CW_ASSIGN_OR_RETURN(auto items, entities->ListItems(store));
  if (json) {
    wire::JsonBuilder b;
    b.Field("store", store.str()).Field("items", static_cast<int64_t>(items.size()));
    for (auto [name, skus] : {std::pair{"added", &diff.added}, {"changed", &diff.changed}, {"removed", &diff.removed}}) {
      auto& w = b.Key(name).writer();
      w.StartArray();
      for (const auto& sku : *skus) w.String(sku.c_str());
      w.EndArray();
    }
    std::printf("%s\n", b.Finish().c_str());
    return Status::Ok();
  }
  std::printf("catalog %s: %zu added, %zu changed, %zu removed; %zu items\n", store.str().c_str(), diff.added.size(),
              diff.changed.size(), diff.removed.size(), items.size());
  return Status::Ok();
}

struct AccountAddArgs {
  std::string email, name, phone, address;
  std::vector<std::string> loyalty, payment_tokens;
  bool json = false;
};

// The service without a broker: registration and app codes touch only the stores.
struct NoCommands final : ingest::CommandSender {
  Status Send(const CartId&, std::string_view) override { return Unavailable("no broker in an operator command"); }
};

Status AccountAdd(const Config& config, const AccountAddArgs& a) {
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(auto vault, OpenVault(config));
  NoCommands none;
  identity::IdentityService service(*entities, *vault, none, Clock::System(), Random::System());
  CW_ASSIGN_OR_RETURN(AccountId id, service.Register({{a.email, a.name, a.phone, a.address}, a.loyalty, a.payment_tokens},
                                                     OperatorAccess("enrol a customer")));
  if (a.json) std::printf("{\"account\":\"%s\"}\n", id.str().c_str());
  else std::printf("%s\n", id.str().c_str());
  return Status::Ok();
}

Status AccountCode(const Config& config, const std::string& account_flag) {
  CW_ASSIGN_OR_RETURN(AccountId account, AccountId::Parse(account_flag));
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(auto vault, OpenVault(config));
  NoCommands none;
  identity::IdentityService service(*entities, *vault, none, Clock::System(), Random::System());
  CW_ASSIGN_OR_RETURN(std::string code, service.IssueAppCode(account));
  std::printf("%s\n", code.c_str());
  return Status::Ok();
}

Status AccountShow(const Config& config, const std::string& account_flag, const std::string& purpose, bool json) {
  CW_ASSIGN_OR_RETURN(AccountId account, AccountId::Parse(account_flag));
  if (purpose.empty()) return InvalidArgument("--purpose is required: every read of personal data is audited with its reason");
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(auto vault, OpenVault(config));
  CW_ASSIGN_OR_RETURN(store::AccountRecord record, entities->GetAccount(account));
  CW_ASSIGN_OR_RETURN(identity::Person p, vault->ReadPerson(account, OperatorAccess(purpose)));
  CW_ASSIGN_OR_RETURN(auto sessions, entities->ListSessions({.account = account, .limit = 1000}));
  if (json) {
    wire::JsonBuilder b;
    b.Field("account", account.str()).Field("email", p.email).Field("name", p.full_name).Field("phone", p.phone)
        .Field("address", p.address).Field("sessions", static_cast<int64_t>(sessions.size()));
    auto& w = b.Key("loyalty_numbers").writer();
    w.StartArray();
    for (const auto& n : record.loyalty_numbers) w.String(n.c_str());
    w.EndArray();
    std::printf("%s\n", b.Finish().c_str());
    return Status::Ok();
  }
  std::printf("account  %s\nemail    %s\nname     %s\nphone    %s\naddress  %s\nsessions %zu\n", account.str().c_str(),
              p.email.c_str(), p.full_name.c_str(), p.phone.c_str(), p.address.c_str(), sessions.size());
  return Status::Ok();
}

Status KeysList(const Config& config, identity::Vault* open);

Status KeysRotate(const Config& config, const std::string& domain, bool master, bool reencrypt) {
  if (master == !domain.empty()) return InvalidArgument("give exactly one of --domain D or --master");
  CW_ASSIGN_OR_RETURN(auto vault, OpenVault(config));
  auto access = OperatorAccess("key rotation");
  if (master) {
    CW_RETURN_IF_ERROR(vault->RotateMaster(access));
  } else {
    CW_RETURN_IF_ERROR(vault->RotateDomain(domain, reencrypt, access));
  }
  return KeysList(config, vault.get());
}

Status KeysList(const Config& config, identity::Vault* open) {
  std::unique_ptr<identity::Vault> owned;
  if (!open) {
    CW_ASSIGN_OR_RETURN(owned, OpenVault(config));
    open = owned.get();
  }
  CW_ASSIGN_OR_RETURN(auto keys, open->Keys());
  std::printf("%-8s %-8s %-7s %-8s %s\n", "DOMAIN", "VERSION", "MASTER", "VALUES", "CREATED");
  for (const auto& k : keys) {
    std::printf("%-8s %-8lld %-7lld %-8lld %s\n", k.domain.c_str(), static_cast<long long>(k.version),
                static_cast<long long>(k.master_version), static_cast<long long>(k.values),
                FormatTimeMillis(k.created_at).c_str());
  }
  return Status::Ok();
}

// Re-computes both hash chains; a break is reported with the first bad entry and exit 1.
Status AuditVerify(const Config& config) {
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(auto vault, OpenVault(config));
  for (auto [name, log] : {std::pair<const char*, store::AuditLog*>{"api audit log", &entities->audit()},
                           {"vault audit log", &vault->audit()}}) {
    CW_ASSIGN_OR_RETURN(int64_t n, log->Verify());
    CW_ASSIGN_OR_RETURN(auto head, log->Head());
    std::printf("%s: %lld entries, chain intact, head %s\n", name, static_cast<long long>(n), head.second.c_str());
  }
  return Status::Ok();
}

struct SessionsArgs {
  std::string store, cart, status, session;
  bool flagged = false, json = false;
  size_t limit = 50;
};

void WriteSessionJson(wire::JsonBuilder& b, const store::SessionRecord& s) {
  b.Field("session_id", s.id.str()).Field("cart_id", s.cart.str()).Field("store_id", s.store.str())
      .Field("status", std::string(store::Name(s.status))).Field("started_at", FormatTimeMillis(s.started_at));
  if (s.ended_at) b.Field("ended_at", FormatTimeMillis(*s.ended_at));
  else b.Null("ended_at");
  // The customer only as a reference: the account id is Tier 2, pseudonymous.
  if (s.account) b.Field("account", s.account->str());
  else b.Null("account");
  b.Field("identified_by", s.identified_by).Field("scan_count", s.scan_count)
      .Field("scan_total_cents", s.scan_total_cents).Field("weight_mismatches", s.weight_mismatches)
      .Field("totals_mismatch", s.totals_mismatch);
  if (s.claimed_total_cents) b.Field("claimed_total_cents", *s.claimed_total_cents);
  if (s.payment) b.Field("payment_auth", s.payment->auth_token);
  if (s.merged_into) b.Field("merged_into", s.merged_into->str());
  auto& w = b.Key("faults").writer();
  w.StartArray();
  for (const auto& f : s.fault_codes) w.String(f.c_str());
  w.EndArray();
}

std::string Money(int64_t cents) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(cents / 100), static_cast<long long>(cents % 100));
  return buf;
}

std::string Flags(const store::SessionRecord& s) {
  std::string f;
  if (s.weight_mismatches) f += "weight×" + std::to_string(s.weight_mismatches) + " ";
  if (s.totals_mismatch) f += "totals ";
  for (const auto& code : s.fault_codes) f += code + " ";
  if (s.merged_into) f += "merged ";
  return f.empty() ? "-" : f;
}

Status SessionsList(const Config& config, const SessionsArgs& a) {
  store::SessionQuery q;
  q.limit = std::min<size_t>(a.limit, 10000);
  q.flagged_only = a.flagged;
  if (!a.store.empty()) {
    CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(a.store));
    q.store = store;
  }
  if (!a.cart.empty()) {
    CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(a.cart));
    q.cart = cart;
  }
  if (!a.status.empty()) {
    auto status = store::ParseSessionStatus(a.status);
    if (!status) return InvalidArgument("--status must be active, paused, complete, abandoned or voided");
    q.status = status;
  }
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(auto sessions, entities->ListSessions(q));
  for (const auto& s : sessions) {
    if (a.json) {
      wire::JsonBuilder b;
      WriteSessionJson(b, s);
      std::printf("%s\n", b.Finish().c_str());
    } else {
      std::printf("%s  %s  %-9s  %s  %3d items %9s  %-13s %s\n", FormatTimeMillis(s.started_at).c_str(),
                  s.cart.str().c_str(), std::string(store::Name(s.status)).c_str(), s.id.str().c_str(), s.scan_count,
                  Money(s.scan_total_cents).c_str(), s.identified_by.empty() ? "guest" : s.identified_by.c_str(),
                  Flags(s).c_str());
    }
  }
  return Status::Ok();
}

Status SessionShow(const Config& config, const std::string& id_flag, bool json) {
  CW_ASSIGN_OR_RETURN(SessionId id, SessionId::Parse(id_flag));
  CW_ASSIGN_OR_RETURN(auto entities, OpenEntities(config));
  CW_ASSIGN_OR_RETURN(store::SessionRecord s, entities->GetSession(id));
  CW_ASSIGN_OR_RETURN(auto scans, entities->ListScans(id));
  if (json) {
    wire::JsonBuilder b;
    WriteSessionJson(b, s);
    auto& w = b.Key("scans").writer();
    w.StartArray();
    for (const auto& sc : scans) {
      w.StartObject();
      w.Key("cart_id"); w.String(sc.cart.str().c_str());
      w.Key("seq"); w.Uint64(sc.seq);
      w.Key("ts"); w.String(FormatTimeMillis(sc.ts).c_str());
      w.Key("sku"); w.String(sc.sku.c_str());
      w.Key("qty"); w.Int(sc.qty);
      w.Key("price_cents"); w.Int64(sc.price_cents);
      w.Key("weight_delta_g"); w.Int(sc.weight_delta_g);
      w.Key("weight_mismatch"); w.Bool(sc.weight_mismatch);
      w.EndObject();
    }
    w.EndArray();
    std::printf("%s\n", b.Finish().c_str());
    return Status::Ok();
  }
  std::printf("session   %s\ncart      %s (store %s)\nstatus    %s\nstarted   %s\nended     %s\ncustomer  %s\n",
              s.id.str().c_str(), s.cart.str().c_str(), s.store.str().c_str(), std::string(store::Name(s.status)).c_str(),
              FormatTimeMillis(s.started_at).c_str(), s.ended_at ? FormatTimeMillis(*s.ended_at).c_str() : "-",
              s.account ? (s.account->str() + " (" + s.identified_by + ")").c_str() : "guest");
  std::printf("scanned   %d items, %s\n", s.scan_count, Money(s.scan_total_cents).c_str());
  if (s.claimed_total_cents) std::printf("cart said %d items, %s\n", s.claimed_item_count.value_or(0), Money(*s.claimed_total_cents).c_str());
  if (s.payment) std::printf("paid      %s (auth %s)\n", Money(s.payment->amount_cents).c_str(), s.payment->auth_token.c_str());
  std::printf("flags     %s\n", Flags(s).c_str());
  for (const auto& sc : scans) {
    std::printf("  %s  %-16s x%-2d %9s  %+6d g%s%s\n", FormatTimeMillis(sc.ts).c_str(), sc.sku.c_str(), sc.qty,
                Money(sc.price_cents).c_str(), sc.weight_delta_g, sc.weight_mismatch ? "  WEIGHT" : "",
                sc.carried_from ? "  (carried over)" : "");
  }
  return Status::Ok();
}

struct EventsArgs {
  std::string cart, store, since, until, type;
  size_t limit = 100;
  bool json = false;
};

// The telemetry store as a reader: RocksDB lets a second process read while serve writes.
Result<std::unique_ptr<store::TelemetryStore>> OpenTelemetryForReading(const Config& config) {
  return store::Registry::WithBuiltinBackends().OpenTelemetry(config.stores.telemetry, Clock::System(),
                                                                store::OpenMode::kReadOnly);
}

void PrintEvent(const store::TelemetryEvent& e, bool json) {
  std::string body = e.body;
  if (e.type != wire::EventType::kIdentify && body.size() > wire::kSignatureSize) body.resize(body.size() - wire::kSignatureSize);
  if (json) {
    std::printf("%s\n", body.c_str());
    return;
  }
  auto skew_ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.received_at - e.ts).count();
  std::printf("%s  %s  seq %-8llu %-13s %s  received +%lld ms%s\n", FormatTimeMillis(e.ts).c_str(), e.cart.str().c_str(),
              static_cast<unsigned long long>(e.seq), std::string(wire::Name(e.type)).c_str(), e.store.str().c_str(),
              static_cast<long long>(skew_ms), e.late ? "  late" : "");
}

Status Events(const Config& config, const EventsArgs& a) {
  if (a.cart.empty() == a.store.empty()) return InvalidArgument("give exactly one of --cart ID or --store ID");
  std::optional<wire::EventType> type;
  if (!a.type.empty()) {
    type = wire::ParseEventType(a.type);
    if (!type) return InvalidArgument("--type '" + a.type + "' is not an event type (session-start, scan, identify, session-end, health, fault, boot)");
  }
  // One page at a time, from whichever query the flags name.
  std::function<Result<store::Page<store::TelemetryEvent>>(store::TelemetryStore&, const std::string&)> fetch;
  if (!a.cart.empty()) {
    CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(a.cart));
    fetch = [cart](store::TelemetryStore& t, const std::string& cursor) { return t.NewestForCart(cart, 500, cursor); };
  } else {
    CW_ASSIGN_OR_RETURN(StoreId store, StoreId::Parse(a.store));
    if (a.since.empty() || a.until.empty()) return InvalidArgument("--store needs --since and --until (RFC 3339 times)");
    auto time_flag = [](const char* flag, const std::string& text) -> Result<Time> {
      auto t = ParseRfc3339(text);
      if (!t.ok()) return InvalidArgument(std::string(flag) + " '" + text + "' is not an RFC 3339 time, e.g. 2026-11-22T10:00:00Z");
      return *t;
    };
    CW_ASSIGN_OR_RETURN(Time since, time_flag("--since", a.since));
    CW_ASSIGN_OR_RETURN(Time until, time_flag("--until", a.until));
    fetch = [store, since, until](store::TelemetryStore& t, const std::string& cursor) {
      return t.ForStore(store, since, until, 500, cursor);
    };
  }
  CW_ASSIGN_OR_RETURN(auto telemetry, OpenTelemetryForReading(config));
  size_t shown = 0;
  std::string cursor;
  do {
    CW_ASSIGN_OR_RETURN(auto page, fetch(*telemetry, cursor));
    for (const auto& e : page.items) {
      if (type && e.type != *type) continue;
      if (shown++ == a.limit) return Status::Ok();
      PrintEvent(e, a.json);
    }
    cursor = page.next_cursor;
  } while (!cursor.empty());
  return Status::Ok();
}

struct RejectsArgs {
  std::string cart, reason;
  size_t limit = 100;
  bool json = false;
};

Status Rejects(const Config& config, const RejectsArgs& a) {
  store::RejectQuery q;
  q.limit = a.limit;
  if (!a.cart.empty()) {
    CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(a.cart));
    q.cart = cart;
  }
  if (!a.reason.empty()) {
    q.reason = wire::ParseRejectReason(a.reason);
    if (!q.reason) return InvalidArgument("--reason '" + a.reason + "' is not a reject reason");
  }
  CW_ASSIGN_OR_RETURN(auto telemetry, OpenTelemetryForReading(config));
  CW_ASSIGN_OR_RETURN(auto page, telemetry->Rejects(q));
  for (const auto& d : page.items) {
    if (a.json) {
      wire::JsonBuilder b;
      b.Field("received_at", FormatTimeMillis(d.received_at)).Field("topic", d.topic).Field("reason", wire::Name(d.reason))
          .Field("detail", d.detail);
      if (d.cart) b.Field("cart_id", d.cart->str());
      if (d.seq) b.Field("seq", *d.seq);
      b.Field("payload_bytes", static_cast<uint64_t>(d.payload.size()));
      std::printf("%s\n", b.Finish().c_str());
    } else {
      std::printf("%s  %-11s %-18s %s\n", FormatTimeMillis(d.received_at).c_str(), d.cart ? d.cart->str().c_str() : "-",
                  std::string(wire::Name(d.reason)).c_str(), d.detail.c_str());
    }
  }
  return Status::Ok();
}

}  // namespace

int RunCartwright(int argc, char** argv) {
  CLI::App app{"Cartwright: device identity, broker and data platform for connected retail fleets", "cartwright"};
  app.require_subcommand(1);
  std::string data_dir = "var/cartwright";
  app.add_option("--data-dir", data_dir, "Data directory (PKI, databases, broker)")
      ->envname("CARTWRIGHT_DATA_DIR")
      ->capture_default_str();
  std::string log_level;
  app.add_option("--log-level", log_level, "debug|info|warn|error (default: warn for one-shot commands)");

  std::function<Status(const Config&)> action;
  bool long_running = false;

  auto* pki_cmd = app.add_subcommand("pki", "Fleet PKI");
  pki_cmd->require_subcommand(1);
  auto* pki_init = pki_cmd->add_subcommand("init", "Create the root CA, server and service certificates, signing keys");
  bool force = false;
  pki_init->add_flag("--force", force, "Replace an existing PKI (every cart then needs re-provisioning)");
  pki_init->callback([&] { action = [&](const Config& c) { return PkiInit(c, force); }; });

  auto* store_cmd = app.add_subcommand("store", "Stores (sites) of the fleet");
  store_cmd->require_subcommand(1);
  StoreAddArgs sa;
  auto* store_add = store_cmd->add_subcommand("add", "Register a store");
  store_add->add_option("--id", sa.id, "Store id, e.g. STORE-001")->required();
  store_add->add_option("--name", sa.name, "Display name")->required();
  store_add->add_option("--region", sa.region, "Data-residency region: us or eu")->required();
  store_add->add_option("--timezone", sa.timezone, "IANA time zone, e.g. Europe/Berlin")->required();
  store_add->add_option("--partner", sa.partner, "Supermarket-chain partner (tenant)")->capture_default_str();
  store_add->add_option("--geofence", sa.geofence, "LAT,LON,RADIUS_M around the entrance (carts leaving it raise GEOFENCE_EXIT)");
  store_add->add_option("--ssid", sa.ssid, "The in-store Wi-Fi the carts join");
  store_add->add_option("--opening-hours", sa.opening_hours, "OpenStreetMap syntax, e.g. \"Mo-Sa 07:00-22:00\"");
  store_add->callback([&] { action = [&](const Config& c) { return StoreAdd(c, sa); }; });
  bool store_json = false;
  auto* store_list = store_cmd->add_subcommand("list", "List stores");
  store_list->add_flag("--json", store_json, "Machine-readable output");
  store_list->callback([&] { action = [&](const Config& c) { return StoreList(c, store_json); }; });

  ProvisionArgs pa;
  auto* prov = app.add_subcommand("provision", "Factory station: create carts or sign their CSRs");
  prov->add_option("--store", pa.store, "Store the carts belong to")->required();
  prov->add_option("--new-carts", pa.new_carts, "Create N carts, each with a key generated in its own key store");
  prov->add_option("--csr", pa.csr_files, "Sign CSRs made on devices (the cloud never sees their keys)")
      ->check(CLI::ExistingFile);
  prov->add_option("--out", pa.out, "Directory for the carts' files (OUT/CART-xxxxxx/)");
  prov->callback([&] { action = [&](const Config& c) { return Provision(c, pa); }; });

  auto* carts_cmd = app.add_subcommand("carts", "The cart registry");
  carts_cmd->require_subcommand(1);
  std::string carts_store;
  bool carts_json = false;
  auto* carts_list = carts_cmd->add_subcommand("list", "List registered carts");
  carts_list->add_option("--store", carts_store, "Only this store's carts");
  carts_list->add_flag("--json", carts_json, "Machine-readable output");
  carts_list->callback([&] { action = [&](const Config& c) { return CartsList(c, carts_store, carts_json); }; });

  auto* broker_cmd = app.add_subcommand("broker", "The managed Mosquitto broker");
  broker_cmd->require_subcommand(1);
  std::string listen;
  auto* broker_run = broker_cmd->add_subcommand("run", "Configure and supervise Mosquitto until SIGTERM/SIGINT");
  broker_run->add_option("--listen", listen, "host:port (default from cartwright.toml, else 127.0.0.1:8883)");
  broker_run->callback([&] {
    long_running = true;
    action = [&](const Config& c) { return BrokerRun(c, listen); };
  });

  std::string serve_broker;
  auto* serve = app.add_subcommand("serve", "Run the ingest pipeline, the REST API and the web pages until SIGTERM/SIGINT");
  serve->add_option("--broker", serve_broker, "host:port of the broker (default: [broker] listen)");
  std::string serve_api;
  serve->add_option("--api", serve_api, "host:port of the HTTPS API and web pages, port 0 for any (default: [api] listen)");
  std::string serve_device_api;
  serve->add_option("--device-api", serve_device_api,
                    "host:port where carts download firmware with their certificates, port 0 for any "
                    "(default: [api] device_listen)");
  std::string serve_web;
  serve->add_option("--web", serve_web, "Directory of the built web pages (default: [api] web_root; ./run builds build/web)");
  serve->callback([&] {
    long_running = true;
    action = [&](const Config& c) { return Serve(c, serve_broker, serve_api, serve_device_api, serve_web); };
  });

  EventsArgs ea;
  auto* events = app.add_subcommand("events", "Stored events: newest first for one cart, or one store's time window");
  events->add_option("--cart", ea.cart, "Cart id");
  events->add_option("--store", ea.store, "Store id (with --since and --until)");
  events->add_option("--since", ea.since, "RFC 3339 time, inclusive");
  events->add_option("--until", ea.until, "RFC 3339 time, exclusive");
  events->add_option("--type", ea.type, "Only this event type");
  events->add_option("--limit", ea.limit, "At most this many")->capture_default_str();
  events->add_flag("--json", ea.json, "One stored JSON event per line");
  events->callback([&] { action = [&](const Config& c) { return Events(c, ea); }; });

  RejectsArgs ra;
  auto* rejects = app.add_subcommand("rejects", "Dead letters of the ingest, newest first");
  rejects->add_option("--cart", ra.cart, "Cart id");
  rejects->add_option("--reason", ra.reason, "Reject reason, e.g. bad_signature");
  rejects->add_option("--limit", ra.limit, "At most this many")->capture_default_str();
  rejects->add_flag("--json", ra.json, "One JSON object per line");
  rejects->callback([&] { action = [&](const Config& c) { return Rejects(c, ra); }; });

  auto* catalog_cmd = app.add_subcommand("catalog", "Store catalogs, synced from the POS (never edited here)");
  catalog_cmd->require_subcommand(1);
  std::string catalog_store, catalog_file;
  bool catalog_json = false;
  auto* catalog_import = catalog_cmd->add_subcommand(
      "import", "Make a store's catalog exactly FILE.csv (sku,name,price_cents,expected_weight_g,category); "
                "a file with any bad row applies nothing");
  catalog_import->add_option("--store", catalog_store, "Store id")->required();
  catalog_import->add_option("file", catalog_file, "CSV export with a header row")->required()->check(CLI::ExistingFile);
  catalog_import->add_flag("--json", catalog_json, "Machine-readable output");
  catalog_import->callback([&] {
    action = [&](const Config& c) { return CatalogImport(c, catalog_store, catalog_file, catalog_json); };
  });

  std::vector<CLI::App*> firmware_cmds = AddFirmwareCommands(app, action);
  std::vector<CLI::App*> rollout_cmds = AddRolloutCommands(app, action);

  auto* sessions_cmd = app.add_subcommand("sessions", "Shopping sessions projected from the carts' events");
  sessions_cmd->require_subcommand(1);
  SessionsArgs sn;
  auto* sessions_list = sessions_cmd->add_subcommand("list", "Sessions, newest first");
  sessions_list->add_option("--store", sn.store, "Only this store's");
  sessions_list->add_option("--cart", sn.cart, "Only this cart's");
  sessions_list->add_option("--status", sn.status, "active|paused|complete|abandoned|voided");
  sessions_list->add_flag("--flagged", sn.flagged, "Only those for loss prevention (weight, totals, exit without pay)");
  sessions_list->add_option("--limit", sn.limit, "At most this many")->capture_default_str();
  sessions_list->add_flag("--json", sn.json, "One JSON object per line");
  sessions_list->callback([&] { action = [&](const Config& c) { return SessionsList(c, sn); }; });
  auto* sessions_show = sessions_cmd->add_subcommand("show", "One session with its scans");
  sessions_show->add_option("--session", sn.session, "Session id")->required();
  sessions_show->add_flag("--json", sn.json, "Machine-readable output");
  sessions_show->callback([&] { action = [&](const Config& c) { return SessionShow(c, sn.session, sn.json); }; });

  auto* account_cmd = app.add_subcommand("account", "Customer accounts (Tier 2) and their personal data (the vault)");
  account_cmd->require_subcommand(1);
  AccountAddArgs aa;
  auto* account_add = account_cmd->add_subcommand("add", "Enrol a customer; prints the account id");
  account_add->add_option("--email", aa.email, "E-mail (one account per address)")->required();
  account_add->add_option("--name", aa.name, "Full name")->required();
  account_add->add_option("--phone", aa.phone, "Phone number");
  account_add->add_option("--address", aa.address, "Postal address");
  account_add->add_option("--loyalty", aa.loyalty, "Loyalty number (16 digits); repeatable");
  account_add->add_option("--payment-token", aa.payment_tokens, "Payment-method token (24 of A-Z a-z 0-9); repeatable");
  account_add->add_flag("--json", aa.json, "Machine-readable output");
  account_add->callback([&] { action = [&](const Config& c) { return AccountAdd(c, aa); }; });
  std::string account_id, account_purpose;
  bool account_json = false;
  auto* account_code = account_cmd->add_subcommand("code", "Issue a single-use app QR code (valid 5 minutes)");
  account_code->add_option("--account", account_id, "Account id")->required();
  account_code->callback([&] { action = [&](const Config& c) { return AccountCode(c, account_id); }; });
  auto* account_show = account_cmd->add_subcommand("show", "Decrypt an account's personal data (audited)");
  account_show->add_option("--account", account_id, "Account id")->required();
  account_show->add_option("--purpose", account_purpose, "Why (written to the vault's audit log)")->required();
  account_show->add_flag("--json", account_json, "Machine-readable output");
  account_show->callback([&] {
    action = [&](const Config& c) { return AccountShow(c, account_id, account_purpose, account_json); };
  });

  auto* keys_cmd = app.add_subcommand("keys", "The PII vault's encryption keys");
  keys_cmd->require_subcommand(1);
  std::string keys_domain;
  bool keys_master = false, keys_reencrypt = false;
  auto* keys_rotate = keys_cmd->add_subcommand("rotate", "New data-key version for a domain, or a new master key");
  keys_rotate->add_option("--domain", keys_domain, "contact or payment");
  keys_rotate->add_flag("--master", keys_master, "Rotate the master key (re-wraps every data key)");
  keys_rotate->add_flag("--reencrypt", keys_reencrypt, "Also re-encrypt the domain's values and drop older versions");
  keys_rotate->callback([&] {
    action = [&](const Config& c) { return KeysRotate(c, keys_domain, keys_master, keys_reencrypt); };
  });
  auto* keys_list = keys_cmd->add_subcommand("list", "Data-key versions and how many values each still protects");
  keys_list->callback([&] { action = [&](const Config& c) { return KeysList(c, nullptr); }; });

  auto* user_cmd = app.add_subcommand("user", "People who use the REST API and the web pages");
  user_cmd->require_subcommand(1);
  UserAddArgs ua;
  auto* user_add = user_cmd->add_subcommand("add", "Add a user; prints a generated password (and, for ops, a TOTP secret)");
  user_add->add_option("--name", ua.name, "Login name")->required();
  user_add->add_option("--role", ua.role, "ops (every store, TOTP), staff (one store) or auditor (read-only audit)")->required();
  user_add->add_option("--store", ua.store, "The staff member's store");
  user_add->add_flag("--json", ua.json, "Machine-readable output");
  user_add->callback([&] { action = [&](const Config& c) { return UserAdd(c, ua); }; });
  auto* user_totp = user_cmd->add_subcommand("totp", "Print an ops user's current one-time code (audited)");
  user_totp->add_option("--name", ua.name, "Login name")->required();
  user_totp->callback([&] { action = [&](const Config& c) { return UserTotp(c, ua.name); }; });

  auto* audit_cmd = app.add_subcommand("audit", "The hash-chained audit logs");
  audit_cmd->require_subcommand(1);
  auto* audit_verify = audit_cmd->add_subcommand("verify", "Re-compute the API and vault audit chains; exit 1 on tampering");
  audit_verify->callback([&] { action = [&](const Config& c) { return AuditVerify(c); }; });

  // --data-dir and --log-level may appear after any subcommand.
  std::vector<CLI::App*> subcommands = {pki_cmd, pki_init, store_cmd, store_add, store_list, prov, carts_cmd, carts_list,
                                        broker_cmd, broker_run, serve, events, rejects, catalog_cmd, catalog_import,
                                        account_cmd, account_add, account_code, account_show, sessions_cmd, sessions_list,
                                        sessions_show, keys_cmd, keys_rotate, keys_list, audit_cmd, audit_verify, user_cmd,
                                        user_add, user_totp};
  subcommands.insert(subcommands.end(), firmware_cmds.begin(), firmware_cmds.end());
  subcommands.insert(subcommands.end(), rollout_cmds.begin(), rollout_cmds.end());
  for (CLI::App* sub : subcommands) {
    sub->fallthrough();
    sub->footer("Global options, accepted anywhere on the line: --data-dir DIR (default var/cartwright, "
                "env CARTWRIGHT_DATA_DIR), --log-level debug|info|warn|error");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (msg.empty()) msg = "invalid command line";
    // A missing subcommand deserves the list of them.
    std::fprintf(stderr, "cartwright: %s (run with --help for usage)\n", msg.c_str());
    return kExitUsage;
  }

  log::Options lo;
  lo.level = long_running ? log::Level::kInfo : log::Level::kWarn;
  if (!log_level.empty() && !log::ParseLevel(log_level, lo.level)) {
    std::fprintf(stderr, "cartwright: --log-level must be debug, info, warn, error or off\n");
    return kExitUsage;
  }
  log::Configure(lo);

  auto config = LoadConfig(data_dir);
  if (!config.ok()) return Report(config.error());
  if (!action) return kExitUsage;
  return Report(action(*config));
}

}  // namespace cw::cli
