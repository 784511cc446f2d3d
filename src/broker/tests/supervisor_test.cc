#include "broker/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

namespace cw::broker {
namespace {

bool Alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

TEST(Supervisor, RestartsACrashedChildAndCapturesOutput) {
  std::atomic<int> lines{0};
  Supervisor::Options o;
  o.argv = {"sh", "-c", "echo started; sleep 30"};
  o.on_line = [&](const std::string& l) {
    if (l == "started") lines++;
  };
  o.initial_backoff = std::chrono::milliseconds(50);
  Supervisor s(o);
  ASSERT_TRUE(s.Start().ok());
  pid_t first = s.pid();
  ASSERT_TRUE(Alive(first));
  for (int i = 0; i < 100 && lines < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(lines.load(), 1);
  ::kill(first, SIGKILL);
  for (int i = 0; i < 200 && (s.restarts() == 0 || s.pid() == first); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(s.restarts(), 1);
  EXPECT_NE(s.pid(), first);
  EXPECT_TRUE(Alive(s.pid()));
  for (int i = 0; i < 100 && lines < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(lines.load(), 2);
  pid_t second = s.pid();
  s.Stop();
  EXPECT_FALSE(Alive(second));
}

TEST(Supervisor, StopEscalatesToKill) {
  Supervisor::Options o;
  o.argv = {"sh", "-c", "trap '' TERM; sleep 30"};  // ignores SIGTERM
  Supervisor s(o);
  ASSERT_TRUE(s.Start().ok());
  pid_t pid = s.pid();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto t0 = std::chrono::steady_clock::now();
  s.Stop(std::chrono::milliseconds(300));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(Alive(pid));
}

}  // namespace
}  // namespace cw::broker
