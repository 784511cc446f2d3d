// The entity-store conformance suite, the OTA part: rollouts with their jobs, what carts trust,
// and opt-outs. Instantiated for every backend in entity_store_conformance_test.cc.
#include <gtest/gtest.h>

#include "store/tests/entity_fixture.h"

namespace cw::store {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

RolloutRecord MakeRollout(const std::string& id, Time at) {
  RolloutRecord r;
  r.id = id;
  r.version = "2.1.0";
  r.stages = {{"canary", 10, 0, hours(24)}, {"1%", std::nullopt, 1, hours(72)}, {"100%", std::nullopt, 100, {}}};
  r.stage_started_at = at;
  r.stores = {*StoreId::Parse("A")};
  r.carts = {CartId::FromNumber(2)};
  r.pace_per_minute = 30;
  r.jitter = std::chrono::seconds(20);
  r.created_by = "olga";
  r.created_at = r.updated_at = at;
  return r;
}

RolloutJob MakeJob(const std::string& rollout, uint32_t cart, int position, Time at) {
  RolloutJob j{rollout, CartId::FromNumber(cart), "job-" + rollout + "-" + std::to_string(cart), 0, position,
               JobState::kQueued, "2.0.0", std::nullopt, std::nullopt, at, 0, ""};
  return j;
}

TEST_P(EntityStoreConformance, ARolloutIsStoredWithItsJobsAndOnlyOneRunsAtATime) {
  AddStoreWithCarts();
  RolloutRecord r = MakeRollout("r1", kT0);
  std::vector<RolloutJob> jobs = {MakeJob("r1", 2, 0, kT0), MakeJob("r1", 1, 1, kT0)};
  jobs[0].send_at = kT0 + minutes(1);
  ASSERT_TRUE(store_->AddRollout(r, jobs).ok());

  auto got = store_->GetRollout("r1");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->stages, r.stages);
  EXPECT_EQ(got->stores, r.stores);
  EXPECT_EQ(got->carts, r.carts);
  EXPECT_EQ(got->jitter, r.jitter);
  EXPECT_EQ(got->pace_per_minute, 30);
  EXPECT_EQ(got->state, RolloutState::kRunning);
  EXPECT_FALSE(got->released_at.has_value());
  auto listed = *store_->ListJobs("r1");
  EXPECT_EQ(listed, jobs);
  EXPECT_EQ(store_->GetRollout("r9").status().code(), Code::kNotFound);

  // One active rollout per fleet.
  EXPECT_EQ(store_->AddRollout(MakeRollout("r2", kT0 + hours(1)), {}).code(), Code::kFailedPrecondition);
  got->state = RolloutState::kHalted;
  got->halt_reason = "1 cart rolled back";
  got->updated_at = kT0 + hours(2);
  ASSERT_TRUE(store_->UpdateRollout(*got).ok());
  EXPECT_EQ(store_->AddRollout(MakeRollout("r2", kT0 + hours(1)), {}).code(), Code::kFailedPrecondition);
  got->state = RolloutState::kAborted;
  got->released_at = kT0 + hours(3);
  got->acknowledged_rollbacks = 1;
  ASSERT_TRUE(store_->UpdateRollout(*got).ok());
  auto again = *store_->GetRollout("r1");
  EXPECT_EQ(again.state, RolloutState::kAborted);
  EXPECT_EQ(again.halt_reason, "1 cart rolled back");
  EXPECT_EQ(again.released_at, kT0 + hours(3));
  EXPECT_EQ(again.acknowledged_rollbacks, 1);
  ASSERT_TRUE(store_->AddRollout(MakeRollout("r2", kT0 + hours(4)), {}).ok());
  EXPECT_EQ(store_->AddRollout(MakeRollout("r2", kT0), {}).code(), Code::kFailedPrecondition);

  auto all = *store_->ListRollouts(10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "r2");  // newest first
  EXPECT_EQ(store_->ListRollouts(1)->size(), 1u);
  RolloutRecord missing = MakeRollout("r9", kT0);
  EXPECT_EQ(store_->UpdateRollout(missing).code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, JobsChangeStateAndUnsentOnesCanBeWithdrawn) {
  AddStoreWithCarts();
  std::vector<RolloutJob> jobs = {MakeJob("r1", 1, 0, kT0), MakeJob("r1", 2, 1, kT0)};
  ASSERT_TRUE(store_->AddRollout(MakeRollout("r1", kT0), jobs).ok());
  jobs[0].state = JobState::kRolledBack;
  jobs[0].sent_at = kT0 + minutes(2);
  jobs[0].decided_seq = 77;
  jobs[0].detail = "ota_rollback from 2.1.0";
  jobs[0].updated_at = kT0 + minutes(9);
  ASSERT_TRUE(store_->UpdateJobs({&jobs[0], 1}).ok());
  EXPECT_EQ(*store_->ListJobs("r1"), jobs);

  // A job that does not exist: nothing of the batch is applied.
  std::vector<RolloutJob> bad = {jobs[1], MakeJob("r1", 3, 2, kT0)};
  bad[0].state = JobState::kFailed;
  EXPECT_EQ(store_->UpdateJobs(bad).code(), Code::kNotFound);
  EXPECT_EQ((*store_->ListJobs("r1"))[1].state, JobState::kQueued);

  auto removed = store_->DeleteUnsentJobs("r1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1);
  auto left = *store_->ListJobs("r1");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].cart, CartId::FromNumber(1));
}

TEST_P(EntityStoreConformance, CartTrustKeepsTheNewestReport) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->RecordCartTrust({CartId::FromNumber(1), 5, {"aa", "bb"}}).ok());
  ASSERT_TRUE(store_->RecordCartTrust({CartId::FromNumber(1), 3, {"old"}}).ok());  // late: ignored
  ASSERT_TRUE(store_->RecordCartTrust({CartId::FromNumber(2), 1, {}}).ok());
  auto all = *store_->ListCartTrust();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].keys, (std::vector<std::string>{"aa", "bb"}));
  EXPECT_EQ(all[0].seq, 5u);
  EXPECT_TRUE(all[1].keys.empty());
  EXPECT_EQ(store_->RecordCartTrust({CartId::FromNumber(9), 1, {"aa"}}).code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, OptOutsNameRegisteredStoresOrCarts) {
  AddStoreWithCarts();
  ASSERT_TRUE(store_->SetOtaOptOut({"A", "pilot store, updates by hand", "olga", kT0}).ok());
  ASSERT_TRUE(store_->SetOtaOptOut({"CART-000002", "under repair", "olga", kT0}).ok());
  ASSERT_TRUE(store_->SetOtaOptOut({"CART-000002", "still under repair", "ivan", kT0 + minutes(1)}).ok());
  EXPECT_EQ(store_->SetOtaOptOut({"CART-000009", "?", "olga", kT0}).code(), Code::kNotFound);
  EXPECT_EQ(store_->SetOtaOptOut({"Z", "?", "olga", kT0}).code(), Code::kNotFound);
  auto all = *store_->ListOtaOptOuts();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].subject, "CART-000002");
  EXPECT_EQ(all[0].subject, "A");
  EXPECT_EQ(all[1].reason, "still under repair");
  EXPECT_EQ(all[1].actor, "ivan");
  ASSERT_TRUE(store_->ClearOtaOptOut("A").ok());
  EXPECT_EQ(store_->ClearOtaOptOut("A").code(), Code::kNotFound);
  EXPECT_EQ(store_->ListOtaOptOuts()->size(), 1u);
}

}  // namespace
}  // namespace cw::store
