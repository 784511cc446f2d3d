#include "monitor/connectivity.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace cw::monitor {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using store::LinkState;

const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
const CartId kCart = CartId::FromNumber(1);

wire::StatusMessage Birth(Time connected_at) { return {wire::Presence::kOnline, connected_at}; }
wire::StatusMessage Will(Time connected_at) { return {wire::Presence::kOffline, connected_at}; }

class Tracker : public ::testing::Test {
 protected:
  LinkState State() { return tracker_.Get(kCart)->state; }
  // The transitions since the last call, as "from>to:cause".
  std::vector<std::string> Taken() {
    std::vector<std::string> out;
    for (const auto& t : tracker_.TakeTransitions()) {
      out.push_back(std::string(store::Name(t.from)) + ">" + std::string(store::Name(t.to)) + ":" + t.cause);
    }
    return out;
  }
  ConnectivityTracker tracker_;
};

TEST_F(Tracker, SilenceMakesAnActiveCartStaleAfterTwoCadencesAndOfflineAfterFifteenMinutes) {
  tracker_.OnStatus(kCart, Birth(kT0), kT0);
  tracker_.OnEvent(kCart, kT0 + seconds(5), Cadence::kActive);
  EXPECT_EQ(State(), LinkState::kOnline);
  tracker_.Tick(kT0 + seconds(5) + seconds(119));
  EXPECT_EQ(State(), LinkState::kOnline);
  tracker_.Tick(kT0 + seconds(5) + seconds(120));
  EXPECT_EQ(State(), LinkState::kStale);
  tracker_.Tick(kT0 + seconds(5) + minutes(15) - seconds(1));
  EXPECT_EQ(State(), LinkState::kStale);
  tracker_.Tick(kT0 + seconds(5) + minutes(15));
  EXPECT_EQ(State(), LinkState::kOffline);
  auto history = tracker_.TakeTransitions();
  ASSERT_EQ(history.size(), 3u);
  // Each transition is dated when its rule first held, not when the tick noticed it.
  EXPECT_EQ(history[1].at, kT0 + seconds(125));
  EXPECT_EQ(history[2].at, kT0 + seconds(5) + minutes(15));
  EXPECT_EQ(history[2].cause, "silence");
  // Any message brings it back.
  tracker_.OnEvent(kCart, kT0 + minutes(30), Cadence::kIdle);
  EXPECT_EQ(State(), LinkState::kOnline);
  EXPECT_EQ(Taken(), (std::vector<std::string>{"offline>online:event"}));
}

TEST_F(Tracker, TheSameSightingReportedAgainDoesNotReviveASilentCart) {
  tracker_.OnEvent(kCart, kT0, Cadence::kActive);
  tracker_.Tick(kT0 + minutes(16));
  EXPECT_EQ(State(), LinkState::kOffline);
  Taken();
  for (int i = 1; i <= 3; ++i) {
    tracker_.OnEvent(kCart, kT0, std::nullopt);  // what the monitor re-reads on every tick
    tracker_.Tick(kT0 + minutes(16) + seconds(5 * i));
  }
  EXPECT_EQ(State(), LinkState::kOffline);
  EXPECT_TRUE(Taken().empty()) << "no flapping between online and offline";
}

TEST_F(Tracker, TheCadenceFollowsTheCartsSituation) {
  tracker_.OnEvent(kCart, kT0, Cadence::kIdle);  // idle: reports every 5 min
  tracker_.Tick(kT0 + minutes(9));
  EXPECT_EQ(State(), LinkState::kOnline);
  tracker_.Tick(kT0 + minutes(10));
  EXPECT_EQ(State(), LinkState::kStale);
  // Outside the store (hourly pings) the cart is stale after 2 h and offline at the same point,
  // since 15 minutes of silence is normal for it.
  tracker_.OnEvent(kCart, kT0 + minutes(11), Cadence::kOutside);
  tracker_.Tick(kT0 + minutes(11) + minutes(90));
  EXPECT_EQ(State(), LinkState::kOnline);
  tracker_.Tick(kT0 + minutes(11) + std::chrono::hours(2));
  EXPECT_EQ(State(), LinkState::kOffline);
  EXPECT_EQ(CadenceOf("paused", false), Cadence::kActive);
  EXPECT_EQ(CadenceOf("sleep", false), Cadence::kIdle);
  EXPECT_EQ(CadenceOf("active", true), Cadence::kOutside);
}

