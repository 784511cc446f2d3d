#include "mask/verify.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_map>

#include "mask/generalise.h"
#include "mask/jsonl.h"
#include "mask/keyed.h"
#include "mask/masker.h"
#include "mask/records.h"
#include "mask/redact.h"

namespace cw::mask {
namespace {

std::string ValueOf(const Record& r, std::string_view column, bool raw) {
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (r.columns[i] == column) return raw ? r.raw[i] : r.values[i];
  }
  return {};
}

bool HasColumn(const Record& r, std::string_view column) {
  for (const auto& c : r.columns) {
    if (c == column) return true;
  }
  return false;
}

}  // namespace

Result<VerifyReport> Verify(const Rubric& rubric, const VerifyOptions& options) {
  VerifyReport report;
  CW_ASSIGN_OR_RETURN(auto masked, RecordReader::Open(options.masked));
  std::unique_ptr<RecordReader> original, compare;
  std::vector<uint64_t> original_numbers;
  bool aligned_by_log = false;
  if (!options.original.empty()) {
    CW_ASSIGN_OR_RETURN(original, RecordReader::Open(options.original));
    // The output is the last completed run's: its log says which input record each row is.
    auto runs = ReadDecisionLog(options.masked + ".decisions.jsonl");
    if (runs.ok()) {
      for (auto it = runs->rbegin(); it != runs->rend() && !aligned_by_log; ++it) {
        if (it->status != "ok") continue;
        original_numbers = std::move(it->masked_rows);
        aligned_by_log = true;
      }
    } else if (runs.error().code() != Code::kNotFound) {
      return runs.error();
    }
  }
  if (!options.compare.empty()) {
    CW_ASSIGN_OR_RETURN(compare, RecordReader::Open(options.compare));
  }

  const int min_k = options.min_k >= 0 ? options.min_k : rubric.min_k;
  report.k.columns = rubric.k_columns;
  report.k.min_k = min_k;
  report.checked = {"unknown_column", "digest_format", "token_format", "gps_grid",   "age_bin",
                    "hour",           "street_number", "quartile",     "pii_pattern"};
  if (original) report.checked.insert(report.checked.end(), {"token_is_raw", "kept_changed"});
  if (compare) report.checked.push_back("token_cross_domain");
  if (min_k > 0 && !rubric.k_columns.empty()) report.checked.push_back("k_anonymity");

  auto violate = [&](const Record& r, std::string_view column, const char* invariant,
                     std::string detail) {
    ++report.counts[invariant];
    if (report.violations.size() < options.max_listed) {
      report.violations.push_back(
          {report.rows, r.line, std::string(column), invariant, std::move(detail)});
    }
  };

  Redactor redactor;
  std::set<std::string> unknown_reported;
  struct Class {
    uint64_t size = 0;
    uint64_t first_row = 0, first_line = 0;
  };
  std::unordered_map<std::string, Class> classes;
  Record rec, orig, other;
  bool have_orig = false;
  for (;;) {
    CW_ASSIGN_OR_RETURN(bool more, masked->Next(rec));
    if (!more) break;
    ++report.rows;
    // The original record this one was masked from.
    have_orig = false;
    if (original) {
      uint64_t want =
          aligned_by_log
              ? (report.rows <= original_numbers.size() ? original_numbers[report.rows - 1] : 0)
              : 0;
      for (;;) {
        CW_ASSIGN_OR_RETURN(bool got, original->Next(orig));
        if (!got) break;
        if (!aligned_by_log || orig.number == want) {
          have_orig = true;
          break;
        }
        if (orig.number > want) break;
      }
      if (!have_orig) {
        violate(rec, "", "kept_changed",
                "the original has no record for this row (a different input?)");
      }
    }
    bool have_other = false;
    if (compare) {
      CW_ASSIGN_OR_RETURN(have_other, compare->Next(other));
    }
    for (size_t c = 0; c < rec.columns.size(); ++c) {
      const std::string& column = rec.columns[c];
      const std::string& v = rec.values[c];
      const ColumnRule* rule = rubric.Find(column);
      if (!rule) {
        if (unknown_reported.insert(column).second) {
          violate(rec, column, "unknown_column",
                  "rubric " + rubric.version + " puts no bucket on this column");
        }
        continue;
      }
      bool keyed = rule->treatment == Treatment::kDigest || rule->treatment == Treatment::kToken;
      switch (rule->treatment) {
        case Treatment::kDigest:
          if (!v.empty() && !IsDigest(v))
            violate(rec, column, "digest_format", "not 64 lowercase hex digits");
          break;
        case Treatment::kToken:
          if (!v.empty() && !IsDomainToken(v, rule->ns)) {
            violate(rec, column, "token_format",
                    "not " + rule->ns + "_ followed by 16 lowercase hex digits");
          }
          if (have_orig && !v.empty() && HasColumn(orig, column) &&
              ValueOf(orig, column, false) == v) {
            violate(rec, column, "token_is_raw", "the token is the raw value itself");
          }
          if (have_other && !v.empty() && HasColumn(other, column) &&
              ValueOf(other, column, false) == v) {
            violate(rec, column, "token_cross_domain", "the same token as in " + options.compare);
          }
          break;
        case Treatment::kGpsGrid:
          if (!IsOnGrid(v))
            violate(rec, column, "gps_grid", "not on the 0.01° grid (two decimals)");
          break;
        case Treatment::kAgeBin:
          if (!IsAgeBin(v)) violate(rec, column, "age_bin", "not a five-year bin");
          break;
        case Treatment::kHour:
          if (!IsOnTheHour(v)) violate(rec, column, "hour", "not truncated to the hour");
          break;
        case Treatment::kAddress:
          if (HasStreetNumber(v))
            violate(rec, column, "street_number", "holds a digit (a house number or postcode)");
          break;
        case Treatment::kQuartile:
          if (!IsQuartile(v)) violate(rec, column, "quartile", "not Q1…Q4");
          break;
        case Treatment::kKeep:
          if (have_orig && ValueOf(orig, column, true) != rec.raw[c]) {
            violate(rec, column, "kept_changed", "differs from the original");
          }
          break;
        case Treatment::kRedact:
          break;
      }
      if (!keyed && !v.empty() && redactor.HoldsContactOrCard(v)) {
        violate(rec, column, "pii_pattern", "holds an email address, phone number or card number");
      }
    }
    if (min_k > 0 && !rubric.k_columns.empty()) {
      std::string key;
      for (const auto& kc : rubric.k_columns) {
        key += ValueOf(rec, kc, false);
        key += '\x1f';
      }
      Class& cls = classes[key];
      if (cls.size++ == 0) {
        cls.first_row = report.rows;
        cls.first_line = rec.line;
      }
    }
  }
  if (min_k > 0 && !rubric.k_columns.empty() && report.rows > 0) {
    report.k.classes = classes.size();
    report.k.smallest = UINT64_MAX;
    std::string joined;
    for (const auto& kc : rubric.k_columns) joined += (joined.empty() ? "" : "+") + kc;
    std::vector<std::pair<uint64_t, const Class*>> small;
    for (const auto& [key, cls] : classes) {
      report.k.smallest = std::min(report.k.smallest, cls.size);
      if (cls.size < static_cast<uint64_t>(min_k)) {
        ++report.k.classes_below;
        report.k.rows_below += cls.size;
        small.emplace_back(cls.first_row, &cls);
      }
    }
    std::sort(small.begin(), small.end());
    for (const auto& [row, cls] : small) {
      ++report.counts["k_anonymity"];
      if (report.violations.size() < options.max_listed) {
        report.violations.push_back({row, cls->first_line, joined, "k_anonymity",
                                     "a class of " + std::to_string(cls->size) +
                                         " row(s) shares these values (min k " +
                                         std::to_string(min_k) + ")"});
      }
    }
  }
  return report;
}

