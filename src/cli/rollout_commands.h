// cli/rollout_commands.h — `cartwright rollout start|list|show|halt|release|abort` and
// `cartwright rollout opt-out|opt-in` (part of the `cartwright` CLI). They act on the entity store
// directly, like the API; the rollout engine inside `cartwright serve` picks the change up within
// a tick. Every action is written to the audit log as cli:<user>.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace cw::cli {

std::vector<CLI::App*> AddRolloutCommands(CLI::App& app, std::function<Status(const Config&)>& action);

}  // namespace cw::cli
