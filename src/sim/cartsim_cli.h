// sim/cartsim_cli.h — the `cartsim` command line. apps/cartsim/main.cc only calls this.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "sim/fleet.h"

namespace cw::sim {

int RunCartsim(int argc, char** argv);

// "2h", "10m", "45s", "1h30m" → duration. InvalidArgument otherwise.
Result<Duration> ParseDuration(const std::string& text);
// "mqtts://host:port" → host and port.
Status ParseBrokerUrl(const std::string& url, SessionOptions& out);
// A scenario file (TOML: [shoppers] and [offline] tables) applied onto `options`. Unknown keys are
// errors naming file and line.
Status LoadScenario(const std::string& path, FleetOptions& options);

}  // namespace cw::sim
