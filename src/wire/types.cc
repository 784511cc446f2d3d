#include "wire/types.h"

namespace cw::wire {
namespace {
template <typename E, size_t N>
std::optional<E> ParseByName(std::string_view s, const std::array<E, N>& all) {
  for (E e : all) {
    if (Name(e) == s) return e;
  }
  return std::nullopt;
}
}  // namespace

std::string_view Name(EventType t) {
  switch (t) {
    case EventType::kSessionStart: return "session-start";
    case EventType::kScan: return "scan";
    case EventType::kIdentify: return "identify";
    case EventType::kSessionEnd: return "session-end";
    case EventType::kHealth: return "health";
    case EventType::kFault: return "fault";
    case EventType::kBoot: return "boot";
  }
  return "?";
}
std::optional<EventType> ParseEventType(std::string_view s) { return ParseByName(s, kAllEventTypes); }

std::string_view Name(CommandKind k) {
  switch (k) {
    case CommandKind::kIdentifyResult: return "identify-result";
    case CommandKind::kSessionOverride: return "session-override";
    case CommandKind::kMaintenance: return "maintenance";
    case CommandKind::kSleep: return "sleep";
    case CommandKind::kWake: return "wake";
    case CommandKind::kLocate: return "locate";
    case CommandKind::kOtaJob: return "ota-job";
  }
  return "?";
}
std::optional<CommandKind> ParseCommandKind(std::string_view s) {
  return ParseByName(s, kAllCommandKinds);
}

std::string_view Name(RejectReason r) {
  switch (r) {
    case RejectReason::kMalformedEnvelope: return "malformed_envelope";
    case RejectReason::kBadSignature: return "bad_signature";
    case RejectReason::kUnknownCart: return "unknown_cart";
    case RejectReason::kRevokedCart: return "revoked_cart";
    case RejectReason::kTopicMismatch: return "topic_mismatch";
    case RejectReason::kSchemaViolation: return "schema_violation";
    case RejectReason::kOversize: return "oversize";
    case RejectReason::kSeqConflict: return "seq_conflict";
    case RejectReason::kClockSkew: return "clock_skew";
    case RejectReason::kInternalError: return "internal_error";
  }
  return "?";
}
std::optional<RejectReason> ParseRejectReason(std::string_view s) {
  return ParseByName(s, kAllRejectReasons);
}

}  // namespace cw::wire
