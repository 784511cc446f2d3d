#include "device/seq_counter.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/files.h"
#include "testing/temp_dir.h"

namespace cw::device {
namespace {

TEST(SeqCounter, StartsAtOneAndIncreases) {
  testing::TempDir dir;
  auto c = *SeqCounter::Open(dir.path() + "/seq");
  EXPECT_EQ(c->last(), 0u);
  EXPECT_EQ(*c->Next(), 1u);
  EXPECT_EQ(*c->Next(), 2u);
  EXPECT_EQ(c->last(), 2u);
}

TEST(SeqCounter, NeverReusesAfterRestart) {
  testing::TempDir dir;
  std::string path = dir.path() + "/seq";
  uint64_t highest = 0;
  for (int boot = 0; boot < 5; ++boot) {
    auto c = *SeqCounter::Open(path, 8);
    for (int i = 0; i < 3 + boot * 7; ++i) {
      uint64_t s = *c->Next();
      ASSERT_GT(s, highest) << "boot " << boot;
      highest = s;
    }
  }
}

// A real crash: a child hands out numbers as fast as it can and is killed with SIGKILL at an
// arbitrary moment; the next boot must start above everything it reported.
TEST(SeqCounter, KillNineNeverReusesASeq) {
  testing::TempDir dir;
  std::string path = dir.path() + "/seq";
  uint64_t highest = 0;
  for (int crash = 0; crash < 5; ++crash) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      auto c = *SeqCounter::Open(path, 16);
      for (;;) {
        uint64_t s = *c->Next();
        if (write(fds[1], &s, sizeof s) != sizeof s) _exit(1);
      }
    }
    close(fds[1]);
    uint64_t s = 0, seen = 0;
    for (int i = 0; i < 200 + crash * 131 && read(fds[0], &s, sizeof s) == sizeof s; ++i) seen = s;
    kill(pid, SIGKILL);
    while (read(fds[0], &s, sizeof s) == sizeof s) seen = s;  // drain what it reported before dying
    close(fds[0]);
    waitpid(pid, nullptr, 0);
    ASSERT_GT(seen, highest);
    highest = seen;
    auto after = *SeqCounter::Open(path, 16);
    EXPECT_GT(*after->Next(), highest) << "crash " << crash;
  }
}

TEST(SeqCounter, CorruptFileIsAnError) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/seq", "twelve").ok());
  auto c = SeqCounter::Open(dir.path() + "/seq");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Code::kCorruption);
}

}  // namespace
}  // namespace cw::device
