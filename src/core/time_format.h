// core/time_format.h — RFC 3339 timestamps as they appear on the wire and in the CLI.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace cw {

// "2026-11-22T10:15:30.123Z" — the wire format: UTC, exactly three fractional digits.
std::string FormatTimeMillis(Time t);

// Parses exactly the wire format above. Rejects impossible dates (2026-02-30) and anything else.
Result<Time> ParseWireTime(std::string_view text);

// Parses any RFC 3339 date-time (fraction optional, `Z` or `±hh:mm`), or a bare date (midnight UTC),
// for operator input such as `--since`.
Result<Time> ParseRfc3339(std::string_view text);

// "2h", "10m", "45s", "1h30m" → a positive duration (configuration, CLI flags). InvalidArgument
// otherwise. `allow_zero`: "0s" (or "0") is a duration too, for knobs where none means off (a
// rollout's jitter, its last stage).
Result<Duration> ParseDuration(std::string_view text, bool allow_zero = false);
// The other way, in the largest whole unit: "2h", "10m", "45s" (sub-second parts are dropped).
std::string FormatShortDuration(Duration d);

}  // namespace cw
