// device/session.h — the shopping-session state machine of the cart firmware.
//
//   IDLE ──start──► ACTIVE ◄──resume── PAUSED
//                    │  └──pause──────►  │
//                    ├─complete─► COMPLETE
//                    ├─void─────► VOIDED    ◄─void─────┤
//                    └─abandon──► ABANDONED ◄─abandon──┘
//   COMPLETE | VOIDED | ABANDONED ──reset──► IDLE
//
// Every other (state, action) pair is refused with FailedPrecondition naming both, and leaves the
// state unchanged. Pure logic: no I/O, no clock.
#pragma once

#include <optional>
#include <string_view>

#include "core/status.h"

namespace cw::device {

enum class SessionState { kIdle, kActive, kPaused, kComplete, kVoided, kAbandoned };
enum class SessionAction { kStart, kPause, kResume, kComplete, kVoid, kAbandon, kReset };

std::string_view Name(SessionState s);
std::string_view Name(SessionAction a);

// The state `action` leads to from `from`, or nullopt if the firmware refuses it.
std::optional<SessionState> Transition(SessionState from, SessionAction action);

class SessionMachine {
 public:
  SessionState state() const { return state_; }
  bool terminal() const {
    return state_ == SessionState::kComplete || state_ == SessionState::kVoided || state_ == SessionState::kAbandoned;
  }
  // Applies `action`; FailedPrecondition ("cannot pause a session that is idle") if refused.
  Status Apply(SessionAction action);
  // Boot only: the cart powered up with a session held in flash, which is PAUSED by definition
  // (only a paused session is held). FailedPrecondition unless the machine is still IDLE.
  Status RestoreHeld();

 private:
  SessionState state_ = SessionState::kIdle;
};

}  // namespace cw::device
