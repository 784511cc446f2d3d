#include "monitor/connectivity.h"

#include <algorithm>

namespace cw::monitor {

using store::LinkState;

Cadence CadenceOf(std::string_view health_state, bool outside) {
  if (outside) return Cadence::kOutside;
  return health_state == "active" || health_state == "paused" ? Cadence::kActive : Cadence::kIdle;
}

ConnectivityTracker::ConnectivityTracker(ConnectivityRules rules) : rules_(rules) {}

ConnectivityTracker::Cart& ConnectivityTracker::Find(const CartId& cart) {
  auto it = carts_.find(cart);
  if (it == carts_.end()) it = carts_.emplace(cart, Cart{store::CartConnectivity{cart, LinkState::kOffline, Time{}, "", {}}}).first;
  return it->second;
}

void ConnectivityTracker::Move(Cart& c, LinkState to, Time at, std::string cause, std::optional<Time> connection) {
  transitions_.push_back({c.state.cart, c.state.state, to, at, cause, connection});
  c.state.state = to;
  c.state.since = at;
  c.state.cause = std::move(cause);
  if (connection && (!c.state.connection || *connection > *c.state.connection)) c.state.connection = connection;
}

Duration ConnectivityTracker::StaleAfter(const Cart& c) const {
  Duration cadence = c.cadence == Cadence::kActive    ? rules_.active_cadence
                     : c.cadence == Cadence::kOutside ? rules_.outside_cadence
                                                      : rules_.idle_cadence;
  return cadence * rules_.stale_after_cadences;
}

void ConnectivityTracker::Restore(const store::CartConnectivity& kept, std::optional<Time> last_seen, Cadence cadence) {
  std::lock_guard lock(mu_);
  Cart& c = Find(kept.cart);
  c.state = kept;
  // Nothing before the kept state's start is news (a message re-read after a restart must not
  // revive a cart that went silent after it).
  c.last_activity = last_seen ? std::max(*last_seen, kept.since) : kept.since;
  c.cadence = cadence;
  if (kept.state == LinkState::kOffline && kept.cause == "will") c.will_at = kept.since;
}

void ConnectivityTracker::OnStatus(const CartId& cart, const wire::StatusMessage& status, Time at) {
  std::lock_guard lock(mu_);
  bool known = carts_.count(cart) > 0;
  Cart& c = Find(cart);
  const std::optional<Time>& newest = c.state.connection;
  const std::optional<Time>& conn = status.connected_at;
  if (status.presence == wire::Presence::kOnline) {
    if (conn && newest && *conn < *newest) return;  // an older connection's birth, delivered late
    if (conn && newest && *conn == *newest) {
      // The same birth again (a retained copy on resubscribing): news only if the cart was
      // written off because the broker was unreachable; a will of this connection stands.
      if (c.state.cause == "broker_unreachable") Move(c, LinkState::kStale, at, "birth_replayed", conn);
      return;
    }
    c.last_activity = at;
    c.will_at.reset();
    // Online again, or still online on a new connection: the cart reconnected before anyone
    // noticed the old one was gone (kept in the history as online → online).
    Move(c, LinkState::kOnline, at, c.state.state == LinkState::kOnline && known ? "reconnect" : "birth", conn);
    return;
  }
  // A will. One of an older connection than the newest birth is the classic race: ignore it.
  if (conn && newest && *conn < *newest) return;
  if (c.state.state == LinkState::kOffline && c.state.cause == "will" && known) return;  // the same will again
  c.will_at = at;
  // Already offline by silence: the will only confirms it (and starts the backlog grace).
  if (c.state.state != LinkState::kOffline || !known) Move(c, LinkState::kOffline, at, "will", conn);
}

void ConnectivityTracker::OnEvent(const CartId& cart, Time at, std::optional<Cadence> cadence) {
  std::lock_guard lock(mu_);
  Cart& c = Find(cart);
  if (cadence) c.cadence = *cadence;
  // Only news is evidence: the same sighting reported again (the monitor re-reads every cart's
  // last message each tick) must not revive a cart that has since gone silent.
  bool news = !c.last_activity || at > *c.last_activity;
  if (news) c.last_activity = at;
  if (c.state.state == LinkState::kOnline || !news) return;
  // After a will, the ended connection's backlog may still be arriving: only a birth, or events
  // long after the will (a birth lost on the way), bring the cart back.
  if (c.will_at && at - *c.will_at < rules_.backlog_grace) return;
  c.will_at.reset();
  Move(c, LinkState::kOnline, at, "event", std::nullopt);
}

void ConnectivityTracker::OnBrokerLost(Time at) {
  std::lock_guard lock(mu_);
  for (auto& [id, c] : carts_) {
    if (c.state.state != LinkState::kOffline) Move(c, LinkState::kOffline, at, "broker_unreachable", std::nullopt);
  }
}

void ConnectivityTracker::Tick(Time now) {
  std::lock_guard lock(mu_);
  for (auto& [id, c] : carts_) {
    if (c.state.state == LinkState::kOffline) continue;
    Time heard = c.last_activity.value_or(c.state.since);
    Duration stale_after = StaleAfter(c);
    Duration silent = now - heard;
    if (silent >= std::max(stale_after, rules_.offline_after)) {
      Move(c, LinkState::kOffline, heard + std::max(stale_after, rules_.offline_after), "silence", std::nullopt);
    } else if (c.state.state == LinkState::kOnline && silent >= stale_after) {
      Move(c, LinkState::kStale, heard + stale_after, "silence", std::nullopt);
    }
  }
}

std::vector<store::ConnectivityTransition> ConnectivityTracker::TakeTransitions() {
  std::lock_guard lock(mu_);
  std::vector<store::ConnectivityTransition> out;
  out.swap(transitions_);
  return out;
}

ConnectivityTracker::Counts ConnectivityTracker::counts() const {
  std::lock_guard lock(mu_);
  Counts n;
  for (const auto& [id, c] : carts_) {
    switch (c.state.state) {
      case LinkState::kOnline: n.online++; break;
      case LinkState::kStale: n.stale++; break;
      case LinkState::kOffline: n.offline++; break;
    }
  }
  return n;
}

std::optional<store::CartConnectivity> ConnectivityTracker::Get(const CartId& cart) const {
  std::lock_guard lock(mu_);
  auto it = carts_.find(cart);
  if (it == carts_.end()) return std::nullopt;
  return it->second.state;
}

std::vector<CartId> ConnectivityTracker::Online() const {
  std::lock_guard lock(mu_);
  std::vector<CartId> out;
  for (const auto& [id, c] : carts_) {
    if (c.state.state == LinkState::kOnline) out.push_back(id);
  }
  return out;
}

}  // namespace cw::monitor
