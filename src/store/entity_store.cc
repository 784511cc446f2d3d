#include "store/entity_store.h"

namespace cw::store {

std::string_view Name(Region r) { return r == Region::kEu ? "eu" : "us"; }
std::optional<Region> ParseRegion(std::string_view s) {
  if (s == "us") return Region::kUs;
  if (s == "eu") return Region::kEu;
  return std::nullopt;
}

std::string_view Name(LinkState s) {
  switch (s) {
    case LinkState::kOnline: return "online";
    case LinkState::kStale: return "stale";
    case LinkState::kOffline: return "offline";
  }
  return "?";
}
std::optional<LinkState> ParseLinkState(std::string_view s) {
  if (s == "online") return LinkState::kOnline;
  if (s == "stale") return LinkState::kStale;
  if (s == "offline") return LinkState::kOffline;
  return std::nullopt;
}

std::string_view Name(AlarmSeverity s) { return s == AlarmSeverity::kPage ? "page" : "notify"; }

std::string_view Name(RolloutState s) {
  switch (s) {
    case RolloutState::kRunning: return "running";
    case RolloutState::kHalted: return "halted";
    case RolloutState::kCompleted: return "completed";
    case RolloutState::kAborted: return "aborted";
  }
  return "?";
}

std::optional<RolloutState> ParseRolloutState(std::string_view s) {
  for (auto v : {RolloutState::kRunning, RolloutState::kHalted, RolloutState::kCompleted, RolloutState::kAborted}) {
    if (Name(v) == s) return v;
  }
  return std::nullopt;
}

std::string_view Name(JobState s) {
  switch (s) {
    case JobState::kQueued: return "QUEUED";
    case JobState::kInProgress: return "IN_PROGRESS";
    case JobState::kSucceeded: return "SUCCEEDED";
    case JobState::kFailed: return "FAILED";
    case JobState::kRolledBack: return "ROLLED_BACK";
  }
  return "?";
}

std::optional<JobState> ParseJobState(std::string_view s) {
  for (auto v : {JobState::kQueued, JobState::kInProgress, JobState::kSucceeded, JobState::kFailed, JobState::kRolledBack}) {
    if (Name(v) == s) return v;
  }
  return std::nullopt;
}

std::string_view Name(CartStatus s) {
  switch (s) {
    case CartStatus::kActive: return "active";
    case CartStatus::kRevoked: return "revoked";
    case CartStatus::kRetired: return "retired";
  }
  return "?";
}
std::optional<CartStatus> ParseCartStatus(std::string_view s) {
  if (s == "active") return CartStatus::kActive;
  if (s == "revoked") return CartStatus::kRevoked;
  if (s == "retired") return CartStatus::kRetired;
  return std::nullopt;
}

}  // namespace cw::store

namespace cw::store {

std::string_view Name(SessionStatus s) {
  switch (s) {
    case SessionStatus::kActive: return "active";
    case SessionStatus::kPaused: return "paused";
    case SessionStatus::kComplete: return "complete";
    case SessionStatus::kAbandoned: return "abandoned";
    case SessionStatus::kVoided: return "voided";
  }
  return "?";
}
std::optional<SessionStatus> ParseSessionStatus(std::string_view s) {
  for (auto v : {SessionStatus::kActive, SessionStatus::kPaused, SessionStatus::kComplete, SessionStatus::kAbandoned,
                 SessionStatus::kVoided}) {
    if (Name(v) == s) return v;
  }
  return std::nullopt;
}

std::string_view Name(AccountKind k) { return k == AccountKind::kCardHolder ? "card_holder" : "registered"; }

std::string_view Name(Role r) {
  switch (r) {
    case Role::kOps: return "ops";
    case Role::kStaff: return "staff";
    case Role::kAuditor: return "auditor";
  }
  return "?";
}
std::optional<Role> ParseRole(std::string_view s) {
  for (auto v : {Role::kOps, Role::kStaff, Role::kAuditor}) {
    if (Name(v) == s) return v;
  }
  return std::nullopt;
}

}  // namespace cw::store
