// device/cloud_messages.h — what the cart trusts from the cloud, and what it proves to staff.
//
// The cart pins the cloud command key (cloud-command.pub, written at provisioning). A command is
// acted on only if it is signed by that key over its exact bytes, schema-valid, addressed to this
// cart, inside its validity window by the cart's clock (an ota-job's by the signed server_time it
// carries), and not seen before (cmd_id). Everything
// else is ignored and counted by reason — never acted on, never fatal.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <unordered_set>

#include "core/clock.h"
#include "core/ids.h"
#include "core/random.h"
#include "crypto/ecdsa.h"
#include "crypto/key_store.h"
#include "wire/notice.h"

namespace cw::device {

enum class CommandRefusal { kMalformed, kBadSignature, kForeign, kExpired, kNotYetValid, kReplayed };
std::string_view Name(CommandRefusal r);

class CommandVerifier {
 public:
  // `tolerance`: how far in the future issued_at may be (the two clocks are never equal).
  CommandVerifier(CartId self, crypto::PublicKey cloud_key, Clock& clock,
                  Duration tolerance = std::chrono::minutes(5));

  // The parsed command, or the refusal. Not thread-safe (one cart, one event loop).
  Result<wire::ParsedCommand, CommandRefusal> Accept(std::string_view payload);
  // A reject notice on devices/errors/{self}, if signed by the cloud and about this cart.
  Result<wire::RejectNotice, CommandRefusal> AcceptRejectNotice(std::string_view payload) const;

  const std::map<CommandRefusal, uint64_t>& refusals() const { return refusals_; }

 private:
  Result<wire::ParsedCommand, CommandRefusal> Check(std::string_view payload) const;

  CartId self_;
  crypto::PublicKey cloud_key_;
  Clock& clock_;
  Duration tolerance_;
  std::map<CommandRefusal, uint64_t> refusals_;
  // Recently accepted cmd_ids, bounded: a replay outside this window is caught by expiry.
  std::unordered_set<std::string> seen_;
  std::deque<std::string> seen_order_;
};

// A proximity token for `purpose`, valid for `lifetime` (at most 120 s), signed inside the
// secure element — what the cart hands a staff tablet over BLE. The nonce is the cloud's
// `challenge` when the tablet brings one (32 lowercase hex; the cloud then judges freshness by its
// own clock), else random. InvalidArgument for a malformed challenge or lifetime.
Result<std::string> IssueProximityToken(crypto::KeyStore& secure_element, const CartId& cart, Clock& clock,
                                        Random& random, std::string_view challenge = {},
                                        Duration lifetime = std::chrono::seconds(60),
                                        std::string_view purpose = "staff-override");

}  // namespace cw::device
