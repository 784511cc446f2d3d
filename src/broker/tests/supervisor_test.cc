#include "broker/supervisor.h"

#include "core/files.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

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

// The supervisor process dies with SIGKILL: the program must not be left behind, even when it
// could not receive a parent-death signal itself.
TEST(Supervisor, ProgramDiesWithAKilledSupervisor) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make the program change credentials";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t sup = fork();
  if (sup == 0) {
    Supervisor::Options o;
    // Print the program's pid, then drop privileges as Mosquitto does — which clears any
    // parent-death signal the program had — and outlive everything unless told to stop.
    o.argv = {"sh", "-c", "echo $$; exec setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60"};
    o.on_line = [&](const std::string& l) {
      (void)!write(fds[1], l.c_str(), l.size());
      (void)!write(fds[1], "\n", 1);
    };
    Supervisor s(o);
    if (!s.Start().ok()) _exit(1);
    pause();
    _exit(0);
  }
  close(fds[1]);
  char buf[32] = {};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  ASSERT_GT(n, 0);
  pid_t program = static_cast<pid_t>(std::atoi(buf));
  ASSERT_TRUE(Alive(program));
  // Wait until it has really dropped privileges (and with them any parent-death signal).
  bool dropped = false;
  for (int i = 0; i < 250 && !dropped; ++i) {
    std::string status = ReadFile("/proc/" + std::to_string(program) + "/status").value_or("");
    dropped = status.find("\nUid:\t65534") != std::string::npos;
    if (!dropped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(dropped);
  kill(sup, SIGKILL);
  waitpid(sup, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 250 && !gone; ++i) {
    gone = !Alive(program);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "program " << program << " outlived its supervisor";
  if (!gone) kill(program, SIGKILL);
  close(fds[0]);
}

}  // namespace
}  // namespace cw::broker
