#include "api/fleet_access.h"

namespace cw::api {

std::string_view Name(LocatorState s) {
  switch (s) {
    case LocatorState::kIdle: return "idle";
    case LocatorState::kInUse: return "in_use";
    case LocatorState::kLowBattery: return "low_battery";
    case LocatorState::kFault: return "fault";
    case LocatorState::kOffline: return "offline";
    case LocatorState::kMaintenance: return "maintenance";
  }
  return "idle";
}

LocatorState Locate(const store::CartOverview& c, Time now, const LocatorRules& rules) {
  if (c.maintenance.in_maintenance) return LocatorState::kMaintenance;
  // The fleet monitor's judgement when there is one (a will is news at once); else silence.
  if (c.connectivity ? c.connectivity->state == store::LinkState::kOffline
                     : !c.activity || now - c.activity->last_seen_at > rules.offline_after) {
    return LocatorState::kOffline;
  }
  if (const auto& a = c.activity; a && a->fault_severity == "critical" && a->fault_at && now - *a->fault_at <= rules.fault_for) {
    return LocatorState::kFault;
  }
  if (c.state && c.state->battery_pct < rules.low_battery_pct && !c.state->charging) return LocatorState::kLowBattery;
  if (c.state && (c.state->state == "active" || c.state->state == "paused")) return LocatorState::kInUse;
  return LocatorState::kIdle;
}

Status FleetAccess::RequireWriter() const {
  if (who_.role == store::Role::kAuditor) return PermissionDenied("auditors have read-only access");
  return Status::Ok();
}

Status FleetAccess::RequireStore(const StoreId& store) const {
  if (who_.CanSee(store)) return Status::Ok();
  return PermissionDenied("user " + who_.user + " works in " + (who_.store ? who_.store->str() : "no store") +
                          ", not " + store.str());
}

Result<std::vector<store::StoreRecord>> FleetAccess::Stores() {
  CW_ASSIGN_OR_RETURN(auto all, d_.entities.ListStores());
  std::vector<store::StoreRecord> out;
  for (auto& s : all) {
    if (who_.CanSee(s.id)) out.push_back(std::move(s));
  }
  return out;
}

Result<store::StoreRecord> FleetAccess::Store(const StoreId& id) {
  CW_RETURN_IF_ERROR(RequireStore(id));
  return d_.entities.GetStore(id);
}

Result<store::CartRecord> FleetAccess::Cart(const CartId& id) {
  CW_ASSIGN_OR_RETURN(store::CartRecord cart, d_.entities.GetCart(id));
  CW_RETURN_IF_ERROR(RequireStore(cart.store));
  return cart;
}

Result<std::vector<store::CartOverview>> FleetAccess::Fleet(store::FleetQuery query) {
  if (!who_.SeesAllStores()) {
    if (query.store) CW_RETURN_IF_ERROR(RequireStore(*query.store));
    query.store = who_.store;
  }
  return d_.entities.ListFleet(query);
}

Result<store::CartOverview> FleetAccess::CartOverview(const CartId& id) {
  CW_ASSIGN_OR_RETURN(store::CartRecord cart, Cart(id));
  // The one-row fleet query: ids are ordered, so "after the previous id, limit 1" is this cart.
  store::FleetQuery q{.store = cart.store, .limit = 1};
  if (id.number() > 1) q.after = CartId::FromNumber(id.number() - 1);
  CW_ASSIGN_OR_RETURN(auto rows, d_.entities.ListFleet(q));
  if (rows.empty() || rows[0].cart.id != id) return NotFound("cart " + id.str() + " is not registered");
  return rows[0];
}

Result<store::SessionRecord> FleetAccess::Session(const SessionId& id) {
  CW_ASSIGN_OR_RETURN(store::SessionRecord s, d_.entities.GetSession(id));
  CW_RETURN_IF_ERROR(RequireStore(s.store));
  return s;
}

Result<std::vector<store::SessionRecord>> FleetAccess::Sessions(store::SessionQuery query) {
  if (!who_.SeesAllStores()) {
    if (query.store) CW_RETURN_IF_ERROR(RequireStore(*query.store));
    query.store = who_.store;
  }
  if (query.cart) CW_RETURN_IF_ERROR(Cart(*query.cart).status());
  return d_.entities.ListSessions(query);
}

Result<std::vector<store::ScanRecord>> FleetAccess::Scans(const SessionId& id) {
  CW_RETURN_IF_ERROR(Session(id).status());
  return d_.entities.ListScans(id);
}

Result<std::vector<store::OverrideRecord>> FleetAccess::Overrides(const SessionId& id) {
  CW_RETURN_IF_ERROR(Session(id).status());
  return d_.entities.ListOverrides(id);
}

Result<store::Page<store::TelemetryEvent>> FleetAccess::CartEvents(const CartId& id, size_t limit,
                                                                  const std::string& cursor) {
  CW_RETURN_IF_ERROR(Cart(id).status());
  return d_.telemetry.NewestForCart(id, limit, cursor);
}

Result<store::Page<store::TelemetryEvent>> FleetAccess::StoreEvents(const StoreId& id, Time since, Time until,
                                                                   size_t limit, const std::string& cursor) {
  CW_RETURN_IF_ERROR(Store(id).status());
  return d_.telemetry.ForStore(id, since, until, limit, cursor);
}

Result<store::Page<store::DeadLetter>> FleetAccess::Rejects(const store::RejectQuery& query) {
  if (!who_.SeesAllStores()) {
    if (!query.cart) return PermissionDenied("staff see the rejects of one of their store's carts: give cart=");
    CW_RETURN_IF_ERROR(Cart(*query.cart).status());
  } else if (query.cart) {
    CW_RETURN_IF_ERROR(Cart(*query.cart).status());
  }
  return d_.telemetry.Rejects(query);
}

Result<std::vector<store::ConnectivityTransition>> FleetAccess::ConnectivityHistory(const CartId& id, size_t limit,
                                                                                  std::optional<Time> before) {
  CW_RETURN_IF_ERROR(Cart(id).status());
  return d_.entities.ListConnectivityTransitions(id, limit, before);
}

Result<std::vector<store::AlarmEvent>> FleetAccess::AlarmHistory(size_t limit, std::optional<Time> before) {
  if (who_.role != store::Role::kOps) return PermissionDenied("alarms are for ops users");
  return d_.entities.ListAlarmEvents(limit, before);
}

Result<std::vector<store::AuditEntry>> FleetAccess::Audit(const store::AuditQuery& query) {
  if (!who_.SeesAllStores()) {
    // Staff may read a cart's trail when the cart is theirs, nothing wider.
    std::string_view target = query.target ? std::string_view(*query.target) : std::string_view();
    if (!target.starts_with("cart=")) return PermissionDenied("staff may read the audit trail of their own carts only");
    CW_ASSIGN_OR_RETURN(CartId cart, CartId::Parse(target.substr(5)));
    CW_RETURN_IF_ERROR(Cart(cart).status());
  }
  return d_.entities.audit().List(query);
}

Status FleetAccess::SetMaintenance(const CartId& id, const store::Maintenance& m) {
  CW_RETURN_IF_ERROR(RequireWriter());
  CW_RETURN_IF_ERROR(Cart(id).status());
  return d_.entities.SetMaintenance(id, m);
}

}  // namespace cw::api