TEST_F(Tracker, AWillEndsTheConnectionAndIsNotActivity) {
  tracker_.OnStatus(kCart, Birth(kT0), kT0);
  tracker_.OnEvent(kCart, kT0 + seconds(30), Cadence::kActive);
  tracker_.OnStatus(kCart, Will(kT0), kT0 + minutes(1));
  EXPECT_EQ(State(), LinkState::kOffline);
  EXPECT_EQ(tracker_.Get(kCart)->cause, "will");
  // The will again (a retained copy) changes nothing.
  tracker_.OnStatus(kCart, Will(kT0), kT0 + minutes(2));
  EXPECT_EQ(Taken(), (std::vector<std::string>{"offline>online:birth", "online>offline:will"}));
  // Silence is counted from the last event, not from the will: nothing to add for an offline cart.
  tracker_.Tick(kT0 + minutes(20));
  EXPECT_TRUE(Taken().empty());
}

TEST_F(Tracker, AWillOfAnOlderConnectionArrivingAfterTheNewBirthIsIgnored) {
  // The cart lost its link and reconnected before the broker's keepalive gave up on the old socket:
  // the new birth arrives first, the old connection's will after it.
  tracker_.OnStatus(kCart, Birth(kT0), kT0);
  tracker_.OnStatus(kCart, Birth(kT0 + minutes(3)), kT0 + minutes(3));
  tracker_.OnStatus(kCart, Will(kT0), kT0 + minutes(3) + seconds(40));
  EXPECT_EQ(State(), LinkState::kOnline);
  EXPECT_EQ(tracker_.Get(kCart)->connection, kT0 + minutes(3));
  EXPECT_EQ(Taken(), (std::vector<std::string>{"offline>online:birth", "online>online:reconnect"}));
  // The current connection's will still counts.
  tracker_.OnStatus(kCart, Will(kT0 + minutes(3)), kT0 + minutes(5));
  EXPECT_EQ(State(), LinkState::kOffline);
}

TEST_F(Tracker, ABirthOfAnOlderConnectionDeliveredLateIsIgnored) {
  tracker_.OnStatus(kCart, Birth(kT0 + minutes(3)), kT0 + minutes(3));
  tracker_.OnStatus(kCart, Will(kT0 + minutes(3)), kT0 + minutes(4));
  tracker_.OnStatus(kCart, Birth(kT0), kT0 + minutes(4) + seconds(1));
  EXPECT_EQ(State(), LinkState::kOffline);
  // The same connection's birth again (a retained copy on resubscribing) does not undo its will.
  tracker_.OnStatus(kCart, Birth(kT0 + minutes(3)), kT0 + minutes(5));
  EXPECT_EQ(State(), LinkState::kOffline);
  // A newer connection does.
  tracker_.OnStatus(kCart, Birth(kT0 + minutes(6)), kT0 + minutes(6));
  EXPECT_EQ(State(), LinkState::kOnline);
}

