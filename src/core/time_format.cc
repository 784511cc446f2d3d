#include "core/time_format.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace cw {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Parses "YYYY-MM-DD" at the start of s into days since the epoch.
bool ParseDate(std::string_view s, std::chrono::sys_days& out) {
  int y, mo, d;
  if (s.size() < 10 || !Digits(s, 0, 4, y) || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d)) {
    return false;
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return false;
  out = std::chrono::sys_days(ymd);
  return true;
}

bool ParseClock(std::string_view s, size_t pos, int& h, int& mi, int& sec) {
  return Digits(s, pos, 2, h) && s.size() > pos + 2 && s[pos + 2] == ':' && Digits(s, pos + 3, 2, mi) &&
         s.size() > pos + 5 && s[pos + 5] == ':' && Digits(s, pos + 6, 2, sec) && h < 24 && mi < 60 &&
         sec < 60;
}

Status Bad(std::string_view text, std::string_view want) {
  return InvalidArgument("'" + std::string(text.substr(0, 40)) + "' is not " + std::string(want));
}

}  // namespace

std::string FormatTimeMillis(Time t) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  auto days = std::chrono::floor<std::chrono::days>(ms);
  std::chrono::year_month_day ymd(days);
  std::chrono::hh_mm_ss hms(ms - days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

Result<Time> ParseWireTime(std::string_view s) {
  constexpr std::string_view kWant = "an RFC 3339 UTC time with milliseconds (2026-11-22T10:15:30.123Z)";
  std::chrono::sys_days days;
  int h, mi, sec, ms;
  if (s.size() != 24 || !ParseDate(s, days) || s[10] != 'T' || !ParseClock(s, 11, h, mi, sec) ||
      s[19] != '.' || !Digits(s, 20, 3, ms) || s[23] != 'Z') {
    return Bad(s, kWant);
  }
  return Time(days) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) +
         std::chrono::milliseconds(ms);
}

Result<Time> ParseRfc3339(std::string_view s) {
  constexpr std::string_view kWant = "an RFC 3339 time (2026-11-22T10:15:30Z) or a date (2026-11-22)";
  std::chrono::sys_days days;
  if (!ParseDate(s, days)) return Bad(s, kWant);
  if (s.size() == 10) return Time(days);
  int h, mi, sec;
  if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !ParseClock(s, 11, h, mi, sec)) {
    return Bad(s, kWant);
  }
  Time t = Time(days) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec);
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t frac = 0;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) {
        frac = frac * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return Bad(s, kWant);
    while (digits++ < 6) frac *= 10;
    t += std::chrono::microseconds(frac);
  }
  if (pos == s.size() - 1 && (s[pos] == 'Z' || s[pos] == 'z')) return t;
  int oh, om;
  if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && Digits(s, pos + 1, 2, oh) &&
      s[pos + 3] == ':' && Digits(s, pos + 4, 2, om) && oh < 24 && om < 60) {
    auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    return s[pos] == '+' ? t - offset : t + offset;
  }
  return Bad(s, kWant);
}

std::string FormatShortDuration(Duration d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

Result<Duration> ParseDuration(std::string_view text, bool allow_zero) {
  if (allow_zero && text == "0") return Duration::zero();
  auto bad = [&] { return InvalidArgument("duration '" + std::string(text) + "' is not like 2h, 10m, 45s or 1h30m"); };
  if (text.empty()) return InvalidArgument("empty duration");
  Duration total{};
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    size_t j = static_cast<size_t>(end - text.data());
    if (ec != std::errc() || j == i || j == text.size() || n > 100000000) return bad();
    switch (text[j]) {
      case 'h': total += std::chrono::hours(n); break;
      case 'm': total += std::chrono::minutes(n); break;
      case 's': total += std::chrono::seconds(n); break;
      default: return bad();
    }
    i = j + 1;
  }
  if (total < Duration::zero() || (total == Duration::zero() && !allow_zero)) {
    return InvalidArgument("duration must be positive");
  }
  return total;
}

}  // namespace cw
