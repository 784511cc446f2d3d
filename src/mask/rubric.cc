#include "mask/rubric.h"

#include <set>
#include <sstream>
#include <toml.hpp>

#include "core/files.h"
#include "crypto/hash.h"

namespace cw::mask {
namespace {

struct TreatmentInfo {
  std::string_view name;
  Treatment treatment;
  Bucket bucket;
};

constexpr TreatmentInfo kTreatments[] = {
    {"digest", Treatment::kDigest, Bucket::kDirect},
    {"token", Treatment::kToken, Bucket::kQuasi},
    {"gps_grid", Treatment::kGpsGrid, Bucket::kSensitive},
    {"age_bin", Treatment::kAgeBin, Bucket::kSensitive},
    {"hour", Treatment::kHour, Bucket::kSensitive},
    {"address", Treatment::kAddress, Bucket::kSensitive},
    {"quartile", Treatment::kQuartile, Bucket::kSensitive},
    {"keep", Treatment::kKeep, Bucket::kBehavioural},
    {"redact", Treatment::kRedact, Bucket::kFreeText},
};

constexpr std::pair<std::string_view, Bucket> kBuckets[] = {
    {"direct", Bucket::kDirect},       {"quasi", Bucket::kQuasi},
    {"sensitive", Bucket::kSensitive}, {"behavioural", Bucket::kBehavioural},
    {"free_text", Bucket::kFreeText},
};

bool ValidNamespace(std::string_view ns) {
  if (ns.empty() || ns.size() > 16) return false;
  for (char c : ns) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

std::string_view BucketName(Bucket b) {
  for (const auto& [name, bucket] : kBuckets) {
    if (bucket == b) return name;
  }
  return "?";
}

std::string_view TreatmentName(Treatment t) {
  for (const auto& info : kTreatments) {
    if (info.treatment == t) return info.name;
  }
  return "?";
}

Result<Rubric> Rubric::Parse(std::string_view toml_text, const std::string& origin) {
  Rubric rubric;
  rubric.sha256 = crypto::Sha256Hex(toml_text);
  try {  // toml11 reports syntax errors by exception; a rubric is read once, at start-up
    std::istringstream in{std::string(toml_text)};
    toml::value root = toml::parse(in, origin);
    auto at = [&](const toml::value& v, const std::string& msg) {
      return InvalidArgument(origin + ":" + std::to_string(v.location().line()) + ": " + msg);
    };
    for (const auto& [key, v] : root.as_table()) {
      if (key == "version") {
        if (!v.is_string() || v.as_string().str.empty())
          return at(v, "version must be a non-empty string");
        rubric.version = v.as_string().str;
      } else if (key == "k_anonymity") {
        if (!v.is_table()) return at(v, "k_anonymity must be a section");
        for (const auto& [k, kv] : v.as_table()) {
          if (k == "min_k") {
            if (!kv.is_integer() || kv.as_integer() < 1)
              return at(kv, "k_anonymity.min_k must be a whole number ≥ 1");
            rubric.min_k = static_cast<int>(kv.as_integer());
          } else if (k == "columns") {
            if (!kv.is_array()) return at(kv, "k_anonymity.columns must be a list of column names");
            for (const auto& c : kv.as_array()) {
              if (!c.is_string())
                return at(c, "k_anonymity.columns must be a list of column names");
              rubric.k_columns.push_back(c.as_string().str);
            }
          } else {
            return at(kv, "unknown key '" + k + "' in [k_anonymity] (expected columns, min_k)");
          }
        }
      } else if (key == "columns") {
        if (!v.is_table()) return at(v, "columns must be a section of [columns.NAME] tables");
        std::map<std::string, std::string, std::less<>> namespaces;  // ns → column
        for (const auto& column_entry :
             v.as_table()) {  // not a structured binding: the lambda below uses them
          const std::string& column = column_entry.first;
          const toml::value& cv = column_entry.second;
          if (!cv.is_table()) return at(cv, "columns." + column + " must be a table");
          ColumnRule rule;
          rule.column = column;
          std::optional<Bucket> bucket;
          const TreatmentInfo* treatment = nullptr;
          for (const auto& entry : cv.as_table()) {
            const std::string& k = entry.first;
            const toml::value& kv = entry.second;
            auto text = [&]() -> Result<std::string> {
              if (!kv.is_string())
                return at(kv, "columns." + column + "." + k + " must be a string");
              return kv.as_string().str;
            };
            if (k == "bucket") {
              CW_ASSIGN_OR_RETURN(std::string name, text());
              for (const auto& [bn, b] : kBuckets) {
                if (bn == name) bucket = b;
              }
              if (!bucket) {
                return at(kv, "columns." + column + ": unknown bucket '" + name +
                                  "' (direct, quasi, sensitive, behavioural or free_text)");
              }
            } else if (k == "treatment") {
              CW_ASSIGN_OR_RETURN(std::string name, text());
              for (const auto& info : kTreatments) {
                if (info.name == name) treatment = &info;
              }
              if (!treatment) {
                return at(kv, "columns." + column + ": unknown treatment '" + name +
                                  "' (digest, token, gps_grid, age_bin, hour, address, quartile, "
                                  "keep or redact)");
              }
            } else if (k == "why") {
              CW_ASSIGN_OR_RETURN(rule.why, text());
            } else if (k == "namespace") {
              CW_ASSIGN_OR_RETURN(rule.ns, text());
              if (!ValidNamespace(rule.ns)) {
                return at(kv, "columns." + column + ": namespace '" + rule.ns +
                                  "' must be 1–16 lowercase letters, digits or '-'");
              }
            } else if (k == "cutpoints") {
              if (!kv.is_array())
                return at(kv, "columns." + column + ".cutpoints must be a list of three numbers");
              for (const auto& n : kv.as_array()) {
                if (n.is_integer())
                  rule.cutpoints.push_back(static_cast<double>(n.as_integer()));
                else if (n.is_floating())
                  rule.cutpoints.push_back(n.as_floating());
                else
                  return at(n, "columns." + column + ".cutpoints must be numbers");
              }
            } else {
              return at(kv, "unknown key '" + k + "' in [columns." + column +
                                "] (expected bucket, treatment, why, namespace, cutpoints)");
            }
          }
          if (!bucket) return at(cv, "columns." + column + " has no bucket");
          if (!treatment) return at(cv, "columns." + column + " has no treatment");
          if (rule.why.empty())
            return at(cv,
                      "columns." + column + " has no why: say in one line why it is in its bucket");
          if (treatment->bucket != *bucket) {
            return at(cv, "columns." + column + ": treatment '" + std::string(treatment->name) +
                              "' is not one the " + std::string(BucketName(*bucket)) +
                              " bucket allows");
          }
          rule.bucket = *bucket;
          rule.treatment = treatment->treatment;
          if (rule.treatment == Treatment::kToken) {
            if (rule.ns.empty()) return at(cv, "columns." + column + ": a token needs a namespace");
            auto [it, fresh] = namespaces.emplace(rule.ns, column);
            if (!fresh) {
              return at(cv, "columns." + column + ": namespace '" + rule.ns + "' is already " +
                                it->second + "'s (each token column needs its own)");
            }
          } else if (!rule.ns.empty()) {
            return at(cv, "columns." + column + ": namespace is for token columns only");
          }
          if (rule.treatment == Treatment::kQuartile) {
            if (rule.cutpoints.size() != 3 || !(rule.cutpoints[0] < rule.cutpoints[1]) ||
                !(rule.cutpoints[1] < rule.cutpoints[2])) {
              return at(cv, "columns." + column +
                                ": quartile needs cutpoints = [q1, median, q3], ascending");
            }
          } else if (!rule.cutpoints.empty()) {
            return at(cv, "columns." + column + ": cutpoints are for quartile columns only");
          }
          rubric.columns.emplace(column, std::move(rule));
        }
      } else {
        return at(v, "unknown key '" + key + "' (expected version, [k_anonymity], [columns.NAME])");
      }
    }
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  if (rubric.version.empty())
    return InvalidArgument(origin + ": needs a version (bump it whenever a column moves)");
  if (rubric.columns.empty()) return InvalidArgument(origin + ": names no [columns.NAME]");
  for (const auto& c : rubric.k_columns) {
    if (!rubric.Find(c))
      return InvalidArgument(origin + ": k_anonymity column '" + c + "' is not in [columns]");
  }
  if (!rubric.k_columns.empty() && rubric.min_k == 0) rubric.min_k = 2;
  size_t index = 0;
  for (auto& [name, rule] : rubric.columns) rule.index = index++;
  return rubric;
}

Result<Rubric> Rubric::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) return NotFound("no rubric at " + path);
    return text.error();
  }
  return Parse(*text, path);
}

const ColumnRule* Rubric::Find(std::string_view column) const {
  auto it = columns.find(column);
  return it == columns.end() ? nullptr : &it->second;
}

Result<std::vector<ColumnPlan>> Plan(const Rubric& rubric, const std::vector<std::string>& columns,
                                     bool drop_unknown) {
  std::vector<ColumnPlan> plan;
  std::set<std::string_view> seen;
  std::string unknown;
  for (const auto& c : columns) {
    if (c.empty())
      return InvalidArgument("column " + std::to_string(plan.size() + 1) + " has no name");
    if (!seen.insert(c).second) return InvalidArgument("column '" + c + "' appears twice");
    const ColumnRule* rule = rubric.Find(c);
    if (!rule && !drop_unknown) unknown += (unknown.empty() ? "" : ", ") + c;
    plan.push_back({c, rule});
  }
  if (!unknown.empty()) {
    return FailedPrecondition(
        "rubric " + rubric.version + " puts no bucket on: " + unknown +
        " (add each to the rubric, or pass --drop-unknown to leave them out of the output)");
  }
  return plan;
}

}  // namespace cw::mask
