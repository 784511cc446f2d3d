// mask/generalise.h — bucket 3: sensitive attributes made coarse enough to share.
//
// Each treatment comes with the check the verifier applies to its output, side by side, so the
// two cannot drift apart. A treatment fails with InvalidArgument (the row is quarantined, never
// passed through) when it cannot read its input; an empty value stays empty (nothing to protect).
// Error messages never quote the value: they go to the decision log.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cw::mask {

// Decimal degrees to the nearest point of a 0.01° grid (about 1.1 km of latitude), two decimals:
// "47.60621" → "47.61". Accepts −180…180 (latitude and longitude alike).
Result<std::string> SnapToGrid(std::string_view degrees);
bool IsOnGrid(std::string_view s);

// Whole years to five-year bins: "37" → "35-39"; 90 and over → "90+" (the top bin stays open, as
// HIPAA's safe harbour does, because few people are that old). Accepts 0…150.
Result<std::string> AgeBin(std::string_view years);
bool IsAgeBin(std::string_view s);

// A timestamp cut to the start of its hour, in the form it came in: RFC 3339
// ("2026-11-03T14:27:09.5+01:00" → "2026-11-03T14:00:00+01:00", a space for the T is kept), Unix
// seconds (10 digits) or milliseconds (13 digits).
Result<std::string> TruncateToHour(std::string_view timestamp);
bool IsOnTheHour(std::string_view s);

// A postal address to its city and region: "1234 Elm Street, Suite 5, Springfield, IL 62704" →
// "Springfield, IL". The address is read as comma-separated parts ending "…, city, region
// [postcode]"; postcodes and house numbers are dropped. InvalidArgument when fewer than two parts
// remain or the city part still looks like a street.
Result<std::string> ReduceAddress(std::string_view address);
// The verifier's test: a reduced address holds no digit (no house number, no postcode).
bool HasStreetNumber(std::string_view s);

// A number to the quartile its value falls in under the rubric's cut points [q1, median, q3]:
// "Q1" (≤ q1) … "Q4" (> q3).
Result<std::string> Quartile(std::string_view value, std::span<const double> cutpoints);
bool IsQuartile(std::string_view s);

}  // namespace cw::mask