TEST_F(Tracker, EventsFromTheEndedConnectionsBacklogDoNotReviveTheCart) {
  tracker_.OnStatus(kCart, Birth(kT0), kT0);
  tracker_.OnStatus(kCart, Will(kT0), kT0 + minutes(1));
  // The ingest was behind: events the cart sent before the link died are stored after the will.
  tracker_.OnEvent(kCart, kT0 + minutes(1) + seconds(5), Cadence::kActive);
  tracker_.OnEvent(kCart, kT0 + minutes(2), Cadence::kActive);
  EXPECT_EQ(State(), LinkState::kOffline);
  // Its reconnect's birth and events may come in either order; the birth decides.
  tracker_.OnStatus(kCart, Birth(kT0 + minutes(2)), kT0 + minutes(2) + seconds(1));
  EXPECT_EQ(State(), LinkState::kOnline);
  // Had the birth been lost, events well past the will still bring the cart back.
  tracker_.OnStatus(kCart, Will(kT0 + minutes(2)), kT0 + minutes(10));
  tracker_.OnEvent(kCart, kT0 + minutes(12) + seconds(1), std::nullopt);
  EXPECT_EQ(State(), LinkState::kOnline);
  EXPECT_EQ(tracker_.Get(kCart)->cause, "event");
}

TEST_F(Tracker, ALostBrokerTakesEveryCartOfflineAndAReplayedBirthOnlyMakesItStale) {
  const CartId other = CartId::FromNumber(2);
  tracker_.OnStatus(kCart, Birth(kT0), kT0);
  tracker_.OnStatus(other, Birth(kT0), kT0);
  tracker_.OnBrokerLost(kT0 + minutes(1));
  EXPECT_EQ(tracker_.counts().offline, 2u);
  EXPECT_EQ(tracker_.Get(other)->cause, "broker_unreachable");
  // Back on the broker, its retained births arrive again: they say nothing about now.
  tracker_.OnStatus(kCart, Birth(kT0), kT0 + minutes(2));
  tracker_.OnStatus(other, Birth(kT0), kT0 + minutes(2));
  EXPECT_EQ(State(), LinkState::kStale);
  EXPECT_EQ(tracker_.Get(kCart)->cause, "birth_replayed");
  // One cart kept its connection (it was our link that broke) and speaks; the other reconnects.
  tracker_.OnEvent(kCart, kT0 + minutes(3), std::nullopt);
  tracker_.OnStatus(other, Birth(kT0 + minutes(3)), kT0 + minutes(3));
  auto n = tracker_.counts();
  EXPECT_EQ(n.online, 2u);
  EXPECT_EQ(tracker_.Online(), (std::vector<CartId>{kCart, other}));
}

TEST_F(Tracker, BareStringsOfOlderFirmwareAreTakenInArrivalOrder) {
  tracker_.OnStatus(kCart, {wire::Presence::kOnline, std::nullopt}, kT0);
  EXPECT_EQ(State(), LinkState::kOnline);
  tracker_.OnStatus(kCart, {wire::Presence::kOffline, std::nullopt}, kT0 + minutes(1));
  EXPECT_EQ(State(), LinkState::kOffline);
  tracker_.OnStatus(kCart, {wire::Presence::kOnline, std::nullopt}, kT0 + minutes(2));
  EXPECT_EQ(State(), LinkState::kOnline);
}

TEST_F(Tracker, ARestartResumesFromTheKeptStateWithoutNewTransitions) {
  store::CartConnectivity kept{kCart, LinkState::kOnline, kT0, "birth", kT0};
  tracker_.Restore(kept, kT0 + minutes(1), Cadence::kActive);
  EXPECT_TRUE(Taken().empty());
  EXPECT_EQ(tracker_.counts().online, 1u);
  // The old connection's will is still recognised, and silence counts from the last event.
  tracker_.OnStatus(kCart, Will(kT0 - minutes(5)), kT0 + minutes(2));
  EXPECT_EQ(State(), LinkState::kOnline);
  tracker_.Tick(kT0 + minutes(3));
  EXPECT_EQ(State(), LinkState::kStale);
  // A cart restored offline by its will keeps the backlog grace.
  const CartId other = CartId::FromNumber(2);
  tracker_.Restore({other, LinkState::kOffline, kT0 + minutes(3), "will", kT0}, kT0 + minutes(2), Cadence::kIdle);
  tracker_.OnEvent(other, kT0 + minutes(4), std::nullopt);
  EXPECT_EQ(tracker_.Get(other)->state, LinkState::kOffline);
}

}  // namespace
}  // namespace cw::monitor
