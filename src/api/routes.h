// api/routes.h — the REST API's routes (DESIGN.md §4), added to a Router.
//
// Every route reads and writes through FleetAccess, so a staff member's store is enforced where
// the data is read. The OpenAPI document (api/openapi.json, embedded) describes every route; a
// test fails when one is missing from it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>

#include "api/auth.h"
#include "api/fleet_access.h"
#include "api/router.h"
#include "core/random.h"
#include "ingest/command_sender.h"
#include "metrics/cart_stats.h"
#include "metrics/history.h"
#include "metrics/registry.h"
#include "monitor/alarms.h"
#include "monitor/fleet_diff.h"
#include "ota/firmware_catalog.h"
#include "wire/types.h"

namespace cw::api {

// The ingest pipeline's running totals since the server started, for the fleet-health view.
struct IngestCounters {
  uint64_t received = 0, accepted = 0, duplicates = 0, rejected = 0;
  std::map<wire::RejectReason, uint64_t> rejected_by_reason;
};

struct ApiServices {
  Deps deps;
  Authenticator& auth;
  ingest::CommandSender* commands = nullptr;  // nullptr: routes that command a cart answer 503
  Random& random;
  LocatorRules locator;
  std::function<IngestCounters()> ingest_counters = {};  // empty: GET /ingest/stats answers 503
  metrics::Registry* metrics = nullptr;                  // nullptr: GET /metrics answers 503
  metrics::CartStatsTable* cart_stats = nullptr;         // nullptr: GET /carts/{id}/stats answers 503
  std::string scrape_token = {};  // a bearer token Prometheus may use for /metrics ("" for none)
  // The fleet monitor's pending and firing alarms (GET /alarms lists none when empty).
  std::function<std::vector<monitor::AlarmStatus>()> active_alarms = {};
  // The fleet diff as of now (empty: GET /fleet/diff answers 503).
  std::function<Result<monitor::FleetDiff>()> fleet_diff = {};
  // The metrics of the last hour, sampled every monitor tick (nullptr: GET /fleet/health answers 503).
  const metrics::History* history = nullptr;
  // Signed firmware releases (nullptr: the /firmware routes answer 503).
  ota::FirmwareCatalog* firmware = nullptr;
};

void AddRoutes(Router& router, ApiServices& services);

// The OpenAPI 3 document served at /api/v1/openapi.json.
std::string_view OpenApiDocument();

}  // namespace cw::api
