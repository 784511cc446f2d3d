// sim/cartsim_cli.h — the `cartsim` command line. apps/cartsim/main.cc only calls this.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/time_format.h"  // ParseDuration
#include "core/status.h"
#include "sim/fleet.h"

namespace cw::sim {

int RunCartsim(int argc, char** argv);

// "mqtts://host:port" → host and port.
Status ParseBrokerUrl(const std::string& url, SessionOptions& out);
// A scenario file (TOML: [shoppers] and [offline] tables) applied onto `options`. Unknown keys are
// errors naming file and line.
Status LoadScenario(const std::string& path, FleetOptions& options);

}  // namespace cw::sim
