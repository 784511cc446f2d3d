// OTA end to end: the real managed broker, a real `cartwright serve` (ingest, rollout engine and the
// device endpoint carts download from with their certificates), cartsim's carts running the
// firmware model with A/B slots, and the `cartwright firmware` / `cartwright rollout` CLI. Stage
// durations are seconds instead of days; everything else is the product's.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "core/files.h"
#include "crypto/key_store.h"
#include "sim/fleet.h"
#include "testing/harness.h"
#include "wire/json.h"

namespace cw {
namespace {

using std::chrono::seconds;

class OtaOverBroker : public ::testing::Test {
 protected:
  static constexpr int kCarts = 12;

  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    fleet_ = std::make_unique<testing::BrokerFleet>(kCarts);
    data_ = fleet_->data_dir();
    bin_ = testing::BinaryPath("cartwright");
    ASSERT_TRUE(WriteFileAtomic(data_ + "/cartwright.toml", "[ota]\ntick = \"1s\"\n").ok());
    serve_ = std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{bin_, "serve", "--data-dir", data_, "--broker", "127.0.0.1:" + std::to_string(fleet_->port()),
                                 "--api", "127.0.0.1:0", "--device-api", "127.0.0.1:0"},
        data_ + "/serve.log");
    ASSERT_TRUE(testing::WaitForLine(data_ + "/serve.log", "device api: https://", seconds(15))) << Log();
  }

  void TearDown() override {
    StopCarts();
    serve_.reset();
  }

  std::string Log() { return ReadFile(data_ + "/serve.log").value_or("(no log)"); }

