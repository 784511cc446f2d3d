#include "device/session.h"

#include <string>

namespace cw::device {

std::string_view Name(SessionState s) {
  switch (s) {
    case SessionState::kIdle: return "idle";
    case SessionState::kActive: return "active";
    case SessionState::kPaused: return "paused";
    case SessionState::kComplete: return "complete";
    case SessionState::kVoided: return "voided";
    case SessionState::kAbandoned: return "abandoned";
  }
  return "?";
}

std::string_view Name(SessionAction a) {
  switch (a) {
    case SessionAction::kStart: return "start";
    case SessionAction::kPause: return "pause";
    case SessionAction::kResume: return "resume";
    case SessionAction::kComplete: return "complete";
    case SessionAction::kVoid: return "void";
    case SessionAction::kAbandon: return "abandon";
    case SessionAction::kReset: return "reset";
  }
  return "?";
}

std::optional<SessionState> Transition(SessionState from, SessionAction action) {
  using S = SessionState;
  using A = SessionAction;
  switch (action) {
    case A::kStart: return from == S::kIdle ? std::optional(S::kActive) : std::nullopt;
    case A::kPause: return from == S::kActive ? std::optional(S::kPaused) : std::nullopt;
    case A::kResume: return from == S::kPaused ? std::optional(S::kActive) : std::nullopt;
    case A::kComplete: return from == S::kActive ? std::optional(S::kComplete) : std::nullopt;
    case A::kVoid:
      return from == S::kActive || from == S::kPaused ? std::optional(S::kVoided) : std::nullopt;
    case A::kAbandon:
      return from == S::kActive || from == S::kPaused ? std::optional(S::kAbandoned) : std::nullopt;
    case A::kReset:
      return from == S::kComplete || from == S::kVoided || from == S::kAbandoned ? std::optional(S::kIdle)
                                                                                 : std::nullopt;
  }
  return std::nullopt;
}

Status SessionMachine::Apply(SessionAction action) {
  auto next = Transition(state_, action);
  if (!next) {
    return FailedPrecondition("cannot " + std::string(Name(action)) + " a session that is " +
                              std::string(Name(state_)));
  }
  state_ = *next;
  return Status::Ok();
}

Status SessionMachine::RestoreHeld() {
  if (state_ != SessionState::kIdle) {
    return FailedPrecondition("a held session can only be restored at boot, not in a session that is " +
                              std::string(Name(state_)));
  }
  state_ = SessionState::kPaused;
  return Status::Ok();
}

}  // namespace cw::device
