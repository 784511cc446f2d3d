// mask/redact.h — bucket 5: named-entity redaction of free text (notes, error messages, comments).
//
// Every entity found is replaced by a typed placeholder ("<EMAIL>", "<PERSON>" …); the values are
// never logged, only how many of each kind were found. Detection is by format and validation, not
// by a model:
//   EMAIL    local@domain.tld
//   URL      scheme://… or www.…
//   IP       IPv4 dotted quads (each ≤ 255) and IPv6 (inet_pton)
//   MAC      aa:bb:cc:dd:ee:ff, aa-bb-…, aabb.ccdd.eeff
//   IBAN     the country's length, mod-97
//   SSN      US area-group-serial, with the never-issued ranges excluded
//   CARD     13–19 digits passing Luhn (IMEI: 15 digits, ICCID: 19–20 digits from 89, both Luhn)
//   PHONE    7–15 digits that libphonenumber reads as a valid number (or a possible one written
//            the way phone numbers are written), local numbers in the default region
//   ADDRESS  house number, street name and type ("12 Elm Street"), unit, city, state, ZIP
//   PERSON   capitalised words that a name list, a title or a context cue ("technician …",
//            "… said") marks as a name
// Validated formats come first; names are looked for only in what they left.
//
// Fail closed: text the detectors cannot read safely is refused (and its row quarantined) rather
// than passed through: invalid UTF-8, control characters, values over the size limit, and letters
// of scripts other than Latin (the name detector would not see them).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/status.h"

namespace cw::mask {

enum class Entity : uint8_t {
  kEmail,
  kUrl,
  kIp,
  kMac,
  kIban,
  kSsn,
  kCard,
  kImei,
  kIccid,
  kPhone,
  kAddress,
  kPerson
};
inline constexpr size_t kEntityKinds = 12;

// "EMAIL", "PHONE" …
std::string_view EntityName(Entity e);
// "<EMAIL>", "<PHONE>" …
std::string_view Placeholder(Entity e);

struct EntitySpan {
  size_t begin = 0;  // byte offsets into the text
  size_t end = 0;
  Entity kind = Entity::kEmail;
};

struct EntityCounts {
  std::array<uint64_t, kEntityKinds> n{};
  void Add(const EntityCounts& other) {
    for (size_t i = 0; i < kEntityKinds; ++i) n[i] += other.n[i];
  }
  uint64_t total() const {
    uint64_t t = 0;
    for (uint64_t v : n) t += v;
    return t;
  }
};

struct RedactorOptions {
  std::string default_region = "US";  // ISO 3166 region for phone numbers written without +CC
  // Regions tried for a number in national format with a trunk 0 ("020 7946 0018") that is not a
  // number of the default region.
  std::vector<std::string> national_regions = {"GB", "DE", "FR", "NL", "IE", "IT", "AU"};
  size_t max_value_bytes = 1 << 20;
};

// Thread-safe: one redactor serves every masking thread.
class Redactor {
 public:
  explicit Redactor(RedactorOptions options = {});

  // The entities in `text`, in order of position, none overlapping. InvalidArgument saying why
  // (and at which byte) for text that cannot be processed safely.
  Result<std::vector<EntitySpan>> Find(std::string_view text) const;

  // `text` with each entity replaced by its placeholder; adds what it found to `counts`.
  Result<std::string> Redact(std::string_view text, EntityCounts* counts = nullptr) const;

  // Whether `text` holds an email address, a phone number or a card number (the verifier's scan
  // of masked output). Text it cannot read counts as holding one.
  bool HoldsContactOrCard(std::string_view text) const;

 private:
  using WordSet = std::unordered_set<std::string_view>;

  struct Scan;  // one text's working state (redact.cc)
  void FindUrls(Scan& s) const;
  void FindEmails(Scan& s) const;
  void FindMacs(Scan& s) const;
  void FindIps(Scan& s) const;
  void FindIbans(Scan& s) const;
  void FindSsns(Scan& s) const;
  void FindNumbers(Scan& s) const;  // cards, IMEI, ICCID, phones
  void FindAddresses(Scan& s) const;
  void FindPersons(Scan& s) const;
  // The kind of the digit group text[b, e), if it is a card, IMEI, ICCID or phone number.
  bool ClassifyNumber(std::string_view candidate, Entity& kind) const;

  RedactorOptions options_;
  WordSet first_names_, surnames_, common_, cues_before_, cues_after_, street_suffixes_,
      unit_words_;
};

}  // namespace cw::mask
