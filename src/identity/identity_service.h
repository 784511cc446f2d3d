// identity/identity_service.h — who is shopping: `identify` events resolved to accounts, with the
// three layers kept apart (DESIGN.md §1 rule 3):
//   Tier 1 (telemetry) never sees a credential — the ingest strips it before storing;
//   Tier 2 (entity store) links sessions to random account ids, loyalty numbers, card holders;
//   Tier 3 (the vault) holds the person; this service is the only path between 2 and 3, and the
//   vault logs every such join and decrypt.
//
// Resolution: a loyalty number through Tier 2; a payment-method token through the vault's blind
// index to a registered account, else to an anonymous card-holder account keyed by the same
// index; an app QR code is a 5-minute single-use code issued for an account. The cart gets a
// signed `identify-result` with a session-scoped reference and the first name only. A session
// identified mid-shop becomes the account's as a whole. Battery swap: the same customer
// identifying on another cart within 30 minutes of a session abandoned with BATTERY_CLIFF gets
// that session merged into the new one, and the basket sent to the new cart.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "identity/vault.h"
#include "ingest/command_sender.h"
#include "ingest/event_sink.h"
#include "store/entity_store.h"

namespace cw::identity {

inline constexpr Duration kAppCodeLifetime = std::chrono::minutes(5);
inline constexpr Duration kBatterySwapWindow = std::chrono::minutes(30);

struct NewAccount {
  Person person;
  std::vector<std::string> loyalty_numbers;  // 16 digits each
  std::vector<std::string> payment_tokens;   // 24 of [A-Za-z0-9] each
};

enum class IdentifyResult { kMatched, kUnknown, kRejected };
std::string_view Name(IdentifyResult r);

struct Identification {
  IdentifyResult result = IdentifyResult::kUnknown;
  std::optional<AccountId> account;
  std::string customer_ref;               // "" unless matched
  std::string first_name;                 // "" for card holders and the unknown
  std::optional<SessionId> merged_from;   // a battery swap carried this session's basket over
  std::string reason;                     // why unknown/rejected (for logs, never for the cart)
};

struct IdentityStats {
  uint64_t matched = 0, unknown = 0, rejected = 0, merged = 0, commands_failed = 0;
};

class IdentityService final : public ingest::EventSink {
 public:
  IdentityService(store::EntityStore& entities, Vault& vault, ingest::CommandSender& commands, Clock& clock,
                  Random& random)
      : entities_(entities), vault_(vault), commands_(commands), clock_(clock), random_(random) {}

  // Add for identify events. Each is resolved, recorded and answered; a redelivery of an already
  // identified session is answered again with the same reference, without resolving twice.
  Status OnBatch(std::span<const ingest::RoutedEvent> events) override;

  // One identify event (its credential apart from the doc, as the ingest routes it): resolve,
  // link the session, merge a battery-swapped one, answer the cart.
  Result<Identification> Identify(const store::TelemetryEvent& event, const rapidjson::Value& doc,
                                  std::string_view credential);

  // Operators (`cartwright account add`) and the mobile app's registration.
  Result<AccountId> Register(const NewAccount& account, const Access& access);
  // A fresh app QR code for an account: 5 minutes, single use. Only its digest is stored.
  Result<std::string> IssueAppCode(const AccountId& account);

  IdentityStats stats() const;

 private:
  Result<Identification> Resolve(std::string_view method, const std::string& credential);
  Status Answer(const CartId& cart, const SessionId& session, const Identification& id, Time asked_at);

  store::EntityStore& entities_;
  Vault& vault_;
  ingest::CommandSender& commands_;
  Clock& clock_;
  Random& random_;
  std::atomic<uint64_t> matched_{0}, unknown_{0}, rejected_{0}, merged_{0}, commands_failed_{0};
};

}  // namespace cw::identity
