// mask/verify.h — re-derives the rubric's invariants from a masked dataset, so CI fails when the
// output drifts from the rubric (a treatment changed, a column slipped through, a key leaked).
//
// Invariants, each named in the violations it produces:
//   unknown_column     a column the rubric does not name is in the output
//   digest_format      a direct identifier that is not 64 lowercase hex digits
//   token_format       a token that is not {namespace}_{16 hex} for its column
//   token_is_raw       a token equal to the raw value it replaced            (needs --original)
//   token_cross_domain a token equal to the other domain's for the same record (needs --compare)
//   gps_grid           a coordinate off the 0.01° grid
//   age_bin            an age that is not a five-year bin ("35-39", "90+")
//   hour               a timestamp not on the hour
//   street_number      a reduced address that still holds a digit
//   quartile           a quartile column holding anything but Q1…Q4
//   kept_changed       a kept column that is not byte-identical to the original (needs --original)
//   pii_pattern        an email address, phone number or card number anywhere outside the
//                      digest and token columns
//   k_anonymity        a class of rows sharing the rubric's k-anonymity columns smaller than min_k
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "mask/rubric.h"

namespace cw::mask {

struct VerifyOptions {
  std::string masked;
  std::string original;      // optional: the raw input of the run
  std::string compare;       // optional: the same input masked under another domain
  int min_k = -1;            // overrides the rubric's k_anonymity.min_k when ≥ 0 (0 turns it off)
  size_t max_listed = 1000;  // violations listed in full; every one is counted
};

struct Violation {
  uint64_t row = 0;   // record number in the masked file (1-based, header excluded)
  uint64_t line = 0;  // its line
  std::string column;
  std::string invariant;
  std::string detail;  // never a raw value
};

struct KAnonymity {
  std::vector<std::string> columns;
  int min_k = 0;
  uint64_t classes = 0;
  uint64_t smallest = 0;       // the dataset's k
  uint64_t classes_below = 0;  // classes smaller than min_k
  uint64_t rows_below = 0;
};

struct VerifyReport {
  uint64_t rows = 0;
  std::vector<Violation> violations;       // the first max_listed
  std::map<std::string, uint64_t> counts;  // every violation, by invariant
  std::vector<std::string> checked;        // the invariants that applied to this dataset
  KAnonymity k;
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& [_, n] : counts) t += n;
    return t;
  }
};

// The report; an error only when an input is missing or cannot be read (the CLI's exit 2).
// With --original, masked rows are matched to original records through the decision log
// (MASKED.decisions.jsonl, its last completed run) so quarantined records do not shift the comparison.
Result<VerifyReport> Verify(const Rubric& rubric, const VerifyOptions& options);

// The report as text for a terminal or a CI log: a summary, then one line per listed violation.
std::string FormatReport(const VerifyReport& report);

}  // namespace cw::mask
