#include "mask/generalise.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_set>
#include <vector>

#include "core/time_format.h"
#include "mask/lexicon.h"

namespace cw::mask {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A plain decimal number ("-12.5", "40"): no exponent, no hex, no inf/nan.
Result<double> ParseDecimal(std::string_view text, std::string_view what) {
  std::string_view s = Trim(text);
  auto bad = [&] { return InvalidArgument(std::string(what) + " is not a decimal number"); };
  if (s.empty()) return bad();
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool digits = false, dot = false;
  for (size_t j = i; j < s.size(); ++j) {
    if (IsDigit(s[j]))
      digits = true;
    else if (s[j] == '.' && !dot)
      dot = true;
    else
      return bad();
  }
  if (!digits) return bad();
  if (s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || end != s.data() + s.size()) return bad();
  return v;
}

std::vector<std::string_view> SplitParts(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ',') {
      std::string_view p = Trim(s.substr(start, i - start));
      if (!p.empty()) parts.push_back(p);
      start = i + 1;
    }
  }
  return parts;
}

// The words of `part` that hold no digit: "IL 62704" → "IL", "10115 Berlin" → "Berlin".
std::string WithoutNumbers(std::string_view part) {
  std::string out;
  size_t i = 0;
  while (i < part.size()) {
    while (i < part.size() && part[i] == ' ') ++i;
    size_t j = i;
    bool digit = false;
    while (j < part.size() && part[j] != ' ') digit |= IsDigit(part[j++]);
    if (!digit && j > i) {
      if (!out.empty()) out += ' ';
      out.append(part.substr(i, j - i));
    }
    i = j;
  }
  return out;
}

bool LooksLikeStreet(std::string_view part) {
  static const std::unordered_set<std::string_view> kWords = [] {
    std::unordered_set<std::string_view> words(StreetSuffixes().begin(), StreetSuffixes().end());
    words.insert(UnitWords().begin(), UnitWords().end());
    return words;
  }();
  size_t i = 0;
  while (i < part.size()) {
    while (i < part.size() && part[i] == ' ') ++i;
    size_t j = i;
    while (j < part.size() && part[j] != ' ') ++j;
    std::string word;
    for (char c : part.substr(i, j - i)) {
      word += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    if (!word.empty() && word.back() == '.') word.pop_back();  // "St.", "Str."
    if (kWords.count(word)) return true;
    if (word.ends_with("straße") || word.ends_with("strasse")) return true;  // "Hauptstraße"
    i = j;
  }
  return false;
}

}  // namespace

Result<std::string> SnapToGrid(std::string_view degrees) {
  if (Trim(degrees).empty()) return std::string();
  CW_ASSIGN_OR_RETURN(double v, ParseDecimal(degrees, "coordinate"));
  if (v < -180 || v > 180) return InvalidArgument("coordinate is outside −180…180");
  // In whole hundredths, formatted by hand (snprintf's float formatting was a tenth of a run).
  long long hundredths = std::llround(v * 100);
  std::string out = hundredths < 0 ? "-" : "";
  unsigned long long a = static_cast<unsigned long long>(hundredths < 0 ? -hundredths : hundredths);
  out += std::to_string(a / 100);
  out += '.';
  out += static_cast<char>('0' + a / 10 % 10);
  out += static_cast<char>('0' + a % 10);
  return out;
}

bool IsOnGrid(std::string_view s) {
  if (s.empty()) return true;
  size_t i = s[0] == '-' ? 1 : 0;
  size_t int_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  return int_digits >= 1 && int_digits <= 3 && i + 3 == s.size() && s[i] == '.' &&
         IsDigit(s[i + 1]) && IsDigit(s[i + 2]);
}

Result<std::string> AgeBin(std::string_view years) {
  if (Trim(years).empty()) return std::string();
  CW_ASSIGN_OR_RETURN(double v, ParseDecimal(years, "age"));
  if (v < 0 || v > 150) return InvalidArgument("age is outside 0…150");
  int age = static_cast<int>(v);
  if (age >= 90) return std::string("90+");
  int lo = age / 5 * 5;
  return std::to_string(lo) + "-" + std::to_string(lo + 4);
}

