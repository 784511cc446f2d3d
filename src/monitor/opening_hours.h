// monitor/opening_hours.h — when a store is open, from its OpenStreetMap-style opening hours and
// its IANA time zone: the fleet diff expects a store's carts online only while it is open.
//
// The subset of the OSM `opening_hours` syntax stores actually write:
//   "24/7"
//   "Mo-Sa 07:00-22:00; Su 09:00-18:00"
//   "Mo-Fr 08:00-12:00,13:00-20:00; Sa 08:00-14:00; Su off"
//   "Fr-Sa 18:00-02:00"        (past midnight: spills into the next morning)
//   "07:00-22:00"              (no days: every day)
// Rules are separated by ';'. A later rule replaces the hours of the days it names (OSM's
// override semantics); days no rule names are closed. Anything else (public holidays, months,
// week numbers) is refused with the reason, so a store is never silently "always closed".
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace cw::monitor {

class OpeningHours {
 public:
  // InvalidArgument names the rule and what is wrong with it. "" is refused (use "24/7").
  static Result<OpeningHours> Parse(std::string_view text);

  // Open at `minute` (0..1439) of `weekday` (0 = Monday … 6 = Sunday), local time.
  bool OpenAt(int weekday, int minute) const;

 private:
  struct Span {
    int from = 0, to = 0;  // minutes of the day, to > from; to may pass 1440 (spills)
  };
  std::array<std::vector<Span>, 7> days_;
};

// The local weekday (0 = Monday) and minute of the day at `t` in IANA zone `timezone`.
struct LocalTime {
  int weekday = 0;
  int minute = 0;
};
Result<LocalTime> ToLocalTime(std::string_view timezone, Time t);

// Whether a store with these hours and zone is open at `t`. Empty hours mean "not recorded":
// open (a store whose hours nobody entered still expects its carts online).
Result<bool> StoreOpenAt(std::string_view opening_hours, std::string_view timezone, Time t);

}  // namespace cw::monitor
