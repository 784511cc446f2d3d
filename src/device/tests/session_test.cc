#include "device/session.h"

#include <gtest/gtest.h>

#include <map>

namespace cw::device {
namespace {

using A = SessionAction;
using S = SessionState;

const S kStates[] = {S::kIdle, S::kActive, S::kPaused, S::kComplete, S::kVoided, S::kAbandoned};
const A kActions[] = {A::kStart, A::kPause, A::kResume, A::kComplete, A::kVoid, A::kAbandon, A::kReset};

// The whole transition table: every (state, action) pair is either exactly this, or refused.
const std::map<std::pair<S, A>, S> kAllowed = {
    {{S::kIdle, A::kStart}, S::kActive},        {{S::kActive, A::kPause}, S::kPaused},
    {{S::kPaused, A::kResume}, S::kActive},     {{S::kActive, A::kComplete}, S::kComplete},
    {{S::kActive, A::kVoid}, S::kVoided},       {{S::kPaused, A::kVoid}, S::kVoided},
    {{S::kActive, A::kAbandon}, S::kAbandoned}, {{S::kPaused, A::kAbandon}, S::kAbandoned},
    {{S::kComplete, A::kReset}, S::kIdle},      {{S::kVoided, A::kReset}, S::kIdle},
    {{S::kAbandoned, A::kReset}, S::kIdle},
};

TEST(SessionFsm, EveryTransitionAndEveryRefusal) {
  int refused = 0;
  for (S from : kStates) {
    for (A action : kActions) {
      auto got = Transition(from, action);
      auto want = kAllowed.find({from, action});
      if (want == kAllowed.end()) {
        EXPECT_FALSE(got.has_value()) << Name(action) << " from " << Name(from);
        ++refused;
      } else {
        ASSERT_TRUE(got.has_value()) << Name(action) << " from " << Name(from);
        EXPECT_EQ(*got, want->second);
      }
    }
  }
  EXPECT_EQ(refused, 6 * 7 - 11);
}

TEST(SessionFsm, RefusalLeavesStateAndSaysWhy) {
  SessionMachine m;
  Status s = m.Apply(A::kPause);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.message(), "cannot pause a session that is idle");
  EXPECT_EQ(m.state(), S::kIdle);
}

TEST(SessionFsm, GoldenPathWithPauseAndResume) {
  SessionMachine m;
  for (A a : {A::kStart, A::kPause, A::kResume, A::kComplete}) ASSERT_TRUE(m.Apply(a).ok()) << Name(a);
  EXPECT_TRUE(m.terminal());
  EXPECT_FALSE(m.Apply(A::kStart).ok());  // a finished session must be reset first
  ASSERT_TRUE(m.Apply(A::kReset).ok());
  EXPECT_EQ(m.state(), S::kIdle);
}

TEST(SessionFsm, AHeldSessionIsRestoredPausedAndOnlyAtBoot) {
  SessionMachine booted;
  ASSERT_TRUE(booted.RestoreHeld().ok());
  EXPECT_EQ(booted.state(), S::kPaused);
  ASSERT_TRUE(booted.Apply(A::kResume).ok());

  SessionMachine running;
  ASSERT_TRUE(running.Apply(A::kStart).ok());
  EXPECT_EQ(running.RestoreHeld().code(), Code::kFailedPrecondition);
  EXPECT_EQ(running.state(), S::kActive);
}

}  // namespace
}  // namespace cw::device