bool IsAgeBin(std::string_view s) {
  if (s.empty() || s == "90+") return true;
  size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return false;
  int lo = 0, hi = 0;
  auto [p1, e1] = std::from_chars(s.data(), s.data() + dash, lo);
  auto [p2, e2] = std::from_chars(s.data() + dash + 1, s.data() + s.size(), hi);
  return e1 == std::errc() && p1 == s.data() + dash && e2 == std::errc() &&
         p2 == s.data() + s.size() && lo % 5 == 0 && hi == lo + 4 && lo < 90;
}

Result<std::string> TruncateToHour(std::string_view timestamp) {
  std::string_view s = Trim(timestamp);
  if (s.empty()) return std::string();
  bool all_digits = true;
  for (char c : s) all_digits &= IsDigit(c);
  if (all_digits) {
    uint64_t unit = s.size() == 10 ? 3600 : s.size() == 13 ? 3'600'000 : 0;
    if (unit == 0) {
      return InvalidArgument("timestamp is neither Unix seconds (10 digits) nor milliseconds (13)");
    }
    uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return std::to_string(v / unit * unit);
  }
  // RFC 3339: validate the whole, then cut the text so the zone it was written in is kept.
  std::string normal(s);
  if (normal.size() > 10 && normal[10] == ' ') normal[10] = 'T';
  if (!ParseRfc3339(normal).ok() || normal.size() < 20) {
    return InvalidArgument("timestamp is not RFC 3339 (2026-11-03T14:27:09Z)");
  }
  size_t zone = 19;
  if (s[zone] == '.') {
    ++zone;
    while (zone < s.size() && IsDigit(s[zone])) ++zone;
  }
  std::string out(s.substr(0, 14));
  out += "00:00";
  out.append(s.substr(zone));
  return out;
}

bool IsOnTheHour(std::string_view s) {
  if (s.empty()) return true;
  bool all_digits = true;
  for (char c : s) all_digits &= IsDigit(c);
  if (all_digits) {
    if (s.size() != 10 && s.size() != 13) return false;
    uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v % (s.size() == 10 ? 3600 : 3'600'000) == 0;
  }
  std::string normal(s);
  if (normal.size() > 10 && normal[10] == ' ') normal[10] = 'T';
  return normal.size() >= 20 && ParseRfc3339(normal).ok() && s.substr(13, 6) == ":00:00" &&
         (s[19] == 'Z' || s[19] == '+' || s[19] == '-');
}

Result<std::string> ReduceAddress(std::string_view address) {
  if (Trim(address).empty()) return std::string();
  std::vector<std::string_view> parts = SplitParts(address);
  auto bad = [&](const char* why) {
    return InvalidArgument("address cannot be reduced to city and region: " + std::string(why));
  };
  if (parts.size() < 2) return bad("it has no 'city, region' at its end");
  std::string region = WithoutNumbers(parts.back());
  std::string city = WithoutNumbers(parts[parts.size() - 2]);
  if (region.empty() &&
      parts.size() >= 3) {  // "…, Springfield, IL, 62704": the postcode was its own part
    region = city;
    city = WithoutNumbers(parts[parts.size() - 3]);
  }
  if (city.empty() || region.empty()) return bad("the city or region part is only numbers");
  if (LooksLikeStreet(city) || LooksLikeStreet(region))
    return bad("what should be the city reads like a street");
  return city + ", " + region;
}

bool HasStreetNumber(std::string_view s) {
  for (char c : s) {
    if (IsDigit(c)) return true;
  }
  return false;
}

Result<std::string> Quartile(std::string_view value, std::span<const double> cutpoints) {
  if (Trim(value).empty()) return std::string();
  if (cutpoints.size() != 3) return InvalidArgument("quartile needs three cut points");
  CW_ASSIGN_OR_RETURN(double v, ParseDecimal(value, "value"));
  int q = v <= cutpoints[0] ? 1 : v <= cutpoints[1] ? 2 : v <= cutpoints[2] ? 3 : 4;
  return "Q" + std::to_string(q);
}

bool IsQuartile(std::string_view s) {
  return s.empty() || (s.size() == 2 && s[0] == 'Q' && s[1] >= '1' && s[1] <= '4');
}

}  // namespace cw::mask
