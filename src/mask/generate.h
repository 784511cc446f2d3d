// mask/generate.h — synthetic connected-tool telemetry with a realistic PII surface, for trying
// cartmask, for its tests and for its benchmarks. The same seed gives the same bytes.
//
// Columns: event_id, event_ts, tool_serial, tool_model, tool_model_name, firmware_version,
// operator_id, operator_email, operator_name, job_site_id, job_site_address, gps_lat, gps_lon,
// battery_pct, torque_nm, usage_minutes, error_code, notes. Operators, tools and job sites are
// drawn from pools, so identifiers repeat across events the way they do in real telemetry; about
// a third of the notes mention people, contacts or payment details.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cw::mask {

struct GenerateOptions {
  uint64_t rows = 1000;
  uint64_t seed = 1;
  std::string out;          // .csv or .jsonl
  bool with_notes = true;   // false: no notes column (structured columns only)
  bool notes_only = false;  // only event_id and notes, every record a note (free-text benchmarks)
};

// Writes the dataset; InvalidArgument for an unknown format, Unavailable if it cannot be written.
Status GenerateTelemetry(const GenerateOptions& options);

// mask/rubric.toml, the example rubric, which fits the generated data (built into the binary so
// `cartmask generate --rubric-out` can write it next to the data).
std::string_view ExampleRubric();

}  // namespace cw::mask
