#include "device/cloud_messages.h"

#include "core/time_format.h"
#include "wire/envelope.h"
#include "wire/proximity.h"

namespace cw::device {

std::string_view Name(CommandRefusal r) {
  switch (r) {
    case CommandRefusal::kMalformed: return "malformed";
    case CommandRefusal::kBadSignature: return "bad_signature";
    case CommandRefusal::kForeign: return "foreign";
    case CommandRefusal::kExpired: return "expired";
    case CommandRefusal::kNotYetValid: return "not_yet_valid";
    case CommandRefusal::kReplayed: return "replayed";
  }
  return "?";
}

CommandVerifier::CommandVerifier(CartId self, crypto::PublicKey cloud_key, Clock& clock, Duration tolerance)
    : self_(std::move(self)), cloud_key_(std::move(cloud_key)), clock_(clock), tolerance_(tolerance) {}

Result<wire::ParsedCommand, CommandRefusal> CommandVerifier::Check(std::string_view payload) const {
  auto env = wire::SplitEnvelope(payload);
  if (!env.ok()) return CommandRefusal::kMalformed;
  // Signature first: nothing unauthenticated is parsed further.
  if (!cloud_key_.Verify(env->json, env->signature)) return CommandRefusal::kBadSignature;
  auto cmd = wire::ParseCommand(env->json);
  if (!cmd.ok()) return CommandRefusal::kMalformed;
  if (cmd->header.cart != self_) return CommandRefusal::kForeign;
  // An ota-job is judged by the cloud's clock it carries, signed: an update must reach a cart whose
  // clock a flat battery set hours off (the OTA agent guards against replays by that clock too).
  Time now = clock_.Now();
  if (cmd->header.kind == wire::CommandKind::kOtaJob) {
    auto server_time = ParseWireTime(wire::GetString(cmd->doc, "server_time").value_or(""));
    if (!server_time.ok()) return CommandRefusal::kMalformed;
    now = *server_time;
  }
  if (now >= cmd->header.expires_at) return CommandRefusal::kExpired;
  if (cmd->header.issued_at > now + tolerance_) return CommandRefusal::kNotYetValid;
  return std::move(cmd).value();
}

Result<wire::ParsedCommand, CommandRefusal> CommandVerifier::Accept(std::string_view payload) {
  auto cmd = Check(payload);
  if (cmd.ok() && seen_.count(cmd->header.cmd_id)) cmd = CommandRefusal::kReplayed;
  if (!cmd.ok()) {
    refusals_[cmd.error()]++;
    return cmd;
  }
  seen_.insert(cmd->header.cmd_id);
  seen_order_.push_back(cmd->header.cmd_id);
  if (seen_order_.size() > 4096) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
  return cmd;
}

Result<wire::RejectNotice, CommandRefusal> CommandVerifier::AcceptRejectNotice(std::string_view payload) const {
  auto env = wire::SplitEnvelope(payload);
  if (!env.ok()) return CommandRefusal::kMalformed;
  if (!cloud_key_.Verify(env->json, env->signature)) return CommandRefusal::kBadSignature;
  auto notice = wire::ParseRejectNotice(env->json);
  if (!notice.ok()) return CommandRefusal::kMalformed;
  if (notice->cart != self_) return CommandRefusal::kForeign;
  return std::move(notice).value();
}

Result<std::string> IssueProximityToken(crypto::KeyStore& se, const CartId& cart, Clock& clock, Random& random,
                                        std::string_view challenge, Duration lifetime, std::string_view purpose) {
  if (lifetime <= Duration::zero() || lifetime > wire::kMaxProximityTokenLifetime) {
    return InvalidArgument("proximity token lifetime must be in (0, 120 s]");
  }
  if (!challenge.empty() && !wire::IsProximityNonce(challenge)) {
    return InvalidArgument("challenge must be 32 lowercase hex digits");
  }
  Time now = clock.Now();
  // Whole milliseconds, so the claims round-trip through the wire time format exactly.
  now = std::chrono::floor<std::chrono::milliseconds>(now);
  std::string nonce = challenge.empty() ? random.Hex(16) : std::string(challenge);
  wire::ProximityClaims claims{std::string(purpose), cart, nonce, now, now + lifetime};
  std::string json = wire::ProximityClaimsJson(claims);
  CW_ASSIGN_OR_RETURN(auto sig, se.Sign(json));
  return wire::EncodeProximityToken(json, sig);
}

}  // namespace cw::device
