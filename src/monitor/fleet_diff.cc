#include "monitor/fleet_diff.h"

#include <map>

#include "monitor/opening_hours.h"

namespace cw::monitor {

FleetDiff DiffFleet(const std::vector<store::CartOverview>& fleet, const std::vector<store::StoreRecord>& stores,
                    const ConnectivityTracker& tracker, Time now) {
  FleetDiff d;
  d.at = now;
  std::map<StoreId, bool> open;
  for (const auto& s : stores) {
    auto is_open = StoreOpenAt(s.opening_hours, s.timezone, now);
    if (!is_open.ok()) {
      d.problems.push_back("store " + s.id.str() + ": " + is_open.error().message());
      open[s.id] = true;
      continue;
    }
    open[s.id] = *is_open;
    if (!*is_open) d.closed_stores.push_back(s.id);
  }
  for (const auto& c : fleet) {
    if (c.cart.status != store::CartStatus::kActive) continue;
    d.carts++;
    auto link = tracker.Get(c.cart.id);
    bool online = link && link->state == store::LinkState::kOnline;
    auto it = open.find(c.cart.store);
    bool expected = !c.maintenance.in_maintenance && (it == open.end() || it->second);
    if (!expected) {
      if (online) d.unexpected.push_back(c.cart.id);
      continue;
    }
    d.expected++;
    if (online) {
      d.connected++;
    } else if (link) {
      d.missing.push_back({c.cart.id, c.cart.store, link->state, link->cause, link->since});
    } else {
      d.missing.push_back({c.cart.id, c.cart.store, store::LinkState::kOffline, "never_seen", std::nullopt});
    }
  }
  return d;
}

}  // namespace cw::monitor