std::string FormatReport(const VerifyReport& report) {
  std::string out;
  out += "rows checked: " + std::to_string(report.rows) + "\n";
  out += "invariants: ";
  for (size_t i = 0; i < report.checked.size(); ++i) out += (i ? ", " : "") + report.checked[i];
  out += "\n";
  if (report.k.min_k > 0 && !report.k.columns.empty()) {
    out += "k-anonymity over ";
    for (size_t i = 0; i < report.k.columns.size(); ++i)
      out += (i ? "+" : "") + report.k.columns[i];
    out += ": k = " + std::to_string(report.rows ? report.k.smallest : 0) + " (min " +
           std::to_string(report.k.min_k) + "), " + std::to_string(report.k.classes) +
           " classes, " + std::to_string(report.k.classes_below) + " below min holding " +
           std::to_string(report.k.rows_below) + " rows\n";
  }
  if (report.counts.empty()) return out + "OK: no violations\n";
  out += "VIOLATIONS: " + std::to_string(report.total()) + " (";
  bool first = true;
  for (const auto& [inv, n] : report.counts) {
    out += (first ? "" : ", ") + inv + " " + std::to_string(n);
    first = false;
  }
  out += ")\n";
  for (const Violation& v : report.violations) {
    out += "  row " + std::to_string(v.row) + " (line " + std::to_string(v.line) + ")";
    if (!v.column.empty()) out += ", column " + v.column;
    out += ": " + v.invariant + ": " + v.detail + "\n";
  }
  if (report.violations.size() < report.total()) {
    out += "  … and " + std::to_string(report.total() - report.violations.size()) + " more\n";
  }
  return out;
}

}  // namespace cw::mask
