// Rollouts against a real (SQLite) entity store, a memory blob store and a recording command
// sender, on a manual clock: cohorts, stages, pacing, job states from the carts' events, the halt
// rule and the trust-key refusal. The same engine runs against cartsim in the integration tests.
#include "ota/rollout.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "crypto/key_store.h"
#include "wire/envelope.h"
#include "wire/json.h"
#include "wire/notice.h"

namespace cw::ota {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using store::JobState;

const Time kT0 = *ParseWireTime("2026-11-23T09:00:00.000Z");

class RecordingSender : public ingest::CommandSender {
 public:
  Status Send(const CartId& cart, std::string_view json) override {
    if (down) return Unavailable("broker away");
    auto cmd = wire::ParseCommand(json);
    EXPECT_TRUE(cmd.ok()) << (cmd.ok() ? "" : cmd.error().ToString());
    auto job = wire::ReadOtaJob(*cmd);
    EXPECT_TRUE(job.ok());
    sent.push_back({cart, *job});
    return Status::Ok();
  }
  std::vector<std::pair<CartId, wire::OtaJob>> sent;
  bool down = false;
};

class RolloutTest : public ::testing::Test {
 protected:
  RolloutTest() {
    entities_ = std::move(*store::OpenSqliteEntityStore(":memory:", clock_));
    blobs_ = std::move(*store::OpenMemoryBlobStore());
    key_ = std::move(*crypto::SoftKeyStore::Generate());
    catalog_ = std::make_unique<FirmwareCatalog>(*blobs_, std::vector<crypto::PublicKey>{key_->public_key()});
    auto r = SignFirmware(std::string(1000, 'x'), {.version = "2.1.0"}, *key_, kT0);
    EXPECT_TRUE(catalog_->Upload(std::string(1000, 'x'), r->manifest_json, r->manifest_signature).ok());
    engine_ = std::make_unique<RolloutEngine>(
        RolloutEngineOptions{.device_url = "https://localhost:8444", .min_errors = 3}, *entities_, *catalog_, sender_,
        clock_, random_, &metrics_, [this] { return rejects_; });
  }

  // `per_store` carts in each of `stores` stores, half of them hardware v3, all reporting trust.
  void Fleet(int stores, int per_store, bool report_trust = true) {
    uint32_t n = 1;
    for (int s = 0; s < stores; ++s) {
      StoreId store = *StoreId::Parse("STORE-00" + std::to_string(s + 1));
      ASSERT_TRUE(entities_->AddStore({store, "S", "P", store::Region::kEu, "Europe/Berlin", kT0}).ok());
      for (int c = 0; c < per_store; ++c, ++n) {
        CartId id = CartId::FromNumber(n);
        std::string serial = std::string(c % 2 ? "CW3" : "CW2") + std::to_string(100000 + n);
        ASSERT_TRUE(entities_->AddCart({id, store, serial, "fp" + std::to_string(n), "", "", store::CartStatus::kActive, kT0}).ok());
        if (report_trust) Boot(id, "2.0.0", "power_on", "", {key_->public_key().Fingerprint()});
      }
    }
  }

  // Routes one event of `cart` to the engine.
  void Event(const CartId& cart, wire::EventType type, const std::string& fw,
             const std::function<void(wire::JsonBuilder&)>& fields = nullptr) {
    wire::JsonBuilder b;
    b.Field("v", 1).Field("type", wire::Name(type)).Field("cart_id", cart.str()).Field("seq", ++seq_[cart.str()]);
    b.Field("ts", FormatTimeMillis(clock_.Now())).Field("fw", fw);
    if (fields) fields(b);
    std::string json = b.Finish();
    auto doc = std::make_unique<rapidjson::Document>();
    doc->Parse(json.c_str());
    store::TelemetryEvent ev{cart, *StoreId::Parse("STORE-001"), seq_[cart.str()], clock_.Now(), clock_.Now(),
                             clock_.Now(), type, false, {}, json};
    ingest::RoutedEvent routed{&ev, doc.get()};
    ASSERT_TRUE(engine_->OnBatch({&routed, 1}).ok());
  }
  void Boot(const CartId& cart, const std::string& fw, const std::string& reason, const std::string& previous,
            std::vector<std::string> keys = {}) {
    if (keys.empty()) keys = {key_->public_key().Fingerprint()};
    Event(cart, wire::EventType::kBoot, fw, [&](wire::JsonBuilder& b) {
      b.Field("slot", "A").Field("reason", reason);
      if (previous.empty()) b.Null("previous_fw"); else b.Field("previous_fw", previous);
      b.Field("boot_count", 1);
      auto& w = b.Key("trusted_keys").writer();
      w.StartArray();
      for (const auto& k : keys) w.String(k.c_str());
      w.EndArray();
    });
  }
  void Health(const CartId& cart, const std::string& fw) { Event(cart, wire::EventType::kHealth, fw); }
  void Fault(const CartId& cart, const std::string& fw, const std::string& code, const std::string& detail = "x") {
    Event(cart, wire::EventType::kFault, fw, [&](wire::JsonBuilder& b) {
      b.Field("code", code).Field("severity", "warn").Field("detail", detail);
    });
  }
  // The cart takes the update: trial boot, then its first event on the new version.
  void Update(const CartId& cart) {
    Boot(cart, "2.1.0", "ota_trial", "2.0.0");
    Health(cart, "2.1.0");
  }

