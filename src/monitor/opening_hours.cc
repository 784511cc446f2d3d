#include "monitor/opening_hours.h"

#include <date/tz.h>

#include <charconv>

namespace cw::monitor {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(Trim(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

int DayIndex(std::string_view d) {
  static constexpr std::string_view kDays[] = {"Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"};
  for (int i = 0; i < 7; ++i) {
    if (d == kDays[i]) return i;
  }
  return -1;
}

// "HH:MM" → minutes; 24:00 allowed as an end.
bool Clock(std::string_view s, int& minutes) {
  if (s.size() != 5 || s[2] != ':') return false;
  int hh = 0, mm = 0;
  if (std::from_chars(s.data(), s.data() + 2, hh).ec != std::errc() ||
      std::from_chars(s.data() + 3, s.data() + 5, mm).ec != std::errc()) {
    return false;
  }
  if (hh > 24 || mm > 59 || (hh == 24 && mm != 0)) return false;
  minutes = hh * 60 + mm;
  return true;
}

}  // namespace

Result<OpeningHours> OpeningHours::Parse(std::string_view text) {
  OpeningHours h;
  text = Trim(text);
  if (text.empty()) return InvalidArgument("opening hours are empty (write \"24/7\" for a store that never closes)");
  if (text == "24/7") {
    for (auto& d : h.days_) d.push_back({0, 1440});
    return h;
  }
  for (std::string_view rule : Split(text, ';')) {
    auto bad = [&](const std::string& why) {
      return InvalidArgument("opening hours rule '" + std::string(rule) + "': " + why);
    };
    if (rule.empty()) continue;
    // Days, then times (or "off"); no days means every day.
    std::string_view days_part, times_part = rule;
    if (size_t sp = rule.find(' '); sp != std::string_view::npos) {
      days_part = rule.substr(0, sp);
      times_part = Trim(rule.substr(sp + 1));
    } else if (rule.size() >= 2 && DayIndex(rule.substr(0, 2)) >= 0) {
      return bad("names days but no hours (add times such as 08:00-20:00, or \"off\")");
    }
    std::array<bool, 7> named{};
    if (days_part.empty()) {
      named.fill(true);
    } else {
      for (std::string_view range : Split(days_part, ',')) {
        int from = DayIndex(range.substr(0, 2));
        int to = from;
        if (range.size() == 5 && range[2] == '-') to = DayIndex(range.substr(3, 2));
        else if (range.size() != 2) from = -1;
        if (from < 0 || to < 0) {
          return bad("'" + std::string(range) + "' is not a day or day range such as Mo-Fr (public holidays and months are not supported)");
        }
        for (int d = from;; d = (d + 1) % 7) {  // Sa-Mo wraps over the week's end
          named[static_cast<size_t>(d)] = true;
          if (d == to) break;
        }
      }
    }
    std::vector<Span> spans;
    if (times_part != "off" && times_part != "closed") {
      for (std::string_view span : Split(times_part, ',')) {
        size_t dash = span.find('-');
        int from = 0, to = 0;
        if (dash == std::string_view::npos || !Clock(span.substr(0, dash), from) || !Clock(span.substr(dash + 1), to) ||
            from == 1440) {
          return bad("'" + std::string(span) + "' is not a time span such as 08:00-20:00");
        }
        if (to <= from) to += 1440;  // past midnight
        spans.push_back({from, to});
      }
    }
    for (size_t d = 0; d < 7; ++d) {
      if (named[d]) h.days_[d] = spans;  // a later rule replaces what an earlier one said
    }
  }
  return h;
}

bool OpeningHours::OpenAt(int weekday, int minute) const {
  for (const Span& s : days_[static_cast<size_t>(weekday)]) {
    if (minute >= s.from && minute < s.to) return true;
  }
  // Yesterday's spans that run past midnight.
  for (const Span& s : days_[static_cast<size_t>((weekday + 6) % 7)]) {
    if (s.to > 1440 && minute < s.to - 1440) return true;
  }
  return false;
}

Result<LocalTime> ToLocalTime(std::string_view timezone, Time t) {
  const date::time_zone* zone = nullptr;
  try {  // date-tz reports an unknown zone by exception; the hot path never calls this
    zone = date::locate_zone(timezone);
  } catch (const std::exception&) {
    return InvalidArgument("'" + std::string(timezone) + "' is not a time zone in this system's tz database");
  }
  auto local = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(t));
  auto day = date::floor<date::days>(local);
  date::weekday wd{day};
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
  return LocalTime{static_cast<int>(wd.iso_encoding()) - 1, static_cast<int>(minutes)};
}

Result<bool> StoreOpenAt(std::string_view opening_hours, std::string_view timezone, Time t) {
  if (Trim(opening_hours).empty()) return true;
  CW_ASSIGN_OR_RETURN(OpeningHours hours, OpeningHours::Parse(opening_hours));
  CW_ASSIGN_OR_RETURN(LocalTime local, ToLocalTime(timezone, t));
  return hours.OpenAt(local.weekday, local.minute);
}

}  // namespace cw::monitor
