// mask/masker.h — one masking run: a dataset in, its masked copy and the run's evidence out.
//
// The input is CSV (RFC 4180 with a header row) or JSON Lines (one flat object per line), read in
// blocks and masked on every core; records come out in the order they went in, and memory stays
// bounded by the number of blocks in flight, not by the size of the input.
//
// What a run writes, next to the output unless told otherwise:
//   OUT                         the masked dataset (OUT.partial, renamed when complete)
//   OUT.decisions.jsonl         the decision log, appended: a run header (tool, rubric version
//                               and hash, key versions, the columns); each plan once (the bucket
//                               and treatment of every column, under an id derived from them);
//                               one line per record (rubric version and plan id, free-text hits
//                               by entity type, or why it was quarantined — never a value); a
//                               footer (input and output SHA-256, counts)
//   OUT.quarantine.{csv,jsonl}  records that could not be masked safely, as they came (0600)
//   OUT.tokenmap                token → value for authorised re-identification, sealed with the
//                               keyring's map key (AES-256-GCM); keep it apart from the output
//   OUT.kept_columns.md         every kept column with the rubric's why, for review in a PR
//
// Failure: a column the rubric does not name (fail closed), a record the format cannot be read
// at, or an I/O error stop the run; the partial output is removed and the decision log says so.
// A value a treatment cannot read only quarantines its record.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "mask/keyring.h"
#include "mask/redact.h"
#include "mask/rubric.h"

namespace cw::mask {

inline constexpr std::string_view kCartmaskVersion = "cartmask 0.1.0";

enum class DataFormat { kCsv, kJsonLines };
// By extension: .csv → CSV; .jsonl, .ndjson → JSON Lines. InvalidArgument otherwise.
Result<DataFormat> FormatOf(const std::string& path);

struct MaskOptions {
  std::string in;
  std::string out;
  std::string domain;         // the token domain, e.g. "tool-telemetry"
  bool drop_unknown = false;  // leave unknown columns out instead of failing
  int threads = 0;            // 0: one per core
  size_t block_bytes = 1 << 20;
  std::string token_map;  // default OUT.tokenmap
  std::string remask_of;  // remask: the rubric version this run replaces (recorded in the log)
  Time now{};             // picks the digest key's quarter
  // Called from the reading thread after each block: bytes read so far, input size.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct MaskSummary {
  uint64_t records = 0;  // data records read (blank lines not counted)
  uint64_t masked = 0;
  uint64_t quarantined = 0;
  uint64_t input_bytes = 0;
  uint64_t tokens = 0;  // distinct values in the token map
  std::vector<std::string> dropped_columns;
  EntityCounts hits;
  double seconds = 0;
  std::string input_sha256;
  std::string output_sha256;
  std::string decision_log, quarantine, token_map, kept_columns;  // paths written ("" if none)
};

// The domain must be 1–64 characters of lowercase letters, digits, '-' or '.'.
Result<MaskSummary> MaskFile(const Rubric& rubric, const Keyring& keys, const MaskOptions& options);

// One run as its decision log recorded it, read back by remask and verify.
struct LoggedRun {
  std::string rubric_version;
  std::string status;                 // "ok", the failure's code name, or "" if it never ended
  std::vector<uint64_t> masked_rows;  // the input record behind each output record, in order
};
// Every run in a decision log (OUT.decisions.jsonl), oldest first. NotFound if there is none;
// InvalidArgument naming the line for one that is not what MaskFile writes.
Result<std::vector<LoggedRun>> ReadDecisionLog(const std::string& path);

// The sealed token map's contents: one JSON line per token, {"token":…,"column":…,"value":…}.
// PermissionDenied if `map_key` does not open it (wrong keyring), Corruption if it is damaged.
Result<std::string> OpenTokenMap(const std::string& path, const Keyring& keys);

}  // namespace cw::mask
