#include "mask/redact.h"

#include <arpa/inet.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cstdio>

#include "mask/checksums.h"
#include "mask/lexicon.h"

namespace cw::mask {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr std::string_view kNames[kEntityKinds] = {"EMAIL", "URL",   "IP",      "MAC",
                                                   "IBAN",  "SSN",   "CARD",    "IMEI",
                                                   "ICCID", "PHONE", "ADDRESS", "PERSON"};
constexpr std::string_view kPlaceholders[kEntityKinds] = {
    "<EMAIL>", "<URL>",  "<IP>",    "<MAC>",   "<IBAN>",    "<SSN>",
    "<CARD>",  "<IMEI>", "<ICCID>", "<PHONE>", "<ADDRESS>", "<PERSON>"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAsciiLetter(char c) { return IsUpper(c) || IsLower(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Letters include every non-ASCII byte: the text is checked to be Latin-script UTF-8 first.
bool IsWordByte(char c) {
  return IsAsciiLetter(c) || IsDigit(c) || static_cast<unsigned char>(c) >= 0x80;
}
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// The IBAN length of each country that issues them (ISO 13616 registry).
int IbanLength(char a, char b) {
  static constexpr struct {
    char cc[3];
    int len;
  } kLengths[] = {
      {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
      {"BG", 22}, {"BH", 22}, {"BR", 29}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
      {"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
      {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
      {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
      {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LI", 21}, {"LT", 20},
      {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27},
      {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29},
      {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31}, {"SE", 24},
      {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
      {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
  };
  for (const auto& e : kLengths) {
    if (e.cc[0] == a && e.cc[1] == b) return e.len;
  }
  return 0;
}

bool IbanChecksumOk(std::string_view iban) {  // uppercase, no spaces
  std::string rearranged(iban.substr(4));
  rearranged.append(iban.substr(0, 4));
  return Mod97(rearranged) == 1;
}

// Code points the detectors read: Latin letters and marks, and the punctuation, symbols and emoji
// that carry no name. Anything else (Cyrillic, CJK, Arabic …) could hide a name they cannot see.
bool CoveredCodePoint(uint32_t cp) {
  return cp <= 0x024F ||                    // ASCII, Latin-1, Latin Extended-A/B
         (cp >= 0x0300 && cp <= 0x036F) ||  // combining diacritics (decomposed é)
         (cp >= 0x1E00 && cp <= 0x1EFF) ||  // Latin Extended Additional
         (cp >= 0x2000 &&
          cp <= 0x2BFF) ||  // punctuation, currency, letterlike, arrows, math, shapes
         (cp >= 0xFE00 && cp <= 0xFE0F) ||  // variation selectors
         (cp >= 0x1F000 && cp <= 0x1FAFF);  // emoji and pictographs
}

// OK, or why `text` cannot be processed safely.
Status CheckReadable(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return InvalidArgument("free text of " + std::to_string(text.size()) + " bytes is over the " +
                           std::to_string(max_bytes) + "-byte limit");
  }
  auto at = [&](size_t i, const std::string& what) {
    return InvalidArgument(what + " at byte " + std::to_string(i));
  };
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", c);
        return at(i, std::string("control character ") + hex);
      }
      ++i;
      continue;
    }
    int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c > 0xF4 || i + len > text.size()) return at(i, "invalid UTF-8");
    uint32_t cp = c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return at(i, "invalid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return at(i, "invalid UTF-8");
    if (!CoveredCodePoint(cp)) {
      char u[16];
      std::snprintf(u, sizeof u, "U+%04X", cp);
      return at(i, std::string(u) + ", a script the redactor's detectors do not read,");
    }
    i += len;
  }
  return Status::Ok();
}

}  // namespace

std::string_view EntityName(Entity e) { return kNames[static_cast<size_t>(e)]; }
std::string_view Placeholder(Entity e) { return kPlaceholders[static_cast<size_t>(e)]; }

// One text being scanned: what has been found, and which bytes are taken by it.
struct Redactor::Scan {
  std::string_view t;
  std::vector<uint8_t> taken;
  std::vector<EntitySpan> found;

  explicit Scan(std::string_view text) : t(text), taken(text.size(), 0) {}
  size_t n() const { return t.size(); }
  char at(size_t i) const { return i < t.size() ? t[i] : '\0'; }
  bool BoundaryBefore(size_t i) const { return i == 0 || !IsWordByte(t[i - 1]); }
  bool BoundaryAfter(size_t i) const { return i >= t.size() || !IsWordByte(t[i]); }
  bool Free(size_t b, size_t e) const {
    for (size_t i = b; i < e; ++i) {
      if (taken[i]) return false;
    }
    return true;
  }
  // Records [b, e) unless an earlier, more certain detector has part of it.
  bool Add(size_t b, size_t e, Entity kind) {
    if (b >= e || !Free(b, e)) return false;
    std::fill(taken.begin() + b, taken.begin() + e, 1);
    found.push_back({b, e, kind});
    return true;
  }
};

Redactor::Redactor(RedactorOptions options) : options_(std::move(options)) {
  auto fill = [](WordSet& set, std::span<const std::string_view> words) {
    set.insert(words.begin(), words.end());
  };
  fill(first_names_, DetectorFirstNames());
  fill(surnames_, DetectorSurnames());
  fill(common_, CommonWords());
  fill(cues_before_, PersonCuesBefore());
  fill(cues_after_, PersonCuesAfter());
  fill(street_suffixes_, StreetSuffixes());
  fill(unit_words_, UnitWords());
}

void Redactor::FindUrls(Scan& s) const {
  auto end_of = [&](size_t j) {
    while (j < s.n() && !(s.t[j] == ' ' || s.t[j] == '\t' || s.t[j] == '\n' || s.t[j] == '\r' ||
                          s.t[j] == '<' || s.t[j] == '>' || s.t[j] == '"' || s.t[j] == '`')) {
      ++j;
    }
    while (j > 0 && std::string_view(".,;:!?)]}'").find(s.t[j - 1]) != std::string_view::npos) --j;
    return j;
  };
  for (size_t i = s.t.find("://"); i != std::string_view::npos; i = s.t.find("://", i + 3)) {
    size_t b = i;
    while (b > 0 && (IsAsciiLetter(s.t[b - 1]) || IsDigit(s.t[b - 1]) || s.t[b - 1] == '+' ||
                     s.t[b - 1] == '-' || s.t[b - 1] == '.')) {
      --b;
    }
    if (b == i || !IsAsciiLetter(s.t[b]) || i + 3 >= s.n() || !IsWordByte(s.t[i + 3])) continue;
    s.Add(b, end_of(i + 3), Entity::kUrl);
  }
  for (size_t i = 0; i + 4 < s.n(); ++i) {
    if ((s.t[i] == 'w' || s.t[i] == 'W') && s.BoundaryBefore(i) && Lower(s.t[i + 1]) == 'w' &&
        Lower(s.t[i + 2]) == 'w' && s.t[i + 3] == '.' && IsWordByte(s.t[i + 4])) {
      s.Add(i, end_of(i + 4), Entity::kUrl);
    }
  }
}

void Redactor::FindEmails(Scan& s) const {
  auto local_char = [](char c) {
    return IsAsciiLetter(c) || IsDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
           c == '-' || c == '\'';
  };
  for (size_t at = s.t.find('@'); at != std::string_view::npos; at = s.t.find('@', at + 1)) {
    size_t b = at;
    while (b > 0 && local_char(s.t[b - 1])) --b;
    while (b < at && (s.t[b] == '.' || s.t[b] == '\'')) ++b;
    if (b == at) continue;
    // Domain: labels of letters, digits and hyphens, at least two, the last one letters only.
    size_t e = at + 1, last_dot = 0;
    while (e < s.n() && (IsAsciiLetter(s.t[e]) || IsDigit(s.t[e]) || s.t[e] == '-' ||
                         (s.t[e] == '.' && e + 1 < s.n() &&
                          (IsAsciiLetter(s.t[e + 1]) || IsDigit(s.t[e + 1]))))) {
      if (s.t[e] == '.') last_dot = e;
      ++e;
    }
    if (last_dot == 0 || e - last_dot - 1 < 2) continue;
    bool tld_letters = true;
    for (size_t k = last_dot + 1; k < e; ++k) tld_letters &= IsAsciiLetter(s.t[k]);
    if (!tld_letters) continue;
    s.Add(b, e, Entity::kEmail);
  }
}

void Redactor::FindMacs(Scan& s) const {
  for (size_t i = 0; i + 14 <= s.n(); ++i) {
    if (!IsHex(s.t[i]) || !s.BoundaryBefore(i)) continue;
    // aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff
    if (i + 17 <= s.n() && (s.t[i + 2] == ':' || s.t[i + 2] == '-')) {
      char sep = s.t[i + 2];
      bool ok = true;
      for (int g = 0; g < 6 && ok; ++g) {
        ok = IsHex(s.t[i + 3 * g]) && IsHex(s.t[i + 3 * g + 1]) &&
             (g == 5 || s.t[i + 3 * g + 2] == sep);
      }
      if (ok && s.BoundaryAfter(i + 17) && s.at(i + 17) != sep) {
        s.Add(i, i + 17, Entity::kMac);
        continue;
      }
    }
    // aabb.ccdd.eeff
    bool ok = true;
    for (int g = 0; g < 3 && ok; ++g) {
      for (int k = 0; k < 4 && ok; ++k) ok = IsHex(s.t[i + 5 * g + k]);
      if (g < 2) ok = ok && s.t[i + 5 * g + 4] == '.';
    }
    if (ok && s.BoundaryAfter(i + 14) && s.at(i + 14) != '.') s.Add(i, i + 14, Entity::kMac);
  }
}

void Redactor::FindIps(Scan& s) const {
  // IPv6 first: a v4-mapped address ends in a dotted quad.
  for (size_t i = 0; i < s.n(); ++i) {
    if (!(IsHex(s.t[i]) || s.t[i] == ':') || !s.BoundaryBefore(i) || (i > 0 && s.t[i - 1] == ':'))
      continue;
    size_t e = i, colons = 0;
    while (e < s.n() && e - i < 45 && (IsHex(s.t[e]) || s.t[e] == ':' || s.t[e] == '.'))
      colons += s.t[e++] == ':';
    if (colons < 2 || !s.BoundaryAfter(e)) continue;
    for (size_t end = e; end > i + 2; --end) {  // a sentence may end on '.' or ':'
      std::string candidate(s.t.substr(i, end - i));
      in6_addr addr;
      if (inet_pton(AF_INET6, candidate.c_str(), &addr) == 1) {
        s.Add(i, end, Entity::kIp);
        break;
      }
      if (s.t[end - 1] != '.' && s.t[end - 1] != ':') break;
    }
    i = e;
  }
  for (size_t i = 0; i < s.n(); ++i) {
    if (!IsDigit(s.t[i]) || !s.BoundaryBefore(i) || (i > 0 && s.t[i - 1] == '.')) continue;
    size_t j = i;
    int octets = 0;
    bool ok = true;
    while (ok && octets < 4) {
      size_t k = j;
      int v = 0;
      while (k < s.n() && k - j < 4 && IsDigit(s.t[k])) v = v * 10 + (s.t[k++] - '0');
      ok = k > j && k - j <= 3 && v <= 255;
      ++octets;
      j = k;
      if (ok && octets < 4) ok = s.at(j) == '.' && (j++, true);
    }
    if (ok && octets == 4 && s.BoundaryAfter(j) && !(s.at(j) == '.' && IsDigit(s.at(j + 1))))
      s.Add(i, j, Entity::kIp);
  }
}

void Redactor::FindIbans(Scan& s) const {
  for (size_t i = 0; i + 15 <= s.n(); ++i) {
    char a = s.t[i], b = s.t[i + 1];
    if (!IsAsciiLetter(a) || !IsAsciiLetter(b) || !IsDigit(s.t[i + 2]) || !IsDigit(s.t[i + 3]) ||
        !s.BoundaryBefore(i)) {
      continue;
    }
    int len = IbanLength(static_cast<char>(a & ~0x20), static_cast<char>(b & ~0x20));
    if (len == 0) continue;
    std::string iban;
    size_t j = i;
    while (j < s.n() && static_cast<int>(iban.size()) < len) {
      char c = s.t[j];
      if (IsAsciiLetter(c) || IsDigit(c)) {
        iban += static_cast<char>(IsLower(c) ? c - 'a' + 'A' : c);
        ++j;
      } else if (c == ' ' && j + 1 < s.n() && (IsAsciiLetter(s.t[j + 1]) || IsDigit(s.t[j + 1])) &&
                 !iban.empty()) {
        ++j;  // printed IBANs come in groups of four
      } else {
        break;
      }
    }
    if (static_cast<int>(iban.size()) == len && s.BoundaryAfter(j) && IbanChecksumOk(iban))
      s.Add(i, j, Entity::kIban);
  }
}

void Redactor::FindSsns(Scan& s) const {
  for (size_t i = 0; i + 11 <= s.n(); ++i) {
    if (!IsDigit(s.t[i]) || !s.BoundaryBefore(i) ||
        (i > 0 && (s.t[i - 1] == '-' || s.t[i - 1] == '.')))
      continue;
    char sep = s.t[i + 3];
    if ((sep != '-' && sep != ' ') || s.t[i + 6] != sep) continue;
    bool digits = true;
    for (size_t k : {0, 1, 2, 4, 5, 7, 8, 9, 10}) digits &= IsDigit(s.t[i + k]);
    if (!digits || !s.BoundaryAfter(i + 11) || s.at(i + 11) == '-') continue;
    int area = (s.t[i] - '0') * 100 + (s.t[i + 1] - '0') * 10 + (s.t[i + 2] - '0');
    bool group_zero = s.t[i + 4] == '0' && s.t[i + 5] == '0';
    bool serial_zero = s.t.substr(i + 7, 4) == "0000";
    if (area == 0 || area == 666 || area >= 900 || group_zero || serial_zero) continue;
    if (sep == ' ') {  // "123 45 6789" is an SSN only where the text says so
      std::string before;
      for (size_t k = i >= 32 ? i - 32 : 0; k < i; ++k) before += Lower(s.t[k]);
      if (before.find("ssn") == std::string::npos &&
          before.find("social security") == std::string::npos)
        continue;
    }
    s.Add(i, i + 11, Entity::kSsn);
  }
}

bool Redactor::ClassifyNumber(std::string_view candidate, Entity& kind) const {
  std::string digits;
  bool card_separators = true;  // cards are written with spaces or hyphens only
  for (char c : candidate) {
    if (IsDigit(c))
      digits += c;
    else if (c != ' ' && c != '-')
      card_separators = false;
  }
  size_t nd = digits.size();
  // Grouped card numbers come in groups of four or six, the last of at least three digits.
  bool card_groups = true;
  size_t group = 0;
  for (size_t k = 0; k <= candidate.size(); ++k) {
    if (k < candidate.size() && IsDigit(candidate[k])) {
      ++group;
      continue;
    }
    bool last = k == candidate.size();
    if (group > 0 && ((!last && group != 4 && group != 6) || (last && group < 3 && group != nd)))
      card_groups = false;
    group = 0;
  }
  if (card_separators && card_groups && nd >= 13 && nd <= 20 && LuhnValid(digits)) {
    if ((nd == 19 || nd == 20) && digits.starts_with("89"))
      kind = Entity::kIccid;
    else if (nd == 15 && !digits.starts_with("34") && !digits.starts_with("37"))
      kind = Entity::kImei;
    else if (nd <= 19)
      kind = Entity::kCard;
    else
      return false;
    return true;
  }
  if (nd < 7 || nd > 15) return false;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util.Parse(std::string(candidate), options_.default_region, &number) !=
      PhoneNumberUtil::NO_PARSING_ERROR) {
    return false;
  }
  if (util.IsValidNumber(number)) {
    kind = Entity::kPhone;
    return true;
  }
  bool grouped = candidate.find_first_of(" -.()") != std::string_view::npos;
  if (candidate.front() == '0' &&
      grouped) {  // unseparated digit runs with a leading 0 are ids far more often
    for (const std::string& region : options_.national_regions) {
      PhoneNumber national;
      if (util.Parse(std::string(candidate), region, &national) ==
              PhoneNumberUtil::NO_PARSING_ERROR &&
          util.IsValidNumber(national)) {
        kind = Entity::kPhone;
        return true;
      }
    }
  }
  // Numbers from ranges reserved for fiction or not yet assigned are not "valid", but written the
  // way phone numbers are written they are still someone's number to the reader.
  int groups = 1;
  bool styled = candidate.front() == '+' || candidate.front() == '(';
  for (size_t k = 1; k < candidate.size(); ++k) {
    if (IsDigit(candidate[k]) && !IsDigit(candidate[k - 1])) ++groups;
  }
  auto possible = util.IsPossibleNumberWithReason(number);
  if ((possible == PhoneNumberUtil::IS_POSSIBLE ||
       possible == PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY) &&
      (styled || groups >= 2) && !(nd == 8 && groups == 3)) {  // 2026-11-03 is a date
    kind = Entity::kPhone;
    return true;
  }
  return false;
}

void Redactor::FindNumbers(Scan& s) const {
  for (size_t i = 0; i < s.n(); ++i) {
    char c = s.t[i];
    bool start = (IsDigit(c) && s.BoundaryBefore(i) &&
                  !(i > 0 && (s.t[i - 1] == '.' || s.t[i - 1] == '-'))) ||
                 ((c == '+' || c == '(') && IsDigit(s.at(i + 1)) && s.BoundaryBefore(i));
    if (!start || s.taken[i]) continue;
    // Digit groups joined by short runs of separators: the widest text that might be one number.
    std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) of each digit group
    size_t j = i;
    if (c == '+' || c == '(') ++j;
    while (j < s.n() && !s.taken[j]) {
      size_t g = j;
      while (j < s.n() && IsDigit(s.t[j]) && !s.taken[j]) ++j;
      if (j == g) break;
      groups.emplace_back(g, j);
      size_t sep = j;
      while (sep < s.n() && sep - j < 3 &&
             (s.t[sep] == ' ' || s.t[sep] == '-' || s.t[sep] == '.' || s.t[sep] == '(' ||
              s.t[sep] == ')')) {
        ++sep;
      }
      if (sep == j || sep >= s.n() || !IsDigit(s.t[sep]) || groups.size() >= 8) break;
      j = sep;
    }
    if (groups.empty()) continue;
    size_t end_all = groups.back().second;
    // Digits that run on through a hyphen or dot into letters are the start of an identifier (a
    // UUID "13102748-f636-…", a host "4153821947.local"), as digits after one are (see `start`).
    bool runs_into_word =
        (s.at(end_all) == '-' || s.at(end_all) == '.') && IsAsciiLetter(s.at(end_all + 1));
    if (!s.BoundaryAfter(end_all) || runs_into_word) {
      i = end_all;
      continue;
    }
    // The whole run first. Where the separators are not all alike ("2026-11-03 415 382 1947"),
    // then ever shorter runs cut at spaces, so a number written after a date is still found; a run
    // written one way throughout ("4111 1111 1111 1112") is one number or none.
    bool uniform = true;
    for (size_t g = 2; g < groups.size(); ++g) {
      uniform &= s.t.substr(groups[g - 1].second, groups[g].first - groups[g - 1].second) ==
                 s.t.substr(groups[0].second, groups[1].first - groups[0].second);
    }
    size_t from = 0;
    size_t resume = end_all;
    while (from < groups.size()) {
      bool hit = false;
      for (size_t to = groups.size();
           to > from && !hit && (!uniform || (from == 0 && to == groups.size())); --to) {
        size_t b = from == 0 ? i : groups[from].first;
        if (from > 0 && b > 0 && (s.t[b - 1] == '(' || s.t[b - 1] == '+')) --b;
        size_t e = groups[to - 1].second;
        if (to < groups.size() && s.t[e] != ' ' && s.t[e] != ')') continue;  // cut only at a space
        Entity kind;
        if (ClassifyNumber(s.t.substr(b, e - b), kind)) {
          s.Add(b, e, kind);
          from = to;
          hit = true;
        }
      }
      if (!hit) ++from;
    }
    i = resume;
  }
}

void Redactor::FindAddresses(Scan& s) const {
  struct Word {
    size_t b, e;
  };
  auto word_at = [&](size_t i) -> Word {
    size_t e = i;
    while (e < s.n() &&
           (IsWordByte(s.t[e]) || (s.t[e] == '\'' && e + 1 < s.n() && IsAsciiLetter(s.t[e + 1]))))
      ++e;
    return {i, e};
  };
  auto lower = [&](Word w) {
    std::string out;
    for (size_t k = w.b; k < w.e; ++k) out += Lower(s.t[k]);
    return out;
  };
  auto skip_spaces = [&](size_t i) {
    while (i < s.n() && s.t[i] == ' ') ++i;
    return i;
  };
  for (size_t i = 0; i < s.n(); ++i) {
    if (!IsDigit(s.t[i]) || !s.BoundaryBefore(i) || s.taken[i]) continue;
    Word number = word_at(i);
    size_t nd = 0;
    while (i + nd < number.e && IsDigit(s.t[i + nd])) ++nd;
    if (nd > 6 || number.e - i - nd > 1 || s.at(number.e) != ' ') {  // "12", "12B"
      i = number.e;
      continue;
    }
    // Up to four name words ("Martin Luther King", "5th", "N."), then the street type.
    size_t p = skip_spaces(number.e);
    size_t end = 0;
    for (int words = 0; words < 5 && p < s.n(); ++words) {
      Word w = word_at(p);
      if (w.e == w.b) break;
      std::string lw = lower(w);
      size_t after = s.at(w.e) == '.' ? w.e + 1 : w.e;
      if (words > 0 && street_suffixes_.count(lw) && (s.BoundaryAfter(w.e))) {
        end = after == w.e + 1 ? w.e + 1 : w.e;
        break;
      }
      bool ordinal = IsDigit(s.t[w.b]) && (lw.ends_with("st") || lw.ends_with("nd") ||
                                           lw.ends_with("rd") || lw.ends_with("th"));
      bool name_word = IsUpper(s.t[w.b]) || static_cast<unsigned char>(s.t[w.b]) >= 0x80 || ordinal;
      if (!name_word || s.at(after) != ' ') break;
      p = skip_spaces(after);
    }
    if (end == 0) continue;
    // ", Suite 200" / ", Apt 4B" / " #12"
    auto try_unit = [&](size_t q) -> size_t {
      if (s.at(q) == ',')
        q = skip_spaces(q + 1);
      else if (s.at(q) == ' ')
        q = skip_spaces(q);
      else
        return 0;
      if (s.at(q) == '#') {
        Word v = word_at(q + 1);
        return v.e > v.b ? v.e : 0;
      }
      Word u = word_at(q);
      if (u.e == u.b || !unit_words_.count(lower(u))) return 0;
      size_t v0 = skip_spaces(s.at(u.e) == '.' ? u.e + 1 : u.e);
      if (s.at(v0) == '#') ++v0;
      Word v = word_at(v0);
      return v.e > v.b && IsDigit(s.t[v.b]) ? v.e : 0;
    };
    if (size_t u = try_unit(end)) end = u;
    // ", Springfield, IL 62704": the city, region and postcode of a written address go with it.
    size_t q = end;
    if (s.at(q) == ',') {
      q = skip_spaces(q + 1);
      size_t city_end = 0;
      for (int words = 0; words < 3; ++words) {
        Word w = word_at(q);
        if (w.e == w.b || !IsUpper(s.t[w.b])) break;
        city_end = w.e;
        if (s.at(w.e) != ' ') break;
        q = w.e + 1;
      }
      if (city_end && s.at(city_end) == ',') {
        size_t r = skip_spaces(city_end + 1);
        if (r + 2 <= s.n() && IsUpper(s.t[r]) && IsUpper(s.t[r + 1]) && s.BoundaryAfter(r + 2)) {
          end = r + 2;
          size_t z = r + 2;
          if (s.at(z) == ' ' && IsDigit(s.at(z + 1))) {
            Word zip = word_at(z + 1);
            if (zip.e - zip.b == 5) {
              end = zip.e;
              if (s.at(end) == '-' && IsDigit(s.at(end + 1))) end = word_at(end + 1).e;
            }
          }
        }
      }
    }
    s.Add(i, end, Entity::kAddress);
    i = end;
  }
}

void Redactor::FindPersons(Scan& s) const {
  struct Word {
    size_t b, e;
    std::string lower;
    bool cap = false;         // starts with an uppercase letter
    bool all_caps = false;    // "GPS", "ERROR"
    bool initial = false;     // "J."
    bool possessive = false;  // "Okafor's"
    bool adjacent = false;    // separated from the previous word by one space only
  };
  std::vector<Word> words;
  for (size_t i = 0; i < s.n();) {
    if (!(IsAsciiLetter(s.t[i]) || static_cast<unsigned char>(s.t[i]) >= 0x80) || s.taken[i]) {
      ++i;
      continue;
    }
    size_t e = i;
    while (e < s.n() && !s.taken[e] &&
           (IsAsciiLetter(s.t[e]) || static_cast<unsigned char>(s.t[e]) >= 0x80 ||
            ((s.t[e] == '\'' || s.t[e] == '-') && e + 1 < s.n() && IsAsciiLetter(s.t[e + 1])))) {
      ++e;
    }
    if (e < s.n() && IsDigit(s.t[e])) {  // "E42", "M18": codes, not words
      while (e < s.n() && IsWordByte(s.t[e])) ++e;
      i = e;
      continue;
    }
    Word w;
    w.b = i;
    w.e = e;
    size_t core_end = e;
    if (e - i > 2 && s.t[e - 2] == '\'' && (s.t[e - 1] == 's' || s.t[e - 1] == 'S')) {
      w.possessive = true;
      core_end = e - 2;
    } else if (e - i > 4 && s.t.substr(e - 4, 4) == "\xE2\x80\x99s") {  // ’s
      w.possessive = true;
      core_end = e - 4;
    }
    for (size_t k = i; k < core_end; ++k) w.lower += Lower(s.t[k]);
    auto first = static_cast<unsigned char>(s.t[i]);
    w.cap = IsUpper(s.t[i]) ||
            (first == 0xC3 && i + 1 < s.n() && static_cast<unsigned char>(s.t[i + 1]) >= 0x80 &&
             static_cast<unsigned char>(s.t[i + 1]) <= 0x9E &&
             static_cast<unsigned char>(s.t[i + 1]) != 0x97);
    w.all_caps = core_end - i >= 2;
    for (size_t k = i; k < core_end && w.all_caps; ++k) w.all_caps = IsUpper(s.t[k]);
    w.initial = core_end - i == 1 && IsUpper(s.t[i]) && s.at(e) == '.';
    if (!words.empty()) {
      const Word& prev = words.back();
      size_t gap_from = s.at(prev.e) == '.' && prev.initial ? prev.e + 1 : prev.e;
      w.adjacent = i == gap_from + 1 && s.t[gap_from] == ' ';
    }
    words.push_back(std::move(w));
    i = e;
  }

  auto is_first = [&](const Word& w) { return first_names_.count(w.lower) > 0; };
  auto is_last = [&](const Word& w) { return surnames_.count(w.lower) > 0; };
  auto is_common = [&](const Word& w) { return common_.count(w.lower) > 0; };
  auto nameish = [&](const Word& w) {
    return w.initial || (w.cap && !w.all_caps && !is_common(w));
  };

  for (size_t k = 0; k < words.size();) {
    // A segment: adjacent capitalised words that could be a name. A known first name that is
    // also a common word ("Will", "Grant") joins one when a name-like word follows it.
    auto starts_segment = [&](size_t x) {
      if (!words[x].cap || words[x].all_caps) return false;
      bool next_nameish = x + 1 < words.size() && words[x + 1].adjacent && nameish(words[x + 1]);
      if (words[x].initial) return next_nameish;  // "J. Okafor"
      return nameish(words[x]) || (is_first(words[x]) && next_nameish);
    };
    if (!starts_segment(k)) {
      ++k;
      continue;
    }
    size_t e = k + 1;
    while (e < words.size() && e - k < 4 && words[e].adjacent && nameish(words[e]) &&
           !words[e - 1].possessive)
      ++e;
    // What makes the segment a name.
    bool known_first = false, known_last = false;
    for (size_t x = k; x < e; ++x) {
      known_first |= is_first(words[x]);
      known_last |= is_last(words[x]);
    }
    size_t full = 0;  // words that are not initials
    for (size_t x = k; x < e; ++x) full += !words[x].initial;
    bool cue_before = false;
    if (k > 0) {
      const Word& prev = words[k - 1];
      bool near = words[k].b - prev.e <= 3;  // "Mr. ", "per ", "technician: "
      cue_before = near && cues_before_.count(prev.lower) > 0;
    }
    bool cue_after =
        words[e - 1].possessive || (e < words.size() && words[e].b - words[e - 1].e <= 2 &&
                                    cues_after_.count(words[e].lower) > 0);
    // Two name-like words together are a name, and so is an initial with one ("J. Okafor"); one
    // word alone is a name if a cue or the first-name list says so, or the surname list does
    // and it is not capitalised only because it starts a sentence.
    size_t p = words[k].b;
    while (p > 0 && (s.t[p - 1] == ' ' || s.t[p - 1] == '"' || s.t[p - 1] == '(')) --p;
    bool sentence_start =
        p == 0 || std::string_view(".!?:;\n").find(s.t[p - 1]) != std::string_view::npos;
    bool person = full >= 2 || full < e - k || cue_before || cue_after || known_first ||
                  (known_last && !sentence_start);
    if (person) {
      size_t end = words[e - 1].e;
      if (words[e - 1].possessive)
        end -= (s.t[end - 1] == 's' || s.t[end - 1] == 'S') && s.t[end - 2] == '\'' ? 2 : 4;
      s.Add(words[k].b, end, Entity::kPerson);
    }
    k = e;
  }

  // Coordination: a capitalised word listed with a name ("Okafor, Imogen and Tobias") is one too.
  auto list_separator = [&](size_t b, size_t e) {
    std::string_view between = s.t.substr(b, e - b);
    return between == ", " || between == " and " || between == ", and " || between == " & " ||
           between == " or " || between == ", or " || between == "/";
  };
  for (bool grew = true; grew;) {
    grew = false;
    for (const Word& w : words) {
      if (!w.cap || w.all_caps || w.initial || is_common(w) || !s.Free(w.b, w.e)) continue;
      for (const EntitySpan& p : s.found) {
        if (p.kind != Entity::kPerson) continue;
        if ((p.end <= w.b && list_separator(p.end, w.b)) ||
            (w.e <= p.begin && list_separator(w.e, p.begin))) {
          s.Add(w.b, w.possessive ? w.e - 2 : w.e, Entity::kPerson);
          grew = true;
          break;
        }
      }
    }
  }
}

Result<std::vector<EntitySpan>> Redactor::Find(std::string_view text) const {
  CW_RETURN_IF_ERROR(CheckReadable(text, options_.max_value_bytes));
  Scan s(text);
  FindUrls(s);
  FindEmails(s);
  FindMacs(s);
  FindIps(s);
  FindIbans(s);
  FindSsns(s);
  FindNumbers(s);
  FindAddresses(s);
  FindPersons(s);
  std::sort(s.found.begin(), s.found.end(),
            [](const EntitySpan& a, const EntitySpan& b) { return a.begin < b.begin; });
  return std::move(s.found);
}

Result<std::string> Redactor::Redact(std::string_view text, EntityCounts* counts) const {
  CW_ASSIGN_OR_RETURN(std::vector<EntitySpan> spans, Find(text));
  if (spans.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const EntitySpan& e : spans) {
    out.append(text.substr(pos, e.begin - pos));
    out.append(Placeholder(e.kind));
    pos = e.end;
    if (counts) ++counts->n[static_cast<size_t>(e.kind)];
  }
  out.append(text.substr(pos));
  return out;
}

bool Redactor::HoldsContactOrCard(std::string_view text) const {
  if (!CheckReadable(text, options_.max_value_bytes).ok()) return true;
  Scan s(text);
  FindEmails(s);
  FindSsns(s);  // an SSN is taken out of the way first so it is not read as a phone number
  FindNumbers(s);
  for (const EntitySpan& e : s.found) {
    if (e.kind == Entity::kEmail || e.kind == Entity::kPhone || e.kind == Entity::kCard)
      return true;
  }
  return false;
}

}  // namespace cw::mask
