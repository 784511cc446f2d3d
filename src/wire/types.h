// wire/types.h — the closed vocabularies of wire contract v1 (DESIGN.md §2).
//
// Each enum's names are exactly the strings on the wire; Parse* returns nullopt for anything else.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace cw::wire {

inline constexpr int kWireVersion = 1;
inline constexpr size_t kSignatureSize = 64;   // raw ECDSA P-256 r‖s
inline constexpr size_t kMaxPayloadSize = 4096;  // JSON + signature

enum class EventType { kSessionStart, kScan, kIdentify, kSessionEnd, kHealth, kFault, kBoot };
inline constexpr std::array kAllEventTypes = {EventType::kSessionStart, EventType::kScan,
                                              EventType::kIdentify,     EventType::kSessionEnd,
                                              EventType::kHealth,       EventType::kFault,
                                              EventType::kBoot};
std::string_view Name(EventType t);
std::optional<EventType> ParseEventType(std::string_view s);

enum class CommandKind {
  kIdentifyResult,
  kSessionOverride,
  kMaintenance,
  kSleep,
  kWake,
  kLocate,
  kOtaJob
};
inline constexpr std::array kAllCommandKinds = {
    CommandKind::kIdentifyResult, CommandKind::kSessionOverride, CommandKind::kMaintenance,
    CommandKind::kSleep,          CommandKind::kWake,            CommandKind::kLocate,
    CommandKind::kOtaJob};
std::string_view Name(CommandKind k);
std::optional<CommandKind> ParseCommandKind(std::string_view s);

// Why the cloud refused a message; sent to the cart, stored with the dead letter, counted per cart.
enum class RejectReason {
  kMalformedEnvelope,
  kBadSignature,
  kUnknownCart,
  kRevokedCart,
  kTopicMismatch,
  kSchemaViolation,
  kOversize,
  kSeqConflict,
  kClockSkew,
  kInternalError
};
inline constexpr std::array kAllRejectReasons = {
    RejectReason::kMalformedEnvelope, RejectReason::kBadSignature,    RejectReason::kUnknownCart,
    RejectReason::kRevokedCart,       RejectReason::kTopicMismatch,   RejectReason::kSchemaViolation,
    RejectReason::kOversize,          RejectReason::kSeqConflict,     RejectReason::kClockSkew,
    RejectReason::kInternalError};
std::string_view Name(RejectReason r);
std::optional<RejectReason> ParseRejectReason(std::string_view s);

}  // namespace cw::wire
