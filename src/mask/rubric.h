// mask/rubric.h — the rubric: which bucket and treatment every column of a dataset gets, and why.
//
// A rubric is a versioned TOML file a privacy lead can read and a reviewer can diff:
//
//   version = "2026.4"
//   [k_anonymity]                     # optional: the verifier's report over generalised quasi-ids
//   columns = ["tool_model", "job_site_address"]
//   min_k = 5
//   [columns.operator_email]
//   bucket = "direct"                 # direct | quasi | sensitive | behavioural | free_text
//   treatment = "digest"              # the one treatment the bucket allows, or one of its kind
//   why = "names a person"
//   [columns.operator_id]
//   bucket = "quasi"
//   treatment = "token"
//   namespace = "op"                  # tokens read op_0123456789abcdef
//   why = "..."
//
// Buckets and the treatments each allows:
//   direct      → digest                      HMAC-SHA256 under the quarter's key, 64 hex
//   quasi       → token                       {namespace}_{16 hex}, per domain
//   sensitive   → gps_grid | age_bin | hour | address | quartile (quartile needs `cutpoints`)
//   behavioural → keep                        byte-identical, by explicit allow-list
//   free_text   → redact                      typed placeholders for the entities found
//
// Fail closed: a dataset column the rubric does not name stops the run (Plan), unless the operator
// asks for unknown columns to be dropped.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cw::mask {

enum class Bucket { kDirect, kQuasi, kSensitive, kBehavioural, kFreeText };
enum class Treatment {
  kDigest,
  kToken,
  kGpsGrid,
  kAgeBin,
  kHour,
  kAddress,
  kQuartile,
  kKeep,
  kRedact
};

std::string_view BucketName(Bucket b);
std::string_view TreatmentName(Treatment t);

struct ColumnRule {
  std::string column;
  Bucket bucket = Bucket::kBehavioural;
  Treatment treatment = Treatment::kKeep;
  std::string ns;                 // token namespace (quasi only)
  std::vector<double> cutpoints;  // quartile only: three ascending values
  std::string why;
  size_t index = 0;  // its position in Rubric::columns (per-column state can live in a vector)
};

struct Rubric {
  std::string version;
  std::string sha256;  // of the file's bytes, for the decision log
  std::map<std::string, ColumnRule, std::less<>> columns;
  std::vector<std::string> k_columns;  // the verifier groups rows by these for k-anonymity
  int min_k = 0;                       // 0: no k-anonymity check

  // InvalidArgument naming the line for: no version; a column without bucket, treatment or why; a
  // treatment its bucket does not allow; a token without a namespace (lowercase letters, digits,
  // '-', at most 16) or two columns sharing one; quartile cutpoints that are not three ascending
  // numbers; an unknown key; a k-anonymity column the rubric does not name.
  static Result<Rubric> Parse(std::string_view toml_text, const std::string& origin = "rubric");
  // NotFound if there is no file; the file's own errors otherwise.
  static Result<Rubric> Load(const std::string& path);

  const ColumnRule* Find(std::string_view column) const;
};

// How one run treats each column of a dataset, in the dataset's column order.
struct ColumnPlan {
  std::string column;
  const ColumnRule* rule = nullptr;  // null: dropped (unknown, and the operator allowed dropping)
};

// The plan for a dataset with these columns. FailedPrecondition listing every unknown column when
// the rubric does not name it and `drop_unknown` is false (fail closed); InvalidArgument for a
// column named twice or an empty name.
Result<std::vector<ColumnPlan>> Plan(const Rubric& rubric, const std::vector<std::string>& columns,
                                     bool drop_unknown);

}  // namespace cw::mask
