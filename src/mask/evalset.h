// mask/evalset.h — labelled free text for measuring the redactor, and the synthetic values that
// `cartmask generate` fills its datasets with.
//
// Every person name here comes from the held-out lists, which share no name with the detector's
// (lexicon.h), so `cartmask eval` measures how well context and capitalisation find names the
// detector has never seen, not whether it can look up its own answers.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "core/status.h"
#include "mask/redact.h"

namespace cw::mask {

std::span<const std::string_view> HeldOutFirstNames();
std::span<const std::string_view> HeldOutSurnames();

struct LabelledText {
  std::string text;
  std::vector<EntitySpan> gold;  // every entity in `text`, by position
};

// Realistic values of each entity kind, and field-service notes built from sentence templates.
class TextForge {
 public:
  explicit TextForge(Random& random) : r_(random) {}

  std::string FirstName();
  std::string Surname();
  std::string Email(std::string_view first, std::string_view last);
  std::string Phone();  // US, UK and German numbers in the ways people write them
  std::string Card();   // Visa, Mastercard, Amex; Luhn-valid; grouped or not
  std::string Imei();
  std::string Iccid();
  std::string Iban();  // DE, GB, FR, NL; valid check digits; printed or electronic
  std::string Ipv4();
  std::string Ipv6();
  std::string Mac();
  std::string Ssn();
  std::string Url();
  std::string StreetAddress();  // "4121 Wainwright Avenue"
  std::string Serial();         // tool serials: "DT-7F3K9Q2M" (not an entity)

  // One note from a random template: names, contacts and numbers where a technician would put
  // them, and notes with none at all (the false positives count too).
  LabelledText Note();

 private:
  std::string Digits(int n);
  Random& r_;
};

// `n` labelled notes from `seed`.
std::vector<LabelledText> BuildEvalSet(size_t n, uint64_t seed);

struct EvalRow {
  Entity kind = Entity::kEmail;
  uint64_t gold = 0;      // entities of this kind in the set
  uint64_t found = 0;     // spans the redactor reported as this kind
  uint64_t recalled = 0;  // gold entities wholly covered by a span of their kind
  uint64_t correct = 0;   // reported spans that overlap a gold entity of their kind
  double precision() const { return found ? static_cast<double>(correct) / found : 1.0; }
  double recall() const { return gold ? static_cast<double>(recalled) / gold : 1.0; }
  double f2() const {
    double p = precision(), r = recall();
    return p + r > 0 ? 5 * p * r / (4 * p + r) : 0;
  }
};

// A miss or a false report, for tuning (the set is synthetic, so showing values is harmless).
struct EvalExample {
  Entity kind = Entity::kEmail;
  bool missed = false;  // true: an entity not found; false: a report that is no entity
  std::string text;
  std::string span;
};

// Precision, recall and F2 per kind (kinds with neither gold nor reports are left out). An error
// if the redactor refuses a note (the set holds only text it must read). Up to `max_examples`
// misses and false reports go to `examples` when it is given.
Result<std::vector<EvalRow>> Evaluate(const Redactor& redactor,
                                      const std::vector<LabelledText>& set,
                                      std::vector<EvalExample>* examples = nullptr,
                                      size_t max_examples = 0);

// The targets the kit is held to: recall ≥ 0.98 for the validated formats (email, card, IBAN, IP,
// MAC, SSN); recall ≥ 0.90 at precision ≥ 0.75 for person names; none (0, 0) for the others.
struct EvalTarget {
  double min_recall = 0;
  double min_precision = 0;
  bool any() const { return min_recall > 0 || min_precision > 0; }
  bool MetBy(const EvalRow& row) const {
    return row.recall() >= min_recall && row.precision() >= min_precision;
  }
};
EvalTarget TargetFor(Entity kind);

// A Markdown table of the rows, with the targets beside them.
std::string FormatEval(const std::vector<EvalRow>& rows, size_t notes);

}  // namespace cw::mask
