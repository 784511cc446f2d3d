// api/fleet_access.h — every read and write the REST API makes, checked against who asks.
//
// A staff member's store is enforced here, where the data is read, not in each handler: a
// FleetAccess is built for one principal and every method loads the thing, finds its store and
// refuses (kPermissionDenied) when the principal may not see it. Writes also refuse auditors.
// Handlers never hold the stores themselves, so they cannot forget the check.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/auth.h"
#include "store/audit_log.h"
#include "store/entity_store.h"
#include "store/telemetry_store.h"

namespace cw::api {

// The locator's view of a cart, derived from what the stores hold at `now`.
enum class LocatorState { kIdle, kInUse, kLowBattery, kFault, kOffline, kMaintenance };
std::string_view Name(LocatorState s);

struct LocatorRules {
  Duration offline_after = std::chrono::minutes(15);  // no event for this long
  Duration fault_for = std::chrono::minutes(15);      // a critical fault shows this long
  int low_battery_pct = 20;  // staff swap batteries before the cart's own warning at 10%
};
// Maintenance, then offline, then a recent critical fault, then a low battery, then in use
// (active or paused session), else idle: the first that holds is what staff most need to know.
LocatorState Locate(const store::CartOverview& cart, Time now, const LocatorRules& rules = {});

struct Deps {
  store::EntityStore& entities;
  store::TelemetryStore& telemetry;
  Clock& clock;
};

class FleetAccess {
 public:
  FleetAccess(const Deps& deps, const Principal& who) : d_(deps), who_(who) {}

  const Principal& who() const { return who_; }
  // kPermissionDenied for an auditor (read-only everywhere).
  Status RequireWriter() const;
  // kPermissionDenied unless the principal may see `store`.
  Status RequireStore(const StoreId& store) const;

  Result<std::vector<store::StoreRecord>> Stores();
  Result<store::StoreRecord> Store(const StoreId& id);
  Result<store::CartRecord> Cart(const CartId& id);
  // Staff: their store only (another store in the query is kPermissionDenied).
  Result<std::vector<store::CartOverview>> Fleet(store::FleetQuery query);
  Result<store::CartOverview> CartOverview(const CartId& id);
  Result<store::SessionRecord> Session(const SessionId& id);
  Result<std::vector<store::SessionRecord>> Sessions(store::SessionQuery query);
  Result<std::vector<store::ScanRecord>> Scans(const SessionId& id);
  Result<std::vector<store::OverrideRecord>> Overrides(const SessionId& id);
  Result<store::Page<store::TelemetryEvent>> CartEvents(const CartId& id, size_t limit, const std::string& cursor);
  Result<store::Page<store::TelemetryEvent>> StoreEvents(const StoreId& id, Time since, Time until, size_t limit,
                                                        const std::string& cursor);
  // Dead letters: staff see only their store's carts' (a query without a cart is refused).
  Result<store::Page<store::DeadLetter>> Rejects(const store::RejectQuery& query);
  // The audit trail: ops and auditors; staff only for a cart of their store (`target`).
  Result<std::vector<store::AuditEntry>> Audit(const store::AuditQuery& query);

  // A cart's link-state changes, newest first (those before `before`).
  Result<std::vector<store::ConnectivityTransition>> ConnectivityHistory(const CartId& id, size_t limit,
                                                                         std::optional<Time> before);
  // Alarm notifications, newest first: ops only.
  Result<std::vector<store::AlarmEvent>> AlarmHistory(size_t limit, std::optional<Time> before);

  Status SetMaintenance(const CartId& id, const store::Maintenance& m);

 private:
  const Deps& d_;
  Principal who_;
};

}  // namespace cw::api