  RolloutRequest Quick(std::vector<store::RolloutStage> stages) {
    RolloutRequest r;
    r.version = "2.1.0";
    r.stages = std::move(stages);
    r.pace_per_minute = 60;
    r.jitter = Duration::zero();
    r.actor = "olga";
    return r;
  }

  // Advances time in 1 s ticks.
  void Run(Duration d) {
    for (Duration t{}; t < d; t += seconds(1)) {
      clock_.Advance(seconds(1));
      engine_->Tick();
    }
  }

  std::map<JobState, int> States(const std::string& id) { return DescribeRollout(*entities_, id)->by_state; }
  store::RolloutState State(const std::string& id) { return entities_->GetRollout(id)->state; }

  ManualClock clock_{kT0};
  SeededRandom random_{7};
  std::unique_ptr<store::EntityStore> entities_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<crypto::SoftKeyStore> key_;
  std::unique_ptr<FirmwareCatalog> catalog_;
  RecordingSender sender_;
  metrics::Registry metrics_;
  std::map<std::string, uint64_t> rejects_;
  std::map<std::string, uint64_t> seq_;
  std::unique_ptr<RolloutEngine> engine_;
};

TEST(Cohorts, EveryPrefixSpansStoresAndHardwareRevisions) {
  std::vector<store::CartRecord> carts;
  for (uint32_t n = 1; n <= 40; ++n) {
    carts.push_back({CartId::FromNumber(n), *StoreId::Parse(n <= 20 ? "STORE-001" : "STORE-002"),
                     (n % 2 ? "CW2" : "CW3") + std::to_string(n), "", "", "", store::CartStatus::kActive, kT0});
  }
  auto order = CohortOrder(carts, "seed");
  ASSERT_EQ(order.size(), 40u);
  std::set<std::string> first4;
  for (int i = 0; i < 4; ++i) first4.insert(order[static_cast<size_t>(i)].store.str() + HardwareRevision(order[static_cast<size_t>(i)].serial));
  EXPECT_EQ(first4.size(), 4u) << "the first four carts are one of each cohort";
  std::vector<std::string> a, b;
  for (const auto& c : order) a.push_back(c.id.str());
  for (const auto& c : CohortOrder(carts, "another rollout")) b.push_back(c.id.str());
  EXPECT_NE(a, b) << "each rollout draws its own order";
  EXPECT_EQ(HardwareRevision("CW2B50011B15C"), "v2");
  EXPECT_EQ(StageReach({"canary", 10, 0, {}}, 4), 4);
  EXPECT_EQ(StageReach({"1%", std::nullopt, 1, {}}, 250), 3);
  EXPECT_EQ(StageReach({"100%", std::nullopt, 100, {}}, 250), 250);
}

TEST_F(RolloutTest, DefaultStagesTakeACanaryOfTenThenShares) {
  Fleet(2, 100);
  auto r = CreateRollout(Quick(DefaultStages()), *entities_, *catalog_, clock_, random_);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  auto jobs = *entities_->ListJobs(r->id);
  std::map<int, int> per_stage;
  for (const auto& j : jobs) per_stage[j.stage]++;
  // canary 10, 1% of 200 is 2 (already covered: nothing new), 10% → 20, 25% → 50, 100% → 200.
  EXPECT_EQ(per_stage, (std::map<int, int>{{0, 10}, {2, 10}, {3, 30}, {4, 150}}));
  std::set<std::string> canary_stores;
  for (const auto& j : jobs) {
    if (j.stage == 0) canary_stores.insert(entities_->GetCart(j.cart)->store.str());
  }
  EXPECT_EQ(canary_stores.size(), 2u) << "the canary spans stores";
  EXPECT_EQ(r->stages[0].bake, std::chrono::hours(24));
  EXPECT_EQ(r->stages[1].bake, std::chrono::hours(72));
}

TEST_F(RolloutTest, EachSendIsDelayedByARandomShareOfTheJitterOnTopOfThePace) {
  Fleet(1, 20);
  RolloutRequest req = Quick({{"all", std::nullopt, 100, {}}});
  req.pace_per_minute = 60;
  req.jitter = seconds(30);
  auto r = CreateRollout(req, *entities_, *catalog_, clock_, random_);
  ASSERT_TRUE(r.ok());
  std::set<Duration> offsets;
  auto jobs = entities_->ListJobs(r->id);
  ASSERT_TRUE(jobs.ok());
  for (const auto& j : *jobs) {
    ASSERT_TRUE(j.send_at.has_value());
    Duration paced = seconds(j.position), extra = *j.send_at - kT0 - paced;
    EXPECT_GE(extra, Duration::zero()) << j.cart.str();
    EXPECT_LE(extra, seconds(30)) << j.cart.str();
    offsets.insert(extra);
  }
  EXPECT_GT(offsets.size(), 15u) << "the delays differ from cart to cart";
}

TEST_F(RolloutTest, AGoodImageRollsThroughEveryStagePacedAndCompletes) {
  Fleet(2, 10);
  auto r = CreateRollout(Quick({{"canary", 4, 0, minutes(5)}, {"50%", std::nullopt, 50, minutes(5)}, {"100%", std::nullopt, 100, {}}}),
                         *entities_, *catalog_, clock_, random_);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  engine_->Tick();
  ASSERT_EQ(sender_.sent.size(), 1u) << "paced: one a second at 60 a minute";
  const wire::OtaJob& job = sender_.sent[0].second;
  EXPECT_EQ(job.version, "2.1.0");
  EXPECT_EQ(job.url, "https://localhost:8444/api/v1/firmware/2.1.0/image");
  EXPECT_EQ(job.server_time, clock_.Now());
  EXPECT_EQ(job.size, 1000u);
  Run(seconds(3));
  ASSERT_EQ(sender_.sent.size(), 4u);
  EXPECT_EQ(States(r->id)[JobState::kInProgress], 4);
  for (const auto& [cart, j] : sender_.sent) Update(cart);
  EXPECT_EQ(States(r->id)[JobState::kSucceeded], 4);
  Run(minutes(5) + seconds(6));
  EXPECT_EQ(entities_->GetRollout(r->id)->stage, 1);
  EXPECT_EQ(sender_.sent.size(), 10u);
  for (size_t i = 4; i < sender_.sent.size(); ++i) Update(sender_.sent[i].first);
  Run(minutes(5) + seconds(12));
  ASSERT_EQ(sender_.sent.size(), 20u);
  for (size_t i = 10; i < sender_.sent.size(); ++i) Update(sender_.sent[i].first);
  Run(seconds(2));
  EXPECT_EQ(State(r->id), store::RolloutState::kCompleted);
  auto d = *DescribeRollout(*entities_, r->id);
  EXPECT_DOUBLE_EQ(d.on_new_version_pct, 100.0);
  EXPECT_DOUBLE_EQ(d.rolled_back_pct, 0.0);
}

TEST_F(RolloutTest, ARollbackHaltsBeforeTheNextStageUntilReleased) {
  Fleet(1, 10);
  auto r = CreateRollout(Quick({{"canary", 2, 0, minutes(5)}, {"100%", std::nullopt, 100, {}}}), *entities_, *catalog_,
                         clock_, random_);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  Run(seconds(3));
  ASSERT_EQ(sender_.sent.size(), 2u);
  Update(sender_.sent[0].first);
  CartId bad = sender_.sent[1].first;
  Boot(bad, "2.1.0", "ota_trial", "2.0.0");
  Boot(bad, "2.0.0", "ota_rollback", "2.1.0");
  Run(minutes(10));
  EXPECT_EQ(State(r->id), store::RolloutState::kHalted);
  EXPECT_NE(entities_->GetRollout(r->id)->halt_reason.find("rolled back"), std::string::npos);
  EXPECT_EQ(sender_.sent.size(), 2u) << "the rest of the fleet is untouched";
  EXPECT_EQ(States(r->id)[JobState::kRolledBack], 1);
  EXPECT_NE(metrics_.Exposition().find("cw_firmware_rollback_count{target_version=\"2.1.0\"} 1"), std::string::npos)
      << metrics_.Exposition();

  ASSERT_TRUE(ReleaseRollout(*entities_, r->id, clock_).ok());
  Run(seconds(12));
  EXPECT_EQ(State(r->id), store::RolloutState::kRunning);
  EXPECT_EQ(sender_.sent.size(), 10u) << "released: the next stage goes out";
  EXPECT_EQ(HaltRollout(*entities_, r->id, "ops: checking the canary", clock_).code(), Code::kOk);
  EXPECT_EQ(HaltRollout(*entities_, r->id, "again", clock_).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(AbortRollout(*entities_, r->id, clock_).ok());
  EXPECT_EQ(ReleaseRollout(*entities_, r->id, clock_).code(), Code::kFailedPrecondition);
}

class ErrorRateTest : public RolloutTest {
 protected:
  // A canary of five of ten carts updates; then for ten minutes every cart reports each minute and
  // faults when `faults(minute, fw)` says so, and each updated cart adds `rejects_per_minute`.
  std::string CanaryWithErrors(const std::function<bool(int, const std::string&)>& faults, int rejects_per_minute) {
    Fleet(1, 10);
    auto r = CreateRollout(Quick({{"canary", 5, 0, minutes(30)}, {"100%", std::nullopt, 100, {}}}), *entities_,
                           *catalog_, clock_, random_);
    EXPECT_TRUE(r.ok());
    Run(seconds(6));
    std::set<std::string> updated;
    for (const auto& [cart, j] : sender_.sent) {
      Update(cart);
      updated.insert(cart.str());
    }
    for (int minute = 0; minute < 10; ++minute) {
      for (uint32_t n = 1; n <= 10; ++n) {
        CartId c = CartId::FromNumber(n);
        std::string fw = updated.count(c.str()) ? "2.1.0" : "2.0.0";
        Health(c, fw);
        if (faults(minute, fw)) Fault(c, fw, "SCANNER_JAM");
      }
      for (const auto& cart : updated) rejects_[cart] += static_cast<uint64_t>(rejects_per_minute);
      Run(minutes(1));
    }
    return r->id;
  }
};

TEST_F(ErrorRateTest, ANewVersionWithMoreErrorsHalts) {
  // The new version's carts fault twice as often, and reject too.
  std::string id = CanaryWithErrors(
      [](int minute, const std::string& fw) { return minute % 4 == 0 || (fw == "2.1.0" && minute % 2 == 0); }, 1);
  auto rates = engine_->Rates("2.1.0");
  EXPECT_GT(rates.new_rate, 1.5 * rates.old_rate);
  EXPECT_EQ(State(id), store::RolloutState::kHalted);
  EXPECT_NE(entities_->GetRollout(id)->halt_reason.find("error rate"), std::string::npos)
      << entities_->GetRollout(id)->halt_reason;
}

TEST_F(ErrorRateTest, EqualErrorRatesDoNotHalt) {
  std::string id = CanaryWithErrors([](int minute, const std::string&) { return minute % 2 == 0; }, 0);
  EXPECT_EQ(State(id), store::RolloutState::kRunning) << entities_->GetRollout(id)->halt_reason;
}

TEST_F(RolloutTest, FailuresAreReportedAndTheTrustRefusalNamesTheCarts) {
  Fleet(1, 4);
  ASSERT_TRUE(entities_->AddCart({CartId::FromNumber(9), *StoreId::Parse("STORE-001"), "CW29", "fp9", "", "",
                                  store::CartStatus::kActive, kT0}).ok());
  auto refused = CreateRollout(Quick({{"all", std::nullopt, 100, {}}}), *entities_, *catalog_, clock_, random_);
  ASSERT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("CART-000009"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("1 of 5"), std::string::npos) << refused.error().message();

  Boot(CartId::FromNumber(9), "2.0.0", "power_on", "", {"someotherkey"});
  EXPECT_EQ(CreateRollout(Quick({{"all", std::nullopt, 100, {}}}), *entities_, *catalog_, clock_, random_).status().code(),
            Code::kFailedPrecondition);
  // Opt the cart out: the rest can go.
  ASSERT_TRUE(entities_->SetOtaOptOut({"CART-000009", "old key", "olga", kT0}).ok());
  auto r = CreateRollout(Quick({{"all", std::nullopt, 100, {}}}), *entities_, *catalog_, clock_, random_);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(entities_->ListJobs(r->id)->size(), 4u);
  Run(seconds(5));
  ASSERT_EQ(sender_.sent.size(), 4u);
  const auto& [cart, job] = sender_.sent[0];
  Fault(cart, "2.0.0", "OTA_VERIFY_FAIL", "ota job " + job.job_id + " 2.1.0: image sha256 0123… does not match");
  EXPECT_EQ(States(r->id)[JobState::kFailed], 1);
  auto jobs = *entities_->ListJobs(r->id);
  auto failed = std::find_if(jobs.begin(), jobs.end(), [](const auto& j) { return j.state == JobState::kFailed; });
  EXPECT_NE(failed->detail.find("sha256"), std::string::npos);
  EXPECT_EQ(CreateRollout(Quick({{"all", std::nullopt, 100, {}}}), *entities_, *catalog_, clock_, random_).status().code(),
            Code::kFailedPrecondition) << "one active rollout at a time";
}

TEST_F(RolloutTest, AStageWaitsForItsCartsVerdictsButNotForeverForStragglers) {
  Fleet(1, 6);
  auto r = CreateRollout(Quick({{"canary", 2, 0, minutes(5)}, {"100%", std::nullopt, 100, {}}}), *entities_, *catalog_,
                         clock_, random_);
  ASSERT_TRUE(r.ok());
  Run(minutes(5) + seconds(5));
  ASSERT_EQ(sender_.sent.size(), 2u);
  EXPECT_EQ(entities_->GetRollout(r->id)->stage, 0) << "its duration is over, but the canary has not answered";
  Update(sender_.sent[0].first);
  Run(seconds(2));
  EXPECT_EQ(entities_->GetRollout(r->id)->stage, 0) << "one canary cart is still out";
  Run(minutes(5));
  EXPECT_EQ(entities_->GetRollout(r->id)->stage, 1) << "twice its duration: the straggler holds it no longer";
}

TEST_F(RolloutTest, AStoreOptedOutAfterTheStartGetsNoMoreJobs) {
  Fleet(2, 3);
  auto r = CreateRollout(Quick({{"all", std::nullopt, 100, {}}}), *entities_, *catalog_, clock_, random_);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(entities_->SetOtaOptOut({"STORE-002", "inventory week", "olga", clock_.Now()}).ok());
  Run(seconds(10));
  ASSERT_EQ(sender_.sent.size(), 3u);
  for (const auto& [cart, job] : sender_.sent) EXPECT_EQ(entities_->GetCart(cart)->store.str(), "STORE-001");
  ASSERT_TRUE(entities_->ClearOtaOptOut("STORE-002").ok());
  Run(seconds(2));
  EXPECT_EQ(sender_.sent.size(), 6u) << "lifted: the held jobs go out";
}

TEST_F(RolloutTest, UnsentJobsWaitForTheBrokerAndSilentCartsGetTheJobAgain) {
  Fleet(1, 2);
  auto r = CreateRollout(Quick({{"all", std::nullopt, 100, {}}}), *entities_, *catalog_, clock_, random_);
  ASSERT_TRUE(r.ok());
  sender_.down = true;
  Run(seconds(5));
  EXPECT_EQ(States(r->id)[JobState::kQueued], 2);
  sender_.down = false;
  Run(seconds(1));
  EXPECT_EQ(sender_.sent.size(), 2u);
  Run(std::chrono::hours(1));
  EXPECT_EQ(sender_.sent.size(), 4u) << "no word from either cart in an hour: sent again";
  std::set<std::string> first = {sender_.sent[0].second.job_id, sender_.sent[1].second.job_id};
  std::set<std::string> again = {sender_.sent[2].second.job_id, sender_.sent[3].second.job_id};
  EXPECT_EQ(first, again) << "the same jobs, so a cart that already has the image does not start over";
  Update(sender_.sent[0].first);
  Run(std::chrono::hours(1));
  EXPECT_EQ(sender_.sent.size(), 5u) << "only the silent cart is asked once more";
}

}  // namespace
}  // namespace cw::ota