  testing::ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {bin_, "--data-dir", data_});
    return testing::RunProcess(args);
  }

  // Signs and uploads an image of `size` bytes as `version`.
  void Release(const std::string& version, const std::string& defect = "", size_t size = 300'000,
               const std::string& key = "") {
    std::string image(size, '\0');
    for (size_t i = 0; i < size; ++i) image[i] = static_cast<char>((i * 7919 + version.size()) % 251);
    std::string path = data_ + "/fw-" + version + ".bin";
    ASSERT_TRUE(WriteFileAtomic(path, image).ok());
    std::vector<std::string> sign = {"firmware", "sign", "--image", path, "--version", version};
    if (!defect.empty()) sign.insert(sign.end(), {"--defect", defect});
    if (!key.empty()) sign.insert(sign.end(), {"--key", key});
    auto s = Cli(sign);
    ASSERT_EQ(s.exit_code, 0) << s.err;
    auto u = Cli({"firmware", "upload", "--image", path});
    ASSERT_EQ(u.exit_code, 0) << u.err;
  }

  // The carts, on their own thread, shopping at 60x.
  void StartCarts(const std::function<void(sim::FleetOptions&)>& tune = nullptr) {
    sim::FleetOptions o;
    o.carts_dir = data_ + "/carts";
    o.broker.port = fleet_->port();
    o.speed = 60;
    o.duration = std::chrono::hours(6);
    o.wait_for_connected = seconds(30);
    if (tune) tune(o);
    auto f = sim::Fleet::Open(o);
    ASSERT_TRUE(f.ok()) << f.error().ToString();
    sim_ = std::move(*f);
    stop_ = false;
    thread_ = std::thread([this] {
      auto s = sim_->Run(&stop_);
      if (s.ok()) summary_ = *s;
    });
  }

  void StopCarts() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }

  // Starts a rollout by the CLI, retrying while carts have not all reported their trusted keys yet.
  std::string StartRollout(const std::string& version, const std::string& stages) {
    for (int i = 0; i < 60; ++i) {
      // No jitter: a stage's jobs all go out within one engine tick, before any cart of it can
      // roll back and halt the rest (jitter itself is covered by the unit tests).
      auto r = Cli({"rollout", "start", "--version", version, "--stages", stages, "--pace", "600", "--jitter", "0s", "--json"});
      if (r.exit_code == 0) {
        rapidjson::Document d;
        EXPECT_TRUE(wire::ParseStrictObject(r.out, d).ok()) << r.out;
        return std::string(*wire::GetString(d, "id"));
      }
      EXPECT_NE(r.err.find("have not reported trusting"), std::string::npos) << r.err;
      std::this_thread::sleep_for(seconds(1));
    }
    ADD_FAILURE() << "the rollout never started";
    return "";
  }

  struct Shown {
    std::string state, halt_reason;
    int stage = 0;
    std::map<std::string, int> jobs;  // by state
    std::vector<std::pair<std::string, std::string>> job_states;  // cart, state
    std::vector<std::string> details;
  };
  Shown Show(const std::string& id) {
    auto r = Cli({"rollout", "show", id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    rapidjson::Document d;
    EXPECT_TRUE(wire::ParseStrictObject(r.out, d).ok()) << r.out;
    Shown s;
    s.state = std::string(*wire::GetString(d, "state"));
    s.halt_reason = std::string(*wire::GetString(d, "halt_reason"));
    s.stage = static_cast<int>(*wire::GetInt(d, "stage"));
    for (const auto& m : d["jobs_by_state"].GetObject()) s.jobs[m.name.GetString()] = m.value.GetInt();
    for (const auto& j : d["jobs"].GetArray()) {
      s.job_states.emplace_back(j["cart"].GetString(), j["state"].GetString());
      s.details.emplace_back(j["detail"].GetString());
    }
    return s;
  }

  // Polls until `done` holds (at most `limit`), returning the last view.
  Shown WaitFor(const std::string& id, const std::function<bool(const Shown&)>& done, Duration limit = seconds(90)) {
    auto until = std::chrono::steady_clock::now() + limit;
    Shown s = Show(id);
    while (!done(s) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      s = Show(id);
    }
    return s;
  }

  static std::string Describe(const Shown& s) {
    std::string out = s.state + " stage " + std::to_string(s.stage) + " (" + s.halt_reason + ")";
    for (const auto& [k, v] : s.jobs) out += " " + k + "=" + std::to_string(v);
    for (const auto& d : s.details) {
      if (!d.empty()) out += "\n  " + d;
    }
    return out;
  }

  std::unique_ptr<testing::BrokerFleet> fleet_;
  std::string data_, bin_;
  std::unique_ptr<testing::BackgroundProcess> serve_;
  std::unique_ptr<sim::Fleet> sim_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  sim::FleetSummary summary_;
};

const char* kThreeStages =
    R"([{"name":"canary","carts":2,"duration":"4s"},{"name":"half","percent":50,"duration":"4s"},{"name":"all","percent":100}])";

TEST_F(OtaOverBroker, AGoodImageRollsThroughEveryStageToTheWholeFleet) {
  Release("2.1.0");
  StartCarts();
  std::string id = StartRollout("2.1.0", kThreeStages);
  ASSERT_FALSE(id.empty());
  // The canary goes first: a moment in, only its two carts have a job out.
  Shown early = Show(id);
  EXPECT_EQ(early.stage, 0);
  EXPECT_LE(early.jobs["IN_PROGRESS"] + early.jobs["SUCCEEDED"], 2) << Describe(early);
  Shown done = WaitFor(id, [](const Shown& s) { return s.state == "completed"; });
  ASSERT_EQ(done.state, "completed") << Describe(done) << "\n" << Log();
  EXPECT_EQ(done.jobs["SUCCEEDED"], kCarts);
  StopCarts();
  EXPECT_EQ(summary_.firmware, (std::map<std::string, int>{{"2.1.0", kCarts}})) << summary_.ToText();
  EXPECT_GE(summary_.firmware_fetches, static_cast<uint64_t>(kCarts * 5)) << "300 kB in 64 KiB chunks, per cart";
}

TEST_F(OtaOverBroker, ADefectiveImageHaltsAtTheCanaryAndAReleaseGoesOn) {
  Release("2.1.0", "fails_self_test");
  StartCarts();
  // A canary long enough that the test can look past its end, however slowly a loaded machine
  // lets the carts roll back.
  std::string id = StartRollout(
      "2.1.0", R"([{"name":"canary","carts":2,"duration":"15s"},{"name":"half","percent":50,"duration":"4s"},{"name":"all","percent":100}])");
  ASSERT_FALSE(id.empty());
  Shown halted = WaitFor(id, [](const Shown& s) { return s.state == "halted" && s.jobs.count("ROLLED_BACK") && s.jobs.at("ROLLED_BACK") == 2; });
  ASSERT_EQ(halted.state, "halted") << Describe(halted) << "\n" << Log();
  EXPECT_NE(halted.halt_reason.find("rolled back"), std::string::npos) << halted.halt_reason;
  std::this_thread::sleep_for(seconds(16));  // past the canary's duration
  Shown still = Show(id);
  EXPECT_EQ(still.stage, 0) << "halted: the next stage waits for a human";
  EXPECT_EQ(still.jobs["QUEUED"], kCarts - 2) << "the rest of the fleet is untouched";
  auto listed = Cli({"rollout", "list"});
  EXPECT_NE(listed.out.find("16.7% rolled back"), std::string::npos) << listed.out;

  auto released = Cli({"rollout", "release", id});
  ASSERT_EQ(released.exit_code, 0) << released.err;
  // The next stage goes out, rolls back too, and halts the rollout again.
  Shown again = WaitFor(id, [](const Shown& s) { return s.state == "halted" && s.jobs.count("ROLLED_BACK") && s.jobs.at("ROLLED_BACK") == 6; });
  EXPECT_EQ(again.stage, 1) << Describe(again);
  EXPECT_EQ(again.state, "halted") << Describe(again);
  EXPECT_EQ(again.jobs["QUEUED"], kCarts - 6);
  ASSERT_EQ(Cli({"rollout", "abort", id}).exit_code, 0);
  StopCarts();
  EXPECT_EQ(summary_.firmware, (std::map<std::string, int>{{"2.0.0", kCarts}})) << "every cart back on its old image";
  EXPECT_EQ(summary_.reboots, 12u) << "install and rollback, on six carts";
}

TEST_F(OtaOverBroker, ARolloutNeedingAKeyTheCartsLackIsRefused) {
  // A second signing key the fleet accepts, which no cart has been taught.
  std::string key = data_ + "/next-signing.key";
  auto next = crypto::SoftKeyStore::CreateFile(key);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(MakeDirs(data_ + "/pki/firmware-keys").ok());
  ASSERT_TRUE(WriteFileAtomic(data_ + "/pki/firmware-keys/next.pub", (*next)->public_key().ToPem()).ok());
  Release("2.2.0", "", 100'000, key);
  Release("2.1.0");
  StartCarts();
  StartRollout("2.1.0", R"([{"name":"one","carts":1,"duration":"0s"}])");  // waits for every boot report
  auto refused = Cli({"rollout", "start", "--version", "2.2.0"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("12 of 12 target carts have not reported trusting key"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("CART-0000"), std::string::npos) << refused.err;
}

TEST_F(OtaOverBroker, CartsWhoseClocksAreTwelveHoursOffStillUpdate) {
  Release("2.1.0");
  StartCarts([](sim::FleetOptions& o) {
    o.faults.clock_skew_carts = 1.0;
    o.faults.clock_skew = -std::chrono::hours(12);
  });
  std::string id = StartRollout("2.1.0", R"([{"name":"all","percent":100}])");
  Shown done = WaitFor(id, [](const Shown& s) { return s.state == "completed"; });
  EXPECT_EQ(done.jobs["SUCCEEDED"], kCarts) << Describe(done) << "\n" << Log();
}

TEST_F(OtaOverBroker, InterruptedDownloadsResumeAndComplete) {
  Release("2.1.0");
  StartCarts([](sim::FleetOptions& o) { o.faults.download_failure = 0.4; });
  std::string id = StartRollout("2.1.0", R"([{"name":"all","percent":100}])");
  Shown done = WaitFor(id, [](const Shown& s) { return s.state == "completed"; }, seconds(120));
  EXPECT_EQ(done.jobs["SUCCEEDED"], kCarts) << Describe(done) << "\n" << Log();
  StopCarts();
  EXPECT_GT(summary_.firmware_fetch_failures, 0u) << summary_.ToText();
  // Every image still arrived whole: 5 chunks a cart, plus one retry per failure, nothing refetched.
  EXPECT_EQ(summary_.firmware_fetches, kCarts * 5u + summary_.firmware_fetch_failures) << summary_.ToText();
}

TEST_F(OtaOverBroker, ATamperedImageIsRefusedByEveryCartAndReported) {
  Release("2.1.0");
  // Someone with access to the blob store flips one byte of the stored image.
  std::string blob = data_ + "/blobs/firmware/2.1.0/image.bin";
  auto bytes = ReadFile(blob);
  ASSERT_TRUE(bytes.ok()) << bytes.error().ToString();
  std::string tampered = *bytes;
  tampered[150'000] ^= 0x20;
  ::chmod(blob.c_str(), 0644);
  ASSERT_TRUE(WriteFileAtomic(blob, tampered).ok());
  StartCarts();
  std::string id = StartRollout("2.1.0", R"([{"name":"all","percent":100}])");
  Shown done = WaitFor(id, [](const Shown& s) { return s.state == "completed"; });
  EXPECT_EQ(done.jobs["FAILED"], kCarts) << Describe(done);
  for (const auto& d : done.details) EXPECT_NE(d.find("sha256"), std::string::npos) << d;
  StopCarts();
  EXPECT_EQ(summary_.firmware, (std::map<std::string, int>{{"2.0.0", kCarts}}));
  EXPECT_EQ(summary_.faults["OTA_VERIFY_FAIL"], static_cast<uint64_t>(kCarts));
}

}  // namespace
}  // namespace cw
