// The web pages end to end: a real broker, `cartwright serve` with the built pages, cartsim
// shopping with its BLE bridge, and headless Chromium driven by web/e2e/web.mjs (staff on the
// tablet: floor plan, a session override with a real proximity token, maintenance; ops on the
// dashboard: TOTP login, fleet table, cart drill-down with the audit trail, a firmware rollout
// started, halted, released and aborted). Screenshots go to
// BUILD/e2e-screenshots/.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <thread>

#include "core/files.h"
#include "testing/harness.h"
#include "wire/json.h"

namespace cw {
namespace {

struct User {
  std::string password, totp_secret;
};

User AddUser(const std::string& data, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {testing::BinaryPath("cartwright"), "--data-dir", data, "user", "add", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = testing::RunProcess(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document d;
  EXPECT_TRUE(wire::ParseStrictObject(r.out, d).ok()) << r.out;
  User u;
  u.password = std::string(wire::GetString(d, "password").value_or(""));
  u.totp_secret = std::string(wire::GetString(d, "totp_secret").value_or(""));
  return u;
}

TEST(WebPages, StaffOverrideAndMaintenanceOnTheTabletOpsDrillDownOnTheDashboard) {
  const std::string web = std::string(CW_SOURCE_DIR) + "/build/web";
  ASSERT_TRUE(PathExists("/usr/bin/chromium")) << "Debian's chromium is missing (./run setup installs it)";
  ASSERT_TRUE(PathExists(web + "/index.html")) << "the web pages are not built (./run builds them into build/web)";
  constexpr int kCarts = 6;
  testing::BrokerFleet fleet(kCarts);
  const std::string data = fleet.data_dir();
  User staff = AddUser(data, {"--name", "sam", "--role", "staff", "--store", "STORE-001"});
  User ops = AddUser(data, {"--name", "olga", "--role", "ops"});
  ASSERT_FALSE(ops.totp_secret.empty());

  uint16_t api_port = testing::FreePort(), bridge_port = testing::FreePort();
  testing::BackgroundProcess serve({testing::BinaryPath("cartwright"), "serve", "--device-api", "127.0.0.1:0", "--data-dir", data, "--broker",
                                    "127.0.0.1:" + std::to_string(fleet.port()), "--api",
                                    "127.0.0.1:" + std::to_string(api_port), "--web", web},
                                   data + "/serve.log");
  ASSERT_TRUE(testing::WaitForLine(data + "/serve.log", "api: https://")) << *ReadFile(data + "/serve.log");
  // Shoppers who keep coming and take their time, so a session is always open somewhere.
  ASSERT_TRUE(WriteFileAtomic(data + "/busy.toml", R"([shoppers]
mean_idle_minutes = 1
mean_scan_gap_seconds = 30
min_items = 10
max_items = 20
loyalty = 0.0
payment_token = 0.0
app_qr = 0.0
interrupted = 0.0
[faults]
battery_cliff = 0.0
parking_lot = 0.0
)").ok());
  testing::BackgroundProcess sim({testing::BinaryPath("cartsim"), "run", "--carts", data + "/carts", "--broker",
                                  "mqtts://127.0.0.1:" + std::to_string(fleet.port()), "--speed", "5", "--duration",
                                  "20h", "--scenario", data + "/busy.toml", "--ble-bridge",
                                  "127.0.0.1:" + std::to_string(bridge_port), "--quiet"},
                                 data + "/cartsim.log");

  // A release for the dashboard's Rollouts page to roll out.
  std::string image(200'000, '\x5a');
  ASSERT_TRUE(WriteFileAtomic(data + "/fw.bin", image).ok());
  for (std::vector<std::string> cmd : {std::vector<std::string>{"firmware", "sign", "--image", data + "/fw.bin", "--version", "2.1.0"},
                                       std::vector<std::string>{"firmware", "upload", "--image", data + "/fw.bin"}}) {
    cmd.insert(cmd.begin(), {testing::BinaryPath("cartwright"), "--data-dir", data});
    auto r = testing::RunProcess(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  setenv("CW_FIRMWARE", "2.1.0", 1);
  const std::string shots = std::string(getenv("CARTWRIGHT_BIN_DIR") ? getenv("CARTWRIGHT_BIN_DIR") : ".") + "/../e2e-screenshots";
  setenv("CW_URL", ("https://127.0.0.1:" + std::to_string(api_port)).c_str(), 1);
  setenv("CW_STORE", "STORE-001", 1);
  setenv("CW_STAFF", "sam", 1);
  setenv("CW_STAFF_PASSWORD", staff.password.c_str(), 1);
  setenv("CW_OPS", "olga", 1);
  setenv("CW_OPS_PASSWORD", ops.password.c_str(), 1);
  setenv("CW_OPS_TOTP_SECRET", ops.totp_secret.c_str(), 1);
  setenv("CW_BRIDGE", ("http://127.0.0.1:" + std::to_string(bridge_port)).c_str(), 1);
  setenv("CW_CARTS", std::to_string(kCarts).c_str(), 1);
  setenv("CW_SHOTS", shots.c_str(), 1);
  auto run = testing::RunProcess({"/usr/bin/env", "node", std::string(CW_SOURCE_DIR) + "/web/e2e/web.mjs"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err << "\nserve log:\n"
                              << ReadFile(data + "/serve.log").value_or("") << "\nscreenshots: " << shots;
  std::printf("%s%sscreenshots: %s\n", run.out.c_str(), run.err.c_str(), shots.c_str());
  EXPECT_EQ(sim.Stop(SIGTERM), 0);
  EXPECT_EQ(serve.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace cw
