// api/rollout_routes.h — staged OTA rollouts over the REST API (docs/ota.md), all for ops:
//
//   GET    /api/v1/rollouts                      every rollout, newest first, with its progress
//   POST   /api/v1/rollouts                      start one {version, stores?, carts?, stages?,
//                                                pace_per_minute?, jitter?}
//   GET    /api/v1/rollouts/{id}                 one rollout with every cart's job
//   POST   /api/v1/rollouts/{id}/halt            {reason?}: hold the next stage
//   POST   /api/v1/rollouts/{id}/release         let a halted rollout go on
//   POST   /api/v1/rollouts/{id}/abort           stop it; unsent jobs are withdrawn
//   GET    /api/v1/ota/opt-outs                  stores and carts that take no rollout
//   PUT    /api/v1/ota/opt-outs/{subject}        {reason}: opt a store or cart out
//   DELETE /api/v1/ota/opt-outs/{subject}        lift it
// Every call is in the audit log like any other (the router writes it).
#pragma once

#include "api/router.h"
#include "core/clock.h"
#include "core/random.h"
#include "ota/rollout.h"

namespace cw::api {

// `catalog` nullptr: the routes answer 503.
void AddRolloutRoutes(Router& router, ota::FirmwareCatalog* catalog, store::EntityStore& entities, Clock& clock,
                      Random& random);

// The JSON of a rollout's progress (also what `cartwright rollout show --json` prints).
std::string RolloutJson(const ota::RolloutSummary& s, bool with_jobs);

// A stage list from JSON [{name?, carts | percent, duration?}…] (duration like "24h", "90s").
Result<std::vector<store::RolloutStage>> ParseStages(const rapidjson::Value& stages);

}  // namespace cw::api
