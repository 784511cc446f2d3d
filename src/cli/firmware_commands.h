// cli/firmware_commands.h — `cartwright firmware sign|upload|list` (part of the `cartwright` CLI).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace cw::cli {

// Adds the `firmware` command group to `app`. The chosen command's work is stored in `action`,
// which RunCartwright calls with the loaded configuration. Returns every subcommand added (they
// get the global-options footer).
std::vector<CLI::App*> AddFirmwareCommands(CLI::App& app, std::function<Status(const Config&)>& action);

}  // namespace cw::cli
