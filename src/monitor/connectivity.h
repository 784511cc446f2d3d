// monitor/connectivity.h — each cart's link state as the cloud sees it, decided by one explicit
// state machine from three inputs: the births and wills on carts/{id}/status, the events the
// ingest stores, and the passing of time.
//
//   online  ──(no message for 2× the cart's expected cadence)──▶ stale
//   stale   ──(no message for 15 min, and at least that stale threshold)──▶ offline
//   online/stale ──(the will of the current connection)──▶ offline
//   any     ──(the broker is unreachable)──▶ offline
//   stale/offline ──(a birth of a newer connection, or an event)──▶ online
//
// The rules that make it trustworthy:
//  - A disconnect is not activity: a will never counts as hearing from the cart.
//  - Races resolve by event time, not arrival order. Births and wills name their connection's
//    start (wire/status.h). A will of a connection older than the newest birth — the broker
//    noticing a dead socket after the cart reconnected — is ignored; so is a birth older than
//    the newest one. Bare strings from older firmware are taken at arrival.
//  - After a will, events may still arrive from the ended connection (the ingest's backlog): for
//    `backlog_grace` only a birth brings the cart back.
//  - A retained birth replayed after the broker was unreachable proves nothing about the
//    connection now: it makes the cart stale, and its next message makes it online.
//
// The cadence a cart is expected to keep comes from its health reports (active 60 s, idle or
// asleep 5 min, outside the store hourly; cartsim and the firmware use the same numbers).
//
// Thread-safe. Time is passed in (server receive times and the monitor's injected clock).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "store/entity_store.h"
#include "wire/status.h"

namespace cw::monitor {

// How often a cart reports health in its current situation.
enum class Cadence { kActive, kIdle, kOutside };

struct ConnectivityRules {
  Duration active_cadence = std::chrono::seconds(60);  // a session is active or paused
  Duration idle_cadence = std::chrono::minutes(5);     // idle or asleep in the store
  Duration outside_cadence = std::chrono::hours(1);    // the parking-lot location ping
  int stale_after_cadences = 2;
  Duration offline_after = std::chrono::minutes(15);
  Duration backlog_grace = std::chrono::minutes(2);
};

// The cadence a health report implies: its `state` (active|paused → active) and whether its
// location is outside the store (a {lat, lon} location).
Cadence CadenceOf(std::string_view health_state, bool outside);

class ConnectivityTracker {
 public:
  explicit ConnectivityTracker(ConnectivityRules rules = {});

  // Seeds one cart from what the store kept before a restart (no transition is emitted).
  // `last_seen` is the server time of its newest event, if any.
  void Restore(const store::CartConnectivity& kept, std::optional<Time> last_seen, Cadence cadence);

  // A birth or will on carts/{cart}/status, received at `at`.
  void OnStatus(const CartId& cart, const wire::StatusMessage& status, Time at);
  // A message of the cart received at `at` (stored or rejected); `cadence` for a health report.
  // A message no newer than the newest already seen changes nothing.
  void OnEvent(const CartId& cart, Time at, std::optional<Cadence> cadence);
  // The monitor lost the broker: no cart can reach the cloud either.
  void OnBrokerLost(Time at);
  // Applies the silence rules at `now`.
  void Tick(Time now);

  // The transitions decided since the last call, in the order they happened.
  std::vector<store::ConnectivityTransition> TakeTransitions();

  struct Counts {
    size_t online = 0, stale = 0, offline = 0;
  };
  // Over the carts the tracker has heard of (carts never heard of are in none).
  Counts counts() const;
  // nullopt for a cart never heard of.
  std::optional<store::CartConnectivity> Get(const CartId& cart) const;
  // The carts online now.
  std::vector<CartId> Online() const;

 private:
  struct Cart {
    store::CartConnectivity state;
    std::optional<Time> last_activity;  // server time of the newest birth or event
    std::optional<Time> will_at;        // when the will that ended the current connection arrived
    Cadence cadence = Cadence::kIdle;
  };
  Cart& Find(const CartId& cart);
  void Move(Cart& c, store::LinkState to, Time at, std::string cause, std::optional<Time> connection);
  Duration StaleAfter(const Cart& c) const;

  const ConnectivityRules rules_;
  mutable std::mutex mu_;
  std::map<CartId, Cart> carts_;                             // guarded by mu_
  std::vector<store::ConnectivityTransition> transitions_;  // guarded by mu_
};

}  // namespace cw::monitor
