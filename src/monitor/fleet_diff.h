// monitor/fleet_diff.h — which carts should be online now, and which of them are not.
//
// Expected online: registered and active, not in maintenance, and its store open by its opening
// hours (in the store's time zone; a store without recorded hours counts as open). The diff sets
// that against the connectivity state machine's online carts. The fleet monitor computes it every
// 5 minutes; GET /api/v1/fleet/diff serves the latest.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "monitor/connectivity.h"
#include "store/entity_store.h"

namespace cw::monitor {

struct FleetDiff {
  Time at{};
  size_t carts = 0;      // registered and active
  size_t expected = 0;   // of those, expected online now
  size_t connected = 0;  // expected and online
  struct Missing {
    CartId cart;
    StoreId store;
    store::LinkState state = store::LinkState::kOffline;
    std::string cause;  // why it is not online (will, silence…; "never_seen")
    std::optional<Time> since;
  };
  std::vector<Missing> missing;          // expected but not online, by cart id
  std::vector<CartId> unexpected;        // online though not expected (maintenance, closed store)
  std::vector<StoreId> closed_stores;    // closed now by their hours
  std::vector<std::string> problems;     // stores whose hours or zone could not be read (counted open)
};

FleetDiff DiffFleet(const std::vector<store::CartOverview>& fleet, const std::vector<store::StoreRecord>& stores,
                    const ConnectivityTracker& tracker, Time now);

}  // namespace cw::monitor
